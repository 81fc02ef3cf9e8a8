#!/bin/sh
# scale.sh BUNDLE measures how Vigil and Suricata 7 scale with cores on
# one machine: `vigil test --workers N` for N in NS, Suricata
# `--runmode single`, and Suricata `--runmode autofp` with N detect
# threads, over one generated capture (vigil gen, PACKETS packets, made on
# the spot) and the same rules (testdata/peer: SETS, each as Vigil rules
# and as Suricata rules), every run ROUNDS times, rounds interleaved. It
# prints, last, a table: wall seconds of each round (start-up included),
# the best, packets/s, and the ratio to one worker (Vigil) or to one
# autofp thread (Suricata).
#
# BUNDLE is the folder tools/scale-bundle.sh builds (`make
# scale-bundle`): vigil.xz (a static vigil), suricata/ (Suricata with its
# libraries and their loader), suricata.yaml, peer/. The script needs only sh, coreutils and
# python3; Go, apt and the network are not used. Environment: PACKETS
# (1000000), NS ("1 2 4 8 16"), SETS ("icontains-100 lower-1000"),
# ROUNDS (2). GOMAXPROCS is left alone: vigil's reader, like Suricata's
# capture thread, runs beside the N workers.
#
# `scale.sh --suricata BUNDLE ARGS...` runs the bundled Suricata with
# ARGS (e.g. --build-info).
set -eu
if [ "${1:-}" = --suricata ]; then
	suricata_mode=1
	shift
fi
B=${1:?usage: scale.sh BUNDLE}
B=$(cd "$B" && pwd)
shift

root=$B/suricata
loader=
for l in "$root/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" "$root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"; do
	if [ -e "$l" ]; then loader=$l; fi
done
[ -n "$loader" ] || { echo "scale: no loader under $root" >&2; exit 1; }
libs=$root/lib/x86_64-linux-gnu:$root/usr/lib/x86_64-linux-gnu:$root/lib:$root/usr/lib
suricata() { "$loader" --library-path "$libs" "$root/usr/bin/suricata" "$@"; }
if [ -n "${suricata_mode:-}" ]; then
	suricata "$@"
	exit
fi

PACKETS=${PACKETS:-1000000}
NS=${NS:-1 2 4 8 16}
SETS=${SETS:-icontains-100 lower-1000}
ROUNDS=${ROUNDS:-2}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
results=$tmp/results.txt
: >"$results"

python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' \
	"$B/vigil.xz" "$tmp/vigil"
chmod +x "$tmp/vigil"
vigil=$tmp/vigil
"$vigil" gen --packets "$PACKETS" --seed 1 --hit-rate 0.01 "$tmp/gen.pcap" >&2
cpus=$(nproc)

# timed NAME CMD...: runs CMD, appends "NAME start end alerts" to the
# results (start and end in Unix seconds); CMD writes its alerts, one a
# line, to $tmp/alerts.
timed() {
	name=$1
	shift
	echo "scale: round $name" >&2
	t0=$(date +%s.%N)
	if ! "$@" >"$tmp/out" 2>&1; then
		cat "$tmp/out" >&2
		echo "scale: failed: $name" >&2
		exit 1
	fi
	t1=$(date +%s.%N)
	echo "$name $t0 $t1 $(wc -l <"$tmp/alerts")" >>"$results"
}
run_vigil() { # run_vigil SET N
	"$vigil" test --quiet --workers "$2" --rules "$B/peer/$1.yaml" "$tmp/gen.pcap" >"$tmp/alerts"
}
run_suricata() { # run_suricata SET RUNMODE THREADS
	rm -rf "$tmp/log" && mkdir "$tmp/log"
	# autofp runs detect-thread-ratio x CPUs detect threads
	ratio=$(python3 -c "print($3 / $cpus)")
	suricata -c "$B/suricata.yaml" -r "$tmp/gen.pcap" -S "$B/peer/$1.rules" -l "$tmp/log" -k none --runmode "$2" \
		--set outputs.1.eve-log.enabled=no --set unix-command.enabled=no --set threading.set-cpu-affinity=no \
		--set "threading.detect-thread-ratio=$ratio" \
		--set "classification-file=$root/etc/suricata/classification.config" \
		--set "reference-config-file=$root/etc/suricata/reference.config"
	cp "$tmp/log/fast.log" "$tmp/alerts"
}

for round in $(seq "$ROUNDS"); do
	for set in $SETS; do
		for n in $NS; do
			timed "$round $set vigil workers $n" run_vigil "$set" "$n"
			timed "$round $set suricata autofp $n" run_suricata "$set" autofp "$n"
		done
		timed "$round $set suricata single 1" run_suricata "$set" single 1
	done
done

python3 - "$results" "$PACKETS" "$ROUNDS" "$cpus" <<'EOF'
import os, sys
path, packets, rounds, cpus = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
runs = {}  # (set, engine, mode, n) -> [(seconds, alerts)]
order = []
for line in open(path):
    rnd, rset, engine, mode, n, t0, t1, alerts = line.split()
    key = (rset, engine, mode, int(n))
    if key not in runs:
        runs[key] = []
        order.append(key)
    runs[key].append((float(t1) - float(t0), int(alerts)))
model = ""
for line in open("/proc/cpuinfo"):
    if line.startswith("model name"):
        model = line.split(":", 1)[1].strip()
        break
print()
print(f"Vigil vs Suricata 7 scaling: {packets} generated packets, {cpus} CPUs ({model}), "
      f"load {' '.join(open('/proc/loadavg').read().split()[:3])}; wall seconds with start-up, "
      f"{rounds} interleaved rounds, best taken; ratio = packets/s over the same engine's N=1 "
      f"(Suricata: autofp with 1 detect thread)")
cols = ["rules", "engine", "mode", "N"] + [f"run{i + 1}_s" for i in range(rounds)] + ["best_s", "packets/s", "ratio", "alerts"]
print("%-14s %-9s %-8s %3s " % tuple(cols[:4]) + " ".join("%7s" % c for c in cols[4:4 + rounds]) + " %7s %11s %6s %7s" % tuple(cols[4 + rounds:]))
for key in sorted(order, key=lambda k: (k[0], k[1] != "vigil", k[2] != "single", k[3])):
    rset, engine, mode, n = key
    secs = [s for s, _ in runs[key]]
    best = min(secs)
    base = runs.get((rset, engine, "workers" if engine == "vigil" else "autofp", 1))
    ratio = min(s for s, _ in base) / best if base else float("nan")
    alerts = runs[key][0][1]
    print("%-14s %-9s %-8s %3d " % (rset, engine, mode, n) + " ".join("%7.2f" % s for s in secs)
          + " %7.2f %11.0f %5.2fx %7d" % (best, packets / best, ratio, alerts))
EOF
