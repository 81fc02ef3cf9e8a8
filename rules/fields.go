package rules

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/vigil-ids/vigil/rules/field"
)

// WriteFields writes what a condition may use, as aligned text: under
// "FIELD TYPE MEANING", one row per field.Catalog entry (Wireshark
// display-filter names and meanings); then a blank line, "FUNCTIONS", and
// one row per Functions entry (signature and meaning). field.Markdown is
// the same field table in Markdown. The error is w's.
func WriteFields(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FIELD\tTYPE\tMEANING")
	for _, f := range field.Catalog() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", f.Name, f.Type, f.Doc)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nFUNCTIONS")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, f := range Functions() {
		fmt.Fprintf(tw, "%s\t%s\n", f.Signature, f.Doc)
	}
	return tw.Flush()
}
