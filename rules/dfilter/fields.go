package dfilter

import (
	"maps"
	"slices"
	"strings"

	"github.com/vigil-ids/vigil/rules/field"
)

// kind is a field's Wireshark type, which decides how a literal compared
// with it is read.
type kind uint8

const (
	kInt kind = iota
	kBool
	kFloat
	kText
	kBytes
	kIPv4
	kIPv6
	kIP // IPv4 or IPv6
	kMAC
	kLayer
	kTime
	kHex // bytes read as the text of a MAC address: a slice of one
)

var kindNames = [...]string{"an integer", "a boolean", "a number", "a string", "bytes", "an IPv4 address", "an IPv6 address", "an IP address", "a MAC address", "a protocol", "a time", "bytes"}

func (k kind) String() string { return kindNames[k] }

// special are the string fields of the catalog that hold addresses or raw
// bytes rather than text.
var special = map[string]kind{
	"ip.src": kIPv4, "ip.dst": kIPv4, "arp.src.proto_ipv4": kIPv4, "arp.dst.proto_ipv4": kIPv4,
	"ipv6.src": kIPv6, "ipv6.dst": kIPv6,
	"src_ip": kIP, "dest_ip": kIP, "tunnel.src_ip": kIP, "tunnel.dest_ip": kIP,
	"eth.src": kMAC, "eth.dst": kMAC, "sll.src.eth": kMAC, "arp.src.hw_mac": kMAC, "arp.dst.hw_mac": kMAC,
	"wlan.sa": kMAC, "wlan.da": kMAC, "wlan.bssid": kMAC, "tr.src": kMAC, "tr.dst": kMAC,
	"payload": kBytes, "frame.bytes": kBytes, "tcp.reassembled.data": kBytes, "data.data": kBytes,
}

// optional are the integer fields of the catalog that Wireshark shows on
// some frames of their layer only: they exist when not zero.
var optional = map[string]bool{"sll.etype": true, "sll.ltype": true}

// alias is a Wireshark name Vigil's catalog spells otherwise: the catalog
// fields it reads (the two sides of an either-side field) and, when not
// that of the fields, the layer it needs.
type alias struct {
	fields []string
	layer  string
}

var aliases = map[string]alias{
	"ip.addr":     {fields: []string{"ip.src", "ip.dst"}},
	"ip.host":     {fields: []string{"ip.src", "ip.dst"}},
	"ipv6.addr":   {fields: []string{"ipv6.src", "ipv6.dst"}},
	"eth.addr":    {fields: []string{"eth.src", "eth.dst"}},
	"tcp.port":    {fields: []string{"tcp.srcport", "tcp.dstport"}},
	"udp.port":    {fields: []string{"udp.srcport", "udp.dstport"}},
	"tcp.payload": {fields: []string{"payload"}, layer: "tcp"},
	"udp.payload": {fields: []string{"payload"}, layer: "udp"},
	"tcp.flags":   {fields: []string{"tcp.flags.raw"}},
}

// Names returns the Wireshark names a filter may use beyond the catalog's,
// sorted.
func Names() []string { return slices.Sorted(maps.Keys(aliases)) }

// Sides returns the catalog fields of the two sides of an either-side
// name (ip.addr: ip.src and ip.dst; tcp.port, udp.port, eth.addr,
// ipv6.addr, ip.host likewise), for conditions to use the name too.
func Sides(name string) ([]string, bool) {
	a := aliases[name]
	return a.fields, len(a.fields) == 2
}

var catalog = func() map[string]field.Field {
	m := map[string]field.Field{}
	for _, f := range field.Catalog() {
		m[f.Name] = f
	}
	return m
}()

// fieldRef is a field name of a filter, resolved.
type fieldRef struct {
	fields []string // catalog fields read: one, or both sides
	layer  string   // the layer whose presence it needs, "" for none (frame)
	kind   kind
	multi  bool // a frame may carry it several times
}

// lookup resolves a field name of a filter.
func lookup(name string) (fieldRef, bool) {
	a, ok := aliases[name]
	if !ok {
		if _, known := catalog[name]; !known {
			return fieldRef{}, false
		}
		a = alias{fields: []string{name}}
	}
	f := catalog[a.fields[0]]
	r := fieldRef{fields: a.fields, layer: a.layer, kind: kindOf(f), multi: f.Multi}
	if r.layer == "" {
		r.layer = layerOf(f.Name)
	}
	return r, true
}

func kindOf(f field.Field) kind {
	if k, ok := special[f.Name]; ok {
		return k
	}
	switch {
	case f.Layer:
		return kLayer
	case f.Type == "int":
		return kInt
	case f.Type == "bool":
		return kBool
	case f.Type == "float":
		return kFloat
	case f.Type == "time":
		return kTime
	}
	return kText
}

// layerOf returns the innermost layer holding the catalog field name (a
// layer holds itself), or "" when that is frame, which is always present.
func layerOf(name string) string {
	for p := name; ; {
		if catalog[p].Layer {
			if p == "frame" {
				return ""
			}
			return p
		}
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			return ""
		}
		p = p[:i]
	}
}
