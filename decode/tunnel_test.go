package decode

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-ids/vigil/rules/field"
)

// tunnelDir holds one capture per encapsulation (testdata/tunnels/gen.py).
const tunnelDir = "../testdata/tunnels"

// readPcap reads every frame of a pcap file whose link type the decoder
// takes as is (Ethernet, Token Ring, 802.11 without radiotap); nil for
// other link types.
func readPcap(tb testing.TB, path string) []capFrame {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if len(b) < 24 || binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 {
		tb.Fatalf("%s: not a little-endian pcap file", path)
	}
	var link Link
	switch binary.LittleEndian.Uint32(b[20:]) {
	case 1:
		link = Ethernet
	case 6:
		link = TokenRing
	case 105:
		link = WiFi
	default:
		return nil
	}
	var out []capFrame
	for b = b[24:]; len(b) > 0; {
		if len(b) < 16 {
			tb.Fatalf("%s: a record header cut short", path)
		}
		n := int(binary.LittleEndian.Uint32(b[8:]))
		if len(b) < 16+n {
			tb.Fatalf("%s: a record cut short", path)
		}
		out = append(out, capFrame{link: link, data: b[16 : 16+n]})
		b = b[16+n:]
	}
	return out
}

// tunnelFrames returns the frames of every tunnel capture the decoder
// reads as is, by capture name.
func tunnelFrames(tb testing.TB) map[string][]capFrame {
	tb.Helper()
	names, err := filepath.Glob(filepath.Join(tunnelDir, "*.pcap"))
	if err != nil || len(names) == 0 {
		tb.Fatalf("no captures in %s: %v", tunnelDir, err)
	}
	out := map[string][]capFrame{}
	for _, n := range names {
		if f := readPcap(tb, n); f != nil {
			out[filepath.Base(n)] = f
		}
	}
	return out
}

// TestTunnels decodes a frame of each encapsulation and checks the inner
// packet's fields, the tunnel's and the headers crossed.
func TestTunnels(t *testing.T) {
	frames := tunnelFrames(t)
	inner4 := func(t *testing.T, p *field.Packet, dport int) {
		t.Helper()
		eq(t, "ip.src", p.IP.Src, "192.0.2.10")
		eq(t, "ip.dst", p.IP.Dst, "198.51.100.20")
		eq(t, "src_ip", p.SrcIP, "192.0.2.10")
		eq(t, "ipv6", p.IPv6.Present, false)
		eq(t, "dest_port", p.DestPort, dport)
	}
	outer := func(t *testing.T, p *field.Packet, src, dst, proto string, sport, dport int) {
		t.Helper()
		eq(t, "tunnel", p.Tunnel, field.Tunnel{Present: true, SrcIP: src, DestIP: dst, SrcPort: sport, DestPort: dport, Proto: proto, Depth: 1})
	}
	tests := []struct {
		capture string
		frame   int // 1-based
		check   func(t *testing.T, p *field.Packet)
	}{
		{"gre.pcap", 1, func(t *testing.T, p *field.Packet) {
			inner4(t, p, 23)
			outer(t, p, "203.0.113.1", "203.0.113.2", "GRE", 0, 0)
			eq(t, "gre", p.GRE, field.GRE{Present: true, Proto: 0x0800, Protos: ints(0x0800)})
			eq(t, "meta", [3]int{p.Meta.L3, p.Meta.L4, p.Meta.IPProto}, [3]int{14 + 20 + 4, 14 + 20 + 4 + 20, 6})
			eq(t, "eth.type", p.Eth.Type, 0x0800)
		}},
		{"gre.pcap", 2, func(t *testing.T, p *field.Packet) {
			outer(t, p, "2001:db8:1::1", "2001:db8:1::2", "GRE", 0, 0)
			eq(t, "gre", p.GRE, field.GRE{Present: true, Proto: 0x86dd, Key: 7, Protos: ints(0x86dd), Keys: ints(7)})
			eq(t, "ipv6.src", p.IPv6.Src, "2001:db8::10")
			eq(t, "ip", p.IP.Present, false)
			eq(t, "tcp.dstport", p.TCP.DstPort, 23)
		}},
		{"gre.pcap", 3, func(t *testing.T, p *field.Packet) {
			eq(t, "eth", p.Eth, field.Eth{Present: true, Src: "02:00:00:00:01:01", Dst: "02:00:00:00:01:02", Type: 0x0800})
			eq(t, "gre.proto", p.GRE.Proto, 0x6558)
			eq(t, "dns.qry.name", p.DNS.Qry.Name, "www.example.com")
			eq(t, "tunnel.src_ip", p.Tunnel.SrcIP, "203.0.113.1")
		}},
		{"gre.pcap", 4, func(t *testing.T, p *field.Packet) {
			eq(t, "icmp", p.ICMP, field.ICMP{Present: true, Type: 8, Ident: 1, Seq: 1})
			eq(t, "tunnel.depth", p.Tunnel.Depth, 1)
		}},
		{"erspan.pcap", 1, func(t *testing.T, p *field.Packet) {
			inner4(t, p, 80)
			eq(t, "erspan", p.ERSPAN, field.ERSPAN{Present: true})
			eq(t, "eth.src", p.Eth.Src, "02:00:00:00:01:01")
		}},
		{"erspan.pcap", 2, func(t *testing.T, p *field.Packet) {
			inner4(t, p, 80)
			eq(t, "erspan", p.ERSPAN, field.ERSPAN{Present: true, Version: 1, SpanID: 5, Versions: ints(1), SpanIDs: ints(5)})
		}},
		{"erspan.pcap", 3, func(t *testing.T, p *field.Packet) {
			inner4(t, p, 80)
			eq(t, "erspan", p.ERSPAN, field.ERSPAN{Present: true, Version: 2, SpanID: 6, Versions: ints(2), SpanIDs: ints(6)})
			eq(t, "gre.proto", p.GRE.Proto, 0x22eb)
		}},
		{"vxlan.pcap", 1, func(t *testing.T, p *field.Packet) {
			inner4(t, p, 80)
			outer(t, p, "203.0.113.1", "203.0.113.2", "UDP", 51000, 4789)
			eq(t, "vxlan", p.VXLAN, field.VXLAN{Present: true, VNI: 42, VNIs: ints(42)})
			eq(t, "udp", p.UDP.Present, false)
			eq(t, "http.request.uri", p.HTTP.Request.URI, "/etc/passwd")
		}},
		{"vxlan.pcap", 2, func(t *testing.T, p *field.Packet) {
			eq(t, "arp.src.proto_ipv4", p.ARP.Src.ProtoIPv4, "192.0.2.10")
			eq(t, "ip", p.IP.Present, false)
			eq(t, "vlan", p.VLAN, field.VLAN{Present: true, ID: 300, Count: 1, IDs: ints(300), Priorities: ints(0)})
			eq(t, "eth.dst", p.Eth.Dst, "ff:ff:ff:ff:ff:ff")
			eq(t, "eth.type", p.Eth.Type, 0x0806)
			outer(t, p, "203.0.113.1", "203.0.113.2", "UDP", 51001, 4789)
			eq(t, "src_ip", p.SrcIP, "")
		}},
		{"geneve.pcap", 1, func(t *testing.T, p *field.Packet) {
			inner4(t, p, 443)
			eq(t, "geneve", p.Geneve, field.Geneve{Present: true, VNI: 77, VNIs: ints(77)})
		}},
		{"geneve.pcap", 2, func(t *testing.T, p *field.Packet) {
			eq(t, "geneve.vni", p.Geneve.VNI, 78)
			eq(t, "dns.id", p.DNS.ID, 0x4242)
			eq(t, "eth.src", p.Eth.Src, "02:00:00:00:00:01")
		}},
		{"mpls.pcap", 1, func(t *testing.T, p *field.Packet) {
			inner4(t, p, 23)
			eq(t, "mpls", p.MPLS, field.MPLS{Present: true, Label: 100, TTL: 64, Labels: ints(100, 200), Exps: ints(0, 0), TTLs: ints(64, 63)})
			eq(t, "tunnel", p.Tunnel.Present, false)
			eq(t, "pweth", p.PWEth.Present, false)
		}},
		{"mpls.pcap", 3, func(t *testing.T, p *field.Packet) {
			inner4(t, p, 23)
			eq(t, "pweth", p.PWEth, field.PWEth{Present: true, CW: field.PWEthCW{Present: true}})
			eq(t, "eth.src", p.Eth.Src, "02:00:00:00:01:01")
		}},
		{"mpls.pcap", 4, func(t *testing.T, p *field.Packet) {
			inner4(t, p, 23)
			eq(t, "pweth", p.PWEth, field.PWEth{Present: true})
			eq(t, "eth.dst", p.Eth.Dst, "00:00:5e:00:53:01")
		}},
		{"ipip.pcap", 1, func(t *testing.T, p *field.Packet) {
			inner4(t, p, 25)
			outer(t, p, "203.0.113.1", "203.0.113.2", "IP-in-IP", 0, 0)
		}},
		{"ipip.pcap", 2, func(t *testing.T, p *field.Packet) {
			outer(t, p, "203.0.113.1", "203.0.113.2", "IPv6", 0, 0)
			eq(t, "ip", p.IP.Present, false)
			eq(t, "ipv6.dst", p.IPv6.Dst, "2001:db8::20")
		}},
		{"ipip.pcap", 3, func(t *testing.T, p *field.Packet) {
			inner4(t, p, 25)
			outer(t, p, "2001:db8:1::1", "2001:db8:1::2", "IP-in-IP", 0, 0)
		}},
		{"teredo.pcap", 1, func(t *testing.T, p *field.Packet) {
			eq(t, "teredo", p.Teredo.Present, true)
			eq(t, "ipv6.src", p.IPv6.Src, "2001:0:cb00:7101::1")
			eq(t, "tcp.dstport", p.TCP.DstPort, 80)
			outer(t, p, "203.0.113.1", "203.0.113.2", "UDP", 3544, 40000)
		}},
		{"teredo.pcap", 2, func(t *testing.T, p *field.Packet) {
			eq(t, "ipv6.nxt", p.IPv6.Nxt, 59)
			eq(t, "payload", p.Payload, "")
		}},
		{"pptp.pcap", 1, func(t *testing.T, p *field.Packet) {
			eq(t, "ppp", p.PPP, field.PPP{Present: true, Protocol: 0x21, Protocols: ints(0x21)})
			eq(t, "gre.key", p.GRE.Key, 32<<16|0x1d)
			eq(t, "icmp.type", p.ICMP.Type, 8)
		}},
		{"pptp.pcap", 2, func(t *testing.T, p *field.Packet) {
			eq(t, "gre.proto", p.GRE.Proto, 0x880b)
			eq(t, "ppp", p.PPP.Present, false)
			eq(t, "ip.dst", p.IP.Dst, "203.0.113.2")
		}},
		{"pppoe.pcap", 1, func(t *testing.T, p *field.Packet) {
			inner4(t, p, 22)
			eq(t, "pppoes", p.PPPoES.Present, true)
			eq(t, "pppoe", p.PPPoE, field.PPPoE{SessionID: 0x1234, SessionIDs: ints(0x1234)})
			eq(t, "ppp.protocol", p.PPP.Protocol, 0x21)
			eq(t, "eth.type", p.Eth.Type, 0x8864)
		}},
		{"pppoe.pcap", 3, func(t *testing.T, p *field.Packet) {
			eq(t, "ppp.protocol", p.PPP.Protocol, 0xc021)
			eq(t, "l3", p.Meta.L3, -1)
		}},
		{"tokenring.pcap", 1, func(t *testing.T, p *field.Packet) {
			inner4(t, p, 23)
			eq(t, "tr", p.TR, field.TR{Present: true, Src: "10:00:5a:1b:2c:3d", Dst: "10:00:5a:3c:4d:5e"})
			eq(t, "eth", p.Eth.Present, false)
		}},
		{"tokenring.pcap", 2, func(t *testing.T, p *field.Packet) {
			eq(t, "tr", p.TR, field.TR{Present: true, Src: "10:00:5a:1b:2c:3d", Dst: "10:00:5a:3c:4d:5e", SR: true})
			eq(t, "dns.qry.name", p.DNS.Qry.Name, "www.example.com")
		}},
		{"tokenring.pcap", 3, func(t *testing.T, p *field.Packet) {
			eq(t, "tr.src", p.TR.Src, "10:00:5a:1b:2c:3d")
			eq(t, "l3", p.Meta.L3, -1)
		}},
	}
	d := New()
	var p field.Packet
	for _, tt := range tests {
		f := frames[tt.capture][tt.frame-1]
		p.Reset()
		if err := d.Decode(&p, f.link, f.data); err != nil {
			t.Errorf("%s frame %d: %v", tt.capture, tt.frame, err)
			continue
		}
		checkInvariants(t, &p, f.data)
		t.Run(strings.TrimSuffix(tt.capture, ".pcap")+"-"+itoa(tt.frame), func(t *testing.T) { tt.check(t, &p) })
	}
}

// TestTunnelCounts checks the counts of encapsulations crossed and of
// those that could not be.
func TestTunnelCounts(t *testing.T) {
	d := New()
	var p field.Packet
	_ = d.TakeCounts()
	f := tunnelFrames(t)["erspan.pcap"][2]
	if err := d.Decode(&p, f.link, f.data); err != nil {
		t.Fatal(err)
	}
	c := d.TakeCounts()
	eq(t, "gre", c[EncapGRE], EncapCount{Decoded: 1})
	eq(t, "erspan", c[EncapERSPAN], EncapCount{Decoded: 1})
	eq(t, "after take", d.TakeCounts(), Counts{})
	_ = d.Decode(&p, Ethernet, cat(ethHdr(0x0800), ipv4Hdr(47, 8, 0, nil), hx("00 02 08 00 00 00 00 00")))
	eq(t, "gre version 2", d.TakeCounts()[EncapGRE], EncapCount{Unsupported: 1})
	for e := range NumEncaps {
		if e.String() == "" || strings.HasPrefix(e.String(), "encap(") {
			t.Errorf("encapsulation %d has no name", e)
		}
	}
	eq(t, "unknown", NumEncaps.String(), "encap(11)")
}

// gre4 is an IPv4 packet 10.0.0.1 -> 192.168.1.2 carrying the GRE packet g.
func gre4(g []byte) []byte { return cat(ethHdr(0x0800), ipv4Hdr(47, len(g), 0, nil), g) }

// udp4 is an IPv4 packet carrying a UDP datagram with payload pl.
func udp4(sport, dport int, pl []byte) []byte {
	return cat(ethHdr(0x0800), ipv4Hdr(17, 8+len(pl), 0, nil), udpHdr(sport, dport, len(pl)), pl)
}

// TestHostileTunnels decodes malformed and unsupported encapsulations: each
// gives its error, counted under its encapsulation, and leaves the outer
// packet as the one inspected.
func TestHostileTunnels(t *testing.T) {
	inner := cat(ipv4Hdr(6, 20, 0, nil), tcpHdr(1, 23, 2, nil))
	ipipChain := func(n int) []byte { // n IPv4 headers, each inside the previous, then TCP
		pkt := inner
		for range n {
			pkt = cat(ipv4Hdr(4, len(pkt), 0, nil), pkt)
		}
		return cat(ethHdr(0x0800), pkt)
	}
	tests := []struct {
		name  string
		link  Link
		frame []byte
		err   error
		layer string
		outer bool // the outer packet stays the inspected one
	}{
		{"gre version 2", Ethernet, gre4(cat(hx("00 02 08 00"), inner)), ErrUnsupported, "gre", true},
		{"gre unknown protocol", Ethernet, gre4(cat(hx("00 00 12 34"), inner)), ErrUnsupported, "gre", true},
		{"gre key cut short", Ethernet, gre4(hx("20 00 08 00 00 00")), ErrTruncated, "gre", true},
		{"gre routing without end", Ethernet, gre4(cat(hx("40 00 08 00 00 00 00 00"), hx("00 01 00 04 01 02 03 04"))), ErrTruncated, "gre", true},
		{"erspan II with version 2", Ethernet, gre4(cat(hx("10 00 88 be 00 00 00 01"), hx("20 0a 00 05 00 00 00 00"), ethHdr(0x0800), inner)), ErrMalformed, "erspan", true},
		{"erspan III frame type 5", Ethernet, gre4(cat(hx("10 00 22 eb 00 00 00 01"), hx("20 00 00 06 00 00 00 00 00 00 14 00"), inner)), ErrUnsupported, "erspan", true},
		{"vxlan without I flag", Ethernet, udp4(1, 4789, cat(hx("00 00 00 00 00 00 2a 00"), ethHdr(0x0800), inner)), ErrMalformed, "vxlan", true},
		{"vxlan cut short", Ethernet, udp4(1, 4789, hx("08 00 00 00")), ErrTruncated, "vxlan", true},
		{"geneve version 1", Ethernet, udp4(1, 6081, cat(hx("40 00 08 00 00 00 4d 00"), inner)), ErrUnsupported, "geneve", true},
		{"geneve options past the end", Ethernet, udp4(1, 6081, hx("3f 00 08 00 00 00 4d 00 01 02")), ErrTruncated, "geneve", true},
		{"teredo not ipv6", Ethernet, udp4(3544, 1, make([]byte, 48)), ErrMalformed, "teredo", true},
		{"teredo length mismatch", Ethernet, udp4(3544, 1, cat(ipv6Hdr(59, 8), make([]byte, 4))), ErrMalformed, "teredo", true},
		{"ppp ipx", Ethernet, cat(ethHdr(0x8864), hx("11 00 00 01 00 06 00 2b"), make([]byte, 4)), ErrUnsupported, "pppoes", false},
		{"pppoe cut short", Ethernet, cat(ethHdr(0x8864), hx("11 00 00")), ErrTruncated, "pppoes", false},
		{"mpls payload nibble 5", Ethernet, cat(ethHdr(0x8847), hx("00 01 01 40"), hx("50 00 00 00")), ErrUnsupported, "mpls", false},
		{"ipip nested 9 deep", Ethernet, ipipChain(9), ErrMalformed, "ipip", false},
		{"token ring routing field of 1 byte", TokenRing, cat(hx("10 40"), hx("10 00 5a 3c 4d 5e 90 00 5a 1b 2c 3d"), hx("01 00")), ErrMalformed, "tr", false},
		{"token ring routing field cut short", TokenRing, cat(hx("10 40"), hx("10 00 5a 3c 4d 5e 90 00 5a 1b 2c 3d"), hx("08 00")), ErrTruncated, "tr", false},
		{"vlan tags across a vxlan frame", Ethernet, udp4(1, 4789, cat(hx("08 00 00 00 00 00 2a 00"), ethHdr(0x8100),
			[]byte(strings.Repeat("\x00\x01\x81\x00", 8)), hx("00 01 08 00"), inner)), ErrMalformed, "vlan", false},
	}
	d := New()
	var p field.Packet
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p.Reset()
			_ = d.TakeCounts()
			err := d.Decode(&p, tt.link, tt.frame)
			checkInvariants(t, &p, tt.frame)
			var de *Error
			if !errors.Is(err, tt.err) || !errors.As(err, &de) || de.Layer != tt.layer || de.Reason == "" {
				t.Fatalf("error %v, want %v in layer %s", err, tt.err, tt.layer)
			}
			for e, c := range d.TakeCounts() {
				bad := c.Truncated + c.Malformed + c.Unsupported
				if want := Encap(e).String() == tt.layer; want != (bad == 1) {
					t.Errorf("%s counted %+v", Encap(e), c)
				}
			}
			if tt.outer {
				eq(t, "outer ip.dst", p.IP.Dst, "192.168.1.2")
				eq(t, "tunnel", p.Tunnel.Present, false)
			}
		})
	}
	// Eight nested IPv4 headers are within the limit.
	p.Reset()
	f := ipipChain(7)
	if err := d.Decode(&p, Ethernet, f); err != nil {
		t.Fatal(err)
	}
	eq(t, "depth", p.Tunnel.Depth, 7)
	eq(t, "tcp.dstport", p.TCP.DstPort, 23)
}

// TestTunnelInFirstFragment: a tunnel in a first IPv4 fragment is decoded
// as far as the fragment goes, and the fragment's end is no error.
func TestTunnelInFirstFragment(t *testing.T) {
	g := cat(hx("00 00 08 00"), ipv4Hdr(6, 20, 0, nil), tcpHdr(1, 23, 2, nil))
	cut := 4 + 20 + 8 // the inner TCP header continues in the next fragment
	frame := cat(ethHdr(0x0800), ipv4Hdr(47, cut, 0x2000, nil), g[:cut])
	frame[14+2], frame[14+3] = 0, byte(20+cut) // total length: this fragment
	d := New()
	var p field.Packet
	p.Reset()
	if err := d.Decode(&p, Ethernet, frame); err != nil {
		t.Fatal(err)
	}
	eq(t, "inner ip.src", p.IP.Src, "10.0.0.1")
	eq(t, "tunnel", p.Tunnel.Present, true)
	eq(t, "tcp", p.TCP.Present, false)
}

// TestTunnelsTruncated cuts every frame of the tunnel captures at every
// length: no panic, no allocation, the invariants hold, and a cut inside
// the headers is ErrTruncated with a reason, counted under the
// encapsulation it cut.
func TestTunnelsTruncated(t *testing.T) {
	d := New()
	var full, p field.Packet
	for name, frames := range tunnelFrames(t) {
		for i, f := range frames {
			full.Reset()
			if err := d.Decode(&full, f.link, f.data); err != nil {
				t.Fatalf("%s frame %d: %v", name, i+1, err)
			}
			hdrEnd := 0 // the end of the innermost header
			switch {
			case full.TCP.Present:
				hdrEnd = full.Meta.L4 + full.TCP.HdrLen
			case full.UDP.Present:
				hdrEnd = full.Meta.L4 + 8
			case full.ICMP.Present:
				hdrEnd = full.Meta.L4 + 4
			case full.ARP.Present:
				hdrEnd = full.Meta.L3 + 28
			case full.IPv6.Present:
				hdrEnd = full.Meta.L3 + 40
			}
			for n := 0; n < len(f.data); n++ {
				cut := f.data[:n:n]
				p.Reset()
				_ = d.TakeCounts()
				err := d.Decode(&p, f.link, cut)
				checkInvariants(t, &p, cut)
				if allocs := testing.AllocsPerRun(1, func() { d.Decode(&p, f.link, cut) }); allocs != 0 {
					t.Errorf("%s frame %d cut at %d: %v allocations", name, i+1, n, allocs)
				}
				if n < hdrEnd && !errors.Is(err, ErrTruncated) {
					t.Errorf("%s frame %d cut at %d (headers end at %d): error %v, want ErrTruncated", name, i+1, n, hdrEnd, err)
				}
				var de *Error
				if err != nil && (!errors.As(err, &de) || de.Reason == "") {
					t.Errorf("%s frame %d cut at %d: error %v without a reason", name, i+1, n, err)
				}
				p.Reset()
				_ = d.TakeCounts()
				_ = d.Decode(&p, f.link, cut)
				counts := d.TakeCounts()
				for e := range NumEncaps {
					if de != nil && de.Layer == e.String() && counts[e].Truncated != 1 {
						t.Errorf("%s frame %d cut at %d: %v not counted: %+v", name, i+1, n, err, counts[e])
					}
				}
			}
		}
	}
}

// TestNoStaleFields decodes every tunnel frame, whole and cut at every
// length, then a plain frame into the same Packet: the result must equal
// a decode of the plain frame into a fresh Packet (no layer of the tunnel
// frame may survive).
func TestNoStaleFields(t *testing.T) {
	plain := readNCF(t, "sv-http-testmyids.ncf")[3]
	d := New()
	var fresh, p field.Packet
	fresh.Reset()
	if err := d.Decode(&fresh, plain.link, plain.data); err != nil {
		t.Fatal(err)
	}
	for name, frames := range tunnelFrames(t) {
		for i, f := range frames {
			for n := 0; n <= len(f.data); n++ {
				p.Reset()
				_ = d.Decode(&p, f.link, f.data[:n])
				_ = d.Decode(&p, plain.link, plain.data)
				if got, want := withoutBuffers(&p), withoutBuffers(&fresh); !reflect.DeepEqual(got, want) {
					t.Fatalf("%s frame %d cut at %d: a field survived into the next frame:\n got %+v\nwant %+v", name, i+1, n, got, want)
				}
			}
		}
	}
}
