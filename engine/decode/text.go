package decode

import (
	"net/netip"
	"strconv"
	"unsafe"
)

var netipZero netip.Addr

// protoNames holds proto's text for every IP protocol number, so that
// setting it does not allocate.
var protoNames = func() (t [256]string) {
	for i := range t {
		t[i] = strconv.Itoa(i)
	}
	t[1], t[6], t[17], t[58] = "ICMP", "TCP", "UDP", "IPv6-ICMP"
	return t
}()

func itoa(i int) string { return strconv.Itoa(i) }

const hexDigits = "0123456789abcdef"

// mac writes the 6-byte address b as aa:bb:cc:dd:ee:ff into the scratch
// buffer and returns it; "" when the buffer is full.
func (d *Decoder) mac(b []byte) string {
	s := d.p.Meta.Scratch[:]
	if len(b) < 6 || d.scr+17 > len(s) {
		return ""
	}
	start := d.scr
	o := s[start : start+17]
	for i := 0; i < 6; i++ {
		o[i*3] = hexDigits[b[i]>>4]
		o[i*3+1] = hexDigits[b[i]&0xf]
		if i < 5 {
			o[i*3+2] = ':'
		}
	}
	d.scr += 17
	return unsafe.String(&s[start], 17)
}

// addr writes a's text (dotted quad, or RFC 5952 IPv6 as
// netip.Addr.String) into the scratch buffer and returns it; "" when the
// buffer is full.
func (d *Decoder) addr(a netip.Addr) string {
	s := d.p.Meta.Scratch[:]
	const maxText = len("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255")
	if d.scr+maxText > len(s) {
		return ""
	}
	start := d.scr
	out := a.AppendTo(s[start:start:len(s)])
	if len(out) == 0 {
		return ""
	}
	d.scr += len(out)
	return unsafe.String(&s[start], len(out))
}
