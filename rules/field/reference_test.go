package field

import (
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite FIELDS.md from the catalog")

// TestReferenceInSync keeps FIELDS.md, the field reference the docs link
// to, equal to what `vigil fields --markdown` prints.
func TestReferenceInSync(t *testing.T) {
	want := "# Condition fields\n\nGenerated from the catalog (`vigil fields --markdown`; `go test ./rules/field -update` rewrites it).\nNames and meanings are Wireshark's display-filter ones; a field of an absent layer holds its zero value, and a layer name alone is true when the layer is present.\n\n" + Markdown()
	if *update {
		if err := os.WriteFile("FIELDS.md", []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("FIELDS.md")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Error("FIELDS.md is out of date: run go test ./rules/field -update")
	}
}
