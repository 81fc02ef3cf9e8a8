package decode

import (
	"testing"

	"github.com/vigil-ids/vigil/rules/field"
)

// Frames of TestDecodeFragment: an IPv4 first fragment holding a whole
// TCP SYN header to port 23, and the last fragment of an IPv6 datagram
// (offset 8, a Hop-by-Hop header before the fragment header).
var (
	synHdr   = hx("9c 47 00 17 00 00 1b 58 00 00 00 00 50 02 fa f0 00 00 00 00")
	firstTCP = cat(ethHdr(0x0800), hx("45 00 00 28 11 11 20 00 40 06 00 00 c0 00 02 01 c6 33 64 14"), synHdr)
	lastUDP6 = cat(ethHdr(0x86dd), hx("60 00 00 00 00 14 00 40"),
		hx("20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02"),
		hx("2c 00 01 04 00 00 00 00"), hx("11 00 00 08 00 00 12 34"), []byte("MORE"))
)

func TestDecodeFragment(t *testing.T) {
	d := New()
	var p field.Packet

	// A fragment that completes nothing has no transport layer, even the first.
	if err := d.DecodeFragment(&p, Ethernet, firstTCP, 0, nil); err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, &p, firstTCP)
	if p.TCP.Present || !p.Meta.Fragment || !p.IP.Flags.MF || p.Payload != string(synHdr) {
		t.Errorf("held first fragment: tcp %v, fragment %v, mf %v, payload %q", p.TCP.Present, p.Meta.Fragment, p.IP.Flags.MF, p.Payload)
	}

	// The same frame completing a datagram carries the datagram's TCP.
	dgram := cat(synHdr, []byte("hello"))
	dgram[12] = 0x50
	if err := d.DecodeFragment(&p, Ethernet, firstTCP, 6, dgram); err != nil {
		t.Fatal(err)
	}
	if !p.TCP.Present || p.TCP.DstPort != 23 || !p.TCP.Flags.SYN || p.Payload != "hello" || p.TCP.Len != 5 {
		t.Errorf("reassembled: tcp %v port %d syn %v payload %q len %d", p.TCP.Present, p.TCP.DstPort, p.TCP.Flags.SYN, p.Payload, p.TCP.Len)
	}
	if !p.Meta.Fragment || p.Meta.L4 != -1 || p.Meta.PayloadOff != -1 || p.IP.Len != 40 || !p.IP.Flags.MF {
		t.Errorf("reassembled: meta %+v, ip.len %d, mf %v: want the frame's own IP header and no offsets in it", p.Meta, p.IP.Len, p.IP.Flags.MF)
	}

	// IPv6: a destination options header starts the datagram, then UDP.
	dgram6 := cat(hx("11 00 01 04 00 00 00 00"), hx("9c 48 02 02 00 10 00 00"), []byte("EVIL"), []byte("MORE"))
	if err := d.DecodeFragment(&p, Ethernet, lastUDP6, 60, dgram6); err != nil {
		t.Fatal(err)
	}
	if !p.UDP.Present || p.UDP.DstPort != 514 || p.Payload != "EVILMORE" || p.Meta.IPProto != 17 || p.IPv6.FragHdr.Offset != 1 || p.IPv6.FragHdr.Ident != 0x1234 {
		t.Errorf("ipv6 reassembled: udp %v port %d payload %q proto %d fraghdr %+v", p.UDP.Present, p.UDP.DstPort, p.Payload, p.Meta.IPProto, p.IPv6.FragHdr)
	}

	// DecodeHeaders sees the same ports.
	if err := d.DecodeFragmentHeaders(&p, Ethernet, lastUDP6, 60, dgram6); err != nil || p.DestPort != 514 || p.SrcPort != 40008 {
		t.Errorf("headers: ports %d > %d, err %v", p.SrcPort, p.DestPort, err)
	}

	// A frame that holds no fragment is decoded as Decode does.
	whole := cat(firstTCP[:20], []byte{0, 0}, firstTCP[22:])
	if err := d.DecodeFragment(&p, Ethernet, whole, 6, dgram); err != nil || !p.TCP.Present || p.Meta.Fragment || p.Payload != "" || p.Meta.L4 != 34 {
		t.Errorf("no fragment: tcp %v fragment %v payload %q l4 %d err %v", p.TCP.Present, p.Meta.Fragment, p.Payload, p.Meta.L4, err)
	}

	// Decode afterwards decodes the first fragment's TCP as before.
	if err := d.Decode(&p, Ethernet, firstTCP); err != nil || !p.TCP.Present || p.Meta.Fragment {
		t.Errorf("Decode after DecodeFragment: tcp %v fragment %v err %v", p.TCP.Present, p.Meta.Fragment, err)
	}

	if n := testing.AllocsPerRun(100, func() {
		d.DecodeFragment(&p, Ethernet, firstTCP, 6, dgram)
		d.DecodeFragment(&p, Ethernet, lastUDP6, 60, dgram6)
	}); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

// FuzzDecodeFragment decodes arbitrary frames with arbitrary reassembled
// payloads: no panic; a fragment completing nothing keeps the invariants
// of checkInvariants.
func FuzzDecodeFragment(f *testing.F) {
	f.Add(firstTCP, synHdr, uint8(6))
	f.Add(lastUDP6, []byte{17, 0, 1, 4, 0, 0, 0, 0, 1, 2, 3, 4, 0, 12, 0, 0, 'x'}, uint8(60))
	d := New()
	var p field.Packet
	f.Fuzz(func(t *testing.T, frame, payload []byte, proto uint8) {
		_ = d.DecodeFragment(&p, Ethernet, frame, int(proto), payload)
		_ = d.DecodeFragment(&p, Ethernet, frame, int(proto), nil)
		checkInvariants(t, &p, frame)
	})
}
