package decode

import (
	"net/netip"
)

// IP protocol numbers the decoder follows.
const (
	protoHopByHop  = 0
	protoICMP      = 1
	protoIPIP      = 4 // IPv4 in IP (RFC 2003, 2473)
	protoTCP       = 6
	protoUDP       = 17
	protoIPv6Encap = 41 // IPv6 in IP (RFC 4213, 2473)
	protoRouting   = 43
	protoFragment  = 44
	protoGRE       = 47
	protoAH        = 51
	protoICMPv6    = 58
	protoNoNext    = 59
	protoDstOpts   = 60
	protoMPLSinIP  = 137 // RFC 4023
)

// ipv4 decodes an IPv4 header at off and what it carries. An IPv4 header
// inside another packet of the frame takes the outer packet's place (see
// nest).
func (d *Decoder) ipv4(b []byte, off int) {
	if len(b) < off+20 {
		d.fail("ip", off, ErrTruncated, "IPv4 header cut short")
		return
	}
	h := b[off:]
	if h[0]>>4 != 4 {
		d.fail("ip", off, ErrMalformed, "IP version is not 4")
		return
	}
	p := d.p
	if p.Meta.L3 >= 0 { // an inner packet
		d.nest()
	}
	ip := &p.IP
	ihl, total, fo := int(h[0]&0xf)*4, be16(h[2:]), be16(h[6:])
	ip.Present = true
	ip.HdrLen = ihl
	ip.DSField = int(h[1])
	ip.Len = total
	ip.ID = be16(h[4:])
	ip.Flags.RB = fo&0x8000 != 0
	ip.Flags.DF = fo&0x4000 != 0
	ip.Flags.MF = fo&0x2000 != 0
	ip.FragOffset = fo & 0x1fff // 8-byte units, as Wireshark 4.0 filters count it
	ip.TTL = int(h[8])
	ip.Proto = int(h[9])
	ip.Checksum = be16(h[10:])
	src, dst := netip.AddrFrom4([4]byte(h[12:16])), netip.AddrFrom4([4]byte(h[16:20]))
	ip.Src, ip.Dst = d.ipv4Text(h[12:16], txtIPSrc), d.ipv4Text(h[16:20], txtIPDst)
	d.setIP(off, src, dst, ip.Src, ip.Dst, ip.Proto)
	if ihl < 20 {
		d.fail("ip", off, ErrMalformed, "IPv4 header length below 20")
		return
	}
	if len(b) < off+ihl {
		d.fail("ip", off, ErrTruncated, "IPv4 options cut short")
		return
	}
	end := off + total
	switch {
	case total == 0: // left to the capture (TCP segmentation offload)
		end = max(len(b), d.wireEnd(b))
	case total < ihl:
		d.fail("ip", off, ErrMalformed, "IPv4 total length below header length")
		return
	}
	if w := d.wireEnd(b); w >= 0 {
		end = min(end, w)
	}
	if d.frag && (ip.Flags.MF || ip.FragOffset > 0) {
		d.fragment4(b, off+ihl, end)
		return
	}
	d.transport(b, off+ihl, end, ip.Proto, ip.FragOffset > 0, ip.Flags.MF)
}

// wireEnd returns where b, the buffer an IP header is read from, ends on
// the wire: when b is the frame, at the frame's length on the wire
// (Frame.Len, at least the bytes captured), or -1 when the caller did not
// set it (the capture may be cut short of an unknown length); for a
// reassembled datagram, at its end. An IP packet ends there at the
// latest, whatever length its header claims: Wireshark cuts an IP packet
// to its length only when that fits in the frame (packet-ip.c, "IPv4
// total length exceeds packet length"; packet-ipv6.c, "IPv6 payload
// length exceeds framing length"), so a TCP segment's length (tcp.len)
// counts only the bytes the frame has on the wire.
func (d *Decoder) wireEnd(b []byte) int {
	raw := d.p.Meta.Raw
	if len(b) == 0 || len(raw) != len(b) || &raw[0] != &b[0] {
		return len(b)
	}
	if n := d.p.Frame.Len; n > 0 {
		return max(n, len(b))
	}
	return -1
}

// setIP fills the version-agnostic fields of an IP header at off.
func (d *Decoder) setIP(off int, src, dst netip.Addr, srcText, dstText string, proto int) {
	p := d.p
	p.Meta.L3 = off
	p.Meta.Src, p.Meta.Dst = src, dst
	p.SrcIP, p.DestIP = srcText, dstText
	p.Meta.IPProto = proto
	p.Proto = protoNames[proto&0xff]
}

// ipv6 decodes an IPv6 header at off, its extension headers and what it
// carries; inside another packet of the frame it takes that packet's place
// (see nest).
func (d *Decoder) ipv6(b []byte, off int) {
	if len(b) < off+40 {
		d.fail("ipv6", off, ErrTruncated, "IPv6 header cut short")
		return
	}
	h := b[off:]
	if h[0]>>4 != 6 {
		d.fail("ipv6", off, ErrMalformed, "IP version is not 6")
		return
	}
	p := d.p
	if p.Meta.L3 >= 0 { // an inner packet
		d.nest()
	}
	ip := &p.IPv6
	v := be32(h)
	ip.Present = true
	ip.TClass = (v >> 20) & 0xff
	ip.Flow = v & 0xfffff
	ip.Plen = be16(h[4:])
	ip.Nxt = int(h[6])
	ip.HLim = int(h[7])
	src, dst := netip.AddrFrom16([16]byte(h[8:24])), netip.AddrFrom16([16]byte(h[24:40]))
	ip.Src, ip.Dst = d.addr(src, txtIPSrc), d.addr(dst, txtIPDst)
	d.setIP(off, src, dst, ip.Src, ip.Dst, ip.Nxt)

	end := off + 40 + ip.Plen
	if w := d.wireEnd(b); w >= 0 {
		end = min(end, w)
	}
	if ip.Plen == 0 && ip.Nxt != protoNoNext { // jumbogram or segmentation offload
		end = max(len(b), d.wireEnd(b))
	}
	capEnd := min(end, len(b))
	nh, pos := ip.Nxt, off+40
	later, more := false, false
	for i := 0; ; i++ {
		if nh != protoHopByHop && nh != protoRouting && nh != protoDstOpts && nh != protoFragment && nh != protoAH {
			break
		}
		if i == maxIPv6Ext {
			d.fail("ipv6", pos, ErrMalformed, "more than 8 IPv6 extension headers")
			return
		}
		if capEnd < pos+8 {
			d.fail("ipv6", pos, ErrTruncated, "IPv6 extension header cut short")
			return
		}
		e := b[pos:]
		hl := (int(e[1]) + 1) * 8
		fragHdr := nh == protoFragment
		switch nh {
		case protoFragment:
			hl = 8
			fo := be16(e[2:])
			ip.Fragment.Offset = fo & 0xfff8
			ip.Fragment.More = fo&1 != 0
			ip.Fragment.ID = be32(e[4:])
			ip.FragHdr.Offset = fo >> 3
			ip.FragHdr.More = ip.Fragment.More
			ip.FragHdr.Ident = ip.Fragment.ID
			later, more = ip.Fragment.Offset > 0, ip.Fragment.More
		case protoAH:
			hl = (int(e[1]) + 2) * 4
		}
		nh, pos = int(e[0]), pos+hl
		if capEnd < pos {
			d.fail("ipv6", pos-hl, ErrTruncated, "IPv6 extension header cut short")
			return
		}
		if d.frag && fragHdr && (ip.Fragment.More || ip.Fragment.Offset > 0) { // DecodeFragment
			d.frag = false // only the first fragment header met is the caller's
			if d.dgram == nil {
				later = true
				break
			}
			nh, b, pos, end, capEnd = d.dgramProto, d.dgram, 0, len(d.dgram), len(d.dgram)
			later, more = false, false
			continue
		}
		if later { // the rest is fragment data
			break
		}
	}
	p.Meta.IPProto = nh
	p.Proto = protoNames[nh]
	d.transport(b, pos, end, nh, later, more)
}
