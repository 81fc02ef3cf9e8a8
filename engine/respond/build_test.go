package respond

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/vigil-ids/vigil/rules"
)

// withTags inserts 802.1ad/802.1Q tags (EtherType, VLAN id pairs) after
// the MAC addresses of an untagged frame.
func withTags(frame []byte, tags ...uint16) []byte {
	out := slices.Clone(frame[:12])
	for i := 0; i+1 < len(tags); i += 2 {
		out = binary.BigEndian.AppendUint16(out, tags[i])
		out = binary.BigEndian.AppendUint16(out, tags[i+1])
	}
	return append(out, frame[12:]...)
}

// origin is what the test expects of a frame, read from the original
// packet with gopacket (independently of the code under test).
type origin struct {
	srcMAC, dstMAC string
	vlans, svlans  []string // 802.1Q ids and 802.1ad ids, outermost first
	src, dst       string
	v6             bool
	sport, dport   int
	tcp            *layers.TCP
	payload        int
	udp            bool
}

func originOf(t *testing.T, data []byte) origin {
	t.Helper()
	pkt := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
	var o origin
	eth, _ := pkt.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
	if eth == nil {
		t.Fatal("original frame: no ethernet")
	}
	o.srcMAC, o.dstMAC = eth.SrcMAC.String(), eth.DstMAC.String()
	tagType := eth.EthernetType
	for _, l := range pkt.Layers() {
		if q, ok := l.(*layers.Dot1Q); ok {
			id := strconv.Itoa(int(q.VLANIdentifier))
			if tagType == layers.EthernetTypeQinQ {
				o.svlans = append(o.svlans, id)
			} else {
				o.vlans = append(o.vlans, id)
			}
			tagType = q.Type
		}
	}
	switch ip := pkt.NetworkLayer().(type) {
	case *layers.IPv4:
		o.src, o.dst = ip.SrcIP.String(), ip.DstIP.String()
	case *layers.IPv6:
		o.src, o.dst, o.v6 = ip.SrcIP.String(), ip.DstIP.String(), true
	default:
		t.Fatal("original frame: no IP")
	}
	switch l := pkt.TransportLayer().(type) {
	case *layers.TCP:
		o.tcp, o.sport, o.dport, o.payload = l, int(l.SrcPort), int(l.DstPort), len(l.Payload)
	case *layers.UDP:
		o.udp, o.sport, o.dport = true, int(l.SrcPort), int(l.DstPort)
	}
	return o
}

// tsharkFields are the fields the tshark oracle prints for each frame.
var tsharkFields = []string{
	"eth.src", "eth.dst", "vlan.id", "ieee8021ad.id",
	"ip.src", "ip.dst", "ip.ttl", "ip.flags.df", "ip.checksum.status",
	"ipv6.src", "ipv6.dst", "ipv6.hlim",
	"tcp.srcport", "tcp.dstport", "tcp.flags", "tcp.seq_raw", "tcp.ack_raw",
	"tcp.window_size_value", "tcp.len", "tcp.hdr_len", "tcp.checksum.status",
	"icmp.type", "icmp.code", "icmp.checksum.status",
	"icmpv6.type", "icmpv6.code", "icmpv6.checksum.status",
	"udp.srcport", "udp.dstport", "_ws.malformed", "_ws.expert.severity",
}

// tshark writes frames to a pcap and returns tshark's view of each, with
// checksum validation on. Multiple occurrences of a field are joined by ",".
func tshark(t *testing.T, frames []Frame) []map[string]string {
	t.Helper()
	bin, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed")
	}
	path := filepath.Join(t.TempDir(), "injected.pcap")
	writePcap(t, path, frames)
	args := []string{"-r", path,
		"-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
		"-o", "tcp.relative_sequence_numbers:FALSE",
		"-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,"}
	for _, f := range tsharkFields {
		args = append(args, "-e", f)
	}
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v: %s", err, stderr.String())
	}
	var rows []map[string]string
	for line := range strings.Lines(string(out)) {
		vals := strings.Split(strings.TrimRight(line, "\r\n"), "\t")
		row := map[string]string{}
		for i, f := range tsharkFields {
			if i < len(vals) {
				row[f] = vals[i]
			}
		}
		rows = append(rows, row)
	}
	if len(rows) != len(frames) {
		t.Fatalf("tshark printed %d rows for %d frames", len(rows), len(frames))
	}
	return rows
}

func writePcap(t *testing.T, path string, frames []Frame) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1700000000, 0)
	for _, fr := range frames {
		ci := gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(fr.Data), Length: len(fr.Data)}
		if err := w.WritePacket(ci, fr.Data); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// first returns the first of a field's comma-joined occurrences.
func first(s string) string { v, _, _ := strings.Cut(s, ","); return v }

// regenerate re-serialises a frame from gopacket's decode of it, letting
// gopacket compute lengths and checksums: a correct frame comes back
// byte for byte (a second opinion next to tshark).
func regenerate(t *testing.T, data []byte) []byte {
	t.Helper()
	pkt := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
	if el := pkt.ErrorLayer(); el != nil {
		t.Fatalf("gopacket: %v", el.Error())
	}
	var ls []gopacket.SerializableLayer
	var netl gopacket.NetworkLayer
	for _, l := range pkt.Layers() {
		switch l := l.(type) {
		case *layers.IPv4:
			netl = l
		case *layers.IPv6:
			netl = l
		case *layers.TCP:
			if err := l.SetNetworkLayerForChecksum(netl); err != nil {
				t.Fatal(err)
			}
		case *layers.ICMPv6:
			if err := l.SetNetworkLayerForChecksum(netl); err != nil {
				t.Fatal(err)
			}
		}
		s, ok := l.(gopacket.SerializableLayer)
		if !ok {
			t.Fatalf("gopacket layer %v is not serialisable", l.LayerType())
		}
		ls = append(ls, s)
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestBuildTshark builds frames from real packets, writes them all to one
// pcap and checks tshark's dissection of every frame (checksum validation
// on) against values read from the original packets with gopacket; each
// frame is also re-serialised by gopacket as a second opinion.
func TestBuildTshark(t *testing.T) {
	telnetData := frameN(t, "sv-telnet.pcap", 4)
	dns4 := frameN(t, "sv-dns-dhcp-sofacy.pcap", 7)
	ping := frameN(t, "sv-icmpv4-ping.pcap", 1)
	cases := []struct {
		name   string
		frame  []byte
		target rules.Target
		strafe int
		kind   string
	}{
		{"ipv4 tcp telnet data", telnetData, rules.TargetBoth, 0, KindTCPReset},
		{"ipv4 tcp telnet data strafe", telnetData, rules.TargetBoth, 3, KindTCPReset},
		{"ipv4 tcp syn", frameN(t, "sv-telnet.pcap", 1), rules.TargetBoth, 2, KindTCPReset},
		{"ipv4 tcp syn-ack source", frameN(t, "sv-telnet.pcap", 2), rules.TargetSource, 0, KindTCPReset},
		{"ipv4 tcp http request", frameN(t, "sv-http-testmyids.pcap", 4), rules.TargetBoth, 1, KindTCPReset},
		{"ipv4 tcp http request dest", frameN(t, "sv-http-testmyids.pcap", 4), rules.TargetDest, 0, KindTCPReset},
		{"ipv6 tcp http", frameN(t, "sv-http-ipv6.pcap", 5), rules.TargetBoth, 2, KindTCPReset},
		{"ipv6 tcp syn", frameN(t, "sv-ipv6-mixed.pcap", 1), rules.TargetBoth, 0, KindTCPReset},
		{"vlan tcp http with trailer", frameN(t, "zeek-vlan-mpls-mixed.pcap", 37), rules.TargetBoth, 1, KindTCPReset},
		{"vlan tcp fin", frameN(t, "zeek-vlan-mpls-mixed.pcap", 42), rules.TargetBoth, 0, KindTCPReset},
		{"qinq 802.1q tcp", withTags(telnetData, 0x8100, 100, 0x8100, 200), rules.TargetBoth, 1, KindTCPReset},
		{"qinq 802.1ad tcp", withTags(telnetData, 0x88a8, 100, 0x8100, 200), rules.TargetBoth, 0, KindTCPReset},
		{"ipv4 udp dns", dns4, rules.TargetBoth, 0, KindICMPUnreach},
		{"vlan udp dns", withTags(dns4, 0x8100, 6), rules.TargetSource, 0, KindICMPUnreach},
		{"ipv6 udp dns", frameN(t, "zeek-ipv6-frag-dns.pcap", 1), rules.TargetBoth, 0, KindICMPv6Unreach},
		{"ipv4 icmp echo", ping, rules.TargetSource, 0, KindICMPUnreach},
		{"qinq icmp echo", withTags(ping, 0x8100, 200, 0x8100, 300, 0x8100, 400), rules.TargetBoth, 0, KindICMPUnreach},
	}
	var all []Frame
	built := make([][]Frame, len(cases))
	for i, tc := range cases {
		frames, err := Build(fillPacket(tc.frame), tc.target, tc.strafe)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		built[i] = frames
		all = append(all, frames...)
	}
	rows := tshark(t, all)
	for i, tc := range cases {
		frames := built[i]
		caseRows := rows[:len(frames)]
		rows = rows[len(frames):]
		t.Run(tc.name, func(t *testing.T) {
			o := originOf(t, tc.frame)
			checkCounts(t, o, tc.target, tc.strafe, frames)
			seen := map[string]int{}
			for i, f := range frames {
				if f.Kind != tc.kind {
					t.Errorf("frame %d: kind %q, want %q", i, f.Kind, tc.kind)
				}
				if len(f.Data) < MinFrame {
					t.Errorf("frame %d: %d bytes, want at least %d", i, len(f.Data), MinFrame)
				}
				if got := regenerate(t, f.Data); !bytes.Equal(got, f.Data) {
					t.Errorf("frame %d: gopacket re-serialises\n%x\nwant\n%x", i, got, f.Data)
				}
				k := seen[f.Dir]
				seen[f.Dir]++
				checkRow(t, fmt.Sprintf("frame %d (%s #%d)", i, f.Dir, k), o, f, k, caseRows[i])
			}
		})
	}
}

// checkCounts checks how many frames each direction got.
func checkCounts(t *testing.T, o origin, target rules.Target, strafe int, frames []Frame) {
	t.Helper()
	want := map[string]int{}
	if o.tcp == nil {
		want[ToSource] = 1
	} else {
		step := uint32(o.payload)
		if step == 0 {
			step = StrafeStep
		}
		if target != rules.TargetDest {
			want[ToSource] = 1
			for k := 1; o.tcp.ACK && k <= strafe && uint32(k)*step < uint32(o.tcp.Window); k++ {
				want[ToSource]++
			}
		}
		if target != rules.TargetSource {
			want[ToDest] = 1 + strafe
		}
	}
	got := map[string]int{}
	for _, f := range frames {
		got[f.Dir]++
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("frames per direction %v, want %v", got, want)
	}
}

func checkRow(t *testing.T, what string, o origin, f Frame, k int, row map[string]string) {
	t.Helper()
	eq := func(field, want string) {
		t.Helper()
		if got := row[field]; got != want {
			t.Errorf("%s: %s = %q, want %q", what, field, got, want)
		}
	}
	// eq1 checks the first occurrence (the outer header of an ICMP error).
	eq1 := func(field, want string) {
		t.Helper()
		if got := first(row[field]); got != want {
			t.Errorf("%s: %s = %q, want %q", what, field, got, want)
		}
	}
	if row["_ws.malformed"] != "" {
		t.Errorf("%s: tshark says malformed", what)
	}
	toSource := f.Dir == ToSource
	srcMAC, dstMAC, src, dst, sport, dport := o.srcMAC, o.dstMAC, o.src, o.dst, o.sport, o.dport
	if toSource {
		srcMAC, dstMAC, src, dst, sport, dport = dstMAC, srcMAC, dst, src, dport, sport
	}
	eq("eth.src", srcMAC)
	eq("eth.dst", dstMAC)
	eq("vlan.id", strings.Join(o.vlans, ","))
	eq("ieee8021ad.id", strings.Join(o.svlans, ","))
	ipPrefix := "ip."
	if o.v6 {
		ipPrefix = "ipv6."
		eq1("ipv6.hlim", "64")
	} else {
		eq1("ip.ttl", "64")
		eq1("ip.flags.df", "1")
		eq1("ip.checksum.status", "1")
	}
	if o.tcp != nil {
		eq(ipPrefix+"src", src)
		eq(ipPrefix+"dst", dst)
		eq("tcp.srcport", strconv.Itoa(sport))
		eq("tcp.dstport", strconv.Itoa(dport))
		eq("tcp.flags", "0x0014")
		eq("tcp.window_size_value", "0")
		eq("tcp.len", "0")
		eq("tcp.hdr_len", "20")
		eq("tcp.checksum.status", "1")
		n := o.tcp.Seq + uint32(o.payload)
		if o.tcp.SYN {
			n++
		}
		if o.tcp.FIN {
			n++
		}
		step := uint32(o.payload)
		if step == 0 {
			step = StrafeStep
		}
		var seq, ack uint32
		if toSource {
			seq, ack = o.tcp.Ack, n
			if !o.tcp.ACK {
				seq = 0
			}
		} else {
			seq, ack = n, o.tcp.Ack
		}
		seq += uint32(k) * step
		eq("tcp.seq_raw", strconv.FormatUint(uint64(seq), 10))
		eq("tcp.ack_raw", strconv.FormatUint(uint64(ack), 10))
		if f.Seq != seq || f.Ack != ack {
			t.Errorf("%s: Frame says seq %d ack %d, want %d %d", what, f.Seq, f.Ack, seq, ack)
		}
		return
	}
	// ICMP: outer addresses reversed, then the quoted original header.
	if !toSource {
		t.Fatalf("%s: icmp unreachable toward the destination", what)
	}
	eq(ipPrefix+"src", o.dst+","+o.src)
	eq(ipPrefix+"dst", o.src+","+o.dst)
	if o.udp {
		eq("udp.srcport", strconv.Itoa(o.sport))
		eq("udp.dstport", strconv.Itoa(o.dport))
	}
	if o.v6 {
		eq("icmpv6.type", "1")
		code := "1"
		if o.udp {
			code = "4"
		}
		eq("icmpv6.code", code)
		eq("icmpv6.checksum.status", "1")
	} else {
		// A quoted ICMP echo adds a second type, code and checksum status.
		eq1("icmp.type", "3")
		code := "2"
		if o.udp {
			code = "3"
		}
		eq1("icmp.code", code)
		eq1("icmp.checksum.status", "1")
	}
}

// TestBuildQuote checks what an ICMP error quotes: the original datagram
// from its IP header, cut to 576 bytes in all for IPv4 and 1280 for IPv6,
// and never the Ethernet trailer after the datagram.
func TestBuildQuote(t *testing.T) {
	withTrailer := append(slices.Clone(frameN(t, "sv-dns-dhcp-sofacy.pcap", 7)), 0xde, 0xad, 0xbe, 0xef)
	cases := []struct {
		name     string
		frame    []byte
		v6       bool
		wantCode byte
	}{
		{"ipv4 udp with ethernet trailer", withTrailer, false, 3},
		{"ipv4 udp", frameN(t, "sv-dns-dhcp-sofacy.pcap", 8), false, 3},
		{"ipv4 large icmp echo reply", frameN(t, "sv-ipv4-frags-icmp.pcap", 3), false, 2},
		{"ipv4 icmp echo first fragment", frameN(t, "sv-ipv4-frags-icmp.pcap", 1), false, 2},
		{"ipv6 udp first fragment", frameN(t, "zeek-ipv6-frag-dns.pcap", 6), true, 4},
		{"ipv6 udp", frameN(t, "zeek-ipv6-frag-dns.pcap", 2), true, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := fillPacket(tc.frame)
			frames, err := Build(p, rules.TargetBoth, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(frames) != 1 {
				t.Fatalf("%d frames, want 1", len(frames))
			}
			pkt := gopacket.NewPacket(frames[0].Data, layers.LayerTypeEthernet, gopacket.Default)
			var quote []byte
			var ipLen, limit int
			var code byte
			if tc.v6 {
				ip, _ := pkt.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
				icmp, _ := pkt.Layer(layers.LayerTypeICMPv6).(*layers.ICMPv6)
				if ip == nil || icmp == nil {
					t.Fatal("no ipv6/icmpv6 in the built frame")
				}
				ipLen, limit, code = 40+int(ip.Length), 1280, icmp.TypeCode.Code()
				quote = icmp.Payload[4:]
			} else {
				ip, _ := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
				icmp, _ := pkt.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4)
				if ip == nil || icmp == nil {
					t.Fatal("no ipv4/icmp in the built frame")
				}
				ipLen, limit, code = int(ip.Length), 576, icmp.TypeCode.Code()
				quote = icmp.Payload
			}
			if code != tc.wantCode {
				t.Errorf("code %d, want %d", code, tc.wantCode)
			}
			orig := gopacket.NewPacket(tc.frame, layers.LayerTypeEthernet, gopacket.Default).NetworkLayer()
			dg := append(slices.Clone(orig.LayerContents()), orig.LayerPayload()...)
			want := dg[:min(len(dg), limit-(ipLen-len(quote)))]
			if !bytes.Equal(quote, want) {
				t.Errorf("quote of %d bytes is not the first %d bytes of the %d-byte datagram", len(quote), len(want), len(dg))
			}
			if ipLen > limit {
				t.Errorf("icmp error of %d bytes exceeds %d", ipLen, limit)
			}
			if len(dg) > len(want) && ipLen != limit {
				t.Errorf("quote cut to %d bytes in all, want %d", ipLen, limit)
			}
			if len(quote) < len(orig.LayerContents())+8 {
				t.Errorf("quote of %d bytes has fewer than 8 bytes past the IP header", len(quote))
			}
		})
	}
}

// TestBuildSnapLen checks that a frame cut short by the capture's snap
// length, or followed by an Ethernet trailer, gets the same resets as the
// whole frame: the payload length comes from the IP header, not from what
// was captured.
func TestBuildSnapLen(t *testing.T) {
	for _, name := range []string{"sv-telnet.pcap", "sv-http-ipv6.pcap", "zeek-vlan-mpls-mixed.pcap"} {
		for i, full := range readFrames(t, name) {
			want, err := Build(fillPacket(full), rules.TargetBoth, 2)
			if err != nil {
				continue
			}
			p := fillPacket(full)
			variants := map[string][]byte{
				"cut after the tcp header": full[:p.Meta.L4+20],
				"trailer":                  append(slices.Clone(full), 1, 2, 3, 4, 5, 6, 7, 8),
			}
			for what, raw := range variants {
				q := fillPacket(full) // offsets as the decoder found them
				q.Meta.Raw = raw
				got, err := Build(q, rules.TargetBoth, 2)
				if err != nil {
					t.Errorf("%s frame %d %s: %v", name, i+1, what, err)
					continue
				}
				if len(got) != len(want) {
					t.Errorf("%s frame %d %s: %d frames, want %d", name, i+1, what, len(got), len(want))
					continue
				}
				for k := range got {
					if !bytes.Equal(got[k].Data, want[k].Data) {
						t.Errorf("%s frame %d %s: frame %d differs", name, i+1, what, k)
					}
				}
			}
		}
	}
}
