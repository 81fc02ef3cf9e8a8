package field

import (
	"reflect"
	"unsafe"
)

// Kind is the Go type of a field a condition reads.
type Kind uint8

// Field kinds.
const (
	KindBool Kind = iota + 1
	KindInt
	KindFloat
	KindString
)

// Slot locates one field inside Packet, so code that evaluates conditions
// natively (the rule compiler's fast path, the prefilter index) reads the
// very value expr would, without reflection per packet.
type Slot struct {
	Name  string // condition name, e.g. "tcp.dstport"
	Kind  Kind
	off   uintptr
	each  uintptr // offset of the Ints of a field that occurs several times
	multi bool
}

// slots maps every bool, int, float and string member of Packet by its
// condition name. Layer flags keep their member name ("tcp.present"), the
// form the rule compiler rewrites a bare layer name into.
var slots = func() map[string]Slot {
	kinds := map[reflect.Kind]Kind{reflect.Bool: KindBool, reflect.Int: KindInt, reflect.Float64: KindFloat, reflect.String: KindString}
	m := map[string]Slot{}
	for _, f := range members {
		if k, ok := kinds[f.typ.Kind()]; ok {
			m[f.name] = Slot{Name: f.name, Kind: k, off: f.off, each: f.each, multi: f.multi}
		}
	}
	return m
}()

// Lookup returns the slot of a condition name, false when the name is not
// a bool, int, float or string field of Packet. A layer name alone
// ("tcp") is its presence flag ("tcp.present").
func Lookup(name string) (Slot, bool) {
	s, ok := slots[name]
	if !ok {
		s, ok = slots[name+".present"]
	}
	return s, ok
}

// The readers below turn an offset found by reflection over Packet into
// the field's value. Offsets come only from slots, so each read is of a
// field of the slot's kind; calling a reader of another kind is a bug.

// Bool reads a KindBool field of p.
func (s Slot) Bool(p *Packet) bool { return *(*bool)(unsafe.Add(unsafe.Pointer(p), s.off)) }

// Int reads a KindInt field of p.
func (s Slot) Int(p *Packet) int { return *(*int)(unsafe.Add(unsafe.Pointer(p), s.off)) }

// Float reads a KindFloat field of p.
func (s Slot) Float(p *Packet) float64 { return *(*float64)(unsafe.Add(unsafe.Pointer(p), s.off)) }

// String reads a KindString field of p.
func (s Slot) String(p *Packet) string { return *(*string)(unsafe.Add(unsafe.Pointer(p), s.off)) }

// Multi reports whether the field may occur several times in a frame
// (one value per VLAN tag, MPLS label, GRE header, ...): see [Slot.Ints].
func (s Slot) Multi() bool { return s.multi }

// Ints returns every value of a KindInt field in p, in frame order,
// without allocating: the slice aliases p. A field that occurs several
// times gives each of its values, or its zero value alone when the frame
// has none (as a field of an absent layer reads zero); any other field
// gives its one value.
func (s Slot) Ints(p *Packet) []int {
	if !s.multi {
		return unsafe.Slice((*int)(unsafe.Add(unsafe.Pointer(p), s.off)), 1)
	}
	x := (*Ints)(unsafe.Add(unsafe.Pointer(p), s.each))
	return x.V[:max(x.N, 1)]
}

// Nonzero reports whether a KindBool field is true, or a KindInt field
// has a value other than 0 (any of its values, for a field that occurs
// several times).
func (s Slot) Nonzero(p *Packet) bool {
	if s.Kind == KindBool {
		return s.Bool(p)
	}
	for _, v := range s.Ints(p) {
		if v != 0 {
			return true
		}
	}
	return false
}
