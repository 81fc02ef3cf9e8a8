package decode

import "github.com/vigil-ids/vigil/rules/field"

// DecodeFragment decodes frame, which carries an IPv4 or IPv6 fragment
// that the caller reassembles (decode/defrag), into p.
//
// The link and IP headers, the fragment fields included, are the frame's
// own, as Decode gives them. What follows them depends on payload:
//   - nil: the fragment completes no datagram. It gets no transport layer,
//     even when it is the first; payload is its fragment data.
//   - otherwise payload is the reassembled IP payload of the datagram the
//     fragment completes (for IPv6, from the header the fragment header's
//     Next Header names) and proto its protocol. Transport and application
//     layers are decoded from it: for IPv6, extension headers before the
//     transport header first. Strings of those layers alias payload.
//
// Only the first IPv4 header with More Fragments or an offset, or IPv6
// fragment header with either, takes this treatment; a frame without one
// is decoded as Decode does. When one is met, Meta.Fragment is set, and
// with a payload Meta.L4 and Meta.PayloadOff, offsets in the frame, are
// -1: the transport header is not in the frame. Errors are Decode's; with
// a payload, an error's Offset past the IP header is an offset in payload.
func (d *Decoder) DecodeFragment(p *field.Packet, link Link, frame []byte, proto int, payload []byte) error {
	d.lean = false
	return d.decodeFragment(p, link, frame, proto, payload)
}

// DecodeFragmentHeaders decodes like DecodeFragment, but only the layer
// headers, as DecodeHeaders does.
func (d *Decoder) DecodeFragmentHeaders(p *field.Packet, link Link, frame []byte, proto int, payload []byte) error {
	d.lean = true
	return d.decodeFragment(p, link, frame, proto, payload)
}

func (d *Decoder) decodeFragment(p *field.Packet, link Link, frame []byte, proto int, payload []byte) error {
	d.frag, d.dgram, d.dgramProto = true, payload, proto
	err := d.decode(p, link, frame)
	if !d.frag { // a fragment's header was met
		p.Meta.Fragment = true
		if payload != nil {
			p.Meta.L4, p.Meta.PayloadOff = -1, -1
		}
	}
	d.frag, d.dgram = false, nil
	return err
}

// fragment4 decodes what follows the header of an IPv4 fragment decoded
// by DecodeFragment: b[start:end] is the fragment's data. Only the first
// fragment header met is the caller's.
func (d *Decoder) fragment4(b []byte, start, end int) {
	d.frag = false
	if d.dgram == nil {
		d.transport(b, start, end, 0, true, false)
		return
	}
	d.p.Meta.IPProto = d.dgramProto
	d.p.Proto = protoNames[d.dgramProto&0xff]
	d.transport(d.dgram, 0, len(d.dgram), d.dgramProto, false, false)
}

// Fragmented reports whether p, as Decode or DecodeHeaders filled it,
// holds an IPv4 or IPv6 fragment: More Fragments set or a non-zero offset
// (an IPv6 atomic fragment, offset 0 without More, stands alone).
func Fragmented(p *field.Packet) bool {
	return p.IP.Flags.MF || p.IP.FragOffset|p.IPv6.Fragment.Offset != 0 || p.IPv6.Fragment.More
}
