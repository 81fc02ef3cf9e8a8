package index

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"

	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/rules/field"
)

// benchCaptures are the captures benchmarks run over: web, DNS, SSH and
// FTP sessions, scans and a SYN flood.
var benchCaptures = []string{
	"sv-http-testmyids.pcap", "zeek-http-bro-org.pcap", "sv-dns-dhcp-sofacy.pcap",
	"zeek-ssh-bruteforce.pcap", "zeek-nmap-host-sweep.pcap", "sv-syn-flood.pcap",
	"zeek-ftp-bruteforce.pcap", "sv-tls-cert.pcap", "sv-icmpv4-ping.pcap",
}

var commonPorts = []int{80, 443, 53, 21, 22, 23, 25, 445, 3389, 8080, 139, 1433}

func (g *gen) realPort() int {
	if g.r.IntN(10) < 3 {
		return commonPorts[g.r.IntN(len(commonPorts))]
	}
	return 1024 + g.r.IntN(64512)
}

// word is a 4–20 byte literal: mostly made up (as most signatures miss
// most traffic), one in 50 taken from the traffic.
func (g *gen) word() string {
	if g.r.IntN(50) == 0 {
		return g.literal(4, 20)
	}
	n := 4 + g.r.IntN(17)
	b := make([]byte, n)
	for i := range b {
		b[i] = "abcdefghijklmnopqrstuvwxyz0123456789/.=_-"[g.r.IntN(41)]
	}
	return string(b)
}

// realistic returns n rules shaped like Suricata ET rules: about 60%
// header rules (ports, protocols, flags, ttl, ICMP types), 40% content
// rules (a port or protocol plus 4–20 byte literals).
func realistic(tb testing.TB, g *gen, n int) []*rules.Rule {
	conds := make([]string, n)
	for i := range conds {
		if g.r.IntN(10) < 6 {
			switch g.r.IntN(7) {
			case 0:
				conds[i] = fmt.Sprintf("tcp.dstport == %d && tcp.flags.syn && !tcp.flags.ack", g.realPort())
			case 1:
				conds[i] = fmt.Sprintf("udp.dstport == %d", g.realPort())
			case 2:
				conds[i] = fmt.Sprintf("tcp.dstport == %d && ip.ttl < %d", g.realPort(), 32+g.r.IntN(64))
			case 3:
				conds[i] = fmt.Sprintf("icmp.type == %d && icmp.code == %d", g.r.IntN(19), g.r.IntN(4))
			case 4:
				conds[i] = fmt.Sprintf("tcp.srcport == %d && tcp.flags.reset", g.realPort())
			case 5:
				conds[i] = fmt.Sprintf("ip.proto == %d && ip.ttl == %d", []int{47, 50, 51, 132}[g.r.IntN(4)], g.r.IntN(256))
			default:
				conds[i] = fmt.Sprintf("udp.srcport == %d && udp.length > %d", g.realPort(), 100+g.r.IntN(1000))
			}
			continue
		}
		switch g.r.IntN(6) {
		case 0, 1:
			conds[i] = fmt.Sprintf("tcp.dstport == %d && payload contains %s", g.realPort(), quote(g.word()))
		case 2:
			conds[i] = fmt.Sprintf("tcp && payload contains %s && payload contains %s", quote(g.word()), quote(g.word()))
		case 3:
			conds[i] = fmt.Sprintf("http.request && http.request.uri contains %s", quote(g.word()))
		case 4:
			conds[i] = fmt.Sprintf("udp.dstport == 53 && payload contains %s", quote(g.word()))
		default:
			conds[i] = fmt.Sprintf("tcp && icontains(payload, %s)", quote(g.word()))
		}
	}
	return parse(tb, conds, nil)
}

var benchPkts []field.Packet
var benchSets = map[int][]*rules.Rule{}
var benchIdx = map[int]*Index{}

// benchSetup returns the bench packets, n realistic rules and their
// index, built once per run.
func benchSetup(b *testing.B, n int) ([]field.Packet, []*rules.Rule, *Index) {
	b.Helper()
	if benchPkts == nil {
		benchPkts = loadPackets(b, benchCaptures...)
	}
	if benchSets[n] == nil {
		benchSets[n] = realistic(b, newGen(uint64(n), benchPkts), n)
		benchIdx[n] = Build(benchSets[n])
	}
	return benchPkts, benchSets[n], benchIdx[n]
}

var ruleCounts = []int{10, 100, 1000, 10000}

// BenchmarkCandidates: one op is one packet's candidate lookup.
func BenchmarkCandidates(b *testing.B) {
	for _, n := range ruleCounts {
		b.Run("rules="+strconv.Itoa(n), func(b *testing.B) {
			pkts, rs, ix := benchSetup(b, n)
			dst := make([]int, 0, len(rs))
			cands := 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				dst = ix.Candidates(&pkts[i%len(pkts)], dst[:0])
				cands += len(dst)
			}
			b.ReportMetric(float64(cands)/float64(b.N), "cands/op")
		})
	}
}

// BenchmarkIndexed: one op is one packet's candidates, each evaluated.
func BenchmarkIndexed(b *testing.B) {
	for _, n := range ruleCounts {
		b.Run("rules="+strconv.Itoa(n), func(b *testing.B) {
			pkts, rs, ix := benchSetup(b, n)
			var ev rules.Evaluator
			dst := make([]int, 0, len(rs))
			matches := 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p := &pkts[i%len(pkts)]
				dst = ix.Candidates(p, dst[:0])
				for _, c := range dst {
					if ok, _ := ev.Eval(rs[c], p); ok {
						matches++
					}
				}
			}
			b.ReportMetric(float64(matches)/float64(b.N), "matches/op")
		})
	}
}

// BenchmarkIndexedNoMatch: the same over the packets no rule matches;
// allocs/op must be 0.
func BenchmarkIndexedNoMatch(b *testing.B) {
	for _, n := range ruleCounts {
		b.Run("rules="+strconv.Itoa(n), func(b *testing.B) {
			all, rs, ix := benchSetup(b, n)
			var ev rules.Evaluator
			var pkts []*field.Packet
			var m []int
			for i := range all {
				if m = naive(&ev, rs, &all[i], m[:0]); len(m) == 0 {
					pkts = append(pkts, &all[i])
				}
			}
			if len(pkts) == 0 {
				b.Skip("every packet matches some rule")
			}
			dst := make([]int, 0, len(rs))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p := pkts[i%len(pkts)]
				dst = ix.Candidates(p, dst[:0])
				for _, c := range dst {
					_, _ = ev.Eval(rs[c], p)
				}
			}
		})
	}
}

// BenchmarkNaive: one op is one packet with every rule evaluated, the
// baseline the index is measured against.
func BenchmarkNaive(b *testing.B) {
	for _, n := range []int{10, 100} {
		b.Run("rules="+strconv.Itoa(n), func(b *testing.B) {
			pkts, rs, _ := benchSetup(b, n)
			var ev rules.Evaluator
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p := &pkts[i%len(pkts)]
				for _, r := range rs {
					_, _ = ev.Eval(r, p)
				}
			}
		})
	}
}

// BenchmarkBuild: indexing 10,000 rules (parsing excluded).
func BenchmarkBuild(b *testing.B) {
	_, rs, _ := benchSetup(b, 10000)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		Build(rs)
	}
}

// peerSet returns the rules of testdata/peer/NAME.yaml, the rule sets
// tools/peer.sh runs Vigil and Suricata on.
func peerSet(b testing.TB, name string) []*rules.Rule {
	b.Helper()
	data, err := os.ReadFile("../../testdata/peer/" + name + ".yaml")
	if err != nil {
		b.Fatal(err)
	}
	set, err := rules.Parse(name+".yaml", data)
	if err != nil {
		b.Fatal(err)
	}
	return set.Rules
}

// BenchmarkPeerCandidates: one op is one packet's candidate lookup with
// the peer rule sets, whose content rules need the literal pass on every
// TCP packet; the bytes are the frames'.
func BenchmarkPeerCandidates(b *testing.B) {
	for _, name := range []string{"icontains-100", "icontains-1000", "startswith-100", "regex-1000"} {
		b.Run(name, func(b *testing.B) {
			if benchPkts == nil {
				benchPkts = loadPackets(b, benchCaptures...)
			}
			pkts := benchPkts
			rs := peerSet(b, name)
			ix := Build(rs)
			var bytes int
			for i := range pkts {
				bytes += len(pkts[i].Frame.Bytes)
			}
			dst := make([]int, 0, len(rs))
			b.SetBytes(int64(bytes / len(pkts)))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				dst = ix.Candidates(&pkts[i%len(pkts)], dst[:0])
			}
		})
	}
}

// BenchmarkScan: one op is one scan of a frame of the bench captures for
// the first n distinct literals of the icontains-1000 peer set, by each
// scanner this build and CPU have; it sizes newTeddy's limits.
func BenchmarkScan(b *testing.B) {
	if benchPkts == nil {
		benchPkts = loadPackets(b, benchCaptures...)
	}
	var frames []string
	var bytes int
	for i := range benchPkts {
		if f := benchPkts[i].Frame.Bytes; len(f) > 0 {
			frames = append(frames, f)
			bytes += len(f)
		}
	}
	var all []string
	for _, r := range peerSet(b, "icontains-1000") {
		for _, a := range analyze(r.Node).lit {
			if p := capFold(filedPart(a.lit, a.anchored)); !slices.Contains(all, p) {
				all = append(all, p)
			}
		}
	}
	for _, n := range []int{8, 16, 32, 48, 64, 100, 200, 384, 500} {
		pats := all[:min(n, len(all))]
		hits := 0
		count := func(int, int32) { hits++ }
		bench := func(name string, scan func(text string)) {
			b.Run(fmt.Sprintf("pats=%d/%s", len(pats), name), func(b *testing.B) {
				b.SetBytes(int64(bytes / len(frames)))
				for i := 0; b.Loop(); i++ {
					scan(frames[i%len(frames)])
				}
			})
		}
		if dfaBytes(pats, nil) <= maxDFABytes {
			lens := make([]int, len(pats))
			for i, p := range pats {
				lens[i] = len(p)
			}
			ix := &Index{t: &tables{lens: lens, patUses: make([][]int32, len(pats))}, f: &filter{m: newMatcher(pats)}}
			bench("dfa", func(text string) { ix.scan(text, 0, len(text)) })
		}
		q := newQgram(pats)
		bench("qgram", func(text string) { q.scan(text, 0, len(text), count) })
		eachTeddy(func(kind string) {
			if td := buildTeddy(pats); td != nil {
				bench("teddy-"+kind, func(text string) { td.scan(text, 0, len(text), count) })
			}
		})
	}
}
