// Package respond builds the active-response frames Vigil hands to the
// sensor for injection (TCP resets, ICMP and ICMPv6 destination
// unreachables), recognises those frames when the sensor mirrors them back
// (Guard), and caps how often it answers (Limiter).
//
// Frames are layer 2: they reuse the captured frame's Ethernet header and
// 802.1Q/802.1ad tags, so CommView can put them on the wire as they are.
// The sensor is a passive tap: the offending packet has already been
// delivered, so sequence numbers are chosen as Snort does for a tap, not
// as an inline device would.
//
// It belongs to the engine room: of Vigil it imports rules (the typed
// target) and rules/field.
package respond

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/rules/field"
)

// Directions of a Frame.
const (
	// ToSource is a frame addressed to the sender of the packet.
	ToSource = "to_source"
	// ToDest is a frame addressed to the receiver of the packet.
	ToDest = "to_dest"
)

// Kinds of a Frame.
const (
	KindTCPReset      = "tcp-rst"
	KindICMPUnreach   = "icmp-unreach"
	KindICMPv6Unreach = "icmpv6-unreach"
)

// Limits and fixed values of built frames.
const (
	// StrafeStep is the sequence step of extra resets when the packet
	// carries no payload (a typical Ethernet MSS).
	StrafeStep = 1460
	// TTL is the IPv4 TTL and IPv6 hop limit of every frame.
	TTL = 64
	// MinFrame is the length frames are zero-padded to (the Ethernet
	// minimum without FCS).
	MinFrame = 60
	// maxQuote4 keeps an ICMP error within 576 bytes (RFC 1812 4.3.2.3).
	maxQuote4 = 576 - 20 - 8
	// maxQuote6 keeps an ICMPv6 error within the IPv6 minimum MTU of 1280
	// bytes (RFC 4443 2.4 (c)).
	maxQuote6 = 1280 - 40 - 8
)

// Frame is one frame to inject.
type Frame struct {
	// Data is the whole Ethernet frame, padded to MinFrame bytes. It is
	// owned by the Frame.
	Data []byte
	// Dir is ToSource or ToDest.
	Dir string
	// Kind is KindTCPReset, KindICMPUnreach or KindICMPv6Unreach.
	Kind string
	// Seq and Ack are the TCP sequence and acknowledgement numbers of a
	// reset; zero for ICMP.
	Seq, Ack uint32
}

// Build returns the frames answering p toward t: those to the source
// first, then those to the destination, each direction's base reset before
// its extra ones. p must be an Ethernet frame (p.Eth.Present, optionally
// 802.1Q/802.1ad tagged) carrying IPv4 or IPv6 (p.IP.Present or
// p.IPv6.Present); Build reads header values from p.Meta.Raw at p.Meta.L3 and p.Meta.L4 (checking
// every offset against the frame, so a hostile or inconsistent Packet gives
// ErrMalformed, never a panic) and uses p.Meta.IPProto and p.Meta.Fragment
// for IPv6, whose extension headers it does not walk. The returned frames
// own their bytes and stay valid after p is reused.
//
// TCP: one RST|ACK (window 0, no options) per direction of t. With
// n = payload length (+1 for SYN, +1 for FIN):
//
//	to_dest:   seq = pkt.seq + n, ack = pkt.ack
//	to_source: seq = pkt.ack,     ack = pkt.seq + n
//
// except that a packet without the ACK flag gets seq 0 toward the source
// (RFC 793: its ack field means nothing; the sender checks the ack of a
// reset in SYN-SENT, not its seq).
//
// strafe adds up to strafe (at most rules.MaxStrafe) extra resets per direction
// at seq + k*step, k = 1..strafe, where step is the packet's payload length,
// or StrafeStep when it carries none: they cover a receiver whose window
// moved on by a few segments since the packet was seen. Toward the source
// only offsets below the packet's advertised (unscaled, so smallest
// possible) window are used, and none when the packet has no ACK flag.
//
// Other IP protocols: an ICMP destination unreachable to the sender (port
// unreachable, code 3, for UDP; protocol unreachable, code 2, otherwise),
// quoting the original datagram up to 576 bytes in all; over IPv6 an
// ICMPv6 destination unreachable (port unreachable, code 4, for UDP;
// administratively prohibited, code 1, otherwise, as ICMPv6 type 1 has no
// protocol-unreachable code), quoting up to 1280 bytes in all. The quote
// is cut to what was captured; it holds the IP header and at least 8 bytes
// of payload when those were captured. rules.TargetDest gives ErrDestOnly.
//
// IPv4 frames carry DF, TTL 64 and an ID derived from the frame's ports
// and sequence numbers, so the same packet always gives the same bytes.
//
// The error wraps ErrNotAnswerable when the packet must not or cannot be
// answered: a reset, an ICMP error, a non-first fragment, a broadcast or
// multicast or unspecified destination, a non-unicast source, no IP, a
// non-Ethernet link.
func Build(p *field.Packet, t rules.Target, strafe int) ([]Frame, error) {
	if t > rules.TargetDest {
		return nil, fmt.Errorf("%w %d", ErrTarget, t)
	}
	if p == nil {
		return nil, ErrNoIP
	}
	d, err := dissect(p)
	if err != nil {
		return nil, err
	}
	if strafe < 0 {
		strafe = 0
	}
	if strafe > rules.MaxStrafe {
		strafe = rules.MaxStrafe
	}
	if d.proto == 6 {
		return d.resets(t, strafe), nil
	}
	if !answersSource(t) {
		return nil, ErrDestOnly
	}
	return []Frame{d.unreachable()}, nil
}

// dissected holds what Build needs from the captured frame; its slices
// alias p.Meta.Raw.
type dissected struct {
	raw    []byte
	l2     []byte // Ethernet header and tags, ending with the IP EtherType
	v6     bool
	src    []byte // 4 or 16 bytes
	dst    []byte
	l3     int
	l4     int
	capEnd int // end of the IP datagram in raw, cut to what was captured
	proto  int

	// TCP only.
	sport, dport uint16
	seq, ack     uint32
	flags        uint8
	window       uint16
	segLen       uint32 // payload length + SYN + FIN
	payloadLen   int
}

const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
	tcpACK = 0x10
)

// l3Offset walks an Ethernet II header and up to maxTags 802.1Q/802.1ad
// tags; it returns the offset of the layer 3 header and its EtherType.
func l3Offset(raw []byte) (int, uint16, bool) {
	const maxTags = 8
	if len(raw) < 14 {
		return 0, 0, false
	}
	off := 12
	for range maxTags + 1 {
		if len(raw) < off+2 {
			return 0, 0, false
		}
		et := binary.BigEndian.Uint16(raw[off:])
		switch et {
		case 0x8100, 0x88a8, 0x9100:
			off += 4
			continue
		}
		return off + 2, et, true
	}
	return 0, 0, false
}

func dissect(p *field.Packet) (dissected, error) {
	var d dissected
	m := &p.Meta
	raw := m.Raw
	if m.L3 < 0 || m.IPProto < 0 || !(p.IP.Present || p.IPv6.Present) {
		return d, ErrNoIP
	}
	if !p.Eth.Present {
		return d, ErrLinkLayer
	}
	l3, et, ok := l3Offset(raw)
	if !ok || l3 != m.L3 || (et != 0x0800 && et != 0x86dd) {
		return d, ErrLinkLayer
	}
	d.raw, d.l2, d.l3 = raw, raw[:l3], l3
	if m.Fragment {
		return d, ErrFragment
	}
	if raw[0]&1 != 0 {
		return d, ErrDestination
	}
	if raw[6]&1 != 0 {
		return d, ErrSource
	}
	var declEnd int // end of the datagram as its header declares it
	if et == 0x0800 {
		if len(raw) < l3+20 || raw[l3]>>4 != 4 {
			return d, ErrMalformed
		}
		ihl := int(raw[l3]&0x0f) * 4
		total := int(binary.BigEndian.Uint16(raw[l3+2:]))
		if ihl < 20 || total < ihl || len(raw) < l3+ihl {
			return d, ErrMalformed
		}
		if binary.BigEndian.Uint16(raw[l3+6:])&0x1fff != 0 {
			return d, ErrFragment
		}
		d.src, d.dst = raw[l3+12:l3+16], raw[l3+16:l3+20]
		d.proto = int(raw[l3+9])
		d.l4 = l3 + ihl
		declEnd = l3 + total
		src, dst := netip.AddrFrom4([4]byte(d.src)), netip.AddrFrom4([4]byte(d.dst))
		if dst.IsMulticast() || dst.IsUnspecified() || dst == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
			return d, ErrDestination
		}
		if src.IsUnspecified() || src.IsMulticast() || src == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
			return d, ErrSource
		}
	} else {
		if len(raw) < l3+40 || raw[l3]>>4 != 6 {
			return d, ErrMalformed
		}
		plen := int(binary.BigEndian.Uint16(raw[l3+4:]))
		d.v6 = true
		d.src, d.dst = raw[l3+8:l3+24], raw[l3+24:l3+40]
		d.proto = m.IPProto
		d.l4 = m.L4
		declEnd = l3 + 40 + plen
		if d.proto > 255 || (d.l4 >= 0 && (d.l4 < l3+40 || d.l4 > declEnd || d.l4 > len(raw))) {
			return d, ErrMalformed
		}
		src, dst := netip.AddrFrom16([16]byte(d.src)), netip.AddrFrom16([16]byte(d.dst))
		if dst.IsMulticast() || dst.IsUnspecified() {
			return d, ErrDestination
		}
		if src.IsUnspecified() || src.IsMulticast() {
			return d, ErrSource
		}
	}
	d.capEnd = min(declEnd, len(raw))
	switch d.proto {
	case 6:
		return d, d.tcp(declEnd)
	case 17:
		if d.l4 < 0 || d.capEnd < d.l4+8 {
			return d, ErrMalformed
		}
	case 1:
		if d.v6 {
			break // ICMPv4 inside IPv6 is just an unknown protocol
		}
		if d.capEnd < d.l4+1 {
			return d, ErrMalformed
		}
		if !icmpQuery(d.raw[d.l4]) {
			return d, ErrICMPError
		}
	case 58:
		if !d.v6 {
			break
		}
		if d.l4 < 0 || d.capEnd < d.l4+1 {
			return d, ErrMalformed
		}
		if d.raw[d.l4] < 128 { // RFC 4443 2.1: types 0-127 are errors
			return d, ErrICMPError
		}
	}
	return d, nil
}

// icmpQuery reports whether an ICMPv4 type is a query (informational)
// message; errors and unknown types are never answered (RFC 1122 3.2.2).
func icmpQuery(typ byte) bool {
	switch typ {
	case 0, 8, 9, 10, 13, 14, 15, 16, 17, 18:
		return true
	}
	return false
}

func (d *dissected) tcp(declEnd int) error {
	l4 := d.l4
	if l4 < 0 || d.capEnd < l4+20 {
		return ErrMalformed
	}
	h := d.raw[l4:]
	doff := int(h[12]>>4) * 4
	if doff < 20 || l4+doff > declEnd {
		return ErrMalformed
	}
	d.sport = binary.BigEndian.Uint16(h[0:])
	d.dport = binary.BigEndian.Uint16(h[2:])
	d.seq = binary.BigEndian.Uint32(h[4:])
	d.ack = binary.BigEndian.Uint32(h[8:])
	d.flags = h[13]
	d.window = binary.BigEndian.Uint16(h[14:])
	if d.flags&tcpRST != 0 {
		return ErrReset
	}
	d.payloadLen = declEnd - l4 - doff
	d.segLen = uint32(d.payloadLen)
	if d.flags&tcpSYN != 0 {
		d.segLen++
	}
	if d.flags&tcpFIN != 0 {
		d.segLen++
	}
	return nil
}

// answersSource and answersDest tell whether target t answers the sender
// and the receiver of the packet.
func answersSource(t rules.Target) bool { return t == rules.TargetBoth || t == rules.TargetSource }
func answersDest(t rules.Target) bool   { return t == rules.TargetBoth || t == rules.TargetDest }

func (d *dissected) resets(t rules.Target, strafe int) []Frame {
	step := uint32(d.payloadLen)
	if step == 0 {
		step = StrafeStep
	}
	var frames []Frame
	if answersSource(t) {
		seq, ack := d.ack, d.seq+d.segLen
		n := strafe
		if d.flags&tcpACK == 0 {
			seq, n = 0, 0
		}
		frames = append(frames, d.reset(ToSource, seq, ack))
		for k := 1; k <= n && uint64(k)*uint64(step) < uint64(d.window); k++ {
			frames = append(frames, d.reset(ToSource, seq+uint32(k)*step, ack))
		}
	}
	if answersDest(t) {
		seq, ack := d.seq+d.segLen, d.ack
		frames = append(frames, d.reset(ToDest, seq, ack))
		for k := 1; k <= strafe; k++ {
			frames = append(frames, d.reset(ToDest, seq+uint32(k)*step, ack))
		}
	}
	return frames
}

// header writes the layer 2 and IP headers of a frame of IP payload
// length n and returns the frame and the offset of the IP payload.
func (d *dissected) header(toSource bool, proto uint8, n int, id uint16) ([]byte, int) {
	ipLen := 20
	if d.v6 {
		ipLen = 40
	}
	l4 := len(d.l2) + ipLen
	b := make([]byte, max(l4+n, MinFrame))
	copy(b, d.l2)
	src, dst := d.src, d.dst
	if toSource {
		copy(b[0:6], d.raw[6:12])
		copy(b[6:12], d.raw[0:6])
		src, dst = dst, src
	}
	ip := b[len(d.l2):l4]
	if d.v6 {
		ip[0] = 0x60
		binary.BigEndian.PutUint16(ip[4:], uint16(n))
		ip[6] = proto
		ip[7] = TTL
		copy(ip[8:24], src)
		copy(ip[24:40], dst)
		return b, l4
	}
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(ipLen+n))
	binary.BigEndian.PutUint16(ip[4:], id)
	ip[6] = 0x40 // DF
	ip[8] = TTL
	ip[9] = proto
	copy(ip[12:16], src)
	copy(ip[16:20], dst)
	binary.BigEndian.PutUint16(ip[10:], fold(sum(0, ip)))
	return b, l4
}

func (d *dissected) reset(dir string, seq, ack uint32) Frame {
	toSource := dir == ToSource
	sport, dport := d.sport, d.dport
	src, dst := d.src, d.dst
	if toSource {
		sport, dport = dport, sport
		src, dst = dst, src
	}
	id := ipID(uint64(seq)<<32|uint64(ack), uint64(sport)<<16|uint64(dport))
	b, off := d.header(toSource, 6, 20, id)
	h := b[off : off+20]
	binary.BigEndian.PutUint16(h[0:], sport)
	binary.BigEndian.PutUint16(h[2:], dport)
	binary.BigEndian.PutUint32(h[4:], seq)
	binary.BigEndian.PutUint32(h[8:], ack)
	h[12] = 5 << 4
	h[13] = tcpRST | tcpACK
	// window 0, urgent pointer 0
	binary.BigEndian.PutUint16(h[16:], fold(sum(pseudo(src, dst, 6, 20), h)))
	return Frame{Data: b, Dir: dir, Kind: KindTCPReset, Seq: seq, Ack: ack}
}

func (d *dissected) unreachable() Frame {
	limit := maxQuote4
	if d.v6 {
		limit = maxQuote6
	}
	quote := d.raw[d.l3:min(d.capEnd, d.l3+limit)]
	proto, typ, code, kind := uint8(1), uint8(3), uint8(2), KindICMPUnreach
	if d.v6 {
		proto, typ, code, kind = 58, 1, 1, KindICMPv6Unreach
	}
	if d.proto == 17 {
		code = 3
		if d.v6 {
			code = 4
		}
	}
	n := 8 + len(quote)
	id := ipID(uint64(len(quote))<<16|uint64(typ)<<8|uint64(code), uint64(sum(0, quote[:min(len(quote), 32)])))
	b, off := d.header(true, proto, n, id)
	h := b[off : off+n]
	h[0], h[1] = typ, code
	copy(h[8:], quote)
	var s uint32
	if d.v6 {
		s = pseudo(d.dst, d.src, 58, n)
	}
	binary.BigEndian.PutUint16(h[2:], fold(sum(s, h)))
	return Frame{Data: b, Dir: ToSource, Kind: kind}
}

// ipID derives an IPv4 identification from two values (splitmix64 finaliser).
func ipID(a, b uint64) uint16 {
	x := a ^ b*0x9e3779b97f4a7c15
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return uint16(x >> 48)
}
