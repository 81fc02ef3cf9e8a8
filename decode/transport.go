package decode

// transport decodes the IP payload b[start:end] (end as the IP header
// reports it; the capture may end sooner) carrying protocol proto: a
// transport header, or a tunnel. later marks a fragment other than the
// first, more a first fragment with more to come.
func (d *Decoder) transport(b []byte, start, end, proto int, later, more bool) {
	capEnd := min(end, len(b))
	if later {
		d.p.Meta.Fragment = true
		d.payload(b, start, capEnd)
		return
	}
	var ok bool
	switch proto {
	case protoIPIP, protoIPv6Encap, protoGRE, protoMPLSinIP:
		d.ipTunnel(b, start, capEnd, proto, more)
		return
	case protoTCP:
		ok = d.tcp(b, start, end, capEnd, more)
	case protoUDP:
		ok = d.udp(b, start, end, capEnd, more)
	case protoICMP:
		ok = d.icmp(b, start, capEnd, more)
	case protoICMPv6:
		ok = d.icmpv6(b, start, capEnd, more)
	}
	if !ok {
		d.payload(b, start, capEnd)
	}
}

// payload sets payload to b[start:stop].
func (d *Decoder) payload(b []byte, start, stop int) {
	if start >= stop {
		return
	}
	d.p.Payload = str(b[start:stop])
	d.p.Meta.PayloadOff = start
}

// short reports a transport header cut short: an error unless the packet
// is a first fragment, whose header may continue in the next fragment.
func (d *Decoder) short(layer string, off int, frag bool) bool {
	if !frag {
		d.fail(layer, off, ErrTruncated, "header cut short") // Error() names the layer
	}
	return false
}

// tcp decodes a TCP header; it reports false when there is none to
// decode, leaving payload to the caller.
func (d *Decoder) tcp(b []byte, off, end, capEnd int, frag bool) bool {
	if capEnd < off+20 {
		return d.short("tcp", off, frag)
	}
	p := d.p
	h := b[off:]
	t := &p.TCP
	t.Present = true
	p.Meta.L4 = off
	t.SrcPort, t.DstPort = be16(h), be16(h[2:])
	p.SrcPort, p.DestPort = t.SrcPort, t.DstPort
	t.Seq = be32(h[4:])
	t.SeqRaw = t.Seq
	t.Ack = be32(h[8:])
	t.AckRaw = t.Ack
	t.HdrLen = int(h[12]>>4) * 4
	f := h[13]
	t.Flags.Raw = int(f)
	t.Flags.FIN = f&0x01 != 0
	t.Flags.SYN = f&0x02 != 0
	t.Flags.Reset = f&0x04 != 0
	t.Flags.Push = f&0x08 != 0
	t.Flags.Ack = f&0x10 != 0
	t.Flags.Urg = f&0x20 != 0
	t.Flags.ECE = f&0x40 != 0
	t.Flags.CWR = f&0x80 != 0
	t.Window = be16(h[14:])
	t.Checksum = be16(h[16:])
	t.UrgPointer = be16(h[18:])
	if t.HdrLen < 20 {
		d.fail("tcp", off, ErrMalformed, "TCP header length below 20")
		return true
	}
	data := off + t.HdrLen
	if end < data {
		if !frag {
			d.fail("tcp", off, ErrMalformed, "TCP header length beyond the IP payload")
		}
		return true
	}
	// The segment length comes from the IP length, as in Wireshark: not
	// from the frame, which may carry Ethernet padding or be cut short.
	t.Len = end - data
	t.NxtSeq = int(uint32(t.Seq) + uint32(t.Len))
	if f&0x03 != 0 { // a SYN or a FIN (or both) counts one
		t.NxtSeq = int(uint32(t.NxtSeq) + 1)
	}
	if capEnd < data {
		if !frag {
			d.fail("tcp", off, ErrTruncated, "TCP options cut short")
		}
		return true
	}
	d.payload(b, data, capEnd)
	if data < capEnd && !d.lean && !d.StreamApp {
		d.tcpApp(b[data:capEnd], t.SrcPort, t.DstPort)
	}
	return true
}

func (d *Decoder) udp(b []byte, off, end, capEnd int, frag bool) bool {
	if capEnd < off+8 {
		return d.short("udp", off, frag)
	}
	p := d.p
	h := b[off:]
	u := &p.UDP
	u.Present = true
	p.Meta.L4 = off
	u.SrcPort, u.DstPort = be16(h), be16(h[2:])
	p.SrcPort, p.DestPort = u.SrcPort, u.DstPort
	u.Length = be16(h[4:])
	u.Checksum = be16(h[6:])
	if u.Length < 8 {
		d.fail("udp", off, ErrMalformed, "UDP length below 8")
		return true
	}
	stop := off + u.Length
	if stop > end {
		if !frag {
			d.fail("udp", off, ErrMalformed, "UDP length beyond the IP payload")
		}
		stop = end
	}
	declStop := stop
	stop = min(stop, capEnd)
	d.payload(b, off+8, stop)
	if off+8 < declStop && tunnelPorts(u.SrcPort, u.DstPort) {
		d.udpTunnel(b, off+8, stop, declStop, u.DstPort, frag)
		return true
	}
	if off+8 < stop && !d.lean && (isDNSPort(u.SrcPort) || isDNSPort(u.DstPort)) {
		if !d.dns(b[off+8:stop], u.SrcPort == 5353 || u.DstPort == 5353) {
			d.fail("dns", off+8, ErrMalformed, "DNS message shorter than its header or bad question name")
		}
	}
	return true
}

func (d *Decoder) icmp(b []byte, off, capEnd int, frag bool) bool {
	if capEnd < off+4 {
		return d.short("icmp", off, frag)
	}
	p := d.p
	c := &p.ICMP
	c.Present = true
	p.Meta.L4 = off
	c.Type, c.Code = int(b[off]), int(b[off+1])
	if (c.Type == 0 || c.Type == 8) && capEnd >= off+8 {
		c.Ident, c.Seq = be16(b[off+4:]), be16(b[off+6:])
	}
	d.payload(b, off, capEnd)
	return true
}

func (d *Decoder) icmpv6(b []byte, off, capEnd int, frag bool) bool {
	if capEnd < off+4 {
		return d.short("icmpv6", off, frag)
	}
	p := d.p
	p.ICMPv6.Present = true
	p.Meta.L4 = off
	p.ICMPv6.Type, p.ICMPv6.Code = int(b[off]), int(b[off+1])
	d.payload(b, off, capEnd)
	return true
}

func isDNSPort(port int) bool { return port == 53 || port == 5353 || port == 5355 }
