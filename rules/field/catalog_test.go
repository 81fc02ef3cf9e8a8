package field

import (
	"errors"
	"strings"
	"testing"
)

func TestCatalogDocumentedAndUnique(t *testing.T) {
	cat := Catalog()
	if len(cat) < 100 {
		t.Fatalf("catalog has %d entries, want the whole packet view", len(cat))
	}
	seen := map[string]bool{}
	for _, f := range cat {
		if strings.TrimSpace(f.Doc) == "" {
			t.Errorf("%s: empty doc", f.Name)
		}
		if strings.ContainsAny(f.Doc, "\n|") {
			t.Errorf("%s: doc %q is not one table-safe line", f.Name, f.Doc)
		}
		if seen[f.Name] {
			t.Errorf("%s: duplicate name", f.Name)
		}
		seen[f.Name] = true
		if f.Type == "struct" || f.Type == "" {
			t.Errorf("%s: unexpected type %q", f.Name, f.Type)
		}
	}
}

func TestCatalogNames(t *testing.T) {
	byName := map[string]Field{}
	for _, f := range Catalog() {
		byName[f.Name] = f
	}
	tests := []struct {
		name, typ string
		layer     bool
		doc       string // substring
	}{
		{"tcp", "bool", true, "TCP header present"},
		{"tcp.dstport", "int", false, "destination port"},
		{"frame.time", "time", false, "capture time"},
		{"arp.src.hw_mac", "string", false, "ARP sender hardware"},
		{"arp.dst.proto_ipv4", "string", false, "ARP target protocol"},
		{"http.request", "bool", true, "request line"},
		{"tls.handshake.extensions_server_name", "string", false, "SNI"},
		{"ncf.rate", "float", false, "rate"},
		{"payload", "string", false, "payload"},
	}
	for _, tt := range tests {
		f, ok := byName[tt.name]
		if !ok {
			t.Errorf("%s: not in catalog", tt.name)
			continue
		}
		if f.Type != tt.typ || f.Layer != tt.layer || !strings.Contains(f.Doc, tt.doc) {
			t.Errorf("%s: got %+v, want type %s layer %v doc containing %q", tt.name, f, tt.typ, tt.layer, tt.doc)
		}
	}
	for _, hidden := range []string{"tcp.present", "meta", "Meta.Raw"} {
		if _, ok := byName[hidden]; ok {
			t.Errorf("%s must not be listed", hidden)
		}
	}
}

func TestMarkdown(t *testing.T) {
	md := Markdown()
	lines := strings.Split(strings.TrimSuffix(md, "\n"), "\n")
	cat := Catalog()
	if len(lines) != len(cat)+2 {
		t.Fatalf("got %d lines, want header, rule and %d rows", len(lines), len(cat))
	}
	if lines[0] != "| name | type | meaning |" {
		t.Errorf("header %q", lines[0])
	}
	for i, f := range cat {
		want := "| `" + f.Name + "` | " + f.Type + " | " + f.Doc + " |"
		if lines[i+2] != want {
			t.Errorf("row %d: got %q, want %q", i, lines[i+2], want)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteReferenceError(t *testing.T) {
	if err := WriteReference(failWriter{}); err == nil {
		t.Fatal("want the writer's error")
	}
}
