#!/bin/sh
# peer.sh compares Vigil with Suricata 7 on one generated capture and the
# same rules (testdata/peer: each content form users write, as Vigil rules
# and as Suricata rules): wall time of `vigil test` and of `suricata -r`,
# start-up included, interleaved, best of ROUNDS, and their ratio; then
# both on two cores. Run from the repository root (make bench runs it);
# it prints nothing and exits 0 when suricata is not installed.
#
# VIGIL: the vigil binary (default: built from the tree); SURICATA and
# SURICATA_CONF: the suricata command and its configuration; PACKETS (1.5
# million), ROUNDS (2), FORMS, SIZES; CPUS: two CPU numbers to pin to
# (default "0 1"), the first alone for the one-core rows.
set -eu
SURICATA=${SURICATA:-suricata}
command -v "$SURICATA" >/dev/null 2>&1 || exit 0
SURICATA_CONF=${SURICATA_CONF:-/etc/suricata/suricata.yaml}
PACKETS=${PACKETS:-1500000}
ROUNDS=${ROUNDS:-2}
FORMS=${FORMS:-icontains lower startswith slice regex}
SIZES=${SIZES:-100 1000}
CPUS=${CPUS:-0 1}
one=${CPUS%% *}
two=$(echo "$CPUS" | tr ' ' ',')
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -z "${VIGIL:-}" ]; then
	# with rules/index's vectorised literal filter where the toolchain has it
	if GOEXPERIMENT=simd ${GO:-go} list simd/archsimd >/dev/null 2>&1; then
		export GOEXPERIMENT=simd
	fi
	${GO:-go} build -o "$tmp/vigil" ./cmd/vigil
	VIGIL=$tmp/vigil
fi
"$VIGIL" gen --packets "$PACKETS" --seed 1 --hit-rate 0.01 "$tmp/gen.ncf" >&2
"$VIGIL" convert "$tmp/gen.ncf" "$tmp/gen.pcap" >&2
rm "$tmp/gen.ncf"

calc() { awk "BEGIN { print $1 }"; }   # calc EXPR: prints EXPR's value
less() { awk "BEGIN { exit !($1 < $2) }"; } # less A B: A < B
pin() { # pin CPULIST CMD...: CMD on those CPUs, where taskset exists
	cpus=$1
	shift
	if command -v taskset >/dev/null; then taskset -c "$cpus" "$@"; else "$@"; fi
}

# seconds CMD...: runs CMD, prints its wall time in seconds.
seconds() {
	t0=$(date +%s.%N)
	"$@" >/dev/null 2>&1 || { echo "peer: failed: $*" >&2; exit 1; }
	t1=$(date +%s.%N)
	calc "$t1 - $t0"
}
run_vigil() { # run_vigil CPULIST WORKERS RULES
	GOMAXPROCS=$2 pin "$1" "$VIGIL" test --quiet --workers "$2" --rules "$3" "$tmp/gen.pcap" >"$tmp/vigil.json"
}
run_suricata() { # run_suricata CPULIST RUNMODE RULES
	rm -rf "$tmp/log" && mkdir "$tmp/log"
	# threads: 2 workers for autofp however many CPUs the machine has
	pin "$1" "$SURICATA" -c "$SURICATA_CONF" -r "$tmp/gen.pcap" -S "$3" -l "$tmp/log" -k none --runmode "$2" \
		--set outputs.1.eve-log.enabled=no --set threading.set-cpu-affinity=no \
		--set "threading.detect-thread-ratio=$(calc "2 / $(nproc)")"
}
best() { # best CMD...: the least of ROUNDS wall times
	b=
	for _ in $(seq "$ROUNDS"); do
		s=$(seconds "$@")
		if [ -z "$b" ] || less "$s" "$b"; then b=$s; fi
	done
	echo "$b"
}

echo "Vigil vs Suricata $("$SURICATA" -V 2>&1 | grep -o 'version [0-9.]*' | cut -d' ' -f2), $PACKETS generated packets ($(du -h "$tmp/gen.pcap" | cut -f1) pcap), best of $ROUNDS interleaved runs, wall time with start-up"
echo "(load before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'))"
printf '%-11s %6s %6s %10s %12s %8s %13s %16s\n' form rules cores vigil_s suricata_s ratio vigil_alerts suricata_alerts
row() { # row FORM N CORES VIGILSECS SURICATASECS
	printf '%-11s %6s %6s %10.2f %12.2f %7.2fx %13d %16d\n' "$1" "$2" "$3" "$4" "$5" "$(calc "$5 / $4")" \
		"$(wc -l <"$tmp/vigil.json")" "$(wc -l <"$tmp/log/fast.log")"
}
for form in $FORMS; do
	for n in $SIZES; do
		r=testdata/peer/$form-$n
		vb= sb=
		for _ in $(seq "$ROUNDS"); do # interleaved
			v=$(seconds run_vigil "$one" 1 "$r.yaml")
			s=$(seconds run_suricata "$one" single "$r.rules")
			if [ -z "$vb" ] || less "$v" "$vb"; then vb=$v; fi
			if [ -z "$sb" ] || less "$s" "$sb"; then sb=$s; fi
		done
		row "$form" "$n" 1 "$vb" "$sb"
	done
done
r=testdata/peer/icontains-100
v1=$(best run_vigil "$one" 1 "$r.yaml")
v2=$(best run_vigil "$two" 2 "$r.yaml")
s1=$(best run_suricata "$one" single "$r.rules")
s2=$(best run_suricata "$two" autofp "$r.rules")
row icontains 100 2 "$v2" "$s2"
printf 'scaling, 1 to 2 cores (icontains, 100 rules): Vigil %.2fx (--workers 2), Suricata %.2fx (--runmode autofp)\n' \
	"$(calc "$v1 / $v2")" "$(calc "$s1 / $s2")"
echo "(load after: $(cut -d' ' -f1-3 /proc/loadavg))"
