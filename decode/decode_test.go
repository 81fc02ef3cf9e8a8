package decode

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-ids/vigil/rules/field"
)

// hx decodes a hex dump; spaces and newlines are ignored.
func hx(s string) []byte {
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		panic(err)
	}
	return b
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func u16(v int) []byte { return binary.BigEndian.AppendUint16(nil, uint16(v)) }

// ints is the field.Ints holding vs.
func ints(vs ...int) field.Ints {
	var x field.Ints
	for _, v := range vs {
		x.Add(v)
	}
	return x
}

// ethHdr is an Ethernet II header 00:11:22:33:44:55 -> 66:77:88:99:aa:bb.
func ethHdr(et int) []byte { return cat(hx("66 77 88 99 aa bb 00 11 22 33 44 55"), u16(et)) }

// ipv4Hdr is an IPv4 header 10.0.0.1 -> 192.168.1.2, TTL 64, id 0x1234,
// with options opts and a total length covering n payload bytes.
func ipv4Hdr(proto byte, n int, fragField int, opts []byte) []byte {
	ihl := 20 + len(opts)
	h := cat(hx("00 00"), u16(ihl+n), hx("12 34"), u16(fragField), []byte{64, proto}, hx("ab cd 0a 00 00 01 c0 a8 01 02"), opts)
	h[0] = 0x40 | byte(ihl/4)
	return h
}

// ipv6Hdr is an IPv6 header 2001:db8::1 -> fe80::2, hop limit 255, flow
// label 0x12345, traffic class 0xb8.
func ipv6Hdr(nxt byte, plen int) []byte {
	return cat(hx("6b 81 23 45"), u16(plen), []byte{nxt, 255},
		hx("20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01"),
		hx("fe 80 00 00 00 00 00 00 00 00 00 00 00 00 00 02"))
}

// tcpHdr is a TCP header with seq 1, ack 2, window 512, urgent 0 and
// options opts (a multiple of 4 bytes).
func tcpHdr(sport, dport int, flags byte, opts []byte) []byte {
	return cat(u16(sport), u16(dport), hx("00 00 00 01 00 00 00 02"), []byte{byte((20 + len(opts)) / 4 << 4), flags}, hx("02 00 be ef 00 00"), opts)
}

func udpHdr(sport, dport, n int) []byte { return cat(u16(sport), u16(dport), u16(8+n), hx("00 00")) }

// dnsQuery is a DNS query (id 0xbeef, RD) for www.example.com A IN.
var dnsQuery = hx("be ef 01 00 00 01 00 00 00 00 00 00 03 77 77 77 07 65 78 61 6d 70 6c 65 03 63 6f 6d 00 00 01 00 01")

// clientHello is a TLS 1.2 record holding a ClientHello for example.org:
// record 16 03 01, handshake type 1, version 0x0303, a 32-byte random,
// no session id, 2 cipher suites, 1 compression method, and a server_name
// extension after a 4-byte unknown extension.
var clientHello = func() []byte {
	sniExt := cat(hx("00 00"), u16(16), u16(14), hx("00"), u16(11), []byte("example.org"))
	other := hx("ff 01 00 00") // renegotiation_info, empty
	exts := cat(other, sniExt)
	body := cat(hx("03 03"), make([]byte, 32), hx("00"), hx("00 04 13 01 c0 2f"), hx("01 00"), u16(len(exts)), exts)
	hs := cat([]byte{1, 0}, u16(len(body)), body)
	return cat(hx("16 03 01"), u16(len(hs)), hs)
}()

func TestDecodeCrafted(t *testing.T) {
	httpReq := []byte("GET /index.html?q=1 HTTP/1.1\r\nhOsT: example.com\r\nUSER-AGENT:  curl/8.0 \r\nCookie: a=b\r\nReferer: http://x/\r\nAuthorization: Basic Zm9v\r\nContent-Type: text/plain\r\n\r\nbody")
	httpResp := []byte("HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\n\r\n")
	tests := []struct {
		name  string
		link  Link
		frame []byte
		err   error // sentinel wrapped by the error, nil for none
		check func(t *testing.T, p *field.Packet)
	}{
		{
			// Ethernet, IPv4 with a 4-byte option (NOP NOP NOP EOL), TCP SYN with
			// MSS option to port 80, then 6 bytes of Ethernet padding.
			name:  "ipv4 tcp syn with options and padding",
			link:  Ethernet,
			frame: cat(ethHdr(0x0800), ipv4Hdr(6, 24, 0x4000, hx("01 01 01 00")), tcpHdr(51000, 80, 0x02, hx("02 04 05 b4")), make([]byte, 6)),
			check: func(t *testing.T, p *field.Packet) {
				eq(t, "eth.src", p.Eth.Src, "00:11:22:33:44:55")
				eq(t, "eth.dst", p.Eth.Dst, "66:77:88:99:aa:bb")
				eq(t, "eth.type", p.Eth.Type, 0x0800)
				eq(t, "ip", p.IP, field.IPv4{Present: true, Src: "10.0.0.1", Dst: "192.168.1.2", TTL: 64, Proto: 6, Len: 48, ID: 0x1234,
					HdrLen: 24, Flags: field.IPv4Flags{DF: true}, Checksum: 0xabcd})
				eq(t, "tcp", p.TCP, field.TCP{Present: true, SrcPort: 51000, DstPort: 80, Seq: 1, SeqRaw: 1, Ack: 2, AckRaw: 2, NxtSeq: 2,
					Flags: field.TCPFlags{SYN: true, Raw: 2}, Window: 512, HdrLen: 24, Checksum: 0xbeef})
				eq(t, "payload", p.Payload, "")
				eq(t, "meta", [4]int{p.Meta.L3, p.Meta.L4, p.Meta.PayloadOff, p.Meta.IPProto}, [4]int{14, 38, -1, 6})
				eq(t, "conv", [5]any{p.SrcIP, p.DestIP, p.SrcPort, p.DestPort, p.Proto}, [5]any{"10.0.0.1", "192.168.1.2", 51000, 80, "TCP"})
				eq(t, "meta.src", p.Meta.Src, netip.MustParseAddr("10.0.0.1"))
			},
		},
		{
			// QinQ: 802.1ad tag (PCP 5, id 100), 802.1Q tag (id 200), IPv4, UDP
			// 5353 -> 53, DNS query for www.example.com.
			name:  "qinq udp dns",
			link:  Ethernet,
			frame: cat(ethHdr(0x88a8), hx("a0 64 81 00 00 c8 08 00"), ipv4Hdr(17, 8+len(dnsQuery), 0, nil), udpHdr(5353, 53, len(dnsQuery)), dnsQuery),
			check: func(t *testing.T, p *field.Packet) {
				eq(t, "ieee8021ad", p.IEEE8021AD, field.IEEE8021AD{Present: true, ID: 100, Priority: 5, IDs: ints(100), Priorities: ints(5)})
				eq(t, "vlan", p.VLAN, field.VLAN{Present: true, ID: 200, Count: 2, InnerID: 200, IDs: ints(200), Priorities: ints(0)})
				eq(t, "vlan tags", p.Meta.VLANTags, 2)
				eq(t, "eth.type", p.Eth.Type, 0x0800)
				eq(t, "udp", p.UDP, field.UDP{Present: true, SrcPort: 5353, DstPort: 53, Length: 8 + len(dnsQuery)})
				eq(t, "dns", p.DNS, field.DNS{Present: true, ID: 0xbeef, Flags: field.DNSFlags{RecDesired: true},
					Qry: field.DNSQuery{Name: "www.example.com", Type: 1, Class: 1}, Count: field.DNSCount{Queries: 1}})
				eq(t, "payload", p.Payload, string(dnsQuery))
				eq(t, "proto", p.Proto, "UDP")
			},
		},
		{
			// MPLS, two labels (16, then 17 bottom of stack, TTL 63), IPv4, ICMP
			// echo request id 7 seq 9.
			name:  "mpls icmp echo",
			link:  Ethernet,
			frame: cat(ethHdr(0x8847), hx("00 01 00 3f 00 01 11 3f"), ipv4Hdr(1, 12, 0, nil), hx("08 00 f7 ff 00 07 00 09 61 62 63 64")),
			check: func(t *testing.T, p *field.Packet) {
				eq(t, "mpls", p.MPLS, field.MPLS{Present: true, Label: 16, TTL: 63, Labels: ints(16, 17), Exps: ints(0, 0), TTLs: ints(63, 63)})
				eq(t, "icmp", p.ICMP, field.ICMP{Present: true, Type: 8, Ident: 7, Seq: 9})
				eq(t, "payload", p.Payload, "\x08\x00\xf7\xff\x00\x07\x00\x09abcd")
				eq(t, "proto", p.Proto, "ICMP")
				eq(t, "ports", p.SrcPort+p.DestPort, 0)
			},
		},
		{
			// IPv4 fragment at offset 1480 bytes (185 units), MF clear: no
			// transport header, payload is the IP payload.
			name:  "ipv4 later fragment",
			link:  Ethernet,
			frame: cat(ethHdr(0x0800), ipv4Hdr(17, 4, 185, nil), []byte("frag")),
			check: func(t *testing.T, p *field.Packet) {
				eq(t, "frag_offset", p.IP.FragOffset, 185)
				eq(t, "fragment", p.Meta.Fragment, true)
				eq(t, "udp", p.UDP.Present, false)
				eq(t, "payload", p.Payload, "frag")
				eq(t, "l4", p.Meta.L4, -1)
				eq(t, "proto", p.Proto, "UDP")
			},
		},
		{
			// IPv6: hop-by-hop (8 bytes, PadN), destination options (8 bytes),
			// then TCP 443 -> 40000 ACK with 3 payload bytes.
			name: "ipv6 extension headers tcp",
			link: Ethernet,
			frame: cat(ethHdr(0x86dd), ipv6Hdr(0, 16+20+3), hx("3c 00 01 04 00 00 00 00"), hx("06 00 01 04 00 00 00 00"),
				tcpHdr(443, 40000, 0x10, nil), []byte("abc")),
			check: func(t *testing.T, p *field.Packet) {
				eq(t, "ipv6", p.IPv6, field.IPv6{Present: true, Src: "2001:db8::1", Dst: "fe80::2", HLim: 255, Nxt: 0, Plen: 39, Flow: 0x12345, TClass: 0xb8})
				eq(t, "ipproto", p.Meta.IPProto, 6)
				eq(t, "tcp.len", p.TCP.Len, 3)
				eq(t, "payload", p.Payload, "abc")
				eq(t, "src_ip", p.SrcIP, "2001:db8::1")
				eq(t, "l4", p.Meta.L4, 14+40+16)
			},
		},
		{
			// IPv6 fragment header (offset 1232 bytes, MF, id 0xdeadbeef) of a UDP
			// datagram: a later fragment, no transport layer.
			name:  "ipv6 later fragment",
			link:  Ethernet,
			frame: cat(ethHdr(0x86dd), ipv6Hdr(44, 8+5), hx("11 00 04 d1 de ad be ef"), []byte("hello")),
			check: func(t *testing.T, p *field.Packet) {
				eq(t, "fragment", p.IPv6.Fragment, field.IPv6Fragment{Offset: 1232, More: true, ID: 0xdeadbeef})
				eq(t, "fraghdr", p.IPv6.FragHdr, field.IPv6FragHdr{Offset: 154, More: true, Ident: 0xdeadbeef})
				eq(t, "nxt", p.IPv6.Nxt, 44)
				eq(t, "ipproto", p.Meta.IPProto, 17)
				eq(t, "frag", p.Meta.Fragment, true)
				eq(t, "udp", p.UDP.Present, false)
				eq(t, "payload", p.Payload, "hello")
			},
		},
		{
			// ARP request 00:11:22:33:44:55 10.0.0.1 asks for 10.0.0.2, broadcast.
			name:  "arp request",
			link:  Ethernet,
			frame: cat(hx("ff ff ff ff ff ff 00 11 22 33 44 55 08 06"), hx("00 01 08 00 06 04 00 01 00 11 22 33 44 55 0a 00 00 01 00 00 00 00 00 00 0a 00 00 02"), make([]byte, 18)),
			check: func(t *testing.T, p *field.Packet) {
				eq(t, "arp", p.ARP, field.ARP{Present: true, Opcode: 1,
					Src: field.ARPAddress{HWMac: "00:11:22:33:44:55", ProtoIPv4: "10.0.0.1"},
					Dst: field.ARPAddress{HWMac: "00:00:00:00:00:00", ProtoIPv4: "10.0.0.2"}})
				eq(t, "eth.dst", p.Eth.Dst, "ff:ff:ff:ff:ff:ff")
				eq(t, "ip", p.IP.Present, false)
				eq(t, "ipproto", p.Meta.IPProto, -1)
				eq(t, "proto", p.Proto, "")
			},
		},
		{
			// IEEE 802.3 length 46, LLC/SNAP (AA AA 03, OUI 0, type 0x0800), IPv4
			// with protocol 253 (experimentation): payload is the IP payload.
			name:  "802.3 snap ipv4",
			link:  Ethernet,
			frame: cat(hx("66 77 88 99 aa bb 00 11 22 33 44 55 00 2e aa aa 03 00 00 00 08 00"), ipv4Hdr(253, 4, 0, nil), []byte("exp!")),
			check: func(t *testing.T, p *field.Packet) {
				eq(t, "eth.type", p.Eth.Type, 0x0800)
				eq(t, "ip.proto", p.IP.Proto, 253)
				eq(t, "proto", p.Proto, "253")
				eq(t, "payload", p.Payload, "exp!")
			},
		},
		{
			// 802.11 QoS data, ToDS (addr1 BSSID, addr2 SA, addr3 DA), QoS
			// control, LLC/SNAP, IPv4, TCP to port 22 with an SSH banner.
			name: "wifi qos data ssh",
			link: WiFi,
			frame: cat(hx("88 01 00 00 02 00 00 00 00 01 02 00 00 00 00 02 02 00 00 00 00 03 10 00 00 00 aa aa 03 00 00 00 08 00"),
				ipv4Hdr(6, 20+23, 0, nil), tcpHdr(50000, 22, 0x18, nil), []byte("SSH-2.0-OpenSSH_9.6\r\n\x00\x00")),
			check: func(t *testing.T, p *field.Packet) {
				eq(t, "wlan", p.WLAN, field.WLAN{Present: true, FC: field.WLANFC{Type: 2, Subtype: 8, ToDS: true},
					BSSID: "02:00:00:00:00:01", SA: "02:00:00:00:00:02", DA: "02:00:00:00:00:03"})
				eq(t, "eth", p.Eth.Present, false)
				eq(t, "ssh", p.SSH, field.SSH{Present: true, Protocol: "SSH-2.0-OpenSSH_9.6"})
				eq(t, "tcp.dstport", p.TCP.DstPort, 22)
			},
		},
		{
			// 802.11 data, no DS bits (DA, SA, BSSID), LLC/SNAP, IPv6 with
			// 39-character addresses, UDP: every address fits the scratch buffer.
			name: "wifi ipv6 long addresses",
			link: WiFi,
			frame: func() []byte {
				ip := ipv6Hdr(17, 8)
				copy(ip[8:], hx("11 11 22 22 33 33 44 44 55 55 66 66 77 77 88 88 ff ff ee ee dd dd cc cc bb bb aa aa 99 99 88 88"))
				return cat(hx("08 00 00 00 02 00 00 00 00 03 02 00 00 00 00 02 02 00 00 00 00 01 10 00 aa aa 03 00 00 00 86 dd"), ip, udpHdr(1, 2, 0))
			}(),
			check: func(t *testing.T, p *field.Packet) {
				eq(t, "wlan", p.WLAN, field.WLAN{Present: true, FC: field.WLANFC{Type: 2},
					DA: "02:00:00:00:00:03", SA: "02:00:00:00:00:02", BSSID: "02:00:00:00:00:01"})
				eq(t, "ipv6.src", p.IPv6.Src, "1111:2222:3333:4444:5555:6666:7777:8888")
				eq(t, "ipv6.dst", p.IPv6.Dst, "ffff:eeee:dddd:cccc:bbbb:aaaa:9999:8888")
				eq(t, "dest_ip", p.DestIP, p.IPv6.Dst)
				eq(t, "udp", p.UDP.Present, true)
			},
		},
		{
			// 802.11 data, FromDS, protected: not decoded past the header.
			name:  "wifi protected",
			link:  WiFi,
			frame: cat(hx("08 42 00 00 02 00 00 00 00 03 02 00 00 00 00 01 02 00 00 00 00 02 20 00"), make([]byte, 40)),
			check: func(t *testing.T, p *field.Packet) {
				eq(t, "wlan", p.WLAN, field.WLAN{Present: true, FC: field.WLANFC{Type: 2, FromDS: true, Protected: true},
					DA: "02:00:00:00:00:03", BSSID: "02:00:00:00:00:01", SA: "02:00:00:00:00:02"})
				eq(t, "l3", p.Meta.L3, -1)
			},
		},
		{
			// Raw IPv6 (no link header), ICMPv6 echo request.
			name:  "raw ipv6 icmpv6",
			link:  RawIP,
			frame: cat(ipv6Hdr(58, 8), hx("80 00 12 34 00 01 00 02")),
			check: func(t *testing.T, p *field.Packet) {
				eq(t, "icmpv6", p.ICMPv6, field.ICMPv6{Present: true, Type: 128})
				eq(t, "proto", p.Proto, "IPv6-ICMP")
				eq(t, "l3", p.Meta.L3, 0)
			},
		},
		{
			// HTTP request with mixed-case header names.
			name:  "http request",
			link:  Ethernet,
			frame: cat(ethHdr(0x0800), ipv4Hdr(6, 20+len(httpReq), 0, nil), tcpHdr(40000, 8080, 0x18, nil), httpReq),
			check: func(t *testing.T, p *field.Packet) {
				eq(t, "http", p.HTTP, field.HTTP{Present: true,
					Request: field.HTTPRequest{Present: true, Method: "GET", URI: "/index.html?q=1", Version: "HTTP/1.1"},
					Host:    "example.com", UserAgent: "curl/8.0", ContentType: "text/plain", Cookie: "a=b", Referer: "http://x/", Authorization: "Basic Zm9v"})
			},
		},
		{
			// HTTP status line and a header.
			name:  "http response",
			link:  Ethernet,
			frame: cat(ethHdr(0x0800), ipv4Hdr(6, 20+len(httpResp), 0, nil), tcpHdr(80, 40000, 0x18, nil), httpResp),
			check: func(t *testing.T, p *field.Packet) {
				eq(t, "http", p.HTTP, field.HTTP{Present: true,
					Response: field.HTTPResponse{Present: true, Code: 404, Phrase: "Not Found", Version: "HTTP/1.1"}, ContentType: "text/html"})
			},
		},
		{
			// TLS ClientHello with SNI on port 8443.
			name:  "tls client hello",
			link:  Ethernet,
			frame: cat(ethHdr(0x0800), ipv4Hdr(6, 20+len(clientHello), 0, nil), tcpHdr(40000, 8443, 0x18, nil), clientHello),
			check: func(t *testing.T, p *field.Packet) {
				eq(t, "tls", p.TLS, field.TLS{Present: true, Record: field.TLSRecord{ContentType: 22, Version: 0x0301},
					Handshake: field.TLSHandshake{Type: 1, Version: 0x0303, ServerName: "example.org"}})
				eq(t, "http", p.HTTP.Present, false)
			},
		},
		{
			// FTP command to port 21.
			name:  "ftp request",
			link:  Ethernet,
			frame: cat(ethHdr(0x0800), ipv4Hdr(6, 20+15, 0, nil), tcpHdr(40000, 21, 0x18, nil), []byte("PASS secret1\r\n")),
			check: func(t *testing.T, p *field.Packet) {
				eq(t, "ftp", p.FTP, field.FTP{Present: true, Request: field.FTPRequest{Present: true, Command: "PASS", Arg: "secret1"}})
			},
		},
		{
			// FTP reply from port 21, multi-line start.
			name:  "ftp response",
			link:  Ethernet,
			frame: cat(ethHdr(0x0800), ipv4Hdr(6, 20+19, 0, nil), tcpHdr(21, 40000, 0x18, nil), []byte("230-Login ok.\r\n230 ")),
			check: func(t *testing.T, p *field.Packet) {
				eq(t, "ftp", p.FTP, field.FTP{Present: true, Response: field.FTPResponse{Present: true, Code: 230, Arg: "Login ok."}})
			},
		},
		{
			// DNS response over TCP port 53 (2-byte length prefix), id 7, one
			// question "x.y" TXT IN, answer count 1.
			name: "dns over tcp",
			link: Ethernet,
			frame: func() []byte {
				msg := hx("00 07 81 80 00 01 00 01 00 00 00 00 01 78 01 79 00 00 10 00 01")
				pl := cat(u16(len(msg)), msg)
				return cat(ethHdr(0x0800), ipv4Hdr(6, 20+len(pl), 0, nil), tcpHdr(53, 40000, 0x18, nil), pl)
			}(),
			check: func(t *testing.T, p *field.Packet) {
				eq(t, "dns", p.DNS, field.DNS{Present: true, ID: 7, Flags: field.DNSFlags{Response: true, RecDesired: true, RecAvail: true},
					Qry: field.DNSQuery{Name: "x.y", Type: 16, Class: 1}, Count: field.DNSCount{Queries: 1, Answers: 1}})
			},
		},
		{
			// Unknown EtherType (LLDP): not an error.
			name:  "unknown ethertype",
			link:  Ethernet,
			frame: cat(ethHdr(0x88cc), make([]byte, 30)),
			check: func(t *testing.T, p *field.Packet) {
				eq(t, "eth.type", p.Eth.Type, 0x88cc)
				eq(t, "l3", p.Meta.L3, -1)
			},
		},
		// Hostile and malformed frames.
		{name: "empty frame", link: Ethernet, frame: nil, err: ErrTruncated},
		{name: "short ethernet", link: Ethernet, frame: hx("ff ff ff ff ff ff 00 11"), err: ErrTruncated},
		{
			// IPv4 with IHL 4 (16 bytes): malformed, addresses still decoded.
			name: "ipv4 ihl below 5", link: Ethernet, err: ErrMalformed,
			frame: func() []byte {
				f := cat(ethHdr(0x0800), ipv4Hdr(6, 20, 0, nil), tcpHdr(1, 2, 2, nil))
				f[14] = 0x44
				return f
			}(),
			check: func(t *testing.T, p *field.Packet) {
				eq(t, "ip.src", p.IP.Src, "10.0.0.1")
				eq(t, "tcp", p.TCP.Present, false)
			},
		},
		{
			// EtherType IPv4 but version nibble 6.
			name: "ipv4 bad version", link: Ethernet, err: ErrMalformed,
			frame: func() []byte { f := cat(ethHdr(0x0800), ipv4Hdr(6, 0, 0, nil)); f[14] = 0x65; return f }(),
		},
		{
			// TCP data offset 3 (12 bytes).
			name: "tcp data offset below 5", link: Ethernet, err: ErrMalformed,
			frame: func() []byte {
				f := cat(ethHdr(0x0800), ipv4Hdr(6, 20, 0, nil), tcpHdr(1, 2, 2, nil))
				f[34+12] = 0x30
				return f
			}(),
			check: func(t *testing.T, p *field.Packet) { eq(t, "tcp.srcport", p.TCP.SrcPort, 1) },
		},
		{
			// TCP data offset 15 (60 bytes) but only 20 bytes in the IP payload.
			name: "tcp header beyond ip", link: Ethernet, err: ErrMalformed,
			frame: func() []byte {
				f := cat(ethHdr(0x0800), ipv4Hdr(6, 20, 0, nil), tcpHdr(1, 2, 2, nil))
				f[34+12] = 0xf0
				return f
			}(),
		},
		{
			// IPv4 total length 40 but the frame ends after 30 bytes of IP:
			// truncated capture, TCP header cut short.
			name: "tcp truncated", link: Ethernet, err: ErrTruncated,
			frame: cat(ethHdr(0x0800), ipv4Hdr(6, 20, 0, nil), tcpHdr(1, 2, 2, nil))[:44],
		},
		{
			// UDP length 4.
			name: "udp length below 8", link: Ethernet, err: ErrMalformed,
			frame: cat(ethHdr(0x0800), ipv4Hdr(17, 8, 0, nil), hx("00 35 00 35 00 04 00 00")),
		},
		{
			// DNS query whose name is a pointer to itself.
			name: "dns pointer loop", link: Ethernet, err: ErrMalformed,
			frame: func() []byte {
				msg := hx("00 01 01 00 00 01 00 00 00 00 00 00 c0 0c 00 01 00 01")
				return cat(ethHdr(0x0800), ipv4Hdr(17, 8+len(msg), 0, nil), udpHdr(40000, 53, len(msg)), msg)
			}(),
			check: func(t *testing.T, p *field.Packet) {
				eq(t, "dns", p.DNS.Present, true)
				eq(t, "name", p.DNS.Qry.Name, "")
			},
		},
		{
			// Nine stacked 802.1Q tags.
			name: "too many vlan tags", link: Ethernet, err: ErrMalformed,
			frame: cat(ethHdr(0x8100), []byte(strings.Repeat("\x00\x01\x81\x00", 9)), make([]byte, 20)),
			check: func(t *testing.T, p *field.Packet) { eq(t, "vlan.count", p.VLAN.Count, 8) },
		},
		{
			// Seventeen MPLS labels, none bottom of stack.
			name: "too many mpls labels", link: Ethernet, err: ErrMalformed,
			frame: cat(ethHdr(0x8847), []byte(strings.Repeat("\x00\x01\x00\x40", 17))),
		},
		{
			// Nine IPv6 destination options headers.
			name: "too many ipv6 extension headers", link: Ethernet, err: ErrMalformed,
			frame: cat(ethHdr(0x86dd), ipv6Hdr(60, 72), []byte(strings.Repeat("\x3c\x00\x01\x04\x00\x00\x00\x00", 9))),
		},
		{name: "unknown link", link: Link(9), frame: hx("00"), err: ErrMalformed},
	}
	d := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p field.Packet
			p.Reset()
			err := d.Decode(&p, tt.link, tt.frame)
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if err != nil {
				var de *Error
				if !errors.As(err, &de) || de.Layer == "" || !strings.HasPrefix(err.Error(), "decode: ") {
					t.Errorf("error %#v is not a *decode.Error", err)
				}
			}
			eq(t, "frame.cap_len", p.Frame.CapLen, len(tt.frame))
			eq(t, "frame.bytes", p.Frame.Bytes, string(tt.frame))
			eq(t, "frame.present", p.Frame.Present, true)
			if tt.check != nil {
				tt.check(t, &p)
			}
		})
	}
}

// TestSLL checks the Linux cooked header's fields, and the layers after it.
func TestSLL(t *testing.T) {
	d, p := New(), &field.Packet{}
	sll := func(pkttype, halen, proto int) []byte {
		return cat(u16(pkttype), u16(1), u16(halen), hx("00 0c 29 d0 7e f8 00 00"), u16(proto))
	}
	if err := d.Decode(p, LinuxSLL, cat(sll(4, 6, 0x0800), ipv4Hdr(6, 20, 0, nil), tcpHdr(1, 2, 0x02, nil))); err != nil {
		t.Fatal(err)
	}
	eq(t, "sll", p.SLL, field.SLL{Present: true, PktType: 4, HAType: 1, HALen: 6, Src: field.SLLSrc{Eth: "00:0c:29:d0:7e:f8"}, EType: 0x0800})
	eq(t, "eth", p.Eth.Present, false)
	eq(t, "tcp", p.TCP.Present && p.IP.Present, true)
	eq(t, "l3", p.Meta.L3, 16)
	if err := d.Decode(p, LinuxSLL, cat(sll(0, 4, 1), hx("ff ff"))); err != nil {
		t.Fatal(err)
	}
	eq(t, "sll ltype", p.SLL, field.SLL{Present: true, HAType: 1, HALen: 4, LType: 1})
	eq(t, "ip", p.IP.Present, false)
	if err := d.Decode(p, LinuxSLL, hx("00 04 00 01")); !errors.Is(err, ErrTruncated) {
		t.Errorf("short SLL header: %v", err)
	}
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func TestLinkString(t *testing.T) {
	for l, want := range map[Link]string{Ethernet: "ethernet", WiFi: "wifi", RawIP: "raw-ip", TokenRing: "tokenring", Link(7): "link(7)"} {
		eq(t, "link", l.String(), want)
	}
}

// TestDecodeHeaders checks that DecodeHeaders gives, for every frame of
// every capture, the headers Decode gives: what a flow hash reads.
func TestDecodeHeaders(t *testing.T) {
	names, err := filepath.Glob(filepath.Join(capDir, "*.ncf"))
	if err != nil || len(names) == 0 {
		t.Fatal("no captures", err)
	}
	d := New()
	var full, lean field.Packet
	for _, name := range names {
		for i, f := range readNCF(t, filepath.Base(name)) {
			full.Reset()
			lean.Reset()
			d.Decode(&full, f.link, f.data)
			d.DecodeHeaders(&lean, f.link, f.data)
			if full.Meta.Src != lean.Meta.Src || full.Meta.Dst != lean.Meta.Dst || full.Meta.L3 != lean.Meta.L3 ||
				full.Meta.L4 != lean.Meta.L4 || full.Meta.IPProto != lean.Meta.IPProto || full.Meta.Fragment != lean.Meta.Fragment ||
				full.SrcPort != lean.SrcPort || full.DestPort != lean.DestPort || full.VLAN.ID != lean.VLAN.ID {
				t.Fatalf("%s frame %d: headers differ:\nDecode        %+v ports %d %d\nDecodeHeaders %+v ports %d %d",
					name, i+1, full.Meta, full.SrcPort, full.DestPort, lean.Meta, lean.SrcPort, lean.DestPort)
			}
			if lean.IP.Src != "" || lean.HTTP.Present || lean.DNS.Present {
				t.Fatalf("%s frame %d: DecodeHeaders filled text or application fields", name, i+1)
			}
		}
	}
	// A full decode after a lean one is complete again.
	f := readNCF(t, "sv-http-testmyids.ncf")[3]
	d.DecodeHeaders(&lean, f.link, f.data)
	d.Decode(&lean, f.link, f.data)
	if lean.IP.Src == "" || !lean.HTTP.Request.Present {
		t.Error("Decode after DecodeHeaders left fields empty")
	}
}

// TestStreamApp: a decoder whose caller reads TCP application layers from
// the stream leaves them out of a segment, and DecodeTCPApp fills them.
func TestStreamApp(t *testing.T) {
	req := []byte("GET /a HTTP/1.1\r\nHost: example.com\r\n\r\n")
	frame := cat(ethHdr(0x0800), ipv4Hdr(6, 20+len(req), 0, nil), tcpHdr(40000, 80, 0x18, nil), req)
	d := New()
	d.StreamApp = true
	var p field.Packet
	if err := d.Decode(&p, Ethernet, frame); err != nil {
		t.Fatal(err)
	}
	if p.HTTP.Present || !p.TCP.Present || p.Payload != string(req) {
		t.Fatalf("StreamApp: http %v, tcp %v, payload %q; want TCP and its payload without HTTP", p.HTTP.Present, p.TCP.Present, p.Payload)
	}
	d.DecodeTCPApp(&p, req, 40000, 80)
	if !p.HTTP.Request.Present || p.HTTP.Request.URI != "/a" {
		t.Errorf("DecodeTCPApp: %+v", p.HTTP.Request)
	}
}
