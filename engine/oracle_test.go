package engine

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
)

// TestOracleStream checks HTTP responses against Wireshark through the
// whole engine: with TCP reassembly, `http.response.code == 200` must
// match exactly the frames where tshark completes each response (the
// decoder alone, per packet, matches where the status line starts: see
// knownDiffs in decode's oracle test).
func TestOracleStream(t *testing.T) {
	const filter = "http.response.code==200"
	b, err := os.ReadFile(capDir + "oracle.json")
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		Captures map[string]struct{ Filters map[string][]int }
	}
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
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
