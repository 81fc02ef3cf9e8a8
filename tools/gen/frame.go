package gen

import (
	"encoding/binary"
	"net/netip"
)

// Ethernet, IP and transport constants used by the frame builder.
const (
	etherIPv4 = 0x0800
	etherIPv6 = 0x86dd
	etherVLAN = 0x8100

	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58

	// minFrame is the Ethernet minimum without FCS; shorter frames are
	// padded with zeros after the IP packet.
	minFrame = 60
	// maxFrame is the largest frame written: 1500 bytes of IP plus the
	// Ethernet header.
	maxFrame = 1514
)

// TCP flags.
const (
	finFlag = 0x01
	synFlag = 0x02
	rstFlag = 0x04
	pshFlag = 0x08
	ackFlag = 0x10
)

// endpoint is one side of a flow.
type endpoint struct {
	mac  [6]byte
	addr netip.Addr
	port uint16
	ttl  uint8
}

// flow is the link, network and transport framing shared by every packet
// of a session.
type flow struct {
	client, server endpoint
	vlan           uint16 // 802.1Q VLAN ID; 0 means untagged
	proto          uint8  // protoTCP, protoUDP, protoICMP (ICMPv6 for IPv6)
	ipid           [2]uint16
	seq            [2]uint32 // next TCP sequence number per direction
	window         [2]uint16
	synOpts        []byte // TCP options of SYN and SYN-ACK segments
}

func (f *flow) v6() bool { return f.client.addr.Is6() }

// mss is the largest TCP payload that keeps the frame within maxFrame.
func (f *flow) mss() int {
	n := maxFrame - 14 - 20 - 20
	if f.v6() {
		n -= 20
	}
	if f.vlan != 0 {
		n -= 4
	}
	return n
}

// packet is one step of a session, built into a frame when emitted.
type packet struct {
	fromServer bool
	flags      uint8  // TCP flags (TCP flows)
	icmpType   uint8  // ICMP flows
	icmpID     uint16 // ICMP echo identifier
	icmpSeq    uint16
	dport      uint16 // when set, the server port of this packet (scans)
	payload    []byte // read only; may alias shared content
	hit        bool   // carries attack content
}

// build appends the frame of p in flow f to dst[:0] and returns it. It
// advances the flow's sequence numbers and IP IDs.
func (f *flow) build(dst []byte, p *packet) []byte {
	src, dstEP := &f.client, &f.server
	dir := 0
	if p.fromServer {
		src, dstEP = dstEP, src
		dir = 1
	}
	b := dst[:0]
	b = append(b, dstEP.mac[:]...)
	b = append(b, src.mac[:]...)
	if f.vlan != 0 {
		b = binary.BigEndian.AppendUint16(b, etherVLAN)
		b = binary.BigEndian.AppendUint16(b, f.vlan&0x0fff)
	}
	v6 := f.v6()
	if v6 {
		b = binary.BigEndian.AppendUint16(b, etherIPv6)
	} else {
		b = binary.BigEndian.AppendUint16(b, etherIPv4)
	}
	ipStart := len(b)

	// Transport header length.
	var thl int
	proto := f.proto
	switch f.proto {
	case protoTCP:
		thl = 20
		if p.flags&synFlag != 0 {
			thl += len(f.synOpts)
		}
	case protoUDP:
		thl = 8
	default:
		thl = 8
		if v6 {
			proto = protoICMPv6
		}
	}
	l4len := thl + len(p.payload)

	if v6 {
		b = append(b, 0x60, 0, 0, 0)
		b = binary.BigEndian.AppendUint16(b, uint16(l4len))
		b = append(b, proto, src.ttl)
		s16, d16 := src.addr.As16(), dstEP.addr.As16()
		b = append(b, s16[:]...)
		b = append(b, d16[:]...)
	} else {
		b = append(b, 0x45, 0)
		b = binary.BigEndian.AppendUint16(b, uint16(20+l4len))
		b = binary.BigEndian.AppendUint16(b, f.ipid[dir])
		f.ipid[dir]++
		b = append(b, 0x40, 0, src.ttl, proto, 0, 0)
		s4, d4 := src.addr.As4(), dstEP.addr.As4()
		b = append(b, s4[:]...)
		b = append(b, d4[:]...)
		binary.BigEndian.PutUint16(b[ipStart+10:], ^fold(sum(0, b[ipStart:ipStart+20])))
	}
	l4 := len(b)

	switch f.proto {
	case protoTCP:
		sport, dport := src.port, dstEP.port
		if p.dport != 0 {
			if p.fromServer {
				sport = p.dport
			} else {
				dport = p.dport
			}
		}
		b = binary.BigEndian.AppendUint16(b, sport)
		b = binary.BigEndian.AppendUint16(b, dport)
		b = binary.BigEndian.AppendUint32(b, f.seq[dir])
		var ack uint32
		if p.flags&ackFlag != 0 {
			ack = f.seq[1-dir]
		}
		b = binary.BigEndian.AppendUint32(b, ack)
		b = append(b, byte(thl/4)<<4, p.flags)
		b = binary.BigEndian.AppendUint16(b, f.window[dir])
		b = append(b, 0, 0, 0, 0) // checksum, urgent pointer
		if p.flags&synFlag != 0 {
			b = append(b, f.synOpts...)
		}
		adv := uint32(len(p.payload))
		if p.flags&(synFlag|finFlag) != 0 {
			adv++
		}
		f.seq[dir] += adv
	case protoUDP:
		b = binary.BigEndian.AppendUint16(b, src.port)
		b = binary.BigEndian.AppendUint16(b, dstEP.port)
		b = binary.BigEndian.AppendUint16(b, uint16(l4len))
		b = append(b, 0, 0)
	default:
		b = append(b, p.icmpType, 0, 0, 0)
		b = binary.BigEndian.AppendUint16(b, p.icmpID)
		b = binary.BigEndian.AppendUint16(b, p.icmpSeq)
	}
	b = append(b, p.payload...)

	// Transport checksum: over the pseudo-header for TCP, UDP and ICMPv6,
	// over the message alone for ICMP.
	var s uint32
	if proto != protoICMP {
		if v6 {
			s = sum(s, b[ipStart+8:ipStart+40])
		} else {
			s = sum(s, b[ipStart+12:ipStart+20])
		}
		s += uint32(proto) + uint32(l4len)
	}
	s = sum(s, b[l4:])
	c := ^fold(s)
	if proto == protoUDP && c == 0 {
		c = 0xffff
	}
	off := 2 // ICMP, ICMPv6
	switch proto {
	case protoTCP:
		off = 16
	case protoUDP:
		off = 6
	}
	binary.BigEndian.PutUint16(b[l4+off:], c)

	for len(b) < minFrame {
		b = append(b, 0)
	}
	return b
}

// sum adds b to the ones' complement sum s as big-endian 16-bit words.
func sum(s uint32, b []byte) uint32 {
	for len(b) >= 2 {
		s += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return s
}

// fold folds the carries of s into 16 bits.
func fold(s uint32) uint16 {
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}
