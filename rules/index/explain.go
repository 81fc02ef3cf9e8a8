package index

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/vigil-ids/vigil/rules"
)

// WriteExplain writes to w one line per enabled rule of set, in evaluation
// order, under the header "SID RULE PREFILTER" in aligned columns: the
// rule's sid, where it is written (file:line:col), and the keys the
// prefilter files it under or "unindexed: " and why it has none. A last
// line counts the indexed, unindexed and disabled rules. The index is built
// as the engine builds it, from the enabled rules only. The error is w's.
func WriteExplain(w io.Writer, set *rules.Set) error {
	active := set.Enabled()
	indexed := 0
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SID\tRULE\tPREFILTER")
	for _, e := range Build(active).Explain() {
		key := e.Keys
		if e.Indexed {
			indexed++
		} else {
			key = "unindexed: " + e.Why
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\n", e.SID, active[e.Pos].Pos, key)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d rules: %d indexed, %d unindexed (evaluated on every packet)", len(active), indexed, len(active)-indexed)
	if n := len(set.Rules) - len(active); n > 0 {
		fmt.Fprintf(w, ", %d disabled", n)
	}
	_, err := fmt.Fprintln(w)
	return err
}
