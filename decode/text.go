package decode

import (
	"net/netip"
	"strconv"
	"unsafe"

	"github.com/vigil-ids/vigil/rules/field"
)

var netipZero netip.Addr

// protoNames holds proto's text for every IP protocol number, so that
// setting it does not allocate: Suricata's EVE names for the protocols
// Vigil decodes (those that carry tunnels included), the number for
// others.
var protoNames = func() (t [256]string) {
	for i := range t {
		t[i] = strconv.Itoa(i)
	}
	t[1], t[6], t[17], t[58] = "ICMP", "TCP", "UDP", "IPv6-ICMP"
	t[4], t[41], t[47] = "IP-in-IP", "IPv6", "GRE"
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

// Places of the address texts in Meta.Scratch. Each field has its own, so
// the text of an inner header overwrites the outer one it replaces and
// every text of a frame fits at once.
const (
	macLen  = len("aa:bb:cc:dd:ee:ff")
	ipv4Len = len("255.255.255.255")
	ipLen   = len("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255") // either version

	txtEthSrc    = 0
	txtEthDst    = txtEthSrc + macLen
	txtTRSrc     = txtEthDst + macLen
	txtTRDst     = txtTRSrc + macLen
	txtWLANSA    = txtTRDst + macLen
	txtWLANDA    = txtWLANSA + macLen
	txtWLANBSSID = txtWLANDA + macLen
	txtARPSrcMAC = txtWLANBSSID + macLen
	txtARPDstMAC = txtARPSrcMAC + macLen
	txtARPSrcIP  = txtARPDstMAC + macLen
	txtARPDstIP  = txtARPSrcIP + ipv4Len
	txtIPSrc     = txtARPDstIP + ipv4Len // ip.src or ipv6.src, and src_ip
	txtIPDst     = txtIPSrc + ipLen
	txtTunSrc    = txtIPDst + ipLen // tunnel.src_ip
	txtTunDst    = txtTunSrc + ipLen
	txtSLLSrc    = txtTunDst + ipLen // sll.src.eth
	txtEnd       = txtSLLSrc + macLen
)

// Meta.Scratch has room for every text: this fails to compile otherwise.
var _ [field.ScratchLen - txtEnd]byte

// mac writes the 6-byte address b as aa:bb:cc:dd:ee:ff at place at of the
// scratch buffer and returns it; "" in a headers-only decode.
func (d *Decoder) mac(b []byte, at int) string {
	if d.lean || len(b) < 6 {
		return ""
	}
	o := d.p.Meta.Scratch[at : at+macLen]
	for i := 0; i < 6; i++ {
		h := hexPairs[b[i]]
		o[i*3], o[i*3+1] = h[0], h[1]
	}
	o[2], o[5], o[8], o[11], o[14] = ':', ':', ':', ':', ':'
	return unsafe.String(&o[0], macLen)
}

// ipv4Text writes the dotted quad of the 4-byte address b at place at of
// the scratch buffer and returns it; "" in a headers-only decode.
func (d *Decoder) ipv4Text(b []byte, at int) string {
	if d.lean || len(b) < 4 {
		return ""
	}
	s := d.p.Meta.Scratch[at : at+ipv4Len]
	o := 0
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
	return unsafe.String(&s[0], o)
}

// addr writes the IPv6 address a's text (RFC 5952, as netip.Addr.String)
// at place at of the scratch buffer and returns it; "" in a headers-only
// decode.
func (d *Decoder) addr(a netip.Addr, at int) string {
	if d.lean {
		return ""
	}
	out := a.AppendTo(d.p.Meta.Scratch[at : at : at+ipLen]) // at most 39 bytes: no growth
	return unsafe.String(&out[0], len(out))
}

// moveText copies s, an address text in the scratch buffer, to place at
// and returns the copy.
func (d *Decoder) moveText(s string, at int) string {
	if s == "" {
		return ""
	}
	o := d.p.Meta.Scratch[at : at+ipLen]
	n := copy(o, s)
	return unsafe.String(&o[0], n)
}
