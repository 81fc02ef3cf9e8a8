package alerts

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func sampleAlert() *Alert {
	return &Alert{
		Timestamp:    time.Date(2026, 11, 25, 10, 0, 0, 123456000, time.UTC),
		Sensor:       "10.0.0.7:51234",
		FlowID:       1234567890,
		PcapCnt:      42,
		SrcIP:        "10.0.0.5",
		SrcPort:      51000,
		DestIP:       "10.0.0.9",
		DestPort:     23,
		Proto:        "TCP",
		Direction:    "in",
		Action:       ActionAllowed,
		GID:          1,
		SID:          1000001,
		Rev:          1,
		Signature:    "Telnet connection attempt",
		Severity:     1,
		SeverityWord: "high",
		Tags:         []string{"telnet", "policy"},
		ID:           "s1-42",
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	cases := []string{
		"", "plain", `quote " and \ backslash`, "nl\n cr\r tab\t", "\x00\x01\x1f\x7f",
		"héllo wörld", "日本語", "\u2028\u2029", "bad \xff utf8 \xc3", "\xed\xa0\x80 surrogate",
		"<script>&</script>", "emoji 😀",
	}
	for _, s := range cases {
		got := appendString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("%q: %s does not parse: %v", s, got, err)
		}
		want := strings.ToValidUTF8(s, "\ufffd")
		// encoding/json replaces each invalid byte; ToValidUTF8 replaces runs.
		if utf8.ValidString(s) && back != want {
			t.Errorf("%q: round trip gave %q", s, back)
		}
		if !utf8.ValidString(s) && !strings.Contains(back, "\ufffd") {
			t.Errorf("%q: invalid UTF-8 not replaced: %q", s, back)
		}
		// Same bytes as encoding/json without HTML escaping.
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if std := bytes.TrimSuffix(buf.Bytes(), []byte("\n")); !bytes.Equal(got, std) {
			t.Errorf("%q: got %s, encoding/json %s", s, got, std)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := map[string]string{
		"syntax":     `{"timestamp":`,
		"event_type": `{"event_type":"flow","timestamp":"2026-11-25T10:00:00.000000+0000"}`,
		"version":    `{"event_type":"alert","schema_version":99,"timestamp":"2026-11-25T10:00:00.000000+0000"}`,
		"time":       `{"event_type":"alert","schema_version":1,"timestamp":"yesterday"}`,
		"summary":    `{"event_type":"alert","timestamp":"2026-11-25T10:00:00.000000+0000","summary":{"first_seen":"x"}}`,
	}
	for name, in := range cases {
		if _, err := Decode([]byte(in)); err == nil {
			t.Errorf("%s: Decode(%s) succeeded", name, in)
		}
	}
	if _, err := Decode([]byte(cases["event_type"])); !errorsIs(err, ErrNotAlert) {
		t.Errorf("event_type: err = %v, want ErrNotAlert", err)
	}
	if _, err := Decode([]byte(cases["version"])); !errorsIs(err, ErrSchemaVersion) {
		t.Errorf("version: err = %v, want ErrSchemaVersion", err)
	}
}

func FuzzAppendJSON(f *testing.F) {
	f.Add("10.0.0.7:51234", "Telnet \"x\"", "msg\n", "tag", "to_source", "id-1", uint64(1), 42, -5)
	f.Add("\xff\xfe", "\x00\u2028", "\\", "", "", "", uint64(1<<63), -1, 1<<40)
	f.Fuzz(func(t *testing.T, sensor, sig, msg, tag, dir, id string, flow uint64, n, port int) {
		a := &Alert{
			Timestamp: time.Unix(int64(n), int64(port)).UTC(), Sensor: sensor, FlowID: flow,
			CommunityID: tag, PcapCnt: n, PcapFilename: msg, SrcIP: sig, SrcPort: port, DestIP: dir,
			DestPort: n, Proto: tag, Direction: dir, Action: id, GID: 1, SID: n, Rev: port,
			Signature: sig, Category: msg, Severity: n, SeverityWord: tag, Tags: []string{tag, sig},
			Message: msg, Injected: []Injected{{Direction: dir, Type: tag, Seq: uint32(n), Ack: uint32(port)}},
			Summary: &Summary{Count: n}, ID: id,
			Tunnel: &Tunnel{SrcIP: sig, SrcPort: port, DestIP: dir, DestPort: n, Proto: tag, Depth: n, PcapCnt: port},
		}
		out := a.AppendJSON(nil)
		if !json.Valid(out) {
			t.Fatalf("invalid JSON: %q", out)
		}
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatal(err)
		}
		if m["sensor"] != strings.ToValidUTF8(sensor, "\ufffd") && utf8.ValidString(sensor) {
			t.Fatalf("sensor %q decoded as %q", sensor, m["sensor"])
		}
	})
}

func BenchmarkAppendJSON(b *testing.B) {
	a := sampleAlert()
	a.Message = "telnet login attempt from 10.0.0.5"
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = a.AppendJSON(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkEncodeThroughSchema is the alternative to AppendJSON: the
// same bytes from encoding/json through eveRecord (the alert copied into
// one first), for the measurement that keeps the hand-written encoder.
func BenchmarkEncodeThroughSchema(b *testing.B) {
	a := sampleAlert()
	a.Message = "telnet login attempt from 10.0.0.5"
	var buf bytes.Buffer
	encode := func() {
		buf.Reset()
		r := eveRecord{
			Timestamp: a.Timestamp.Format(TimeLayout), EventType: "alert", SchemaVersion: SchemaVersion,
			Sensor: a.Sensor, FlowID: a.FlowID, CommunityID: a.CommunityID, PcapCnt: a.PcapCnt,
			PcapFilename: a.PcapFilename, SrcIP: a.SrcIP, SrcPort: a.SrcPort, DestIP: a.DestIP,
			DestPort: a.DestPort, Proto: a.Proto, Direction: a.Direction,
			Alert: eveAlert{Action: a.Action, GID: a.GID, SignatureID: a.SID, Rev: a.Rev,
				Signature: a.Signature, Category: a.Category, Severity: a.Severity},
			Vigil: eveVigil{Severity: a.SeverityWord, Message: a.Message, ID: a.ID, Injected: a.Injected},
		}
		if len(a.Tags) > 0 {
			r.Alert.Metadata = &eveMetadata{Tags: a.Tags}
		}
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(&r); err != nil {
			b.Fatal(err)
		}
	}
	encode()
	if got, want := bytes.TrimSuffix(buf.Bytes(), []byte("\n")), a.AppendJSON(nil); !bytes.Equal(got, want) {
		b.Fatalf("not the same bytes:\n%s\n%s", got, want)
	}
	b.ReportAllocs()
	for b.Loop() {
		encode()
	}
	b.SetBytes(int64(buf.Len()))
}

// TestOmittedKeys: as in Suricata's records, an ARP alert has no src_ip,
// dest_ip, proto or ports, an ICMP one no ports, and only a tunnelled
// packet's alert has a tunnel object, with pcap_cnt when known.
func TestOmittedKeys(t *testing.T) {
	keys := func(a *Alert) map[string]any {
		var m map[string]any
		if err := json.Unmarshal(a.AppendJSON(nil), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	arp := sampleAlert()
	arp.SrcIP, arp.DestIP, arp.Proto, arp.SrcPort, arp.DestPort = "", "", "", 0, 0
	arp.ARP = &ARP{Opcode: 1, SrcMAC: "18:60:24:8d:97:ba", SrcIP: "10.204.1.5", DestMAC: "00:00:00:00:00:00", DestIP: "0.0.0.0"}
	m := keys(arp)
	for _, k := range []string{"src_ip", "dest_ip", "proto", "src_port", "dest_port", "tunnel"} {
		if _, ok := m[k]; ok {
			t.Errorf("ARP alert has %s: %v", k, m)
		}
	}
	icmp := sampleAlert()
	icmp.Proto, icmp.SrcPort, icmp.DestPort = "ICMP", 0, 0
	m = keys(icmp)
	if _, ok := m["src_port"]; ok || m["src_ip"] != "10.0.0.5" || m["proto"] != "ICMP" {
		t.Errorf("ICMP alert: %v", m)
	}
	tun := sampleAlert()
	tun.Tunnel = &Tunnel{SrcIP: "203.0.113.1", DestIP: "203.0.113.2", Proto: "GRE", Depth: 2}
	m = keys(tun)
	want := map[string]any{"src_ip": "203.0.113.1", "src_port": 0.0, "dest_ip": "203.0.113.2", "dest_port": 0.0,
		"proto": "GRE", "depth": 2.0, "pkt_src": "wire/pcap"}
	if got, _ := m["tunnel"].(map[string]any); !reflect.DeepEqual(got, want) {
		t.Errorf("tunnel %v, want %v", m["tunnel"], want)
	}
	tun.Tunnel.PcapCnt = 9
	if got := keys(tun)["tunnel"].(map[string]any)["pcap_cnt"]; got != 9.0 {
		t.Errorf("tunnel.pcap_cnt %v, want 9", got)
	}
}
