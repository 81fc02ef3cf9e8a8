package alerts

import (
	"strings"
	"testing"
	"time"
)

func TestToken(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "_"},
		{"10.0.0.7:51234", "10_0_0_7_51234"},
		{"[::1]:5000", "___1__5000"},
		{"lab sensor>1", "lab_sensor_1"},
		{"a*b\tc\nd", "a_b_c_d"},
		{"caf\u00e9", "caf_"}, {"Lab-1_b", "Lab-1_b"},
		{"nb\u00a0sp", "nb_sp"},
		{"bad\xffutf", "bad_utf"},
		{"ctl\x00\x7f", "ctl__"},
		{"...", "___"},
	}
	for _, tc := range cases {
		if got := Token(tc.in); got != tc.want {
			t.Errorf("Token(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSubject(t *testing.T) {
	cases := []struct {
		prefix, sensor, sev string
		sid                 int
		want                string
	}{
		{"", "10.0.0.7:51234", "high", 1000001, "vigil.alert.10_0_0_7_51234.high.1000001"},
		{"ids.eu", "dmz", "info", 7, "ids.eu.dmz.info.7"},
		{"", "", "", 0, "vigil.alert._._.0"},
	}
	for _, tc := range cases {
		if got := Subject(tc.prefix, tc.sensor, tc.sev, tc.sid); got != tc.want {
			t.Errorf("Subject(%q,%q,%q,%d) = %q, want %q", tc.prefix, tc.sensor, tc.sev, tc.sid, got, tc.want)
		}
	}
}

func TestFilterSubject(t *testing.T) {
	cases := []struct {
		prefix, sensor, sev string
		sid                 int
		want                string
	}{
		{"", "", "", 0, "vigil.alert.*.*.*"},
		{"", "", "high", 0, "vigil.alert.*.high.*"},
		{"x", "10.0.0.7:1", "*", 5, "x.10_0_0_7_1.*.5"},
	}
	for _, tc := range cases {
		if got := FilterSubject(tc.prefix, tc.sensor, tc.sev, tc.sid); got != tc.want {
			t.Errorf("FilterSubject(%q,%q,%q,%d) = %q, want %q", tc.prefix, tc.sensor, tc.sev, tc.sid, got, tc.want)
		}
	}
}

func TestFormatText(t *testing.T) {
	a := sampleAlert()
	got := FormatText(a)
	want := "2026-11-25T10:00:00.123456+0000 [high] 1000001:1 Telnet connection attempt 10.0.0.5:51000 -> 10.0.0.9:23 TCP sensor=10.0.0.7:51234 pcap_cnt=42 allowed"
	if got != want {
		t.Fatalf("FormatText:\n got %q\nwant %q", got, want)
	}
	a.SrcIP, a.DestIP, a.SrcPort, a.DestPort, a.Proto = "fe80::1", "fe80::2", 0, 0, "IPv6-ICMP"
	a.Signature = "evil\nforged line"
	a.Summary = &Summary{Count: 9, FirstSeen: time.Time{}, LastSeen: time.Time{}}
	a.Injected = []Injected{{Type: "tcp-rst"}}
	a.Message = "m"
	got = FormatText(a)
	for _, part := range []string{"fe80::1 -> fe80::2 IPv6-ICMP", `evil\nforged line`, "(9 alerts)", "injected=tcp-rst", `msg="m"`} {
		if !strings.Contains(got, part) {
			t.Errorf("FormatText = %q, missing %q", got, part)
		}
	}
	if strings.Contains(got, "\n") {
		t.Errorf("FormatText produced a newline: %q", got)
	}
	for _, tc := range []struct {
		a    Alert
		want string
	}{
		{Alert{HTTP: &HTTP{Method: "GET", Hostname: "example.com", URL: "/x\n", Protocol: "HTTP/1.1"}}, ` http="GET example.com/x\n HTTP/1.1"`},
		{Alert{HTTP: &HTTP{Protocol: "HTTP/1.1", Status: 404}}, ` http="HTTP/1.1" status=404`},
		{Alert{TLS: &TLS{SNI: "example.org", Version: "UNDETERMINED"}}, ` tls="example.org"`},
		{Alert{TLS: &TLS{Version: "UNDETERMINED"}}, ` tls="no SNI"`},
		{Alert{TLS: &TLS{SNI: "example.org", Version: "TLS 1.3"}}, ` tls="example.org TLS 1.3"`},
		{Alert{Tunnel: &Tunnel{SrcIP: "203.0.113.1", DestIP: "203.0.113.2", Proto: "GRE"}}, ` tunnel="GRE 203.0.113.1 -> 203.0.113.2"`},
		{Alert{Tunnel: &Tunnel{SrcIP: "203.0.113.1", SrcPort: 51000, DestIP: "203.0.113.2", DestPort: 4789, Proto: "UDP"}},
			` tunnel="UDP 203.0.113.1:51000 -> 203.0.113.2:4789"`},
		{Alert{DNS: &DNS{Response: true, RRName: "nope.example", RRType: "AAAA", Rcode: "NXDOMAIN"}}, ` dns="nope.example AAAA" rcode=NXDOMAIN`},
	} {
		if got := FormatText(&tc.a); !strings.Contains(got, tc.want) {
			t.Errorf("FormatText = %q, want it to hold %q", got, tc.want)
		}
	}
	arp := &Alert{SID: 7, Rev: 1, Signature: "arp", SeverityWord: "low",
		ARP: &ARP{Opcode: 1, SrcMAC: "18:60:24:8d:97:ba", SrcIP: "10.204.1.5", DestMAC: "00:00:00:00:00:00", DestIP: "0.0.0.0"}}
	if got, want := FormatText(arp), " 7:1 arp 10.204.1.5 (18:60:24:8d:97:ba) -> 0.0.0.0 (00:00:00:00:00:00) ARP request sensor="; !strings.Contains(got, want) {
		t.Errorf("ARP: FormatText = %q, want it to hold %q", got, want)
	}
}
