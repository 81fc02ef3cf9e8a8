package respond

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/rules/field"
)

// FuzzBuild feeds arbitrary frames to Build, once with a Packet filled as
// the decoder would and once with arbitrary offsets. Build must never
// panic; what it builds must be well formed, recognised by a Guard, and
// refused when fed back to Build.
func FuzzBuild(f *testing.F) {
	seeds := [][]byte{
		frameN(f, "sv-telnet.pcap", 1),
		frameN(f, "sv-telnet.pcap", 4),
		frameN(f, "sv-http-ipv6.pcap", 5),
		frameN(f, "zeek-vlan-mpls-mixed.pcap", 37),
		frameN(f, "zeek-vlan-mpls-mixed.pcap", 1),
		frameN(f, "sv-dns-dhcp-sofacy.pcap", 7),
		frameN(f, "zeek-ipv6-frag-dns.pcap", 6),
		frameN(f, "sv-ipv4-frags-icmp.pcap", 1),
		withTags(frameN(f, "sv-telnet.pcap", 4), 0x88a8, 1, 0x8100, 2),
	}
	for i, s := range seeds {
		p := fillPacket(s)
		f.Add(s, p.Meta.L3, p.Meta.L4, p.Meta.IPProto, p.Meta.Fragment, uint8(i%3), i%4)
	}
	f.Add([]byte{}, 14, 34, 6, false, uint8(0), 0)
	f.Add(make([]byte, 13), -1, -1, -1, false, uint8(1), 1)
	f.Fuzz(func(t *testing.T, data []byte, l3, l4, proto int, frag bool, target uint8, strafe int) {
		tg := rules.Target(target % 3)
		check(t, fillPacket(data), tg, strafe)
		p := &field.Packet{}
		p.Reset()
		p.Eth.Present, p.IP.Present, p.IPv6.Present = true, true, true
		p.Meta = field.Meta{Raw: data, L3: l3, L4: l4, IPProto: proto, Fragment: frag}
		check(t, p, tg, strafe)
	})
}

func check(t *testing.T, p *field.Packet, tg rules.Target, strafe int) {
	frames, err := Build(p, tg, strafe)
	if err != nil {
		if frames != nil {
			t.Fatal("frames with an error")
		}
		if !errors.Is(err, ErrNotAnswerable) {
			t.Fatalf("error %v is not ErrNotAnswerable", err)
		}
		return
	}
	if len(frames) == 0 || len(frames) > 2*(1+rules.MaxStrafe) {
		t.Fatalf("%d frames", len(frames))
	}
	now := time.Unix(1700000000, 0)
	var g Guard
	g.Remember(frames, now)
	for _, fr := range frames {
		dg, ok := datagram(fr.Data)
		if !ok || len(fr.Data) < MinFrame {
			t.Fatalf("built frame is not an IP datagram in ethernet: %x", fr.Data)
		}
		if dg[0]>>4 == 4 && fold(sum(0, dg[:20])) != 0 {
			t.Fatalf("bad ipv4 header checksum: %x", dg[:20])
		}
		if dg[0]>>4 == 6 && len(dg) > 1280 {
			t.Fatalf("icmpv6 error of %d bytes", len(dg))
		}
		if dg[0]>>4 == 4 && binary.BigEndian.Uint16(dg[2:]) > 576 {
			t.Fatalf("icmp error of %d bytes", len(dg))
		}
		if !g.IsOwn(fr.Data, now) {
			t.Fatal("guard does not recognise a built frame")
		}
		again, err := Build(fillPacket(fr.Data), rules.TargetBoth, 0)
		if !errors.Is(err, ErrReset) && !errors.Is(err, ErrICMPError) {
			t.Fatalf("a built %s frame is answerable again: %d frames, %v", fr.Kind, len(again), err)
		}
	}
}
