package respond

import (
	"errors"
	"testing"

	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/rules/field"
)

func TestBuildRefuses(t *testing.T) {
	telnet := frameN(t, "sv-telnet.pcap", 4)
	dns4 := frameN(t, "sv-dns-dhcp-sofacy.pcap", 7)
	dns6 := frameN(t, "zeek-ipv6-frag-dns.pcap", 1)
	ownRST, err := Build(fillPacket(telnet), rules.TargetSource, 0)
	if err != nil {
		t.Fatal(err)
	}
	ownICMP, err := Build(fillPacket(dns4), rules.TargetSource, 0)
	if err != nil {
		t.Fatal(err)
	}
	ownICMPv6, err := Build(fillPacket(dns6), rules.TargetSource, 0)
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
		target rules.Target
		want   error
	}{
		{"nil packet", nil, rules.TargetBoth, ErrNoIP},
		{"arp", fillPacket(frameN(t, "sv-arp.pcap", 1)), rules.TargetBoth, ErrNoIP},
		{"mpls", fillPacket(frameN(t, "zeek-vlan-mpls-mixed.pcap", 1)), rules.TargetBoth, ErrLinkLayer},
		{"tcp reset in capture", fillPacket(frameN(t, "sv-http-rst-malware.pcap", 75)), rules.TargetBoth, ErrReset},
		{"own reset mirrored", fillPacket(ownRST[0].Data), rules.TargetBoth, ErrReset},
		{"own icmp unreachable mirrored", fillPacket(ownICMP[0].Data), rules.TargetBoth, ErrICMPError},
		{"own icmpv6 unreachable mirrored", fillPacket(ownICMPv6[0].Data), rules.TargetBoth, ErrICMPError},
		{"ipv4 non-first fragment", fillPacket(frameN(t, "sv-ipv4-frags-icmp.pcap", 2)), rules.TargetBoth, ErrFragment},
		{"ipv4 non-first fragment vlan", fillPacket(frameN(t, "sv-frag-vlan-syn.pcap", 2)), rules.TargetBoth, ErrFragment},
		{"ipv6 non-first fragment", fillPacket(frameN(t, "zeek-ipv6-frag-dns.pcap", 4)), rules.TargetBoth, ErrFragment},
		{"broadcast mac", fillPacket(frameN(t, "sv-dns-vlan-1200.pcap", 1)), rules.TargetBoth, ErrDestination},
		{"dhcp discover", fillPacket(frameN(t, "sv-dns-dhcp-sofacy.pcap", 1)), rules.TargetBoth, ErrDestination},
		{"multicast source mac", fillPacket(frameN(t, "sv-vlan-qinq.pcap", 1)), rules.TargetBoth, ErrSource},
		{"udp toward dest only", fillPacket(dns4), rules.TargetDest, ErrDestOnly},
		{"offsets disagree with the frame", shifted, rules.TargetBoth, ErrLinkLayer},
		{"tcp header cut short", truncated, rules.TargetBoth, ErrMalformed},
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
	frames, err := Build(fillPacket(frameN(t, "sv-telnet.pcap", 4)), rules.TargetDest+1, 0)
	if !errors.Is(err, ErrTarget) || frames != nil {
		t.Errorf("Build with target %d = %d frames, %v; want ErrTarget", rules.TargetDest+1, len(frames), err)
	}
}
