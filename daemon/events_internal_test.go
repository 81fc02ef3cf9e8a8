package daemon

import (
	"slices"
	"testing"

	"github.com/vigil-ids/vigil/rules"
)

// TestDiffRules checks what a reload reports as changed: a condition
// that became a display filter of the same text is a change.
func TestDiffRules(t *testing.T) {
	parse := func(body string) *rules.Set {
		set, err := rules.Parse("r.yaml", []byte("rules:\n"+body))
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	old := parse("  - {sid: 1, name: a, condition: tcp}\n  - {sid: 2, name: b, condition: udp}\n  - {sid: 3, name: c, condition: ip}\n")
	cur := parse("  - {sid: 1, name: a, wireshark: tcp}\n  - {sid: 2, name: b, condition: udp}\n  - {sid: 4, name: d, condition: ip}\n")
	added, removed, changed := diffRules(old, cur)
	if !slices.Equal(added, []int{4}) || !slices.Equal(removed, []int{3}) || !slices.Equal(changed, []int{1}) {
		t.Errorf("added %v, removed %v, changed %v", added, removed, changed)
	}
}
