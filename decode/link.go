package decode

import "github.com/vigil-ids/vigil/rules/field"

// EtherTypes the decoder follows.
const (
	etIPv4      = 0x0800
	etARP       = 0x0806
	etVLAN      = 0x8100
	etQinQ      = 0x88a8 // 802.1ad service tag
	etQinQOld   = 0x9100 // read as an 802.1Q tag, as Wireshark does
	etIPv6      = 0x86dd
	etMPLS      = 0x8847
	etMPLSMulti = 0x8848
	etPPPoES    = 0x8864 // PPPoE session stage
	etTEB       = 0x6558 // transparent Ethernet bridging (GRE, Geneve)
	etERSPAN    = 0x88be // ERSPAN type I or II (GRE)
	etERSPAN3   = 0x22eb // ERSPAN type III (GRE)
	etPPP       = 0x880b // PPP (PPTP's enhanced GRE)
	maxLen8023  = 1500   // an EtherType at or below this is an 802.3 length
	minEtype    = 0x0600 // an EtherType below this and above maxLen8023 is invalid
)

// ethernet decodes an Ethernet II or IEEE 802.3 header at off: the
// frame's own, or one a tunnel carries, which then replaces the outer one
// in eth.*.
func (d *Decoder) ethernet(b []byte, off int) {
	if len(b) < off+14 {
		d.fail("eth", off, ErrTruncated, "shorter than the 14-byte Ethernet header")
		return
	}
	p := d.p
	if p.Eth.Present {
		p.Eth = field.Eth{}
	}
	p.Eth.Present = true
	p.Eth.Dst = d.mac(b[off:off+6], txtEthDst)
	p.Eth.Src = d.mac(b[off+6:off+12], txtEthSrc)
	et := be16(b[off+12:])
	if et <= maxLen8023 {
		// IEEE 802.3: the field is a length and an LLC header follows.
		d.llc(b, off+14)
		return
	}
	d.etherType(b, off+14, et)
}

// sll decodes a Linux cooked capture header (libpcap's LINKTYPE_LINUX_SLL,
// 16 bytes: packet type, ARPHRD type, address length, 8 bytes of address,
// protocol) as Wireshark's sll dissector shows it, then the protocol it
// names: a protocol above 1536 is an EtherType (sll.etype), 4 an 802.2
// LLC frame; other values (sll.ltype) name nothing the decoder follows.
func (d *Decoder) sll(b []byte) {
	if len(b) < 16 {
		d.fail("sll", 0, ErrTruncated, "shorter than the 16-byte Linux cooked header")
		return
	}
	s := &d.p.SLL
	s.Present = true
	s.PktType, s.HAType, s.HALen = be16(b), be16(b[2:]), be16(b[4:])
	if s.HALen == 6 {
		s.Src.Eth = d.mac(b[6:12], txtSLLSrc)
	}
	proto := be16(b[14:])
	switch {
	case proto > 1536:
		s.EType = proto
		d.etherType(b, 16, proto)
	case proto == 4:
		s.LType = proto
		d.llc(b, 16)
	default:
		s.LType = proto
	}
}

// llc decodes an IEEE 802.2 LLC header at off; only SNAP (AA AA 03, a
// 3-byte OUI and an EtherType) names a protocol the decoder follows.
func (d *Decoder) llc(b []byte, off int) {
	if len(b) < off+3 {
		d.fail("llc", off, ErrTruncated, "LLC header cut short")
		return
	}
	if b[off] != 0xaa || b[off+1] != 0xaa || b[off+2] != 0x03 {
		return
	}
	if len(b) < off+8 {
		d.fail("llc", off, ErrTruncated, "SNAP header cut short")
		return
	}
	d.etherType(b, off+8, be16(b[off+6:]))
}

// etherType decodes the VLAN tags from off, then the protocol et names;
// eth.type becomes the EtherType after the tags.
func (d *Decoder) etherType(b []byte, off, et int) {
	p := d.p
	for et == etVLAN || et == etQinQ || et == etQinQOld {
		e := EncapVLAN
		if et == etQinQ {
			e = Encap8021AD
		}
		if p.VLAN.Count == maxVLANTags {
			d.failEncap(e, off, ErrMalformed, "more than 8 VLAN tags")
			return
		}
		if len(b) < off+4 {
			d.failEncap(e, off, ErrTruncated, "VLAN tag cut short")
			return
		}
		tci := be16(b[off:])
		id, pcp := tci&0xfff, tci>>13
		if e == Encap8021AD {
			p.Meta.Encap = true
			q := &p.IEEE8021AD
			q.Present = true
			add(&q.ID, &q.IDs, id)
			add(&q.Priority, &q.Priorities, pcp)
		} else {
			v := &p.VLAN
			v.Present = true
			add(&v.ID, &v.IDs, id)
			add(&v.Priority, &v.Priorities, pcp)
		}
		if p.VLAN.Count > 0 {
			p.VLAN.InnerID = id
		}
		p.VLAN.Count++
		p.Meta.VLANTags = p.VLAN.Count
		d.counts[e].Decoded++
		et, off = be16(b[off+2:]), off+4
	}
	if p.Eth.Present {
		p.Eth.Type = et
	}
	d.network(b, off, et)
}

// network decodes at off the protocol that EtherType et names, and
// reports whether it is one the decoder follows.
func (d *Decoder) network(b []byte, off, et int) bool {
	switch et {
	case etIPv4:
		d.ipv4(b, off)
	case etIPv6:
		d.ipv6(b, off)
	case etARP:
		d.arp(b, off)
	case etMPLS, etMPLSMulti:
		d.mpls(b, off)
	case etPPPoES:
		d.pppoe(b, off)
	default:
		return false
	}
	return true
}

// rawIP decodes an IPv4 or IPv6 packet at off by its version nibble.
func (d *Decoder) rawIP(b []byte, off int) {
	if len(b) <= off {
		return
	}
	switch b[off] >> 4 {
	case 4:
		d.ipv4(b, off)
	case 6:
		d.ipv6(b, off)
	}
}

func (d *Decoder) arp(b []byte, off int) {
	if len(b) < off+8 {
		d.fail("arp", off, ErrTruncated, "ARP header cut short")
		return
	}
	p := d.p
	if p.Meta.L3 >= 0 { // an inner packet
		d.nest()
	}
	p.ARP.Present = true
	p.Meta.L3 = off
	hlen, plen := int(b[off+4]), int(b[off+5])
	p.ARP.Opcode = be16(b[off+6:])
	a := off + 8
	if len(b) < a+2*hlen+2*plen {
		d.fail("arp", off, ErrTruncated, "ARP addresses cut short")
		return
	}
	if hlen == 6 && plen == 4 {
		p.ARP.Src.HWMac = d.mac(b[a:a+6], txtARPSrcMAC)
		p.ARP.Src.ProtoIPv4 = d.ipv4Text(b[a+6:a+10], txtARPSrcIP)
		p.ARP.Dst.HWMac = d.mac(b[a+10:a+16], txtARPDstMAC)
		p.ARP.Dst.ProtoIPv4 = d.ipv4Text(b[a+16:a+20], txtARPDstIP)
	}
}

// tokenRing decodes an IEEE 802.5 frame: access and frame control, the
// addresses, the routing information field of a source-routed frame, and
// the LLC header of an LLC frame (frame type 1), as Wireshark's tr
// dissector reads them.
func (d *Decoder) tokenRing(b []byte) {
	if len(b) < 14 {
		d.fail("tr", 0, ErrTruncated, "shorter than the 14-byte Token Ring header")
		return
	}
	p := d.p
	p.Meta.Encap = true
	t := &p.TR
	t.Present = true
	t.Dst = d.mac(b[2:8], txtTRDst)
	sa := [6]byte(b[8:14])
	t.SR = sa[0]&0x80 != 0
	sa[0] &^= 0x80 // the routing information indicator is not part of the address
	t.Src = d.mac(sa[:], txtTRSrc)
	off := 14
	if t.SR {
		if len(b) < off+1 {
			d.fail("tr", off, ErrTruncated, "Token Ring routing information cut short")
			return
		}
		n := int(b[off] & 0x1f) // its length in bytes, routing control included
		if n < 2 {
			d.fail("tr", off, ErrMalformed, "Token Ring routing information shorter than its 2-byte control")
			return
		}
		if off += n; len(b) < off {
			d.fail("tr", 14, ErrTruncated, "Token Ring routing information cut short")
			return
		}
	}
	if b[1]>>6 == 1 { // LLC frame; MAC frames carry ring management
		d.llc(b, off)
	}
}

// 802.11 frame control bits.
const (
	wlanToDS      = 0x01
	wlanFromDS    = 0x02
	wlanProtected = 0x40
	wlanOrder     = 0x80
)

// wifi decodes an 802.11 frame: the frame control of any frame, the
// addresses of management and data frames, and the LLC/SNAP payload of
// unprotected data frames.
func (d *Decoder) wifi(b []byte) {
	if len(b) < 10 {
		d.fail("wlan", 0, ErrTruncated, "802.11 header cut short")
		return
	}
	p := d.p
	w := &p.WLAN
	w.Present = true
	typ, sub, flags := int(b[0]>>2&3), int(b[0]>>4), b[1]
	w.FC.Type, w.FC.Subtype = typ, sub
	w.FC.ToDS = flags&wlanToDS != 0
	w.FC.FromDS = flags&wlanFromDS != 0
	w.FC.Protected = flags&wlanProtected != 0
	switch typ {
	case 0: // management
		if len(b) < 24 {
			d.fail("wlan", 0, ErrTruncated, "802.11 management header cut short")
			return
		}
		w.DA, w.SA, w.BSSID = d.mac(b[4:10], txtWLANDA), d.mac(b[10:16], txtWLANSA), d.mac(b[16:22], txtWLANBSSID)
		return
	case 2: // data
	default: // control and extension frames carry no addresses we expose
		return
	}
	hdr := 24
	if w.FC.ToDS && w.FC.FromDS {
		hdr = 30
	}
	if len(b) < hdr {
		d.fail("wlan", 0, ErrTruncated, "802.11 data header cut short")
		return
	}
	a1, a2, a3 := b[4:10], b[10:16], b[16:22]
	switch {
	case !w.FC.ToDS && !w.FC.FromDS:
		w.DA, w.SA, w.BSSID = d.mac(a1, txtWLANDA), d.mac(a2, txtWLANSA), d.mac(a3, txtWLANBSSID)
	case !w.FC.ToDS && w.FC.FromDS:
		w.DA, w.BSSID, w.SA = d.mac(a1, txtWLANDA), d.mac(a2, txtWLANBSSID), d.mac(a3, txtWLANSA)
	case w.FC.ToDS && !w.FC.FromDS:
		w.BSSID, w.SA, w.DA = d.mac(a1, txtWLANBSSID), d.mac(a2, txtWLANSA), d.mac(a3, txtWLANDA)
	default:
		w.DA, w.SA = d.mac(a3, txtWLANDA), d.mac(b[24:30], txtWLANSA)
	}
	if sub&0x8 != 0 { // QoS data: QoS control, and HT control when Order is set
		hdr += 2
		if flags&wlanOrder != 0 {
			hdr += 4
		}
	}
	if len(b) < hdr {
		d.fail("wlan", 0, ErrTruncated, "802.11 QoS control cut short")
		return
	}
	if sub&0x4 != 0 || w.FC.Protected { // no data, or encrypted
		return
	}
	d.llc(b, hdr)
}
