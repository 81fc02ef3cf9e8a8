package offline

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// tsharkFilters are display filters of every kind of wireshark-filter(4)
// syntax, one or more per feature.
var tsharkFilters = []string{
	"ip", "not ip", "!tcp && !udp", "ipv6", "vlan", "arp",
	"ip.addr == 192.168.0.0/16", "ip.src == 10.0.0.0/8 or ip.dst == 10.0.0.0/8",
	"ip.addr != 192.168.0.0/16", "ip.addr !== 192.168.0.0/16", "ip.addr == 192.168.0.0/16 and not ip.src == 192.168.0.0/16",
	"tcp.port == 80", "tcp.port != 80", "udp.port === 53", "tcp.port !== 80", "tcp.port eq 443 || udp.port ne 53",
	"tcp.port in {80, 443, 8080}", "tcp.dstport in {1024..65535}", "tcp.srcport in {80, 440..450}",
	"tcp.flags.syn == 1 && tcp.flags.ack == 0", "tcp.flags & 0x12", "tcp.flags & 0x12 == 0x12", "tcp.flags & 0x02 != 0", "tcp.flags.reset == True",
	"ip.ttl ge 64 and ip.ttl le 128", "ip.ttl gt 100 or ip.ttl lt 50", "ip.ttl == 0x40", "ip.ttl == 0100",
	"ip.flags.df == 0", "ip.flags.mf", "ip.frag_offset > 0", "ip.proto == 17",
	"eth.addr == ff:ff:ff:ff:ff:ff", "eth.dst ne ff:ff:ff:ff:ff:ff", "eth.type == 0x86dd",
	"vlan.id == 1200", "vlan.id != 1200", "vlan.id === 10",
	"ipv6.addr == fe80::/10", "ipv6.nxt == 17", "ipv6.dst == ff02::1",
	`frame contains "HTTP"`, `frame matches "http/1\\.[01]"`, `frame matches "(?-i)http/1"`,
	"frame[12:2] == 08:00", "frame[12-13] == 86.dd", "frame[0:6] == ffffffffffff", "frame[-6:2] == 08:00", "frame[-4:] == 00:00:00:00", "len(frame) == 60",
	`http.request.method == "GET"`, `http.request.method in {"GET", "HEAD"}`, `http.request.method == "\x47ET"`,
	`http.request.method == "\107ET"`, `http.request.uri matches r"\.(php|html)"`, `http.host contains "."`,
	`lower(http.request.method) == "get"`, "len(http.host) > 10", `upper(http.user_agent) contains "MOZILLA"`,
	`tcp.payload contains "GET"`, `tcp.payload[0:4] == "GET "`, "tcp.payload[0:4] == 47:45:54:20", "tcp.payload[0] == 0x47",
	"udp.payload[0:1] == 00", "tcp.len > 100", "tcp.srcport > tcp.dstport", "udp.srcport == udp.dstport",
	`dns.qry.name contains "com"`, "dns.qry.type == 1", "dns.flags.response == 1", "dns && !dns.flags.response",
	"icmp.type == 8 || icmp.type == 0", "icmp.type in {0, 8}", "icmpv6.type == 135",
	"frame.len > 100 && frame.len < 200", "frame.len in {60..70}", "frame.len > 'A'",
	"not (tcp or udp)", "(tcp.port == 80 or udp.port == 53) and ip",
	"tls.handshake.type == 1", `tls.handshake.extensions_server_name contains "."`,
	`ssh.protocol contains "SSH"`, "arp.opcode == 2", "mpls", "mpls.label > 0",
}

// filterCaptures are the captures tsharkFilters run on (each tshark run
// takes a third of a second): VLAN and MPLS, IPv4 and IPv6, HTTP, DNS.
var filterCaptures = []string{"zeek-vlan-mpls-mixed.pcap", "sv-http-ipv6.pcap", "sv-dns-dhcp-sofacy.pcap"}

// filterSets are more filters, each set on the captures that exercise it
// (the SLL capture, TLS picked up mid-stream: sv-tls-cert from its 8th
// frame on, as editcap cuts it, so that neither SYN is in it).
var filterSets = []struct{ filters, captures []string }{
	{tsharkFilters, filterCaptures},
	// relative sequence numbers, per direction
	{[]string{"tcp.seq == 1", "tcp.seq == 0 && tcp.flags.syn == 1", "tcp.ack == 1", "tcp.seq > 1000 && tcp.seq < 3000",
		"tcp.ack >= 100", "tcp.nxtseq == tcp.seq", "tcp.nxtseq > 1", "tcp.seq_raw > 2000000000", "tcp.ack_raw == 0"},
		[]string{"zeek-vlan-mpls-mixed.pcap", "sv-http-ipv6.pcap", "sv-tls-cert.pcap:8-110"}},
	// slices of MAC addresses
	{[]string{"eth.src[0:3] == 00:10:f3", "eth.addr[0:3] == 00:0c:29", "eth.dst[3:] == 02:1c:00", "eth.src[-1] == 0x05",
		"eth.src[1-2] > 10:00", "eth.dst[0:3] == eth.src[0:3]", "eth.src[0:3] contains 0c", "eth.addr[0:1] != 00",
		"len(eth.src) == 6"},
		[]string{"zeek-vlan-mpls-mixed.pcap", "sv-dns-dhcp-sofacy.pcap"}},
	// Linux cooked captures: sll.*, no eth
	{[]string{"sll", "sll.pkttype == 4", "sll.hatype == 1 && sll.halen == 6", "sll.src.eth == 00:0c:29:d0:7e:f8",
		"sll.src.eth[0:3] == 00:0c:29", "sll.etype == 0x0806", "sll.ltype", "eth", "frame[14:2] == 08:00"},
		[]string{"sv-urgent11-cve-2019-12260.orig-sll.pcap", "sv-http-ipv6.pcap"}},
	// data.data, the payload no dissector took, on captures whose
	// payloads Vigil dissects where tshark does (ICMP and UDP data, SSH,
	// TLS, HTTP, DNS, IPv6 fragments): on the others tshark also
	// dissects Telnet, DHCP, VNC or DCE/RPC, which Vigil leaves as data
	{[]string{"data.data", "data", `data.data contains "abc"`, "not data && tcp.len > 0", "data && udp",
		"udp.payload and not data", "data.len > 0 && ip"},
		[]string{"sv-icmp-ssh.pcap", "sv-ssh-hassh.pcap", "zeek-ipv6-frag-dns.pcap", "sv-http-ipv6.pcap", "sv-tls-cert.pcap:8-110"}},
}

// filterCapture returns the path of capture name of filterCaptures, cut
// into dir with editcap when it names frames.
func filterCapture(t *testing.T, dir, name string) string {
	file, frames, cut := strings.Cut(name, ":")
	path := filepath.Join("..", "testdata", "captures", file)
	if !cut {
		return path
	}
	out := filepath.Join(dir, strings.TrimSuffix(file, ".pcap")+"-"+frames+".pcap")
	if b, err := exec.Command("editcap", "-r", path, out, frames).CombinedOutput(); err != nil {
		t.Fatalf("editcap %s: %v: %s", name, err, b)
	}
	return out
}

// TestFilterTshark runs every filter of filterSets with Filter and with
// tshark -Y on each capture of its set: the frames must be the same.
func TestFilterTshark(t *testing.T) {
	for _, tool := range []string{"tshark", "editcap"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skip(tool + " not installed")
		}
	}
	if testing.Short() {
		t.Skip("about 380 tshark runs")
	}
	dir := t.TempDir()
	n := 0
	for _, set := range filterSets {
		for _, name := range set.captures {
			path := filterCapture(t, dir, name)
			for _, f := range set.filters {
				sameAsTshark(t, path, f)
				n++
			}
		}
	}
	t.Logf("%d runs of a filter on a capture agree with tshark", n)
}

// TestFilter checks Filter's output over several captures and its errors.
func TestFilter(t *testing.T) {
	dir := filepath.Join("..", "testdata", "captures")
	telnet, arp := filepath.Join(dir, "sv-telnet.pcap"), filepath.Join(dir, "sv-arp.pcap")
	var out bytes.Buffer
	if err := Filter(context.Background(), &out, "frame.number <= 2", []string{telnet, arp}); err != nil {
		t.Fatal(err)
	}
	if want := telnet + ":1\n" + telnet + ":2\n" + arp + ":1\n" + arp + ":2\n"; out.String() != want {
		t.Errorf("got\n%swant\n%s", out.String(), want)
	}
	err := Filter(context.Background(), io.Discard, "ip.ttl >", []string{telnet})
	if err == nil || err.Error() != "filter:1:9: unexpected end of filter" {
		t.Errorf("bad filter: %v", err)
	}
	err = Filter(context.Background(), io.Discard, "ip", []string{filepath.Join(dir, "missing.pcap"), telnet})
	if !errors.Is(err, ErrUnreadable) {
		t.Errorf("missing capture: %v", err)
	}
}

// fields shows frame numbers on one line.
func fields(s string) string { return "[" + strings.Join(strings.Fields(s), " ") + "]" }

// TestTCPLenTshark: where an IPv4 total length or IPv6 payload length
// claims more bytes than the frame has (sv-telnet frames 18, 32, 52, 70
// and 78; ipv6Lengths) or a capture is cut short of the wire
// (sv-http-rst-malware; sv-telnet cut to 80 bytes a frame by editcap -s
// 80; ipv6Lengths), tcp.len and tcp.payload match the frames
// tshark -Y matches: the segment is as long as the IP length within the
// frame's length on the wire.
func TestTCPLenTshark(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed")
	}
	dir := filepath.Join("..", "testdata", "captures")
	paths := []string{filepath.Join(dir, "sv-telnet.pcap"), filepath.Join(dir, "sv-http-rst-malware.pcap")}
	if _, err := exec.LookPath("editcap"); err == nil {
		cut := filepath.Join(t.TempDir(), "telnet-80.pcap")
		if out, err := exec.Command("editcap", "-s", "80", paths[0], cut).CombinedOutput(); err != nil {
			t.Fatalf("editcap: %v\n%s", err, out)
		}
		paths = append(paths, cut)
	}
	paths = append(paths, ipv6Lengths(t))
	filters := []string{"tcp.len == 0", "tcp.len > 0", "tcp.len == 85", "tcp.payload", "tcp.len >= 1400", "tcp.len < 20 && tcp.len > 0",
		"tcp.len == 10", "tcp.len == 30", "tcp.len == 110"}
	for _, path := range paths {
		for _, f := range filters {
			sameAsTshark(t, path, f)
		}
	}
}

// ipv6Lengths writes a pcap of three IPv6 TCP segments of 10 bytes of
// data whose payload length claims 10 bytes (right), 110 (more than the
// frame has) and 110 in a frame captured 20 bytes short of the wire, and
// returns its path.
func ipv6Lengths(t *testing.T) string {
	t.Helper()
	le := binary.LittleEndian
	file := le.AppendUint32(nil, 0xa1b2c3d4)
	file = le.AppendUint16(le.AppendUint16(file, 2), 4)
	file = le.AppendUint32(le.AppendUint32(le.AppendUint32(le.AppendUint32(file, 0), 0), 65535), 1)
	for i, c := range []struct{ plen, cut int }{{30, 0}, {130, 0}, {130, 20}} {
		f := []byte{0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0x86, 0xdd, 0x60, 0, 0, 0, 0, 0, 6, 64}
		f[19], f[18] = byte(c.plen), byte(c.plen>>8)
		f = append(f, append(make([]byte, 15), 1)...)       // 2001:db8::1 below
		f = append(f, append(make([]byte, 15), 2)...)       // ::2
		f[22], f[23], f[24], f[25] = 0x20, 0x01, 0x0d, 0xb8 // source 2001:db8::1
		f = append(f, 0x30, 0x39, 0, 80, 0, 0, 0, byte(i+1), 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0)
		f = append(f, "0123456789"...)
		f = append(f, make([]byte, c.cut)...) // on the wire, not captured
		file = le.AppendUint32(le.AppendUint32(file, uint32(i)), 0)
		file = le.AppendUint32(le.AppendUint32(file, uint32(len(f)-c.cut)), uint32(len(f)))
		file = append(file, f[:len(f)-c.cut]...)
	}
	path := filepath.Join(t.TempDir(), "ipv6-lengths.pcap")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// sameAsTshark fails the test when `vigil filter` and `tshark -Y` give
// the filter f different frames of the capture at path.
func sameAsTshark(t *testing.T, path, f string) {
	t.Helper()
	var want bytes.Buffer
	cmd := exec.Command("tshark", "-n", "-r", path, "-Y", f, "-T", "fields", "-e", "frame.number")
	cmd.Stdout, cmd.Env = &want, []string{"TZ=UTC", "HOME=" + t.TempDir()}
	if err := cmd.Run(); err != nil {
		t.Fatalf("tshark -Y %q: %v", f, err)
	}
	var got bytes.Buffer
	if err := Filter(context.Background(), &got, f, []string{path}); err != nil {
		t.Fatalf("%s: %v", f, err)
	}
	if got.String() != want.String() {
		t.Errorf("%s: %s matches %s, tshark %s", filepath.Base(path), f, fields(got.String()), fields(want.String()))
	}
}
