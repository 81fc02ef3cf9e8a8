#!/bin/sh
# soak.sh runs `vigil run` for MINUTES (10) against a nats-server process,
# with SENSORS (3) `vigil replay --loop` sensors at RATE (1,000) packets/s
# each, a SIGHUP (rule reload) every minute and one NATS restart half-way;
# once a minute it prints the heap, the goroutines and the counters from
# /metrics, and at the end checks that they add up: every packet the
# sensors sent was evaluated, and every alert was published (none pending
# or dropped). Run from the repository root: `make soak`. Needs nats-server
# (apt-get install nats-server) and curl.
set -eu
MINUTES=${MINUTES:-10}
SENSORS=${SENSORS:-3}
RATE=${RATE:-1000}
tmp=$(mktemp -d)
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
base=$((20000 + $$ % 20000))
np=$base lp=$((base + 1)) mp=$((base + 2))
${GO:-go} build -o "$tmp/vigil" ./cmd/vigil
"$tmp/vigil" gen --packets 100000 --seed 2 --hit-rate 0.01 "$tmp/gen.ncf" >&2

nats() { nats-server -js -sd "$tmp/nats" -a 127.0.0.1 -p "$np" >>"$tmp/nats.log" 2>&1 & natspid=$!; }
nats
sleep 1
"$tmp/vigil" run --nats "nats://127.0.0.1:$np" --listen "127.0.0.1:$lp" --metrics "127.0.0.1:$mp" \
	--data-dir "$tmp/data" --max-sensors-per-address -1 >"$tmp/vigil.log" 2>&1 & # every sensor is 127.0.0.1
vigil=$!
pids="$vigil"
scrape() { curl -sf "http://127.0.0.1:$mp/metrics" >"$tmp/metrics"; } # one snapshot for what follows
metric() { # metric NAME: its value in the snapshot, summed over label sets
	awk -v n="$1" '$1 == n || index($1, n "{") == 1 { s += $2 } END { printf "%.0f", s }' "$tmp/metrics"
}
for _ in $(seq 50); do scrape && break; sleep 0.2; done
replays=
for s in $(seq "$SENSORS"); do
	"$tmp/vigil" replay --to "127.0.0.1:$lp" --loop --rate "$RATE" --retry 1s "$tmp/gen.ncf" 2>"$tmp/replay$s.log" &
	replays="$replays $!"
done
pids="$pids $replays $natspid"
printf '%6s %12s %10s %12s %9s %10s %8s %8s %7s\n' minute heap_inuse goroutines packets alerts published pending dropped reloads
report() {
	scrape
	printf '%6s %12s %10s %12s %9s %10s %8s %8s %7s\n' "$1" "$(metric go_memstats_heap_inuse_bytes)" "$(metric go_goroutines)" \
		"$(metric vigil_packets_total)" "$(metric vigil_alerts_total)" "$(metric vigil_alerts_published_total)" \
		"$(metric vigil_alerts_pending)" "$(metric vigil_alerts_dropped_total)" "$(grep -c 'reload' "$tmp/vigil.log" || true)"
}
for m in $(seq "$MINUTES"); do
	sleep 60
	kill -HUP "$vigil"
	if [ "$m" -eq $((MINUTES / 2)) ]; then
		kill "$natspid"
		wait "$natspid" 2>/dev/null || true
		sleep 5
		nats
		pids="$pids $natspid"
		echo "(nats-server restarted after a 5 s outage)"
	fi
	report "$m"
done
for r in $replays; do kill -INT "$r"; done
for r in $replays; do wait "$r" || true; done
sent=0
for s in $(seq "$SENSORS"); do
	n=$(awk '/records .* sent/ { print $1 }' "$tmp/replay$s.log")
	sent=$((sent + ${n:-0}))
done
sleep 5 # let the last alerts reach NATS
report end
packets=$(metric vigil_packets_total) alerts=$(metric vigil_alerts_total)
published=$(metric vigil_alerts_published_total) pending=$(metric vigil_alerts_pending) dropped=$(metric vigil_alerts_dropped_total)
echo "sensors sent $sent packets; vigil evaluated $packets; $alerts alerts = $published published + $pending pending + $dropped dropped"
[ "$sent" -eq "$packets" ] && [ "$alerts" -eq "$published" ] && [ "$pending" -eq 0 ] && [ "$dropped" -eq 0 ] || {
	echo "soak: counters do not add up" >&2
	tail -20 "$tmp/vigil.log" >&2
	exit 1
}
echo "soak: counters add up"
