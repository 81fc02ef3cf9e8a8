//go:build goexperiment.simd && amd64

package index

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestTeddyPassSet: a pattern alone in a text of bytes no pattern has is
// found whatever pass holds it, in sets of two passes to the most each
// filter takes. The scan skips the steps where the pass set says no pass
// can match, so the set must let every pass's patterns through.
func TestTeddyPassSet(t *testing.T) {
	if buildTeddy([]string{"abc"}) == nil {
		t.Skip("the CPU has no AVX2")
	}
	eachTeddy(func(kind string) {
		perPass, most := teddySize(useVBMI)
		for _, n := range []int{perPass + 1, most / 2, most} {
			pats := make([]string, n)
			for i := range pats {
				pats[i] = fmt.Sprintf("k%05dx", i*7919%100000)
			}
			td := newTeddy(pats)
			if td == nil || len(td.passes) < 2 || td.passSet == nil {
				t.Fatalf("%s: %d patterns: no filter of several passes", kind, n)
			}
			var got []hit
			collect := func(end int, pat int32) { got = append(got, hit{end, int(pat)}) }
			pad := strings.Repeat(".", 70)
			for id, p := range pats {
				got = got[:0]
				text := pad + p + pad
				td.scan(text, 0, len(text), collect)
				if want := []hit{{len(pad) + len(p) - 1, id}}; !slices.Equal(got, want) {
					t.Fatalf("%s: %d patterns in %d passes: %q found at %v, want %v", kind, n, len(td.passes), p, got, want)
				}
			}
		}
	})
}
