package engine

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-ids/vigil/alerts"
	"github.com/vigil-ids/vigil/engine/capture"
	"github.com/vigil-ids/vigil/rules"
)

// benchCaptures are a realistic mix: web, DNS, TLS, SSH, scans, VLANs.
var benchCaptures = []string{
	"zeek-http-bro-org.pcap", "sv-ipv6-mixed.pcap", "sv-icmp-ssh.pcap", "sv-dns-vlan-1200.pcap",
	"zeek-ssh-bruteforce.pcap", "sv-tls-cert.pcap", "zeek-vlan-mpls-mixed.pcap", "sv-syn-flood.pcap",
}

// loadItems reads the benchmark captures into memory as queued items.
func loadItems(tb testing.TB) []item {
	tb.Helper()
	var items []item
	for _, name := range benchCaptures {
		r, err := capture.Open(capDir+name, nil)
		if err != nil {
			tb.Fatal(err)
		}
		for n := 1; ; n++ {
			rec, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				tb.Fatal(err)
			}
			items = append(items, item{hdr: rec.Header, data: slices.Clone(rec.Data), number: n})
		}
		r.Close()
	}
	return items
}

// genRules writes n rules like a real pack: about 60% header rules
// (ports, protocols, TTLs, ICMP types, flags) and 40% content rules
// (4–20 byte literals, with a protocol or port beside them), seldom
// matching.
func genRules(n int, seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, 1))
	words := []string{"passwd", "cmd.exe", "/etc/shadow", "select%20", "union select", "<script>", "powershell", "wget http", "/bin/sh", "base64_decode", "eval(", "xp_cmdshell", "../../", "%00", "jndi:ldap", "User-Agent: sqlmap", "nikto", "masscan", "() { :;};", "/cgi-bin/"}
	var b strings.Builder
	b.WriteString("rules:\n")
	for i := 0; i < n; i++ {
		port := 1024 + rng.IntN(60000)
		var cond string
		switch k := rng.IntN(10); {
		case k < 2:
			cond = fmt.Sprintf("tcp.dstport == %d && tcp.flags.syn && !tcp.flags.ack", port)
		case k < 3:
			cond = fmt.Sprintf("udp.dstport == %d && udp.length > %d", port, 100+rng.IntN(400))
		case k < 4:
			cond = fmt.Sprintf("ip.ttl == %d && ip.proto == 6 && tcp.dstport == %d", 1+rng.IntN(4), port)
		case k < 5:
			cond = fmt.Sprintf("icmp.type == %d && icmp.code == %d", 13+rng.IntN(5), rng.IntN(3))
		case k < 6:
			cond = fmt.Sprintf("tcp.srcport == %d && tcp.len > 1000", port)
		case k < 8:
			w := words[rng.IntN(len(words))]
			cond = fmt.Sprintf("tcp.dstport == %d && payload contains %q", []int{80, 8080, 443, 21, 25, 445}[rng.IntN(6)], fmt.Sprintf("%s%d", w, rng.IntN(1000)))
		default:
			w := words[rng.IntN(len(words))]
			cond = fmt.Sprintf("http.request && icontains(http.request.uri, %q)", fmt.Sprintf("%s%d", w, rng.IntN(1000)))
		}
		fmt.Fprintf(&b, "  - sid: %d\n    name: generated %d\n    condition: '%s'\n", 100000+i, i, cond)
	}
	return b.String()
}

type discardSink struct{}

func (discardSink) Emit(*alerts.Alert) {}

// benchWorker is one worker with its rule state, outside any goroutine,
// and a batch to carry matches.
func benchWorker(b *testing.B, set *rules.Set) (*worker, *ruleState, *batch) {
	e, err := New(Config{Rules: set, Sink: discardSink{}, Workers: 1})
	if err != nil {
		b.Fatal(err)
	}
	return e.workers[0], e.state.Load(), getBatch(e.NewSource(SourceConfig{Name: "bench"}))
}

// BenchmarkDecode is the decoder alone over the benchmark mix.
func BenchmarkDecode(b *testing.B) {
	items := loadItems(b)
	w, _, _ := benchWorker(b, mustParse(b, "rules: []\n"))
	var bytes int64
	for _, it := range items {
		bytes += int64(len(it.data))
	}
	b.SetBytes(bytes / int64(len(items)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		it := &items[i%len(items)]
		w.dec.Decode(&w.pkt, linkOf(it.hdr.Medium), it.data)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}

// BenchmarkProcess is the per-packet cost of decode, flow tracking and
// rule evaluation on one core, for rule packs of several sizes.
func BenchmarkProcess(b *testing.B) {
	items := loadItems(b)
	for _, n := range []int{10, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			w, rs, bt := benchWorker(b, mustParse(b, genRules(n, 42)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				w.process(rs, bt, &items[i%len(items)])
				bt.matches = bt.matches[:0]
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
		})
	}
}
