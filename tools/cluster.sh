#!/bin/sh
# cluster.sh measures Vigil spread over processes: one `vigil run --role
# ingest` (with the embedded NATS server) and E `vigil run --role
# evaluate` processes on this machine, for each E in EVALUATORS; a
# generated capture is replayed to the ingest process as fast as it takes
# it, and the time until the evaluators have evaluated every packet gives
# packets/s and the ratio to one evaluator, and the CPU seconds the
# ingest process (the sensor reader and the embedded NATS server) and the
# evaluators used: an ingest process busy for as long as the run took is
# the limit. Run from the repository root (make cluster-bench runs it).
#
# VIGIL: the vigil binary (default: built from the tree); PACKETS (500000);
# EVALUATORS ("1 2 4"); WORKERS per evaluator (1); RULES (a rule file,
# default testdata/peer/icontains-100.yaml); PORT: the first of the
# loopback ports used (24000).
set -eu
PACKETS=${PACKETS:-500000}
EVALUATORS=${EVALUATORS:-1 2 4}
WORKERS=${WORKERS:-1}
RULES=${RULES:-testdata/peer/icontains-100.yaml}
PORT=${PORT:-24000}
tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
if [ -z "${VIGIL:-}" ]; then
	${GO:-go} build -o "$tmp/vigil" ./cmd/vigil
	VIGIL=$tmp/vigil
fi
"$VIGIL" gen --packets "$PACKETS" --seed 1 --hit-rate 0.01 "$tmp/gen.ncf" >&2

# metric ADDR... : the sum of a counter over the /metrics of ADDRs
metric() {
	name=$1
	shift
	python3 - "$name" "$@" <<'PY'
import sys, urllib.request
name, total = sys.argv[1], 0.0
for addr in sys.argv[2:]:
    try:
        body = urllib.request.urlopen("http://%s/metrics" % addr, timeout=2).read().decode()
    except Exception:
        continue
    for line in body.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total += float(line.rsplit(" ", 1)[1])
print(int(total))
PY
}

# waitfor N NAME ADDR...: until the counter NAME sums to at least N
waitfor() {
	want=$1
	shift
	i=0
	while [ "$(metric "$@")" -lt "$want" ]; do
		i=$((i + 1))
		if [ "$i" -gt 6000 ]; then
			echo "cluster.sh: timed out waiting for $1 to reach $want (at $(metric "$@"))" >&2
			exit 1
		fi
		sleep 0.1
	done
}

now() { python3 -c 'import time; print(time.time())'; }

# cpu PID...: the CPU seconds (user + system) the processes used so far
cpu() {
	python3 - "$@" <<'PY'
import os, sys
hz, total = os.sysconf("SC_CLK_TCK"), 0
for pid in sys.argv[1:]:
    try:
        f = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
        total += int(f[11]) + int(f[12])
    except OSError:
        pass
print("%.1f" % (total / hz))
PY
}

printf '%-11s %9s %12s %8s %11s %15s\n' evaluators seconds packets/s ratio ingest-cpu evaluators-cpu
base=""
for e in $EVALUATORS; do
	rm -rf "$tmp/run"
	mkdir -p "$tmp/run"
	nats=$PORT
	listen=$((PORT + 1))
	"$VIGIL" run --role ingest --nats-listen "127.0.0.1:$nats" --listen "127.0.0.1:$listen" \
		--data-dir "$tmp/run/ingest" --rules "$RULES" --metrics "127.0.0.1:$((PORT + 2))" \
		--workers 1 2>"$tmp/run/ingest.log" &
	ingest=$!
	pids="$pids $!"
	sleep 1
	addrs=""
	evals=""
	i=1
	while [ "$i" -le "$e" ]; do
		m=127.0.0.1:$((PORT + 10 + i))
		"$VIGIL" run --role evaluate --nats "nats://127.0.0.1:$nats" --data-dir "$tmp/run/e$i" \
			--rules "$RULES" --workers "$WORKERS" --metrics "$m" 2>"$tmp/run/e$i.log" &
		pids="$pids $!"
		evals="${evals:-} $!"
		addrs="$addrs $m"
		i=$((i + 1))
	done
	waitfor 16 vigil_cluster_partitions_owned $addrs
	t0=$(now)
	"$VIGIL" replay --to "127.0.0.1:$listen" --linger 0 "$tmp/gen.ncf" 2>/dev/null
	waitfor "$PACKETS" vigil_packets_total $addrs
	t1=$(now)
	secs=$(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }")
	pps=$(awk "BEGIN { printf \"%.0f\", $PACKETS / ($t1 - $t0) }")
	[ -n "$base" ] || base=$pps
	printf '%-11s %9s %12s %8s %11s %15s\n' "$e" "$secs" "$pps" "$(awk "BEGIN { printf \"%.2f\", $pps / $base }")" \
		"$(cpu "$ingest")" "$(cpu $evals)"
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	pids=""
done
