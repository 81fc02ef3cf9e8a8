package decode

import (
	"testing"

	"github.com/vigil-ids/vigil/rules/field"
)

// FuzzDecode decodes arbitrary bytes as every link type: no panic, and the
// invariants of checkInvariants hold.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{
		"sv-http-testmyids.ncf", "sv-dns-vlan-1200.ncf", "sv-tls-cert.ncf", "sv-http-ipv6.ncf",
		"zeek-ipv6-frag-dns.ncf", "zeek-vlan-mpls-mixed.ncf", "zeek-ftp-bruteforce.ncf", "sv-vlan-qinq.ncf",
		"sv-arp.ncf", "sv-frag-vlan-syn.ncf", "sv-icmp-ssh.ncf",
	} {
		frames := readNCF(f, name)
		for _, i := range []int{0, len(frames) / 2} {
			f.Add(frames[i].data)
		}
	}
	f.Add(clientHello)
	f.Add(dnsQuery)
	d := New()
	var p field.Packet
	f.Fuzz(func(t *testing.T, frame []byte) {
		for _, link := range []Link{Ethernet, WiFi, RawIP} {
			p.Reset()
			_ = d.Decode(&p, link, frame)
			checkInvariants(t, &p, frame)
		}
		// The frame behind an Ethernet header, and behind an 802.11 QoS
		// data header with LLC/SNAP (IPv4), reaches deeper layers.
		for _, hdr := range [][]byte{
			hx("66 77 88 99 aa bb 00 11 22 33 44 55 08 00"),
			hx("88 01 00 00 02 00 00 00 00 01 02 00 00 00 00 02 02 00 00 00 00 03 10 00 00 00 aa aa 03 00 00 00 08 00"),
		} {
			link := Ethernet
			if len(hdr) > 14 {
				link = WiFi
			}
			g := cat(hdr, frame)
			p.Reset()
			_ = d.Decode(&p, link, g)
			checkInvariants(t, &p, g)
		}
	})
}
