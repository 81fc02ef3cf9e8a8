package engine

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestOracleStream checks HTTP responses against Wireshark through the
// whole engine: with TCP reassembly, `http.response.code == 200` must
// match exactly the frames where tshark completes each response (the
// decoder alone, per packet, matches where the status line starts: see
// knownDiffs in decode's oracle test).
func TestOracleStream(t *testing.T) {
	const filter = "http.response.code==200"
	o := loadOracle(t)
	set := mustParse(t, "rules:\n  - sid: 1\n    name: ok\n    condition: http.response.code == 200\n")
	n := 0
	for name, c := range o.Captures {
		want, ok := c.Filters[filter]
		if !ok {
			continue
		}
		n++
		for _, workers := range []int{1, 2} {
			if got := caseFrames(t, set, workers, capDir+name, nil)["1"]; !slices.Equal(got, want) {
				t.Errorf("%s, %d workers: %s matches %v, tshark %v", name, workers, filter, got, want)
			}
		}
	}
	if n == 0 {
		t.Fatalf("no capture in the oracle has %s", filter)
	}
}

// TestOracleWireshark checks display filters pasted verbatim: every
// filter of filters.txt, as a `wireshark:` rule, matches through the
// whole engine exactly the frames tshark matched on every capture of
// oracle.json.
func TestOracleWireshark(t *testing.T) {
	o := loadOracle(t)
	list, err := os.ReadFile(capDir + "filters.txt")
	if err != nil {
		t.Fatal(err)
	}
	filters := strings.Split(strings.TrimSpace(string(list)), "\n")
	var src strings.Builder
	src.WriteString("rules:\n")
	for i, f := range filters {
		fmt.Fprintf(&src, "  - sid: %d\n    name: %q\n    wireshark: %q\n", i+1, f, f)
	}
	set := mustParse(t, src.String())
	checked := 0
	for name, c := range o.Captures {
		got := caseFrames(t, set, 1, capDir+name, nil)
		for i, f := range filters {
			want, ok := c.Filters[f]
			if !ok {
				t.Fatalf("%s: oracle has no %q", name, f)
			}
			if g := got[strconv.Itoa(i+1)]; !slices.Equal(g, want) {
				t.Errorf("%s: %s matches %v, tshark %v", name, f, g, want)
			}
			checked++
		}
	}
	if checked != len(filters)*len(o.Captures) || len(o.Captures) != 27 {
		t.Errorf("checked %d filter runs on %d captures", checked, len(o.Captures))
	}
	t.Logf("%d filters × %d captures agree with tshark", len(filters), len(o.Captures))
}

// oracle is testdata/captures/oracle.json: per capture and display
// filter, the frames tshark matched.
type oracle struct {
	Captures map[string]struct{ Filters map[string][]int }
}

func loadOracle(t *testing.T) oracle {
	t.Helper()
	b, err := os.ReadFile(capDir + "oracle.json")
	if err != nil {
		t.Fatal(err)
	}
	var o oracle
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
	return o
}
