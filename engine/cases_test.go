package engine

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ids/vigil/engine/flow"
	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/tools/gen"
)

// caseDir holds small captures, each with a rule file and, in
// expected.json, the exact frames (pcap_cnt) each listed sid must alert
// on, derived from tshark (see each case's why).
const caseDir = "../testdata/cases/"

// TestCases runs each case's rules over its capture, and over the NCF twin
// when there is one, with one and with two workers, as `vigil test` does,
// and checks the alerting frames.
func TestCases(t *testing.T) {
	raw, err := os.ReadFile(caseDir + "expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Case, Capture, Rules, Why string
		TZ                        *string
		Expect                    map[string][]int
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Case, func(t *testing.T) {
			set, err := rules.Load(caseDir + c.Rules)
			if err != nil {
				t.Fatal(err)
			}
			zone := time.UTC
			if c.TZ != nil {
				if zone, err = time.LoadLocation(*c.TZ); err != nil {
					t.Fatal(err)
				}
			}
			files := []string{c.Capture}
			if ncf := strings.TrimSuffix(c.Capture, filepath.Ext(c.Capture)) + ".ncf"; ncf != c.Capture {
				if _, err := os.Stat(caseDir + ncf); err == nil {
					files = append(files, ncf)
				}
			}
			for _, f := range files {
				for _, workers := range []int{1, 2} {
					got := caseFrames(t, set, workers, caseDir+f, zone)
					for sid, want := range c.Expect {
						if !slices.Equal(got[sid], want) {
							t.Errorf("%s, %d workers: sid %s alerts on %v, want %v (%s)", f, workers, sid, got[sid], want, c.Why)
						}
					}
				}
			}
		})
	}
}

// caseFrames runs set over one capture and returns the alerting frames
// per sid.
func caseFrames(t *testing.T, set *rules.Set, workers int, path string, zone *time.Location) map[string][]int {
	t.Helper()
	sink := &collectSink{}
	e, err := New(Config{Rules: set, Sink: sink, Workers: workers, Instance: "t"})
	if err != nil {
		t.Fatal(err)
	}
	e.Start()
	if _, err := e.RunFile(context.Background(), path, zone, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := map[string][]int{}
	for _, a := range sink.list {
		if a.Summary == nil {
			sid := strconv.Itoa(a.SID)
			got[sid] = append(got[sid], a.PcapCnt)
		}
	}
	for _, f := range got {
		slices.Sort(f)
	}
	return got
}

// tunnelsDir holds one capture per encapsulation and tunnels.yaml, whose
// rules match the packets inside them (testdata/tunnels/gen.py writes
// both).
const tunnelsDir = "../testdata/tunnels/"

// TestTunnelRules runs the inline tests of tunnels.yaml: each rule must
// match exactly the frames whose inner packet it describes.
func TestTunnelRules(t *testing.T) {
	set, err := rules.Load(tunnelsDir + "tunnels.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Rules) < 20 {
		t.Fatalf("%d rules, want one or more per encapsulation", len(set.Rules))
	}
	for _, e := range RunInlineTests(context.Background(), set, nil) {
		t.Error(e)
	}
}

// TestEncapsulationStats checks that the engine's statistics count every
// encapsulation the tunnel captures hold, and nothing as undecodable.
func TestEncapsulationStats(t *testing.T) {
	set := mustParse(t, "rules:\n  - {sid: 1, name: any, condition: frame}\n")
	sink := &collectSink{}
	e, err := New(Config{Rules: set, Sink: sink, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	e.Start()
	files, _ := filepath.Glob(tunnelsDir + "*.pcap")
	files = append(files, caseDir+"c01-qinq3.pcap")
	for _, f := range files {
		if _, err := e.RunFile(context.Background(), f, nil, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := e.Stats()
	if st.DecodeErrors != 0 {
		t.Errorf("%d decode errors", st.DecodeErrors)
	}
	want := map[string]uint64{
		"vlan": 4, "ieee8021ad": 2, "mpls": 4, "pweth": 2, "pppoes": 3, "gre": 9, "erspan": 3,
		"vxlan": 2, "geneve": 2, "teredo": 3, "ipip": 4,
	}
	for name, n := range want {
		if c := st.Encapsulations[name]; c.Decoded != n || c.Truncated+c.Malformed+c.Unsupported != 0 {
			t.Errorf("%s: %+v, want %d decoded", name, c, n)
		}
	}
	if len(st.Encapsulations) != len(want) {
		t.Errorf("encapsulations %v, want those of %v", st.Encapsulations, want)
	}
}

// TestProcessNoAllocs checks that a warmed-up worker decodes, tracks,
// reassembles and evaluates without allocating: flows come and go
// through a small flow table, so stream state is freed and reused.
func TestProcessNoAllocs(t *testing.T) {
	items := generatedItems(t, 20000, 0)
	processNoAllocs(t, items, mustParse(t, gen.Rules(100, 42)))
}

// TestProcessNoAllocsPeer is TestProcessNoAllocs for the rule sets of the
// peer comparison (testdata/peer: each literal form, 100 and 1,000
// rules), whose literals go through the vectorised filter, the automaton
// or the q-gram filter.
func TestProcessNoAllocsPeer(t *testing.T) {
	items := generatedItems(t, 20000, 0)
	files, err := filepath.Glob("../testdata/peer/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no peer rule sets: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			set, err := rules.Load(f)
			if err != nil {
				t.Fatal(err)
			}
			processNoAllocs(t, items, set)
		})
	}
}

func processNoAllocs(t *testing.T, items []item, set *rules.Set) {
	t.Helper()
	e, err := New(Config{Rules: set, Sink: discardSink{}, Workers: 1, Stateful: StatefulConfig{Flow: flow.Config{MaxFlows: 512}}})
	if err != nil {
		t.Fatal(err)
	}
	w, rs, b := e.workers[0], e.state.Load(), getBatch(e.NewSource(SourceConfig{Name: "t"}))
	for i := range items {
		w.process(rs, b, &items[i])
		b.matches = b.matches[:0]
	}
	// One run is a whole pass: AllocsPerRun rounds down per run.
	allocs := testing.AllocsPerRun(1, func() {
		for i := range items {
			w.process(rs, b, &items[i])
			b.matches = b.matches[:0]
		}
	})
	if allocs != 0 {
		t.Errorf("%.0f allocations over %d packets", allocs, len(items))
	}
	if st := w.state.stream.r.Stats(); st.Bytes == 0 || w.state.flows.Stats().Evicted == 0 {
		t.Errorf("no stream data or no flow evicted: %+v", st)
	}
}
