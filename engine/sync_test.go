package engine

import (
	"context"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ids/vigil/capture"
	"github.com/vigil-ids/vigil/engine/flow"
	"github.com/vigil-ids/vigil/ncf"
	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/tools/gen"
)

// syncRules adds to mixedRules rules that read what the stream and the
// application layers make of a packet, and a de-duplication window that
// the batches' packet times close.
const syncRules = mixedRules + `
  - sid: 6
    name: http get
    condition: http.request.method == "GET" && tcp.reassembled.new_length > 0
  - sid: 7
    name: stream words
    condition: icontains(tcp.reassembled.data, "user") || icontains(tcp.reassembled.data, "host:")
  - sid: 8
    name: retransmission
    condition: tcp.analysis.retransmission || tcp.analysis.lost_segment
  - sid: 9
    name: dns query
    condition: dns.qry.name != ""
    dedup: {track: by_src, seconds: 30}
`

// TestSynchronousAgrees: a synchronous Source (RunFile's) and a queued one
// give the same alerts, byte for byte and in the same order, and the same
// counters, over every capture of the test corpus.
func TestSynchronousAgrees(t *testing.T) {
	files, err := filepath.Glob(capDir + "*.*")
	if err != nil {
		t.Fatal(err)
	}
	files = slices.DeleteFunc(files, func(f string) bool {
		return strings.HasSuffix(f, ".json") || strings.HasSuffix(f, ".md") || strings.HasSuffix(f, ".txt")
	})
	if len(files) < 40 {
		t.Fatalf("only %d captures", len(files))
	}
	generated := filepath.Join(t.TempDir(), "gen.ncf")
	if _, err := gen.WriteFile(generated, gen.Config{Packets: 30000, Seed: 3, HitRate: 0.02}); err != nil {
		t.Fatal(err)
	}
	files = append(files, generated)
	peer, err := rules.Load("../testdata/peer/icontains-100.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, set := range map[string]*rules.Set{"mixed": mustParse(t, syncRules), "peer": peer} {
		want, ws := pushFiles(t, set, false, files)
		got, gs := pushFiles(t, set, true, files)
		t.Logf("%s: %d alerts", name, len(want))
		if len(want) < 20 {
			t.Fatalf("%s: only %d alerts", name, len(want))
		}
		if !slices.Equal(got, want) {
			for i := range min(len(got), len(want)) {
				if got[i] != want[i] {
					t.Fatalf("%s: alert %d differs:\nsynchronous %s\nqueued      %s", name, i, got[i], want[i])
				}
			}
			t.Fatalf("%s: %d alerts synchronous, %d queued", name, len(got), len(want))
		}
		if !reflect.DeepEqual(gs, ws) {
			t.Errorf("%s: counters differ:\nsynchronous %+v\nqueued      %+v", name, gs, ws)
		}
	}
}

// pushFiles runs files through a one-worker engine, each through a Source
// that is synchronous or not, and returns the alerts as EVE JSON in the
// order published, and the engine's counters.
func pushFiles(t *testing.T, set *rules.Set, synchronous bool, files []string) ([]string, Stats) {
	t.Helper()
	sink := &collectSink{}
	e, err := New(Config{Rules: set, Sink: sink, Workers: 1, Instance: "sync-test"})
	if err != nil {
		t.Fatal(err)
	}
	e.Start()
	for _, f := range files {
		r, err := capture.OpenCooked(f, nil)
		if err != nil {
			t.Fatal(err)
		}
		src := e.NewSource(SourceConfig{Name: filepath.Base(f), Filename: f, Synchronous: synchronous})
		var st FileStats
		err = pushAll(context.Background(), r, src, &st, nil)
		src.Close()
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range sink.list {
		out = append(out, string(a.AppendJSON(nil)))
	}
	return out, e.Stats()
}

// TestSynchronousNoAllocs: a synchronous Source evaluates its packets and
// releases its batches without allocating when no rule matches.
func TestSynchronousNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop batches at random")
	}
	recs := records(generatedItems(t, 20000, 0))
	e, err := New(Config{Rules: mustParse(t, gen.Rules(100, 42)), Sink: discardSink{}, Workers: 1,
		Stateful: StatefulConfig{Flow: flow.Config{MaxFlows: 512}}})
	if err != nil {
		t.Fatal(err)
	}
	e.Start()
	defer e.Stop(context.Background())
	s := e.NewSource(SourceConfig{Name: "t", Synchronous: true})
	push := func() {
		for i := range recs {
			s.Push(&recs[i])
		}
		s.Flush()
	}
	push() // warm up: tables and pools reach their working size
	// One run is a whole pass: AllocsPerRun rounds down per run.
	if allocs := testing.AllocsPerRun(1, push); allocs != 0 {
		t.Errorf("%.0f allocations over %d packets", allocs, len(recs))
	}
	// AllocsPerRun makes a run of its own before the one it measures.
	if st := e.Stats(); st.Packets != uint64(3*len(recs)) || st.Alerts != 0 {
		t.Errorf("%d packets evaluated, %d alerts: want %d and none", st.Packets, st.Alerts, 3*len(recs))
	}
}

// TestSynchronousHoldsWorker: while a synchronous Source has a batch open,
// a queued Source on the same one-worker engine waits; once the first
// closes, the second's packets are evaluated; each gets the alerts it
// gets alone.
func TestSynchronousHoldsWorker(t *testing.T) {
	set := mustParse(t, syncRules)
	recsA, recsB := records(fileItems(t, capDir+"sv-syn-flood.pcap")), records(fileItems(t, capDir+"zeek-ftp-bruteforce.pcap"))
	alone := func(name string, recs []ncf.Record, synchronous bool) []string {
		sink := &collectSink{}
		e, err := New(Config{Rules: set, Sink: sink, Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		e.Start()
		s := e.NewSource(SourceConfig{Name: name, Synchronous: synchronous})
		for i := range recs {
			s.Push(&recs[i])
		}
		s.Close()
		e.Stop(context.Background())
		return sink.ordered()
	}
	wantA, wantB := alone("a", recsA, true), alone("b", recsB, false)
	if len(wantA) == 0 || len(wantB) == 0 {
		t.Fatalf("alerts alone: %d and %d", len(wantA), len(wantB))
	}

	sink := &collectSink{}
	e, err := New(Config{Rules: set, Sink: sink, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	e.Start()
	a := e.NewSource(SourceConfig{Name: "a", Synchronous: true})
	b := e.NewSource(SourceConfig{Name: "b"})
	a.Push(&recsA[0]) // a batch open: a holds the worker
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range recsB {
			b.Push(&recsB[i])
		}
		b.Close()
	}()
	select {
	case <-done:
		t.Fatal("the queued Source's packets were evaluated while the synchronous Source held the worker")
	case <-time.After(300 * time.Millisecond):
	}
	for i := range recsA[1:] {
		a.Push(&recsA[1+i])
	}
	a.Close()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the queued Source never finished")
	}
	e.Stop(context.Background())
	var gotA, gotB []string
	for _, k := range sink.ordered() {
		if strings.HasPrefix(k, "a ") {
			gotA = append(gotA, k)
		} else {
			gotB = append(gotB, k)
		}
	}
	if !slices.Equal(gotA, wantA) || !slices.Equal(gotB, wantB) {
		t.Errorf("together: %d and %d alerts, alone: %d and %d", len(gotA), len(gotB), len(wantA), len(wantB))
	}
}

// records turns items back into the records they were read from.
func records(items []item) []ncf.Record {
	out := make([]ncf.Record, len(items))
	for i, it := range items {
		out[i] = ncf.Record{Header: it.hdr, Data: it.data}
	}
	return out
}
