package index

import (
	"reflect"
	"unsafe"

	"github.com/vigil-ids/vigil/rules/field"
)

// kind is the Go type of a packet field the index can read.
type kind uint8

const (
	kindInt kind = iota + 1
	kindBool
	kindString
)

// fieldRef locates one rule-visible field inside field.Packet, so the index
// reads the very value the condition reads, with no reflection per packet.
type fieldRef struct {
	name string
	off  uintptr
	kind kind
}

// packetFields maps every int, bool and string field of field.Packet by
// its condition name (expr tags joined with dots, "tcp.dstport"). Layer
// flags keep their member name ("tcp.present"), the form the rule
// compiler rewrites a bare layer name into.
var packetFields = func() map[string]fieldRef {
	m := map[string]fieldRef{}
	var walk func(t reflect.Type, prefix string, base uintptr)
	walk = func(t reflect.Type, prefix string, base uintptr) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := f.Tag.Get("expr")
			if tag == "" || tag == "-" || !f.IsExported() {
				continue
			}
			name, off := prefix+tag, base+f.Offset
			switch f.Type.Kind() {
			case reflect.Struct:
				walk(f.Type, name+".", off)
			case reflect.Int:
				m[name] = fieldRef{name, off, kindInt}
			case reflect.Bool:
				m[name] = fieldRef{name, off, kindBool}
			case reflect.String:
				m[name] = fieldRef{name, off, kindString}
			}
		}
	}
	walk(reflect.TypeOf(field.Packet{}), "", 0)
	return m
}()

// The readers below turn an offset found by reflection over the same
// struct type into the field's value; the offsets come only from
// packetFields, so every read is of a field of the right type.

func (f *fieldRef) int(p *field.Packet) int {
	return *(*int)(unsafe.Add(unsafe.Pointer(p), f.off))
}

func (f *fieldRef) bool(p *field.Packet) bool {
	return *(*bool)(unsafe.Add(unsafe.Pointer(p), f.off))
}

func (f *fieldRef) string(p *field.Packet) string {
	return *(*string)(unsafe.Add(unsafe.Pointer(p), f.off))
}

// textFields are the string fields whose value is expected to be a slice
// of the frame (the decoder aliases them): a literal a condition requires
// in one of them must then occur in the frame bytes. Candidates checks at
// run time that the string really lies inside the frame and otherwise
// takes the rule as a candidate, so this list is about usefulness, not
// soundness. dns.qry.name is left out: the decoder rebuilds it (labels
// become dots) in a buffer of its own.
var textFields = map[string]bool{
	"payload": true, "frame.bytes": true,
	"http.request.method": true, "http.request.uri": true, "http.request.version": true,
	"http.response.phrase": true, "http.response.version": true,
	"http.host": true, "http.user_agent": true, "http.content_type": true,
	"http.cookie": true, "http.referer": true, "http.authorization": true,
	"tls.handshake.extensions_server_name": true,
	"ftp.request.command":                  true, "ftp.request.arg": true, "ftp.response.arg": true,
	"ssh.protocol": true,
}
