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
}

// Catalog lists every field of [Packet] in declaration order. A layer
// struct with a Present flag appears as its bare name (type bool), and its
// "present" member is not listed separately. A nested struct's doc tag
// (e.g. "ARP sender") prefixes the docs of its members.
func Catalog() []Field {
	var out []Field
	walk(reflect.TypeOf(Packet{}), "", "", &out)
	return out
}

func walk(t reflect.Type, prefix, docPrefix string, out *[]Field) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("expr")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name := prefix + tag
		if f.Type.Kind() == reflect.Struct && f.Type.String() != "time.Time" {
			if p, ok := f.Type.FieldByName("Present"); ok && p.Type.Kind() == reflect.Bool {
				*out = append(*out, Field{Name: name, Type: "bool", Doc: p.Tag.Get("doc"), Layer: true})
			}
			walk(f.Type, name+".", joinDoc(docPrefix, f.Tag.Get("doc")), out)
			continue
		}
		if tag == "present" {
			continue
		}
		*out = append(*out, Field{Name: name, Type: typeName(f.Type), Doc: joinDoc(docPrefix, f.Tag.Get("doc"))})
	}
}

func joinDoc(prefix, doc string) string {
	if prefix == "" || doc == "" {
		return prefix + doc
	}
	return prefix + " " + doc
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
