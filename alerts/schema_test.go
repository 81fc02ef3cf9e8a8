package alerts

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ids/vigil/alerts/eveschema"
)

var update = flag.Bool("update", false, "rewrite "+goldenFile+" from goldenAlerts")

// goldenFile holds goldenAlerts encoded by AppendJSON, one per line.
const goldenFile = "testdata/alerts.golden.jsonl"

// goldenAlerts sets every field of Alert and every key of eveRecord at
// least once (TestGoldenCoverage checks it). Times have whole microseconds,
// the precision of TimeLayout.
func goldenAlerts() []*Alert {
	ts := time.Date(2026, 11, 25, 10, 0, 0, 123456000, time.UTC)
	return []*Alert{
		// A blocked TCP alert with everything but a summary, in a zone
		// east of UTC, with a flow hash above the int64 range.
		{
			Timestamp: ts.In(time.FixedZone("", 5*3600+1800)), Sensor: "10.0.0.7:51234",
			FlowID: 1<<63 + 5, CommunityID: "1:wCb3OG7yAFWelaUydu0D+125CLM=", PcapCnt: 42,
			PcapFilename: "captures/telnet.pcap", SrcIP: "10.0.0.5", SrcPort: 51000,
			DestIP: "10.0.0.9", DestPort: 23, Proto: "TCP", Direction: ToServer, NCFDirection: "in", Action: ActionBlocked,
			Flow: &Flow{PktsToServer: 4, PktsToClient: 3, BytesToServer: 280, BytesToClient: 194, Start: ts.Add(-time.Second).In(time.FixedZone("", 5*3600+1800)),
				SrcIP: "10.0.0.5", DestIP: "10.0.0.9", SrcPort: 51000, DestPort: 23},
			GID: 1, SID: 1000001, Rev: 3, Signature: "Telnet connection attempt",
			Category: "Attempted Administrator Privilege Gain", Severity: 1, Tags: []string{"telnet", "policy"},
			SeverityWord: "high", Message: "telnet login from 10.0.0.5",
			Injected: []Injected{
				{Direction: "to_source", Type: "tcp-rst", Seq: 1, Ack: 2},
				{Direction: "to_dest", Type: "tcp-rst", Seq: 4294967295, Ack: 0},
			},
			ID: ID("test", 1, 42, 1000001),
		},
		// The summary closing a de-duplication window: it carries the
		// window's first alert, stamped with the last match.
		{
			Timestamp: ts.Add(90 * time.Second), Sensor: "sv-dns.pcap", FlowID: 4294967297,
			CommunityID: "1:XtZWkJ8rNa7zoxie2V3yS1soMxY=", PcapCnt: 1, PcapFilename: "captures/sv-dns.pcap",
			SrcIP: "1.2.3.4", SrcPort: 5353, DestIP: "5.6.7.8", DestPort: 53, Proto: "UDP", Direction: ToServer,
			NCFDirection: "pass", AppProto: "dns", DNS: &DNS{ID: 4660, RRName: "example.com", RRType: "A"},
			Action: ActionAllowed, GID: 1, SID: 9000003, Rev: 1, Signature: "dns", Severity: 2,
			SeverityWord: "medium",
			Summary:      &Summary{Count: 1200, FirstSeen: ts, LastSeen: ts.Add(90 * time.Second)},
			ID:           SummaryID(ID("test", 1, 1, 9000003)),
		},
		// IPv6 ICMP: no ports, a zone west of UTC.
		{
			Timestamp: ts.In(time.FixedZone("", -(3*3600 + 1800))), Sensor: "lab", FlowID: 77,
			PcapCnt: 7, SrcIP: "2001:db8::1", DestIP: "ff02::1", Proto: "IPv6-ICMP", NCFDirection: "out",
			Action: ActionAllowed, GID: 1, SID: 2000010, Rev: 2, Signature: "ICMPv6 to all nodes",
			Category: "Misc activity", Severity: 4, SeverityWord: "info", Tags: []string{"icmpv6"},
			ID: ID("5f0c2a9e11d3", 3, 7, 2000010),
		},
		// ARP: no addresses, ports, protocol or flow.
		{
			Timestamp: ts, Sensor: "sv-arp-vlan.ncf", PcapCnt: 1, PcapFilename: "captures/sv-arp-vlan.ncf",
			NCFDirection: "pass", Action: ActionAllowed, GID: 1, SID: 2100419, Rev: 1,
			Signature: "ARP request for 0.0.0.0", Category: "Detection of a Non-Standard Protocol or Event",
			Severity: 3, SeverityWord: "low", Tags: []string{"arp", "anomaly"},
			Message: "ARP request for 0.0.0.0 from 10.204.1.5 (18:60:24:8d:97:ba)",
			ARP:     &ARP{Opcode: 1, SrcMAC: "18:60:24:8d:97:ba", SrcIP: "10.204.1.5", DestMAC: "00:00:00:00:00:00", DestIP: "0.0.0.0"},
			ID:      ID("test", 1, 1, 2100419),
		},
		// Strings that need escaping, and unicode, wherever a string goes.
		{
			Timestamp: ts, Sensor: "[::1]:9 \"lab\"", CommunityID: "1:a/b+c=", PcapCnt: 3,
			PcapFilename: `C:\captures\"odd" name.pcap`, SrcIP: "fe80::1%eth0", SrcPort: 1, DestIP: "fe80::2",
			DestPort: 65535, Proto: "TCP", Direction: ToClient, NCFDirection: "in", AppProto: "http",
			HTTP: &HTTP{Hostname: "ex\"ample", URL: "/a?b=\"c\"&d=<e>", UserAgent: "curl/8 ü\x01", ContentType: "text/html",
				Referer: "http://x/", Method: "GET", Protocol: "HTTP/1.1"},
			Action: ActionAllowed, GID: 1, SID: 3, Rev: 1,
			Signature: "quote \" backslash \\ <script>&</script> \u2028\u2029 tab\t",
			Category:  "日本語 カテゴリ", Severity: 1, Tags: []string{"ünïcode", "a\"b", "emoji 😀"},
			SeverityWord: "critical", Message: "line1\nline2\r\x00\x1f\x7f é",
			Injected: []Injected{{Direction: "to_source", Type: "icmp-unreach"}},
			ID:       "id \"quoted\" \\ é",
		},
		// An HTTP response, a TLS ClientHello, a DNS response.
		{
			Timestamp: ts, Sensor: "lab", FlowID: 9, PcapCnt: 12, SrcIP: "10.0.0.9", SrcPort: 80, DestIP: "10.0.0.5",
			DestPort: 51000, Proto: "TCP", Direction: ToClient, AppProto: "http", HTTP: &HTTP{Protocol: "HTTP/1.1", Status: 404},
			Action: ActionAllowed, GID: 1, SID: 4, Rev: 1, Signature: "not found", Severity: 3, SeverityWord: "low",
		},
		{
			Timestamp: ts, Sensor: "lab", FlowID: 10, PcapCnt: 4, SrcIP: "10.0.0.5", SrcPort: 51001, DestIP: "10.0.0.9",
			DestPort: 443, Proto: "TCP", Direction: ToServer, AppProto: "tls", TLS: &TLS{SNI: "example.org", Version: "TLS 1.2"},
			Action: ActionAllowed, GID: 1, SID: 5, Rev: 1, Signature: "sni", Severity: 3, SeverityWord: "low",
		},
		{
			Timestamp: ts, Sensor: "lab", FlowID: 11, PcapCnt: 2, SrcIP: "5.6.7.8", SrcPort: 53, DestIP: "1.2.3.4",
			DestPort: 5353, Proto: "UDP", Direction: ToClient, AppProto: "dns",
			DNS:    &DNS{Response: true, ID: 4660, RRName: "nope.example", RRType: "AAAA", Opcode: 2, Flags: 0x9583, Rcode: "NXDOMAIN"},
			Action: ActionAllowed, GID: 1, SID: 6, Rev: 1, Signature: "nxdomain", Severity: 3, SeverityWord: "low",
		},
		// TCP inside VXLAN: the tunnel object holds the outer UDP packet.
		{
			Timestamp: ts, Sensor: "vxlan.pcap", FlowID: 12, PcapCnt: 1, PcapFilename: "testdata/tunnels/vxlan.pcap",
			SrcIP: "192.0.2.10", SrcPort: 40004, DestIP: "198.51.100.20", DestPort: 80, Proto: "TCP", Direction: ToServer,
			Tunnel: &Tunnel{SrcIP: "203.0.113.1", SrcPort: 51000, DestIP: "203.0.113.2", DestPort: 4789, Proto: "UDP", Depth: 1, PcapCnt: 1},
			Action: ActionAllowed, GID: 1, SID: 91301, Rev: 1, Signature: "http SYN inside VXLAN", Severity: 3, SeverityWord: "low",
		},
		// Nothing but a time: every key that may be left out is.
		{Timestamp: time.Unix(0, 0).UTC()},
	}
}

// canonical returns a with its times in one representation (the instant
// and the zone offset), so reflect.DeepEqual compares what the JSON keeps.
func canonical(a Alert) Alert {
	canon := func(t time.Time) time.Time {
		_, off := t.Zone()
		return time.Unix(t.Unix(), int64(t.Nanosecond())).In(time.FixedZone("", off))
	}
	a.Timestamp = canon(a.Timestamp)
	if a.Flow != nil {
		f := *a.Flow
		f.Start = canon(f.Start)
		a.Flow = &f
	}
	if a.Summary != nil {
		s := *a.Summary
		s.FirstSeen, s.LastSeen = canon(s.FirstSeen), canon(s.LastSeen)
		a.Summary = &s
	}
	return a
}

// goldenLines returns the lines of goldenFile, rewriting it first from
// goldenAlerts with -update.
func goldenLines(t *testing.T) [][]byte {
	t.Helper()
	if *update {
		var b []byte
		for _, a := range goldenAlerts() {
			b = append(a.AppendJSON(b), '\n')
		}
		if err := os.WriteFile(goldenFile, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
}

// TestGoldenRoundTrip encodes goldenAlerts, compares the bytes with the
// golden file, and decodes the file back into the same alerts, field by
// field: a field that AppendJSON writes and Decode does not read (or the
// reverse) fails.
func TestGoldenRoundTrip(t *testing.T) {
	lines := goldenLines(t)
	want := goldenAlerts()
	if len(lines) != len(want) {
		t.Fatalf("%s has %d lines for %d alerts: run go test ./alerts -update", goldenFile, len(lines), len(want))
	}
	for i, a := range want {
		if got := a.AppendJSON(nil); !bytes.Equal(got, lines[i]) {
			t.Errorf("alert %d:\n got %s\nwant %s\n(go test ./alerts -update rewrites %s)", i, got, lines[i], goldenFile)
		}
		b, err := Decode(lines[i])
		if err != nil {
			t.Errorf("alert %d: Decode: %v", i, err)
			continue
		}
		if ca, cb := canonical(*a), canonical(*b); !reflect.DeepEqual(ca, cb) {
			t.Errorf("alert %d decodes differently:\n got %+v\nwant %+v", i, cb, ca)
		}
	}
}

// TestGoldenSchema holds the encoder to eveRecord: each golden line
// decodes into eveRecord with no unknown key and re-encodes through
// encoding/json to the same bytes (key order, omitted keys, escaping), and
// the lines together hold every key of eveRecord.
func TestGoldenSchema(t *testing.T) {
	seen := map[string]bool{}
	for i, line := range goldenLines(t) {
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		var r eveRecord
		if err := dec.Decode(&r); err != nil {
			t.Errorf("alert %d: %v", i, err)
			continue
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(&r); err != nil {
			t.Fatal(err)
		}
		if got := bytes.TrimSuffix(buf.Bytes(), []byte("\n")); !bytes.Equal(got, line) {
			t.Errorf("alert %d through eveRecord:\n got %s\nwant %s", i, got, line)
		}
		var v any
		if err := json.Unmarshal(line, &v); err != nil {
			t.Fatal(err)
		}
		jsonKeys(v, "", seen)
	}
	for _, k := range schemaKeys(reflect.TypeFor[eveRecord](), "") {
		if !seen[k] {
			t.Errorf("no golden alert has the key %s", k)
		}
	}
}

// jsonKeys adds the dotted path of every object key in v to seen (array
// elements share their array's path).
func jsonKeys(v any, prefix string, seen map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			seen[prefix+k] = true
			jsonKeys(e, prefix+k+".", seen)
		}
	case []any:
		for _, e := range v {
			jsonKeys(e, prefix, seen)
		}
	}
}

// schemaKeys returns the dotted path of every key that the struct type t
// encodes to, nested objects and array elements included.
func schemaKeys(t reflect.Type, prefix string) []string {
	var out []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		out = append(out, prefix+name)
		ft := f.Type
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct {
			out = append(out, schemaKeys(ft, prefix+name+".")...)
		}
	}
	return out
}

// TestGoldenCoverage checks that goldenAlerts sets every field of Alert,
// of its Injected elements and of its Summary, so the round trip covers
// them all.
func TestGoldenCoverage(t *testing.T) {
	set := map[string]bool{}
	var mark func(v reflect.Value, prefix string)
	mark = func(v reflect.Value, prefix string) {
		for i := range v.NumField() {
			f, name := v.Field(i), prefix+v.Type().Field(i).Name
			if !f.IsZero() {
				set[name] = true
			}
			switch {
			case f.Kind() == reflect.Pointer && !f.IsNil():
				mark(f.Elem(), name+".")
			case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct:
				for j := range f.Len() {
					mark(f.Index(j), name+".")
				}
			}
		}
	}
	for _, a := range goldenAlerts() {
		mark(reflect.ValueOf(a).Elem(), "")
	}
	var check func(typ reflect.Type, prefix string)
	check = func(typ reflect.Type, prefix string) {
		for f := range typ.Fields() {
			name := prefix + f.Name
			if !set[name] {
				t.Errorf("no golden alert sets %s", name)
			}
			if e := f.Type; (e.Kind() == reflect.Pointer || e.Kind() == reflect.Slice) && e.Elem().Kind() == reflect.Struct {
				check(e.Elem(), name+".")
			}
		}
	}
	check(reflect.TypeFor[Alert](), "")
}

// TestGoldenSuricataSchema validates the golden alerts against Suricata's
// EVE schema, leaving out the keys Vigil adds: every other key must be one
// the schema allows, with the schema's JSON type.
func TestGoldenSuricataSchema(t *testing.T) {
	schema, err := eveschema.Load("../" + eveschema.File)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s is absent", eveschema.File)
	}
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range goldenLines(t) {
		for _, problem := range schema.Check(line) {
			t.Errorf("alert %d: %s", i, problem)
		}
	}
}
