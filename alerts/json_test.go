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

func TestAppendJSONLayout(t *testing.T) {
	got := string(sampleAlert().AppendJSON(nil))
	want := `{"timestamp":"2026-11-25T10:00:00.123456+0000","event_type":"alert","schema_version":1,` +
		`"sensor":"10.0.0.7:51234","flow_id":1234567890,"pcap_cnt":42,"src_ip":"10.0.0.5","src_port":51000,` +
		`"dest_ip":"10.0.0.9","dest_port":23,"proto":"TCP","direction":"in",` +
		`"alert":{"action":"allowed","gid":1,"signature_id":1000001,"rev":1,"signature":"Telnet connection attempt",` +
		`"category":"","severity":1,"metadata":{"tags":["telnet","policy"]}},` +
		`"vigil":{"severity":"high","id":"s1-42"}}`
	if got != want {
		t.Fatalf("AppendJSON:\n got %s\nwant %s", got, want)
	}
}

func TestAppendJSONOptionalKeys(t *testing.T) {
	cases := []struct {
		name    string
		edit    func(a *Alert)
		present []string
		absent  []string
	}{
		{"minimal", func(a *Alert) { a.Tags = nil; a.ID = "" },
			nil, []string{`"metadata"`, `"community_id"`, `"pcap_filename"`, `"message"`, `"injected"`, `"summary"`, `"id"`}},
		{"offline", func(a *Alert) { a.PcapFilename = "x.pcap"; a.CommunityID = "1:abc=" },
			[]string{`"community_id":"1:abc=","pcap_cnt":42,"pcap_filename":"x.pcap","src_ip"`}, nil},
		{"message", func(a *Alert) { a.Message = "login from 10.0.0.5" },
			[]string{`"vigil":{"severity":"high","message":"login from 10.0.0.5","id":"s1-42"}`}, nil},
		{"blocked", func(a *Alert) {
			a.Action = ActionBlocked
			a.Injected = []Injected{{"to_source", "tcp-rst", 1, 2}, {"to_dest", "tcp-rst", 4294967295, 0}}
		}, []string{`"action":"blocked"`, `"injected":[{"direction":"to_source","type":"tcp-rst","seq":1,"ack":2},{"direction":"to_dest","type":"tcp-rst","seq":4294967295,"ack":0}]}`}, nil},
		{"summary", func(a *Alert) {
			a.Summary = &Summary{Count: 7, FirstSeen: a.Timestamp, LastSeen: a.Timestamp.Add(90 * time.Second)}
		}, []string{`,"summary":{"count":7,"first_seen":"2026-11-25T10:00:00.123456+0000","last_seen":"2026-11-25T10:01:30.123456+0000"}}`}, nil},
		{"zone", func(a *Alert) { a.Timestamp = a.Timestamp.In(time.FixedZone("", 5*3600+1800)) },
			[]string{`"timestamp":"2026-11-25T15:30:00.123456+0530"`}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := sampleAlert()
			tc.edit(a)
			out := string(a.AppendJSON(nil))
			if !json.Valid([]byte(out)) {
				t.Fatalf("invalid JSON: %s", out)
			}
			for _, p := range tc.present {
				if !strings.Contains(out, p) {
					t.Errorf("missing %s in %s", p, out)
				}
			}
			for _, p := range tc.absent {
				if strings.Contains(out, p) {
					t.Errorf("unexpected %s in %s", p, out)
				}
			}
		})
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

func TestDecodeRoundTrip(t *testing.T) {
	full := sampleAlert()
	full.CommunityID = "1:wCb3OG7yAFWelaUydu0D+125CLM="
	full.PcapFilename = "captures/a \"b\".pcap"
	full.Message = "user \x01 said \"hi\"\n"
	full.Category = "Attempted Admin"
	full.Injected = []Injected{{"to_source", "icmp-unreach", 0, 0}}
	full.Summary = &Summary{Count: 3, FirstSeen: full.Timestamp.Add(-time.Minute), LastSeen: full.Timestamp}
	for name, a := range map[string]*Alert{"sample": sampleAlert(), "full": full, "zero": {Timestamp: time.Unix(0, 0).UTC()}} {
		t.Run(name, func(t *testing.T) {
			data := a.AppendJSON(nil)
			b, err := Decode(data)
			if err != nil {
				t.Fatalf("Decode(%s): %v", data, err)
			}
			if !b.Timestamp.Equal(a.Timestamp) {
				t.Errorf("timestamp %v, want %v", b.Timestamp, a.Timestamp)
			}
			// Compare everything else with times normalised.
			na, nb := *a, *b
			na.Timestamp, nb.Timestamp = time.Time{}, time.Time{}
			if a.Summary != nil {
				if !b.Summary.FirstSeen.Equal(a.Summary.FirstSeen) || !b.Summary.LastSeen.Equal(a.Summary.LastSeen) {
					t.Errorf("summary times %+v, want %+v", b.Summary, a.Summary)
				}
				sa, sb := *a.Summary, *b.Summary
				sa.FirstSeen, sa.LastSeen, sb.FirstSeen, sb.LastSeen = time.Time{}, time.Time{}, time.Time{}, time.Time{}
				na.Summary, nb.Summary = &sa, &sb
			}
			if !reflect.DeepEqual(na, nb) {
				t.Errorf("round trip:\n got %+v\nwant %+v", nb, na)
			}
			if again := b.AppendJSON(nil); !bytes.Equal(again, data) {
				t.Errorf("re-encoding differs:\n%s\n%s", again, data)
			}
		})
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

func BenchmarkJSONMarshal(b *testing.B) {
	a := sampleAlert()
	a.Message = "telnet login attempt from 10.0.0.5"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(a); err != nil {
			b.Fatal(err)
		}
	}
}
