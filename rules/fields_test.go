package rules

import (
	"strings"
	"testing"
)

// TestWriteFields: the text reference lists the fields with their types
// and the functions with their signatures, under their headers.
func TestWriteFields(t *testing.T) {
	var b strings.Builder
	if err := WriteFields(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.HasPrefix(out, "FIELD ") || !strings.Contains(out, "\n\nFUNCTIONS\n") {
		t.Fatalf("headers missing:\n%.300s", out)
	}
	fields, funcs, _ := strings.Cut(out, "\nFUNCTIONS\n")
	for _, want := range []string{"tcp.dstport ", "dns.qry.name ", "tls.handshake.extensions_server_name "} {
		if !strings.Contains(fields, "\n"+want) {
			t.Errorf("no row for %q", want)
		}
	}
	for _, f := range Functions() {
		if !strings.Contains(funcs, f.Signature+"  ") {
			t.Errorf("no row for %s", f.Signature)
		}
	}
}
