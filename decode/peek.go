package decode

import (
	"encoding/binary"

	"github.com/vigil-ids/vigil/rules/field"
)

// FlowPeek is what PeekFlow reads of a frame: the fields of a decoded
// Packet that name its flow, with the values Decode gives them.
type FlowPeek struct {
	// VLAN is the packet's field.VLANKey.
	VLAN field.VLANKey
	// Src and Dst are field.Meta.Src and Dst as 16 bytes
	// (netip.Addr.As16: an IPv4 address is IPv4-mapped).
	Src, Dst [16]byte
	// SrcPort and DstPort are the TCP or UDP ports (field.Packet.SrcPort
	// and DestPort), 0 for ICMP and ICMPv6.
	SrcPort, DstPort uint16
	// Proto is field.Meta.IPProto: 6 (TCP), 17 (UDP), 1 (ICMP) or 58
	// (ICMPv6).
	Proto uint8
}

// PeekFlow reads the flow of frame into k with a minimal header walk,
// without a Decoder, and reports whether it could. It reads only the
// common case: an Ethernet II frame (link Ethernet), up to three 802.1Q
// or 802.1ad tags, then an IPv4 packet that is
// not a fragment or an IPv6 packet without extension headers, carrying a
// TCP or UDP header whole within the capture and the IP length, or ICMP
// or ICMPv6. It reports false, leaving k undefined, for everything else
// (other links, LLC, ARP, MPLS, PPPoE, fragments, extension headers,
// tunnels: IP in IP, GRE, and UDP to the ports of VXLAN, Geneve or
// Teredo; headers cut short or malformed), which needs DecodeHeaders.
// When it reports true, k holds what DecodeHeaders would set. PeekFlow
// does not allocate.
func PeekFlow(k *FlowPeek, link Link, frame []byte) bool {
	if link != Ethernet || len(frame) < 14 {
		return false
	}
	k.VLAN = field.VLANKey{}
	var q [3]uint16
	nAD, nQ := 0, 0
	et, off := int(binary.BigEndian.Uint16(frame[12:])), 14
	for et == etVLAN || et == etQinQ || et == etQinQOld {
		if nAD+nQ == len(q) || len(frame) < off+4 {
			return false
		}
		id := binary.BigEndian.Uint16(frame[off:]) & 0xfff
		if et == etQinQ { // VLANKey puts 802.1ad tags first
			k.VLAN[nAD] = id
			nAD++
		} else {
			q[nQ] = id
			nQ++
		}
		et, off = int(binary.BigEndian.Uint16(frame[off+2:])), off+4
	}
	copy(k.VLAN[nAD:], q[:nQ])
	var start, end int
	switch et {
	case etIPv4:
		if len(frame) < off+20 {
			return false
		}
		h := frame[off:]
		ihl, total, fo := int(h[0]&0xf)*4, int(binary.BigEndian.Uint16(h[2:])), binary.BigEndian.Uint16(h[6:])
		if h[0]>>4 != 4 || ihl < 20 || len(frame) < off+ihl || fo&0x3fff != 0 || (total != 0 && total < ihl) {
			return false
		}
		k.Proto = h[9]
		k.Src = [16]byte{10: 0xff, 11: 0xff}
		k.Dst = k.Src
		copy(k.Src[12:], h[12:16])
		copy(k.Dst[12:], h[16:20])
		start, end = off+ihl, off+total
		if total == 0 {
			end = len(frame)
		}
	case etIPv6:
		if len(frame) < off+40 {
			return false
		}
		h := frame[off:]
		if h[0]>>4 != 6 {
			return false
		}
		k.Proto = h[6]
		copy(k.Src[:], h[8:24])
		copy(k.Dst[:], h[24:40])
		plen := int(binary.BigEndian.Uint16(h[4:]))
		start, end = off+40, off+40+plen
		if plen == 0 {
			end = len(frame)
		}
	default:
		return false
	}
	capEnd := min(end, len(frame))
	switch k.Proto {
	case protoTCP:
		if capEnd < start+20 {
			return false
		}
	case protoUDP:
		if capEnd < start+8 {
			return false
		}
	case protoICMP, protoICMPv6:
		k.SrcPort, k.DstPort = 0, 0
		return true
	default:
		return false
	}
	k.SrcPort, k.DstPort = binary.BigEndian.Uint16(frame[start:]), binary.BigEndian.Uint16(frame[start+2:])
	return k.Proto == protoTCP || !tunnelPorts(int(k.SrcPort), int(k.DstPort))
}
