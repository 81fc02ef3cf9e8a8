package decode

// UDP ports that carry tunnels.
const (
	portVXLAN  = 4789 // destination port (RFC 7348)
	portGeneve = 6081 // destination port (RFC 8926)
	portTeredo = 3544 // either port (RFC 4380)
)

// nest makes way for an inner network packet whose header at hand is
// valid, in a frame that already has an IP (or ARP) header (Meta.L3 set):
// that packet's network, transport and application fields are cleared for
// the inner one's, and, the first time, the outermost IP header's
// endpoints are kept under tunnel.*.
func (d *Decoder) nest() {
	p := d.p
	p.Meta.Encap = true
	t := &p.Tunnel
	if !t.Present {
		t.Present = true
		t.SrcIP = d.moveText(p.SrcIP, txtTunSrc)
		t.DestIP = d.moveText(p.DestIP, txtTunDst)
		t.SrcPort, t.DestPort = p.SrcPort, p.DestPort
		t.Proto = p.Proto
	}
	t.Depth++
	clearNetwork(p)
}

// carried decodes at off the payload of encapsulation e (GRE, Geneve),
// named by EtherType et: Ethernet (transparent bridging) or a network
// protocol. Any other is unsupported.
func (d *Decoder) carried(e Encap, b []byte, off, et int) {
	if et == etTEB {
		d.ethernet(b, off)
		return
	}
	if !d.network(b, off, et) {
		d.failEncap(e, off, ErrUnsupported, "payload protocol not decoded")
	}
}

// ipTunnel decodes the tunnel that IP protocol proto names (IPv4 or IPv6
// in IP, GRE, MPLS in IP) at start, carried by an IP packet whose captured
// payload ends at capEnd. more marks a first fragment.
func (d *Decoder) ipTunnel(b []byte, start, capEnd, proto int, more bool) {
	d.payload(b, start, capEnd) // the outer packet's view until the inner one is decoded
	d.cut = d.cut || more
	b = b[:capEnd]
	switch proto {
	case protoIPIP:
		if d.enter(EncapIPinIP, start) {
			d.ipv4(b, start)
		}
	case protoIPv6Encap:
		if d.enter(EncapIPinIP, start) {
			d.ipv6(b, start)
		}
	case protoGRE:
		d.gre(b, start)
	default:
		d.mpls(b, start)
	}
}

// tunnelPorts reports whether UDP ports name a tunnel: VXLAN or Geneve by
// destination, Teredo by either.
func tunnelPorts(sport, dport int) bool {
	return dport == portVXLAN || dport == portGeneve || sport == portTeredo || dport == portTeredo
}

// udpTunnel decodes the UDP payload b[start:stop] as the tunnel its ports
// name (tunnelPorts). declEnd is where the UDP header says the payload
// ends; frag marks a first fragment.
func (d *Decoder) udpTunnel(b []byte, start, stop, declEnd, dport int, frag bool) {
	d.cut = d.cut || frag
	b = b[:stop]
	switch dport {
	case portVXLAN:
		d.vxlan(b, start)
	case portGeneve:
		d.geneve(b, start)
	default:
		d.teredo(b, start, declEnd)
	}
}

// pppoe decodes a PPPoE session header (RFC 2516) at off and the PPP
// frame it carries, as long as its payload length says.
func (d *Decoder) pppoe(b []byte, off int) {
	if len(b) < off+6 {
		d.failEncap(EncapPPPoE, off, ErrTruncated, "PPPoE header cut short")
		return
	}
	if !d.enter(EncapPPPoE, off) {
		return
	}
	p := d.p
	p.PPPoES.Present = true
	add(&p.PPPoE.SessionID, &p.PPPoE.SessionIDs, be16(b[off+2:]))
	end := min(off+6+be16(b[off+4:]), len(b)) // Ethernet padding follows
	d.ppp(EncapPPPoE, b[:end], off+6)
}

// PPP protocols the decoder follows.
const (
	pppIPv4      = 0x0021
	pppIPv6      = 0x0057
	pppMPLS      = 0x0281
	pppMPLSMulti = 0x0283
	pppNetMax    = 0x3fff // 0x0001-0x3fff are network-layer protocols, the rest control protocols
)

// ppp decodes a PPP header (RFC 1661) at off inside encapsulation e: the
// address and control bytes FF 03 when present, the protocol (one byte
// when compressed, RFC 1661 section 6.5), then IPv4, IPv6 or MPLS. Other
// network-layer protocols (compressed or encrypted data, IPX, ...) are
// unsupported; control protocols (LCP, IPCP, authentication) carry no
// packet.
func (d *Decoder) ppp(e Encap, b []byte, off int) {
	if len(b) > off && b[off] == 0xff { // 0xff is no protocol: the address
		switch {
		case len(b) < off+2:
			d.failEncap(e, off, ErrTruncated, "PPP control field cut short")
			return
		case b[off+1] != 0x03:
			d.failEncap(e, off, ErrMalformed, "PPP address 0xff without control 0x03")
			return
		}
		off += 2
	}
	if len(b) < off+1 || b[off]&1 == 0 && len(b) < off+2 {
		d.failEncap(e, off, ErrTruncated, "PPP protocol cut short")
		return
	}
	proto := int(b[off])
	if proto&1 == 0 {
		proto = proto<<8 | int(b[off+1])
		off++
	}
	off++
	p := d.p
	p.PPP.Present = true
	add(&p.PPP.Protocol, &p.PPP.Protocols, proto)
	switch proto {
	case pppIPv4:
		d.ipv4(b, off)
	case pppIPv6:
		d.ipv6(b, off)
	case pppMPLS, pppMPLSMulti:
		d.mpls(b, off)
	default:
		if proto <= pppNetMax {
			d.failEncap(e, off, ErrUnsupported, "PPP network protocol not decoded")
		}
	}
}

// GRE header bits (RFC 2784, 2890, 1701; RFC 2637 for version 1).
const (
	greChecksum = 0x80 // first byte: checksum and offset fields present
	greRouting  = 0x40 // routing present (RFC 1701): checksum, offset and SREs
	greKey      = 0x20 // key present
	greSeq      = 0x10 // sequence number present
	greAck      = 0x80 // second byte, version 1: acknowledgment number present
)

// gre decodes a GRE header at off and the payload its protocol type
// names: a network protocol, Ethernet (0x6558), ERSPAN (0x88be, 0x22eb)
// or PPP (0x880b, PPTP's version 1).
func (d *Decoder) gre(b []byte, off int) {
	if len(b) < off+4 {
		d.failEncap(EncapGRE, off, ErrTruncated, "GRE header cut short")
		return
	}
	flags, ver, proto := b[off], int(b[off+1]&7), be16(b[off+2:])
	if ver > 1 {
		d.failEncap(EncapGRE, off, ErrUnsupported, "GRE version above 1")
		return
	}
	pos, key := off+4, -1
	if flags&(greChecksum|greRouting) != 0 {
		pos += 4
	}
	if flags&greKey != 0 {
		key, pos = pos, pos+4
	}
	seq := flags&greSeq != 0
	if seq {
		pos += 4
	}
	if ver == 1 && b[off+1]&greAck != 0 {
		pos += 4
	}
	if len(b) < pos {
		d.failEncap(EncapGRE, off, ErrTruncated, "GRE header cut short")
		return
	}
	if flags&greRouting != 0 { // source route entries, up to a null one
		for {
			if len(b) < pos+4 {
				d.failEncap(EncapGRE, pos, ErrTruncated, "GRE routing cut short")
				return
			}
			n := int(b[pos+3])
			pos += 4 + n
			if n == 0 && be16(b[pos-4:]) == 0 {
				break
			}
		}
		if len(b) < pos {
			d.failEncap(EncapGRE, off, ErrTruncated, "GRE routing cut short")
			return
		}
	}
	if !d.enter(EncapGRE, off) {
		return
	}
	p := d.p
	p.GRE.Present = true
	add(&p.GRE.Proto, &p.GRE.Protos, proto)
	if key >= 0 {
		add(&p.GRE.Key, &p.GRE.Keys, be32(b[key:]))
	}
	switch {
	case ver == 1 && !seq: // PPTP acknowledgment: no payload
	case proto == etPPP:
		d.ppp(EncapGRE, b, pos)
	case proto == etERSPAN || proto == etERSPAN3:
		d.erspan(b, pos, proto, seq)
	default:
		d.carried(EncapGRE, b, pos, proto)
	}
}

// erspan decodes an ERSPAN header at off and the frame it mirrors: GRE
// protocol 0x88be is type II when the GRE header has a sequence number
// (an 8-byte header, version 1) and type I otherwise (no header); 0x22eb
// is type III (12 bytes, version 2, and an 8-byte platform sub-header
// when its O bit is set), which mirrors Ethernet (frame type 0) or IP
// (frame type 2).
func (d *Decoder) erspan(b []byte, off, proto int, seq bool) {
	p := d.p
	if proto == etERSPAN && !seq {
		if d.enter(EncapERSPAN, off) {
			p.ERSPAN.Present = true
			d.ethernet(b, off)
		}
		return
	}
	hl, ver := 8, 1
	if proto == etERSPAN3 {
		hl, ver = 12, 2
	}
	if len(b) < off+hl {
		d.failEncap(EncapERSPAN, off, ErrTruncated, "ERSPAN header cut short")
		return
	}
	if int(b[off]>>4) != ver {
		d.failEncap(EncapERSPAN, off, ErrMalformed, "ERSPAN version does not match its GRE protocol type")
		return
	}
	ip := false
	if ver == 2 {
		w := be16(b[off+10:])
		switch w >> 10 & 0x1f {
		case 0: // Ethernet
		case 2:
			ip = true
		default:
			d.failEncap(EncapERSPAN, off, ErrUnsupported, "ERSPAN frame type not decoded")
			return
		}
		if w&1 != 0 {
			if hl += 8; len(b) < off+hl {
				d.failEncap(EncapERSPAN, off, ErrTruncated, "ERSPAN platform sub-header cut short")
				return
			}
		}
	}
	if !d.enter(EncapERSPAN, off) {
		return
	}
	p.ERSPAN.Present = true
	add(&p.ERSPAN.Version, &p.ERSPAN.Versions, ver)
	add(&p.ERSPAN.SpanID, &p.ERSPAN.SpanIDs, be16(b[off+2:])&0x3ff)
	if ip {
		d.rawIP(b, off+hl)
		return
	}
	d.ethernet(b, off+hl)
}

// vxlan decodes a VXLAN header (RFC 7348) at off and the Ethernet frame it
// carries. The I flag must be set: without it there is no VNI.
func (d *Decoder) vxlan(b []byte, off int) {
	if len(b) < off+8 {
		d.failEncap(EncapVXLAN, off, ErrTruncated, "VXLAN header cut short")
		return
	}
	if b[off]&0x08 == 0 {
		d.failEncap(EncapVXLAN, off, ErrMalformed, "VXLAN I flag clear")
		return
	}
	if !d.enter(EncapVXLAN, off) {
		return
	}
	p := d.p
	p.VXLAN.Present = true
	add(&p.VXLAN.VNI, &p.VXLAN.VNIs, be32(b[off+4:])>>8)
	d.ethernet(b, off+8)
}

// geneve decodes a Geneve header (RFC 8926) at off, skips its options and
// decodes the payload its protocol type names.
func (d *Decoder) geneve(b []byte, off int) {
	if len(b) < off+8 {
		d.failEncap(EncapGeneve, off, ErrTruncated, "Geneve header cut short")
		return
	}
	if b[off]>>6 != 0 {
		d.failEncap(EncapGeneve, off, ErrUnsupported, "Geneve version above 0")
		return
	}
	hl := 8 + int(b[off]&0x3f)*4
	if len(b) < off+hl {
		d.failEncap(EncapGeneve, off, ErrTruncated, "Geneve options cut short")
		return
	}
	if !d.enter(EncapGeneve, off) {
		return
	}
	p := d.p
	p.Geneve.Present = true
	add(&p.Geneve.VNI, &p.Geneve.VNIs, be32(b[off+4:])>>8)
	d.carried(EncapGeneve, b, off+hl, be16(b[off+2:]))
}

// teredo decodes Teredo (RFC 4380) at off: an authentication header and
// an origin indication when present, then an IPv6 packet, which must fill
// the UDP payload exactly (declEnd is its end as the UDP header says), as
// Suricata requires before taking UDP port 3544 for Teredo.
func (d *Decoder) teredo(b []byte, off, declEnd int) {
	pos := off
	if len(b) >= pos+4 && b[pos] == 0 && b[pos+1] == 1 { // authentication
		pos += 4 + int(b[pos+2]) + int(b[pos+3]) + 9 // client id, value, nonce, confirmation
	}
	if len(b) >= pos+2 && b[pos] == 0 && b[pos+1] == 0 { // origin indication
		pos += 8
	}
	switch {
	case declEnd < pos+40:
		d.failEncap(EncapTeredo, off, ErrMalformed, "UDP port 3544 payload too short for Teredo")
		return
	case len(b) < pos+40:
		d.failEncap(EncapTeredo, off, ErrTruncated, "Teredo packet cut short")
		return
	case b[pos]>>4 != 6 || declEnd-pos != 40+be16(b[pos+4:]):
		d.failEncap(EncapTeredo, off, ErrMalformed, "UDP port 3544 payload is not a Teredo IPv6 packet")
		return
	}
	if !d.enter(EncapTeredo, off) {
		return
	}
	d.p.Teredo.Present = true
	d.ipv6(b, pos)
}

// mpls decodes the label stack at off, then what follows the bottom of
// the stack, told apart by its first nibble as Wireshark does: 4 IPv4, 6
// IPv6, 0 an Ethernet pseudowire. A frame holds at most maxMPLSLabels
// labels, all stacks together, so that mpls.label keeps every one.
func (d *Decoder) mpls(b []byte, off int) {
	p := d.p
	m := &p.MPLS
	start := off
	for {
		if m.Labels.N == maxMPLSLabels {
			d.failEncap(EncapMPLS, off, ErrMalformed, "more than 16 MPLS labels in the frame")
			return
		}
		if len(b) < off+4 {
			d.failEncap(EncapMPLS, off, ErrTruncated, "MPLS label cut short")
			return
		}
		e := be32(b[off:])
		p.Meta.Encap, m.Present = true, true
		add(&m.Label, &m.Labels, e>>12)
		add(&m.Exp, &m.Exps, e>>9&7)
		add(&m.TTL, &m.TTLs, e&0xff)
		off += 4
		if e&0x100 != 0 { // bottom of stack
			break
		}
	}
	if len(b) == off {
		d.failEncap(EncapMPLS, off, ErrTruncated, "nothing after the MPLS label stack")
		return
	}
	if !d.enter(EncapMPLS, start) {
		return
	}
	switch b[off] >> 4 {
	case 4:
		d.ipv4(b, off)
	case 6:
		d.ipv6(b, off)
	case 0:
		d.pwEth(b, off)
	default:
		d.failEncap(EncapMPLS, off, ErrUnsupported, "MPLS payload neither IP nor an Ethernet pseudowire")
	}
}

// pwEth decodes an Ethernet pseudowire (RFC 4448) at off, whose first
// nibble is 0: behind a 4-byte control word (RFC 4385) or not, whichever
// leaves the likelier Ethernet header, the control word on a tie or when
// the frame is too short to tell (RFC 8469 asks for it), as Wireshark's
// heuristic decides.
func (d *Decoder) pwEth(b []byte, off int) {
	cw := len(b) < off+4+14 || ethLikeness(b, off+4) >= ethLikeness(b, off) // cut short: no telling
	if !d.enter(EncapPWEth, off) {
		return
	}
	p := d.p
	p.PWEth.Present = true
	if cw {
		p.PWEth.CW.Present = true
		off += 4
	}
	d.ethernet(b, off)
}

// ethLikeness rates how much the bytes at off look like an Ethernet
// header: 0 not (cut short, a group source address, an invalid type), 2
// when its EtherType is one the decoder follows, 1 otherwise.
func ethLikeness(b []byte, off int) int {
	if len(b) < off+14 || b[off+6]&1 != 0 {
		return 0
	}
	switch et := be16(b[off+12:]); et {
	case etIPv4, etIPv6, etARP, etVLAN, etQinQ, etQinQOld, etMPLS, etMPLSMulti, etPPPoES:
		return 2
	default:
		if et > maxLen8023 && et < minEtype {
			return 0
		}
	}
	return 1
}
