package field

import (
	"reflect"
	"time"
)

// member is one field of Packet a condition reads: a leaf (bool, int,
// float64, string or time.Time) reached from Packet through fields with an
// expr tag. Fields tagged "-", unexported fields and fields without an
// expr tag, and everything under them, are not members.
type member struct {
	// name is the condition name: the expr tags on the way joined with
	// dots, e.g. "tcp.dstport" or "tcp.present".
	name string
	// doc is the field's doc tag, after the doc tags of the structs on the
	// way ("ARP sender" + "hardware (MAC) address"). A layer flag keeps its
	// own doc tag alone: it describes the layer.
	doc string
	// typ is the field's Go type.
	typ reflect.Type
	// off is the field's offset in Packet, in bytes.
	off uintptr
	// layer is true for the Present flag (expr tag "present", type bool)
	// of a layer struct: the layer's name written alone means it.
	layer bool
	// each is the offset in Packet of the field's Ints, when it may occur
	// several times in a frame (struct tag each:"X", X an Ints sibling).
	each  uintptr
	multi bool
}

// members lists every member of Packet in declaration order. It is the one
// reflection walk over Packet: the catalog and the slots are built from it.
var members = func() []member {
	var out []member
	timeType, intsType := reflect.TypeOf(time.Time{}), reflect.TypeOf(Ints{})
	var walk func(t reflect.Type, prefix, docPrefix string, base uintptr)
	walk = func(t reflect.Type, prefix, docPrefix string, base uintptr) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := f.Tag.Get("expr")
			if tag == "" || tag == "-" || !f.IsExported() {
				continue
			}
			name, doc, off := prefix+tag, joinDoc(docPrefix, f.Tag.Get("doc")), base+f.Offset
			if f.Type.Kind() == reflect.Struct && f.Type != timeType {
				walk(f.Type, name+".", doc, off)
				continue
			}
			layer := prefix != "" && tag == "present" && f.Type.Kind() == reflect.Bool
			if layer {
				doc = f.Tag.Get("doc")
			}
			m := member{name: name, doc: doc, typ: f.Type, off: off, layer: layer}
			if sib := f.Tag.Get("each"); sib != "" {
				sf, ok := t.FieldByName(sib)
				if !ok || sf.Type != intsType || f.Type.Kind() != reflect.Int {
					panic("field: " + name + ": each:\"" + sib + "\" must name an Ints sibling of an int field")
				}
				m.each, m.multi = base+sf.Offset, true
			}
			out = append(out, m)
		}
	}
	walk(reflect.TypeOf(Packet{}), "", "", 0)
	return out
}()

func joinDoc(prefix, doc string) string {
	if prefix == "" || doc == "" {
		return prefix + doc
	}
	return prefix + " " + doc
}
