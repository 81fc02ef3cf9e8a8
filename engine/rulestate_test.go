package engine

import (
	"strconv"
	"testing"

	"github.com/vigil-ids/vigil/engine/stream"
)

// TestStreamWindow checks the earlier bytes a rule set needs in stream
// views: the longest payload literal less one, all of them for a regex or
// the field written out.
func TestStreamWindow(t *testing.T) {
	for _, c := range []struct {
		cond string
		want int
	}{
		{`tcp.dstport == 1`, 0},
		{`payload contains "EVIL"`, 3},
		{`icontains(payload, "abcdef") && tcp`, 5},
		{`payload contains "ab" || payload contains "abcdefgh"`, 7},
		{`payload matches "E.IL"`, stream.MaxWindow},
		{`tcp.reassembled.data contains "x"`, stream.MaxWindow},
		{`len(payload) > 3 && payload startsWith "GET"`, 0},
		{`http.request.uri contains "/admin/"`, 0},
	} {
		set := mustParse(t, "rules:\n  - sid: 1\n    name: t\n    condition: "+strconv.Quote(c.cond)+"\n")
		if got := newRuleState(set, 1).window; got != c.want {
			t.Errorf("%s: window %d, want %d", c.cond, got, c.want)
		}
	}
}
