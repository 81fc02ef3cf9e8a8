package field

import (
	"reflect"
	"strings"
)

// Field describes one name a condition may use.
type Field struct {
	Name string // Wireshark-style name, e.g. "tcp.dstport"
	Type string // "int", "bool", "string", "float", "time"
	Doc  string // one line, from the struct field's doc tag
	// Layer is true for a layer-presence name ("tcp"), written alone.
	Layer bool
	// Multi is true for a field a frame may carry several times (one
	// value per VLAN tag, MPLS label, tunnel header): a comparison of it
	// holds when it holds for any of its values (see [Slot.Ints]).
	Multi bool
}

// multiDoc ends the doc line of a field that may occur several times.
const multiDoc = "; one value per header: a comparison holds when any value satisfies it"

// Catalog lists every field of [Packet] in declaration order. A layer
// struct with a Present flag appears as its bare name (type bool) in the
// flag's place, and its "present" member is not listed separately. A
// nested struct's doc tag (e.g. "ARP sender") prefixes the docs of its
// members, and the doc of a field that may occur several times ends with
// how it compares. The slice is new on every call.
func Catalog() []Field {
	out := make([]Field, 0, len(members))
	for _, m := range members {
		if m.layer {
			out = append(out, Field{Name: strings.TrimSuffix(m.name, ".present"), Type: "bool", Doc: m.doc, Layer: true})
			continue
		}
		f := Field{Name: m.name, Type: typeName(m.typ), Doc: m.doc, Multi: m.multi}
		if m.multi {
			f.Doc += multiDoc
		}
		out = append(out, f)
	}
	return out
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int:
		return "int"
	case reflect.Bool:
		return "bool"
	case reflect.String:
		return "string"
	case reflect.Float64:
		return "float"
	}
	if t.String() == "time.Time" {
		return "time"
	}
	return strings.ToLower(t.Kind().String())
}
