package stream

import (
	"regexp"
	"strings"
	"testing"
)

// messages feeds the segments (in order, toward the server) and returns,
// per segment, the messages it completed, joined by "|".
func messages(t *testing.T, sport, dport int, segs ...string) []string {
	t.Helper()
	r := New(Config{})
	r.Add(0, 1, true, &Segment{Seq: 0, SYN: true})
	seq := uint32(1)
	var out []string
	for _, s := range segs {
		r.Add(0, 1, true, &Segment{Seq: seq, Data: []byte(s)})
		seq += uint32(len(s))
		var got []string
		for {
			m, ok := r.NextMessage(sport, dport)
			if !ok {
				break
			}
			got = append(got, string(m))
		}
		out = append(out, strings.Join(got, "|"))
	}
	return out
}

func TestMessages(t *testing.T) {
	get := "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
	post := "POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\n"
	resp := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	tls := "\x16\x03\x01\x00\x04\x01\x00\x00\x00"
	tests := []struct {
		name         string
		sport, dport int
		segs         []string
		want         []string
	}{
		{"request line split", 40000, 80, []string{"GET /ad", "min/ HTTP/1.1\r\n", "Host: x\r\n\r\n"},
			[]string{"", "", "GET /admin/ HTTP/1.1\r\nHost: x\r\n\r\n"}},
		{"pipelined requests", 40000, 80, []string{get + get + "GET /b"},
			[]string{get + "|" + get}},
		{"body by length completes the message", 40000, 80, []string{post + "ab", "cde" + get},
			[]string{"", post + "|" + get}},
		{"chunked body", 80, 40000, []string{resp + "3\r\nabc\r\n", "0\r\n\r\n" + resp},
			[]string{"", resp}},
		{"chunked body with extension and trailer", 80, 40000, []string{resp + "3;x=y\r\nabc\r\n0\r\nT: v\r\n\r\n"},
			[]string{resp}},
		{"204 has no body", 80, 40000, []string{"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 N\r\n\r\n"},
			[]string{"HTTP/1.1 204 No Content\r\n\r\n|HTTP/1.1 304 N\r\n\r\n"}},
		{"body to the end of the connection", 80, 40000, []string{"HTTP/1.0 200 OK\r\n\r\nGET / HTTP/1.1\r\n\r\n"},
			[]string{"HTTP/1.0 200 OK\r\n\r\n"}},
		{"DNS over TCP", 40000, 53, []string{"\x00\x03ab", "c\x00\x01z\x00"},
			[]string{"", "\x00\x03abc|\x00\x01z"}},
		{"TLS handshake record split", 40000, 443, []string{tls[:3], tls[3:7], tls[7:] + "\x17\x03\x03\x00\x02"},
			[]string{"", "", tls}},
		{"TLS handshake message over two records", 40000, 443,
			[]string{"\x16\x03\x03\x00\x02\x01\x00", "\x16\x03\x03\x00\x03\x00\x01Z"},
			[]string{"", "\x16\x03\x03\x00\x05\x01\x00\x00\x01Z"}},
		{"TLS handshake messages sharing a record", 80, 40000,
			[]string{"\x16\x03\x03\x00\x08\x02\x00\x00\x00\x0e\x00\x00\x00"},
			[]string{"\x16\x03\x03\x00\x04\x02\x00\x00\x00|\x16\x03\x03\x00\x04\x0e\x00\x00\x00"}},
		{"TLS handshake records after ChangeCipherSpec are encrypted", 40000, 443,
			[]string{"\x14\x03\x03\x00\x01\x01\x16\x03\x03\x00\x04\x01\x00\x00\x09"},
			[]string{"\x14\x03\x03\x00\x01|\x16\x03\x03\x00\x04"}},
		{"TLS application data: header, after its body", 40000, 443, []string{"\x17\x03\x03\x00\x02x", "y"},
			[]string{"", "\x17\x03\x03\x00\x02"}},
		{"FTP lines", 40000, 21, []string{"USER a\r\nPA", "SS b\r\n"},
			[]string{"USER a\r\n", "PASS b\r\n"}},
		{"unknown protocol", 40000, 4444, []string{"\x00\x01binary", "GET / HTTP/1.1\r\n\r\n"},
			[]string{"", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := messages(t, tt.sport, tt.dport, tt.segs...)
			for i := range tt.want {
				if got[i] != tt.want[i] {
					t.Errorf("segment %d: messages %q, want %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// TestMessagesAfterGap checks that framing restarts after a gap.
func TestMessagesAfterGap(t *testing.T) {
	r := New(Config{})
	r.Add(0, 1, true, &Segment{Seq: 0, SYN: true})
	r.Add(0, 1, true, &Segment{Seq: 1, Data: []byte("GET /lost")})
	r.Add(0, 1, false, &Segment{Seq: 7, ACK: true, Ack: 100})
	r.Add(0, 1, true, &Segment{Seq: 50, Data: []byte("GET /b HTTP/1.1\r\n\r\n")})
	m, ok := r.NextMessage(40000, 80)
	if !ok || string(m) != "GET /b HTTP/1.1\r\n\r\n" {
		t.Fatalf("after the gap: %q %v", m, ok)
	}
	if r.Stats().Gaps != 1 {
		t.Errorf("stats %+v", r.Stats())
	}
}

// TestMessagesGapInBody checks that a gap inside a body of known length
// keeps the framing: the message with the hole is not handed out, the next
// one, starting inside a segment, is.
func TestMessagesGapInBody(t *testing.T) {
	first := "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab"
	next := "HTTP/1.1 404 X\r\nContent-Length: 0\r\n\r\n"
	r := New(Config{})
	r.Add(0, 1, false, &Segment{Seq: 0, SYN: true})
	r.Add(0, 1, false, &Segment{Seq: 1, Data: []byte(first)})
	if m, ok := r.NextMessage(80, 40000); ok {
		t.Fatalf("message %q before the body ended", m)
	}
	lost := uint32(1 + len(first))                                    // "cdef" never seen
	r.Add(0, 1, true, &Segment{Seq: 1, ACK: true, Ack: lost + 4 + 4}) // the client got it
	r.Add(0, 1, false, &Segment{Seq: lost + 4, Data: []byte("ghij" + next)})
	var got []string
	for {
		m, ok := r.NextMessage(80, 40000)
		if !ok {
			break
		}
		got = append(got, string(m))
	}
	if len(got) != 1 || got[0] != next {
		t.Errorf("messages %q, want only %q", got, next)
	}
}

// TestTLSGapInRecord checks that a gap inside a TLS record's body keeps
// the record framing: that record is not handed out, the next one is.
func TestTLSGapInRecord(t *testing.T) {
	first := "\x17\x03\x03\x00\x0aab" // 10 bytes of application data, 2 seen
	next := "\x15\x03\x03\x00\x02\x01\x00"
	r := New(Config{})
	r.Add(0, 1, true, &Segment{Seq: 0, SYN: true})
	r.Add(0, 1, true, &Segment{Seq: 1, Data: []byte(first)})
	if m, ok := r.NextMessage(40000, 443); ok {
		t.Fatalf("message %q before the record ended", m)
	}
	lost := uint32(1 + len(first))                                     // "cdef" never seen
	r.Add(0, 1, false, &Segment{Seq: 1, ACK: true, Ack: lost + 4 + 4}) // the server got it
	r.Add(0, 1, true, &Segment{Seq: lost + 4, Data: []byte("ghij" + next)})
	var got []string
	for {
		m, ok := r.NextMessage(40000, 443)
		if !ok {
			break
		}
		got = append(got, string(m))
	}
	if len(got) != 1 || got[0] != next[:5] {
		t.Errorf("messages %q, want only %q", got, next[:5])
	}
}

// TestHTTPHeadEnd: an HTTP head ends at its first LF followed by an LF,
// CRs between them ignored (as Wireshark's and Suricata's parsers take
// bare LF line ends), wherever the segments split it.
func TestHTTPHeadEnd(t *testing.T) {
	end := regexp.MustCompile("\n\r*\n")
	for _, head := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET / HTTP/1.1\nHost: x\n\n",
		"GET /\r HTTP/1.1\r\nA: \r\r\nB: c\n\r\r\n",
		"GET / HTTP/1.1\r\n\r\n",
		"GET /\n\n",
	} {
		want := head[:end.FindStringIndex(head)[1]]
		text := head + "GET /next HTTP/1.1\r\n"
		for cut := 1; cut < len(text); cut++ {
			got := strings.Join(messages(t, 40000, 80, text[:cut], text[cut:]), "")
			if got != want {
				t.Fatalf("%q cut at %d: messages %q, want %q", head, cut, got, want)
			}
		}
	}
}
