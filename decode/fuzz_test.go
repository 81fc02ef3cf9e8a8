package decode

import (
	"testing"

	"github.com/vigil-ids/vigil/rules/field"
)

// FuzzDecode decodes arbitrary bytes as every link type: no panic, the
// invariants of checkInvariants hold, and a decode with DeferText agrees
// (sameDeferred).
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
	for _, frames := range tunnelFrames(f) { // every encapsulation
		for _, fr := range frames {
			f.Add(fr.data)
		}
	}
	f.Add(clientHello)
	f.Add(dnsQuery)
	d, lazy := New(), New()
	lazy.DeferText = true
	var p, pl field.Packet
	f.Fuzz(func(t *testing.T, frame []byte) {
		for _, link := range []Link{Ethernet, WiFi, RawIP, TokenRing} {
			p.Reset()
			_ = d.Decode(&p, link, frame)
			checkInvariants(t, &p, frame)
			sameDeferred(t, d, lazy, &pl, link, frame)
		}
		// The frame behind an Ethernet header, behind an 802.11 QoS data
		// header with LLC/SNAP (IPv4), and inside GRE, VXLAN and an MPLS
		// pseudowire, reaches deeper layers.
		for _, h := range []struct {
			link Link
			hdr  []byte
		}{
			{Ethernet, hx("66 77 88 99 aa bb 00 11 22 33 44 55 08 00")},
			{WiFi, hx("88 01 00 00 02 00 00 00 00 01 02 00 00 00 00 02 02 00 00 00 00 03 10 00 00 00 aa aa 03 00 00 00 08 00")},
			{Ethernet, cat(ethHdr(0x0800), hx("45 00 00 00 00 00 00 00 40 2f 00 00 0a 00 00 01 0a 00 00 02"), hx("00 00 08 00"))},
			{Ethernet, cat(ethHdr(0x0800), hx("45 00 00 00 00 00 00 00 40 11 00 00 0a 00 00 01 0a 00 00 02"),
				hx("c0 00 12 b5 ff ff 00 00 08 00 00 00 00 00 2a 00"))},
			{Ethernet, cat(ethHdr(0x8847), hx("00 01 01 40 00 00 00 00"))},
		} {
			g := cat(h.hdr, frame)
			p.Reset()
			_ = d.Decode(&p, h.link, g)
			checkInvariants(t, &p, g)
		}
	})
}
