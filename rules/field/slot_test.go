package field

import (
	"strings"
	"testing"
)

func TestSlots(t *testing.T) {
	var p Packet
	p.TCP.DstPort = 23
	p.TCP.Present = true
	p.HTTP.Request.URI = "/etc/passwd"
	p.NCF.Rate = 54
	cases := []struct {
		name string
		kind Kind
		read func(Slot) any
		want any
	}{
		{"tcp.dstport", KindInt, func(s Slot) any { return s.Int(&p) }, 23},
		{"tcp.present", KindBool, func(s Slot) any { return s.Bool(&p) }, true},
		{"http.request.uri", KindString, func(s Slot) any { return s.String(&p) }, "/etc/passwd"},
		{"ncf.rate", KindFloat, func(s Slot) any { return s.Float(&p) }, 54.0},
		{"udp.dstport", KindInt, func(s Slot) any { return s.Int(&p) }, 0},
		{"tcp", KindBool, func(s Slot) any { return s.Bool(&p) }, true},
	}
	for _, c := range cases {
		s, ok := Lookup(c.name)
		if !ok || s.Kind != c.kind || !strings.HasPrefix(s.Name, c.name) {
			t.Errorf("%s: slot %+v, %v", c.name, s, ok)
			continue
		}
		if got := c.read(s); got != c.want {
			t.Errorf("%s = %v, want %v", c.name, got, c.want)
		}
	}
	for _, bad := range []string{"frame.time", "tcp.dstprt", "Meta.L3"} {
		if _, ok := Lookup(bad); ok {
			t.Errorf("Lookup(%q) found a slot", bad)
		}
	}
	// Every catalog field but times has a slot.
	for _, f := range Catalog() {
		if f.Type == "time" {
			continue
		}
		if _, ok := Lookup(f.Name); !ok {
			t.Errorf("catalog field %s has no slot", f.Name)
		}
	}
}
