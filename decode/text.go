package decode

import (
	"math/bits"
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

// TextFields are the fields whose text Decode writes into Meta.Scratch:
// the MAC and IP addresses as text. With DeferText they hold their
// length, and their bytes only after AddressText.
var TextFields = []string{
	"eth.src", "eth.dst", "tr.src", "tr.dst", "wlan.sa", "wlan.da", "wlan.bssid",
	"arp.src.hw_mac", "arp.src.proto_ipv4", "arp.dst.hw_mac", "arp.dst.proto_ipv4",
	"ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "src_ip", "dest_ip",
	"tunnel.src_ip", "tunnel.dest_ip", "sll.src.eth",
}

// Kinds of address text.
const (
	textMAC = iota + 1
	textIPv4
	textIPv6
)

// pendingText is an address text left for AddressText to write: its
// place in Meta.Scratch, its kind and the address (the first 6, 4 or 16
// bytes of raw).
type pendingText struct {
	at   uint16
	kind uint8
	raw  [16]byte
}

// maxPending bounds the texts a frame leaves for AddressText; past it
// (tunnels in tunnels) they are written at once.
const maxPending = 24

// deferText records a text of kind for place at, and returns the record
// for the caller to put the address in; nil without DeferText.
func (d *Decoder) deferText(at, kind int) *pendingText {
	if !d.DeferText {
		return nil
	}
	if d.npending == maxPending {
		d.AddressText(d.p) // in order, so that later texts overwrite earlier ones
	}
	t := &d.pending[d.npending]
	d.npending++
	t.at, t.kind = uint16(at), uint8(kind)
	return t
}

// AddressText writes into p, the packet last decoded, the address texts
// that Decode left unwritten (see DeferText), in the order Decode met
// them. It does nothing when there are none, so calling it twice costs
// nothing.
func (d *Decoder) AddressText(p *field.Packet) {
	for i := range d.pending[:d.npending] {
		t := &d.pending[i]
		o := p.Meta.Scratch[t.at:]
		switch t.kind {
		case textMAC:
			writeMAC(o, t.raw[:6])
		case textIPv4:
			writeIPv4(o, t.raw[:4])
		case textIPv6:
			netip.AddrFrom16(t.raw).AppendTo(o[:0:ipLen])
		}
	}
	d.npending = 0
}

// mac gives the 6-byte address b the text aa:bb:cc:dd:ee:ff at place at
// of the scratch buffer and returns it; "" in a headers-only decode.
func (d *Decoder) mac(b []byte, at int) string {
	if d.lean || len(b) < 6 {
		return ""
	}
	o := d.p.Meta.Scratch[at : at+macLen]
	if t := d.deferText(at, textMAC); t != nil {
		*(*[6]byte)(t.raw[:]) = [6]byte(b)
	} else {
		writeMAC(o, b)
	}
	return unsafe.String(&o[0], macLen)
}

// writeMAC writes the 6-byte address b as aa:bb:cc:dd:ee:ff to o.
func writeMAC(o, b []byte) {
	for i := 0; i < 6; i++ {
		h := hexPairs[b[i]]
		o[i*3], o[i*3+1] = h[0], h[1]
	}
	o[2], o[5], o[8], o[11], o[14] = ':', ':', ':', ':', ':'
}

// ipv4Text gives the 4-byte address b its dotted quad at place at of the
// scratch buffer and returns it; "" in a headers-only decode.
func (d *Decoder) ipv4Text(b []byte, at int) string {
	if d.lean || len(b) < 4 {
		return ""
	}
	s := d.p.Meta.Scratch[at : at+ipv4Len]
	if t := d.deferText(at, textIPv4); t != nil {
		*(*[4]byte)(t.raw[:]) = [4]byte(b)
		return unsafe.String(&s[0], ipv4TextLen(b))
	}
	return unsafe.String(&s[0], writeIPv4(s, b))
}

// writeIPv4 writes the dotted quad of the 4-byte address b to s and
// returns its length.
func writeIPv4(s, b []byte) int {
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
	return o
}

// ipv4TextLen is the length of the dotted quad of the 4-byte address b.
func ipv4TextLen(b []byte) int {
	return 3 + int(decimalLen[b[0]]+decimalLen[b[1]]+decimalLen[b[2]]+decimalLen[b[3]])
}

// decimalLen[v] is the number of decimal digits of v.
var decimalLen = func() (t [256]uint8) {
	for v := range t {
		t[v] = uint8(len(strconv.Itoa(v)))
	}
	return t
}()

// ipv6TextLen is the length of a's text as netip.Addr.AppendTo writes it
// for an IPv6 address without zone: RFC 5952 (the first longest run of
// two or more zero groups written ::, hex digits without leading zeros),
// and ::ffff: then the dotted quad for an IPv4-mapped address.
func ipv6TextLen(a netip.Addr) int {
	b := a.As16()
	if a.Is4In6() {
		return len("::ffff:") + ipv4TextLen(b[12:])
	}
	var zeros uint8 // bit i: group i is zero
	for i := range 8 {
		if b[2*i]|b[2*i+1] == 0 {
			zeros |= 1 << i
		}
	}
	z := &zeroRuns[zeros]
	n := int(z.colons)
	for i := range 8 {
		if z.run&(1<<i) == 0 {
			g := uint16(b[2*i])<<8 | uint16(b[2*i+1])
			n += max(1, (bits.Len16(g)+3)/4)
		}
	}
	return n
}

// zeroRuns[m], for the groups of an IPv6 address that m marks zero (bit
// i for group i), gives the groups RFC 5952 writes as :: (the first
// longest run of two or more) and the number of colons written.
var zeroRuns = func() (t [256]struct{ run, colons uint8 }) {
	for m := range t {
		zs, ze := 0, 0
		for i := 0; i < 8; {
			j := i
			for j < 8 && m&(1<<j) != 0 {
				j++
			}
			if j-i >= 2 && j-i > ze-zs {
				zs, ze = i, j
			}
			i = max(j, i+1)
		}
		t[m].colons = 7
		if ze > zs {
			t[m].colons = uint8(2 + max(zs-1, 0) + max(8-ze-1, 0))
			t[m].run = uint8((1<<ze - 1) &^ (1<<zs - 1))
		}
	}
	return t
}()

// addr gives the IPv6 address a its text (RFC 5952, as
// netip.Addr.String) at place at of the scratch buffer and returns it;
// "" in a headers-only decode.
func (d *Decoder) addr(a netip.Addr, at int) string {
	if d.lean {
		return ""
	}
	o := d.p.Meta.Scratch[at : at+ipLen]
	if t := d.deferText(at, textIPv6); t != nil {
		t.raw = a.As16()
		return unsafe.String(&o[0], ipv6TextLen(a))
	}
	out := a.AppendTo(o[:0]) // at most ipLen bytes: no growth
	return unsafe.String(&out[0], len(out))
}

// moveText copies s, an address text in the scratch buffer, to place at
// and returns the copy; with DeferText, the copy too is left to
// AddressText.
func (d *Decoder) moveText(s string, at int) string {
	if s == "" {
		return ""
	}
	sc := &d.p.Meta.Scratch
	o := sc[at : at+ipLen]
	from := uint16(uintptr(unsafe.Pointer(unsafe.StringData(s))) - uintptr(unsafe.Pointer(&sc[0])))
	for i := d.npending - 1; i >= 0; i-- {
		if t := d.pending[i]; t.at == from {
			d.deferText(at, int(t.kind)).raw = t.raw
			return unsafe.String(&o[0], len(s))
		}
	}
	n := copy(o, s)
	return unsafe.String(&o[0], n)
}
