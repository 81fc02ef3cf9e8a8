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

// hexPairs[b] is b in two lower-case hex digits.
var hexPairs = func() (t [256][2]byte) {
	const digits = "0123456789abcdef"
	for i := range t {
		t[i] = [2]byte{digits[i>>4], digits[i&0xf]}
	}
	return t
}()

// mac writes the 6-byte address b as aa:bb:cc:dd:ee:ff into the scratch
// buffer and returns it; "" when the buffer is full.
func (d *Decoder) mac(b []byte) string {
	const n = len("aa:bb:cc:dd:ee:ff")
	s := d.p.Meta.Scratch[:]
	start := d.scr
	if d.lean || len(b) < 6 || start+n > len(s) {
		return ""
	}
	o := s[start : start+n]
	for i := 0; i < 6; i++ {
		h := hexPairs[b[i]]
		o[i*3], o[i*3+1] = h[0], h[1]
	}
	o[2], o[5], o[8], o[11], o[14] = ':', ':', ':', ':', ':'
	d.scr += n
	return unsafe.String(&s[start], n)
}

// ipv4Text writes the dotted quad of the 4-byte address b into the scratch
// buffer and returns it; "" when the buffer is full.
func (d *Decoder) ipv4Text(b []byte) string {
	s := d.p.Meta.Scratch[:]
	start := d.scr
	if d.lean || len(b) < 4 || start+len("255.255.255.255") > len(s) {
		return ""
	}
	o := start
	for i, v := range b[:4] {
		if i > 0 {
			s[o] = '.'
			o++
		}
		switch {
		case v >= 100:
			s[o], s[o+1], s[o+2] = '0'+v/100, '0'+v/10%10, '0'+v%10
			o += 3
		case v >= 10:
			s[o], s[o+1] = '0'+v/10, '0'+v%10
			o += 2
		default:
			s[o] = '0' + v
			o++
		}
	}
	d.scr = o
	return unsafe.String(&s[start], o-start)
}

// addr writes the IPv6 address a's text (RFC 5952, as netip.Addr.String)
// into the scratch buffer and returns it; "" when the buffer is full.
func (d *Decoder) addr(a netip.Addr) string {
	s := d.p.Meta.Scratch[:]
	const maxText = len("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255")
	if d.lean || d.scr+maxText > len(s) {
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
