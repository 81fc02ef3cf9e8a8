#!/bin/sh
# bench.sh runs Vigil's performance benchmarks (PRODUCT.md §5) and prints
# one table, then the peer table of tools/peer.sh (Vigil vs Suricata 7,
# when suricata is installed). Run from the repository root: `make bench`
# or `sh tools/bench.sh`. GO overrides the go command; PACKETS the size
# of the generated capture `vigil test` runs over (default 1,000,000).
set -eu
GO=${GO:-go}
PACKETS=${PACKETS:-1000000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
raw=$tmp/raw.txt
: >"$raw"

step() { printf '== %s\n' "$*" >&2; }
bench() { # bench PKG REGEXP [go test flags...]
	pkg=$1 re=$2
	shift 2
	step "$pkg $re $*"
	"$GO" test -run='^$' -bench="$re" -benchmem -count=1 -timeout 20m "$@" "$pkg" | grep '^Benchmark' | tee -a "$raw" >&2
}

bench ./engine/ '^BenchmarkDecode$' -cpu 1
bench ./engine/ '^Benchmark(SourcePush|OrderCompleted)$' -cpu 1
bench ./engine/ '^BenchmarkProcess$' -cpu 1
bench ./engine/ '^BenchmarkFilterRules$' -cpu 1
bench ./rules/index/ '^Benchmark(Indexed|Naive)$' -cpu 1
bench ./engine/sensor/ '^BenchmarkLive' -benchtime 2s
bench ./alerts/ '^BenchmarkPublish(Core|JetStream)$'

step "vigil test over a generated capture of $PACKETS packets"
"$GO" build -o "$tmp/vigil" ./cmd/vigil
"$tmp/vigil" gen --packets "$PACKETS" --seed 1 --hit-rate 0.01 --rules "$tmp/rules-1000.yaml" --rule-count 1000 "$tmp/gen.ncf"
bytes=$(wc -c <"$tmp/gen.ncf")
for set in built-in generated-1000; do
	rules=
	[ "$set" = built-in ] || rules="--rules $tmp/rules-1000.yaml"
	for w in 1 2; do
		t0=$(date +%s.%N)
		# shellcheck disable=SC2086 # $rules is empty or two words
		GOMAXPROCS=$w "$tmp/vigil" test --quiet --workers "$w" $rules "$tmp/gen.ncf" >"$tmp/alerts.json"
		t1=$(date +%s.%N)
		alerts=$(wc -l <"$tmp/alerts.json")
		awk -v t0="$t0" -v t1="$t1" -v n="$PACKETS" -v b="$bytes" -v a="$alerts" -v w="$w" -v set="$set" 'BEGIN {
			s = t1 - t0
			printf "VigilTest/gen-%d-packets/%s-rules/workers=%d 1 %.0f ns/op %.0f packets/s %.3f Gbit/s %d alerts\n", n, set, w, s * 1e9 / n, n / s, b * 8 / s / 1e9, a
		}' | tee -a "$raw" >&2
	done
done

echo
echo "Vigil benchmarks, $(date -u +%Y-%m-%dT%H:%MZ), $("$GO" version | cut -d' ' -f3), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ *//'))"
echo "(-N suffix: GOMAXPROCS; no suffix: GOMAXPROCS=1. One op is one packet, record or alert unless stated.)"
echo "(Process: decode, flow tracking, prefilter and rule evaluation on one worker; captures = testdata/captures, generated = tools/gen traffic with 2% attacks.)"
echo
awk '
function fmtnum(v) {
	if (v == "") return "-"
	if (v >= 1e6) return sprintf("%.2fM", v / 1e6)
	if (v >= 1e4) return sprintf("%.0fk", v / 1e3)
	if (v >= 100) return sprintf("%.0f", v)
	return sprintf("%.3g", v)
}
{
	name = $1; sub(/^Benchmark/, "", name)
	delete m
	for (i = 3; i < NF; i += 2) m[$(i + 1)] = $i
	rate = m["packets/s"]; unit = "packets/s"
	if (rate == "" && m["records/s"] != "") { rate = m["records/s"]; unit = "records/s" }
	if (rate == "" && m["alerts/s"] != "") { rate = m["alerts/s"]; unit = "alerts/s" }
	if (rate == "" && m["ns/op"] > 0) { rate = 1e9 / m["ns/op"]; unit = "ops/s" }
	gbit = m["Gbit/s"]
	if (gbit == "" && m["MB/s"] != "") gbit = m["MB/s"] * 8 / 1000
	extra = ""
	if (m["p50-µs"] != "") extra = sprintf("p50 %s µs, p99 %s µs", m["p50-µs"], m["p99-µs"])
	if (m["matches/op"] != "") extra = sprintf("%s matches/op", m["matches/op"])
	if (m["alerts"] != "") extra = sprintf("%d alerts", m["alerts"])
	rows[++n] = sprintf("%-44s %12s %10s %-9s %8s %10s  %s", name, fmtnum(m["ns/op"]), fmtnum(rate), unit, gbit == "" ? "-" : sprintf("%.2f", gbit), m["allocs/op"] == "" ? "-" : m["allocs/op"], extra)
	rate_of[name] = rate; ns_of[name] = m["ns/op"]
}
END {
	printf "%-44s %12s %10s %-9s %8s %10s  %s\n", "benchmark", "ns/op", "rate", "unit", "Gbit/s", "allocs/op", "notes"
	for (i = 1; i <= n; i++) print rows[i]
	print ""
	split("captures generated", traffic, " ")
	for (c = 1; c <= 2; c++) {
		a = rate_of["Process/" traffic[c] "/rules=10000"]; b = rate_of["Process/" traffic[c] "/rules=100"]
		if (a != "" && b > 0) printf "ratio: 10,000 vs 100 rules (%s traffic, one core): %.2f of the packets/s\n", traffic[c], a / b
	}
	for (k in rate_of) if (k ~ /^FilterRules\/wireshark\//) {
		c = k; sub(/wireshark/, "condition", c)
		if (rate_of[c] > 0) printf "ratio: display filters (wireshark:) vs the same rules as conditions: %.2f of the packets/s\n", rate_of[k] / rate_of[c]
	}
	for (r = 10; r <= 100; r *= 10) {
		a = ns_of["Naive/rules=" r]; b = ns_of["Indexed/rules=" r]
		if (a != "" && b > 0) printf "ratio: indexed vs naive evaluation at %d rules (rules/index): %.1fx faster\n", r, a / b
	}
}' "$raw"
echo
PACKETS=$PACKETS VIGIL="$tmp/vigil" sh tools/peer.sh
