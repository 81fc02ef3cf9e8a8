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
// prefilter files it under, "layer only (every L packet): " and its keys
// when no literal or value narrows it, or "unindexed: " and why it has no
// key. A last line counts the rules of each kind and the disabled ones.
// The index is built as the engine builds it, from the enabled rules only.
// The error is w's.
func WriteExplain(w io.Writer, set *rules.Set) error {
	active := set.Enabled()
	var indexed, layer int
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SID\tRULE\tPREFILTER")
	for _, e := range Build(active).Explain() {
		key := e.Keys
		switch {
		case !e.Indexed:
			key = "unindexed: " + e.Why
		case e.Layer != "":
			layer++
			key = "layer only (every " + e.Layer + " packet): " + key
		default:
			indexed++
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\n", e.SID, active[e.Pos].Pos, key)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d rules: %d indexed by a literal or value, %d by a layer only, %d unindexed (evaluated on every packet)",
		len(active), indexed, layer, len(active)-indexed-layer)
	if n := len(set.Rules) - len(active); n > 0 {
		fmt.Fprintf(w, ", %d disabled", n)
	}
	_, err := fmt.Fprintln(w)
	return err
}

// WriteWarnings writes to w a warning, as "file:line:col: warning: ...",
// for each enabled rule of set that runs on every packet or on every
// packet of a layer, with the forms that would index it, and returns how
// many it wrote. The error is w's.
func WriteWarnings(w io.Writer, set *rules.Set) (int, error) {
	active := set.Enabled()
	n := 0
	for _, e := range Build(active).Explain() {
		var what string
		switch {
		case !e.Indexed:
			what = "every packet (" + e.Why + ")"
		case e.Layer != "":
			what = "every " + e.Layer + " packet (" + e.Keys + ")"
		default:
			continue
		}
		n++
		if _, err := fmt.Fprintf(w, "%s: warning: sid %d is evaluated on %s; a literal or value it needs "+
			"would index it (payload contains \"...\", a regex with a literal, tcp.dstport == 80)\n", active[e.Pos].Pos, e.SID, what); err != nil {
			return n, err
		}
	}
	return n, nil
}
