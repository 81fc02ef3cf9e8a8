package field

import (
	"io"
	"strings"
)

// Markdown returns the field reference as a Markdown table with the
// columns name, type and meaning, one row per [Catalog] entry in catalog
// order. Layer names (written alone, as in Wireshark) have type bool.
func Markdown() string {
	var b strings.Builder
	_ = WriteReference(&b) // a strings.Builder never fails
	return b.String()
}

// WriteReference writes the table that [Markdown] returns to w and returns
// the first write error.
func WriteReference(w io.Writer) error {
	var b strings.Builder
	b.WriteString("| name | type | meaning |\n|---|---|---|\n")
	for _, f := range Catalog() {
		b.WriteString("| `")
		b.WriteString(f.Name)
		b.WriteString("` | ")
		b.WriteString(f.Type)
		b.WriteString(" | ")
		b.WriteString(escapeCell(f.Doc))
		b.WriteString(" |\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// escapeCell keeps a doc line from breaking the table.
func escapeCell(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}
