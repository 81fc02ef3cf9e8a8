package respond

import (
	"errors"
	"testing"

	"github.com/vigil-ids/vigil/rules/field"
)

func TestBuildRefuses(t *testing.T) {
	telnet := frameN(t, "sv-telnet.pcap", 4)
	dns4 := frameN(t, "sv-dns-dhcp-sofacy.pcap", 7)
	dns6 := frameN(t, "zeek-ipv6-frag-dns.pcap", 1)
	ownRST, err := Build(fillPacket(telnet), Source, 0)
	if err != nil {
		t.Fatal(err)
	}
	ownICMP, err := Build(fillPacket(dns4), Source, 0)
	if err != nil {
		t.Fatal(err)
	}
	ownICMPv6, err := Build(fillPacket(dns6), Source, 0)
	if err != nil {
		t.Fatal(err)
	}
	shifted := fillPacket(telnet)
	shifted.Meta.L3 += 4
	truncated := fillPacket(telnet[:14+20+10])
	truncated.Meta.L4 = 14 + 20 // the decoder saw a TCP header before the cut
	truncated.Meta.IPProto = 6
	cases := []struct {
		name   string
		p      *field.Packet
		target Target
		want   error
	}{
		{"nil packet", nil, Both, ErrNoIP},
		{"arp", fillPacket(frameN(t, "sv-arp.pcap", 1)), Both, ErrNoIP},
		{"mpls", fillPacket(frameN(t, "zeek-vlan-mpls-mixed.pcap", 1)), Both, ErrLinkLayer},
		{"tcp reset in capture", fillPacket(frameN(t, "sv-http-rst-malware.pcap", 75)), Both, ErrReset},
		{"own reset mirrored", fillPacket(ownRST[0].Data), Both, ErrReset},
		{"own icmp unreachable mirrored", fillPacket(ownICMP[0].Data), Both, ErrICMPError},
		{"own icmpv6 unreachable mirrored", fillPacket(ownICMPv6[0].Data), Both, ErrICMPError},
		{"ipv4 non-first fragment", fillPacket(frameN(t, "sv-ipv4-frags-icmp.pcap", 2)), Both, ErrFragment},
		{"ipv4 non-first fragment vlan", fillPacket(frameN(t, "sv-frag-vlan-syn.pcap", 2)), Both, ErrFragment},
		{"ipv6 non-first fragment", fillPacket(frameN(t, "zeek-ipv6-frag-dns.pcap", 4)), Both, ErrFragment},
		{"broadcast mac", fillPacket(frameN(t, "sv-dns-vlan-1200.pcap", 1)), Both, ErrDestination},
		{"dhcp discover", fillPacket(frameN(t, "sv-dns-dhcp-sofacy.pcap", 1)), Both, ErrDestination},
		{"multicast source mac", fillPacket(frameN(t, "sv-vlan-qinq.pcap", 1)), Both, ErrSource},
		{"udp toward dest only", fillPacket(dns4), Dest, ErrDestOnly},
		{"offsets disagree with the frame", shifted, Both, ErrLinkLayer},
		{"tcp header cut short", truncated, Both, ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			frames, err := Build(tc.p, tc.target, 2)
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrNotAnswerable) {
				t.Fatalf("Build = %d frames, %v; want %v", len(frames), err, tc.want)
			}
			if frames != nil {
				t.Errorf("frames returned with an error")
			}
		})
	}
}

func TestBuildBadTarget(t *testing.T) {
	frames, err := Build(fillPacket(frameN(t, "sv-telnet.pcap", 4)), Dest+1, 0)
	if !errors.Is(err, ErrTarget) || frames != nil {
		t.Errorf("Build with target %d = %d frames, %v; want ErrTarget", Dest+1, len(frames), err)
	}
}

func TestParseTarget(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Target
		err  bool
	}{
		{"both", Both, false}, {"", Both, false}, {"source", Source, false}, {"dest", Dest, false},
		{"src", Both, true}, {"BOTH", Both, true},
	} {
		got, err := ParseTarget(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseTarget(%q) = %v, %v", tc.in, got, err)
		}
		if err != nil && !errors.Is(err, ErrTarget) {
			t.Errorf("ParseTarget(%q) error %v is not ErrTarget", tc.in, err)
		}
		if err == nil && tc.in != "" && got.String() != tc.in {
			t.Errorf("%v.String() = %q", got, got.String())
		}
	}
}
