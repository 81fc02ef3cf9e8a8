package engine

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/vigil-ids/vigil/rules"
)

// casesDir holds the decoder cases: captures of encapsulations and VLAN
// stacks, their rules and the frames each sid must alert on.
const casesDir = "../testdata/cases/"

// TestDecoderCases runs each case of testdata/cases through the engine as
// `vigil test` does, for its pcap and its NCF twin, and checks that each
// sid of expected.json alerts on exactly the frames listed; a bad record
// (c12's radiotap header past the frame) is skipped and later frames
// still count.
func TestDecoderCases(t *testing.T) {
	b, err := os.ReadFile(casesDir + "expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Case, Capture, Rules string
		Expect               map[string][]int
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range cases {
		set, err := rules.Load(casesDir + c.Rules)
		if err != nil {
			t.Fatalf("%s: %v", c.Case, err)
		}
		captures := []string{casesDir + c.Capture}
		if ncf := casesDir + c.Capture[:len(c.Capture)-len(filepath.Ext(c.Capture))] + ".ncf"; fileExists(ncf) {
			captures = append(captures, ncf)
		}
		for _, path := range captures {
			t.Run(filepath.Base(path), func(t *testing.T) {
				got, err := alertFrames(context.Background(), set, path, nil)
				if err != nil {
					t.Fatal(err)
				}
				for sidText, want := range c.Expect {
					sid, _ := strconv.Atoi(sidText)
					if !slices.Equal(got[sid], want) && (len(got[sid]) > 0 || len(want) > 0) {
						t.Errorf("sid %d: frames %v, want %v", sid, got[sid], want)
					}
				}
			})
		}
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
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
	files = append(files, casesDir+"c01-qinq3.pcap")
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
