package decode

// EtherTypes and LLC values the decoder follows.
const (
	etIPv4      = 0x0800
	etARP       = 0x0806
	etVLAN      = 0x8100
	etQinQ      = 0x88a8
	etQinQOld   = 0x9100
	etIPv6      = 0x86dd
	etMPLS      = 0x8847
	etMPLSMulti = 0x8848
	maxLen8023  = 1500 // an EtherType at or below this is an 802.3 length
)

func (d *Decoder) ethernet(b []byte) {
	if len(b) < 14 {
		d.fail("eth", 0, ErrTruncated, "frame shorter than the 14-byte Ethernet header")
		return
	}
	p := d.p
	p.Eth.Present = true
	p.Eth.Dst = d.mac(b[0:6])
	p.Eth.Src = d.mac(b[6:12])
	et, off := be16(b[12:]), 14
	if et <= maxLen8023 {
		// IEEE 802.3: the field is a length and an LLC header follows;
		// only SNAP carries an EtherType.
		if !isSNAP(b[off:]) {
			return
		}
		et, off = be16(b[off+6:]), off+8
	}
	d.etherType(b, off, et)
}

// isSNAP reports whether b starts with an LLC/SNAP header (AA AA 03,
// then a 3-byte OUI and a 2-byte EtherType).
func isSNAP(b []byte) bool {
	return len(b) >= 8 && b[0] == 0xaa && b[1] == 0xaa && b[2] == 0x03
}

// etherType decodes VLAN tags from off, then the protocol et names.
func (d *Decoder) etherType(b []byte, off, et int) {
	p := d.p
	for et == etVLAN || et == etQinQ || et == etQinQOld {
		if p.VLAN.Count == maxVLANTags {
			d.fail("vlan", off, ErrMalformed, "more than 8 stacked VLAN tags")
			return
		}
		if len(b) < off+4 {
			d.fail("vlan", off, ErrTruncated, "VLAN tag cut short")
			return
		}
		tci := be16(b[off:])
		if p.VLAN.Count == 0 {
			p.VLAN.Present = true
			p.VLAN.ID = tci & 0xfff
			p.VLAN.Priority = tci >> 13
		} else {
			p.VLAN.InnerID = tci & 0xfff
		}
		p.VLAN.Count++
		p.Meta.VLANTags = p.VLAN.Count
		et, off = be16(b[off+2:]), off+4
	}
	if p.Eth.Present {
		p.Eth.Type = et
	}
	switch et {
	case etIPv4:
		d.ipv4(b, off)
	case etIPv6:
		d.ipv6(b, off)
	case etARP:
		d.arp(b, off)
	case etMPLS, etMPLSMulti:
		d.mpls(b, off)
	}
}

// mpls decodes the label stack, then IPv4 or IPv6 after the bottom of the
// stack, told apart by the version nibble.
func (d *Decoder) mpls(b []byte, off int) {
	p := d.p
	for i := 0; ; i++ {
		if i == maxMPLSLabels {
			d.fail("mpls", off, ErrMalformed, "more than 16 MPLS labels")
			return
		}
		if len(b) < off+4 {
			d.fail("mpls", off, ErrTruncated, "MPLS label cut short")
			return
		}
		e := be32(b[off:])
		if i == 0 {
			p.MPLS.Present = true
			p.MPLS.Label = e >> 12
			p.MPLS.TTL = e & 0xff
		}
		off += 4
		if e&0x100 != 0 { // bottom of stack
			break
		}
	}
	if len(b) == off {
		d.fail("mpls", off, ErrTruncated, "nothing after the MPLS label stack")
		return
	}
	d.rawIP(b, off)
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
		p.ARP.Src.HWMac = d.mac(b[a : a+6])
		p.ARP.Src.ProtoIPv4 = d.ipv4Text(b[a+6 : a+10])
		p.ARP.Dst.HWMac = d.mac(b[a+10 : a+16])
		p.ARP.Dst.ProtoIPv4 = d.ipv4Text(b[a+16 : a+20])
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
		w.DA, w.SA, w.BSSID = d.mac(b[4:10]), d.mac(b[10:16]), d.mac(b[16:22])
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
		w.DA, w.SA, w.BSSID = d.mac(a1), d.mac(a2), d.mac(a3)
	case !w.FC.ToDS && w.FC.FromDS:
		w.DA, w.BSSID, w.SA = d.mac(a1), d.mac(a2), d.mac(a3)
	case w.FC.ToDS && !w.FC.FromDS:
		w.BSSID, w.SA, w.DA = d.mac(a1), d.mac(a2), d.mac(a3)
	default:
		w.DA, w.SA = d.mac(a3), d.mac(b[24:30])
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
	if !isSNAP(b[hdr:]) {
		return
	}
	d.etherType(b, hdr+8, be16(b[hdr+6:]))
}
