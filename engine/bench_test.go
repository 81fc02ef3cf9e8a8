package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-ids/vigil/alerts"
	"github.com/vigil-ids/vigil/capture"
	"github.com/vigil-ids/vigil/ncf"
	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/tools/gen"
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
		items = append(items, fileItems(tb, capDir+name)...)
	}
	return items
}

// fileItems reads every record of a capture into an item, with a copy of
// its frame, numbered from 1.
func fileItems(tb testing.TB, path string) []item {
	tb.Helper()
	r, err := capture.Open(path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	var items []item
	for n := 1; ; n++ {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return items
		}
		if err != nil {
			tb.Fatal(err)
		}
		items = append(items, item{hdr: rec.Header, data: slices.Clone(rec.Data), number: n})
	}
}

type discardSink struct{}

func (discardSink) Publish(*alerts.Alert) {}

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
		w.dec.Decode(&w.pkt, LinkOf(it.hdr.Medium), it.data)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}

// generatedItems returns n packets of generated traffic (tools/gen) with
// the given share of attack packets.
func generatedItems(tb testing.TB, n int, hitRate float64) []item {
	tb.Helper()
	g, err := gen.New(gen.Config{Packets: n, Seed: 7, HitRate: hitRate})
	if err != nil {
		tb.Fatal(err)
	}
	items := make([]item, 0, n)
	for i := 1; ; i++ {
		rec, ok := g.Next()
		if !ok {
			return items
		}
		items = append(items, item{hdr: rec.Header, data: slices.Clone(rec.Data), number: i})
	}
}

// BenchmarkProcess is the per-packet cost of decode, flow tracking and
// rule evaluation on one core, for rule packs of several sizes, over the
// public captures and over generated traffic (2% attack packets).
func BenchmarkProcess(b *testing.B) {
	b.Run("captures", func(b *testing.B) { benchProcess(b, loadItems(b)) })
	b.Run("generated", func(b *testing.B) { benchProcess(b, generatedItems(b, 200000, 0.02)) })
}

func benchProcess(b *testing.B, items []item) {
	for _, n := range []int{10, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			w, rs, bt := benchWorker(b, mustParse(b, gen.Rules(n, 42)))
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

// BenchmarkFilterRules compares the display filters of filters.txt as
// wireshark: rules with their hand-written equivalents as conditions
// (conditions.json), over the public captures: a display filter costs
// what the condition does.
func BenchmarkFilterRules(b *testing.B) {
	data, err := os.ReadFile(capDir + "conditions.json")
	if err != nil {
		b.Fatal(err)
	}
	var conds map[string]string
	if err := json.Unmarshal(data, &conds); err != nil {
		b.Fatal(err)
	}
	sets := map[string]*strings.Builder{"condition": {}, "wireshark": {}}
	for key, s := range sets {
		s.WriteString("rules:\n")
		for i, f := range slices.Sorted(maps.Keys(conds)) {
			text := f
			if key == "condition" {
				text = conds[f]
			}
			fmt.Fprintf(s, "  - {sid: %d, name: f, %s: %q}\n", i+1, key, text)
		}
	}
	items := loadItems(b)
	for _, key := range []string{"condition", "wireshark"} {
		b.Run(fmt.Sprintf("%s/rules=%d", key, len(conds)), func(b *testing.B) {
			w, rs, bt := benchWorker(b, mustParse(b, sets[key].String()))
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				w.process(rs, bt, &items[i%len(items)])
				bt.matches = bt.matches[:0]
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
		})
	}
}

// BenchmarkSourcePush is the serial part of the pipeline: a Source's Push
// (worker choice, defragmentation, the copy into a batch) over generated
// traffic for 4 workers. The workers are not started and the Drop policy
// discards the batches once their queues are full, so only Push runs.
func BenchmarkSourcePush(b *testing.B) {
	items := generatedItems(b, 100000, 0.02)
	e, err := New(Config{Rules: mustParse(b, "rules: []\n"), Sink: discardSink{}, Workers: 4, QueueBatches: 1, Overload: Drop})
	if err != nil {
		b.Fatal(err)
	}
	src := e.NewSource(SourceConfig{Name: "bench"})
	var rec ncf.Record
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		it := &items[i%len(items)]
		rec.Header, rec.Data = it.hdr, it.data
		src.Push(&rec)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}
