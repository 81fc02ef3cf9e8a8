package flow

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"

	"github.com/vigil-ids/vigil/rules/field"
)

// IP protocol numbers the Community ID treats specially.
const (
	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58
	protoSCTP   = 132
)

// icmpCounterpart maps an ICMPv4 request/reply type to its counterpart,
// as Zeek and the Community ID specification do. 0xff means "one-way".
var icmpCounterpart = func() (m [256]uint8) {
	for i := range m {
		m[i] = 0xff
	}
	for _, p := range [][2]uint8{{8, 0}, {13, 14}, {15, 16}, {10, 9}, {17, 18}} {
		m[p[0]], m[p[1]] = p[1], p[0]
	}
	return m
}()

// icmp6Counterpart is the same for ICMPv6.
var icmp6Counterpart = func() (m [256]uint8) {
	for i := range m {
		m[i] = 0xff
	}
	for _, p := range [][2]uint8{{128, 129}, {133, 134}, {135, 136}, {130, 131}, {139, 140}, {144, 145}} {
		m[p[0]], m[p[1]] = p[1], p[0]
	}
	return m
}()

// CommunityIDLen is the length of a Community ID v1 string.
const CommunityIDLen = 2 + 28

// CommunityID returns the Community ID v1 of p's flow with the given seed
// (Suricata's community-id-seed, default 0): "1:" and the base64 SHA-1 of
// seed, the ordered addresses, the protocol and the ordered ports, as the
// Community ID specification defines it. Ports are TCP/UDP ports, SCTP
// ports read from the header, or for ICMP and ICMPv6 the type and the
// counterpart type (echo request/reply and the like) or, for one-way
// messages, the type and code without reordering. Other IP protocols hash
// without ports. It returns "" for a packet without IP addresses.
func CommunityID(p *field.Packet, seed uint16) string {
	var buf [CommunityIDLen]byte
	b := AppendCommunityID(buf[:0], p, seed)
	return string(b)
}

// AppendCommunityID appends p's Community ID (see CommunityID) to dst and
// returns the extended slice; it appends nothing for a packet without IP
// addresses. It does not allocate when dst has room for CommunityIDLen
// more bytes.
func AppendCommunityID(dst []byte, p *field.Packet, seed uint16) []byte {
	src, dstA := p.Meta.Src, p.Meta.Dst
	if !src.IsValid() || !dstA.IsValid() || src.Is4() != dstA.Is4() || p.Meta.IPProto < 0 {
		return dst
	}
	proto := uint8(p.Meta.IPProto)
	var sp, dp uint16
	hasPorts, oneWay := false, false
	switch proto {
	case protoTCP, protoUDP:
		sp, dp, hasPorts = uint16(p.SrcPort), uint16(p.DestPort), true
	case protoSCTP:
		hasPorts = true
		if l4 := p.Meta.L4; l4 >= 0 && l4+4 <= len(p.Meta.Raw) && !p.Meta.Fragment {
			sp = binary.BigEndian.Uint16(p.Meta.Raw[l4:])
			dp = binary.BigEndian.Uint16(p.Meta.Raw[l4+2:])
		}
	case protoICMP, protoICMPv6:
		hasPorts = true
		typ, code, m := p.ICMP.Type, p.ICMP.Code, &icmpCounterpart
		if proto == protoICMPv6 {
			typ, code, m = p.ICMPv6.Type, p.ICMPv6.Code, &icmp6Counterpart
		}
		sp = uint16(uint8(typ))
		if c := m[uint8(typ)]; c != 0xff {
			dp = uint16(c)
		} else {
			dp, oneWay = uint16(uint8(code)), true
		}
	}

	var in [2 + 16 + 16 + 2 + 4]byte
	n := 0
	binary.BigEndian.PutUint16(in[n:], seed)
	n += 2
	var a, b []byte
	var a4, b4 [4]byte
	var a16, b16 [16]byte
	if src.Is4() {
		a4, b4 = src.As4(), dstA.As4()
		a, b = a4[:], b4[:]
	} else {
		a16, b16 = src.As16(), dstA.As16()
		a, b = a16[:], b16[:]
	}
	if !oneWay {
		if c := bytes.Compare(a, b); c > 0 || (c == 0 && sp > dp) {
			a, b, sp, dp = b, a, dp, sp
		}
	}
	n += copy(in[n:], a)
	n += copy(in[n:], b)
	in[n], in[n+1] = proto, 0
	n += 2
	if hasPorts {
		binary.BigEndian.PutUint16(in[n:], sp)
		binary.BigEndian.PutUint16(in[n+2:], dp)
		n += 4
	}
	sum := sha1.Sum(in[:n])
	dst = append(dst, '1', ':')
	return base64.StdEncoding.AppendEncode(dst, sum[:])
}
