package engine

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ids/vigil/ncf"
	"github.com/vigil-ids/vigil/rules"
)

// TestStreamLiteralAfterOutOfOrder: a segment that fills a hole makes a
// stream view holding the queued segment after its own payload, so the
// view does not end with the payload (field.Meta.StreamTail false) and
// the prefilter must look at all of it: a stream literal at the end of
// the queued segment alerts on the filling segment, as on in-order data.
func TestStreamLiteralAfterOutOfOrder(t *testing.T) {
	const syn, ack, psh = 0x02, 0x10, 0x08
	first := strings.Repeat("a", 30)
	queued := strings.Repeat("b", 33) + "KEYWORD"
	frames := [][]byte{
		tcpFrame(0, syn, ""),
		tcpFrame(1+uint32(len(first)), ack|psh, queued), // out of order: queued
		tcpFrame(1, ack|psh, first),                     // fills the hole
		tcpFrame(1, ack|psh, first+queued),              // the same bytes again, in one segment, on another flow
	}
	path := filepath.Join(t.TempDir(), "ooo.ncf")
	var buf bytes.Buffer
	w := ncf.NewWriter(&buf, time.UTC)
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for i, f := range frames {
		if i == 3 { // another flow: source port 40001
			binary.BigEndian.PutUint16(f[34:], 40001)
		}
		h := ncf.Header{Time: t0.Add(time.Duration(i) * time.Millisecond), Medium: ncf.Ethernet, DataLen: len(f), SourceDataLen: len(f), WireLen: len(f)}
		if err := w.Write(&h, f); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// More literals than the prefilter looks for one by one, so that it
	// scans the texts.
	yaml := "rules:\n"
	for i, lit := range []string{"KEYWORD", "nothing1", "nothing2", "nothing3", "nothing4", "nothing5"} {
		yaml += fmt.Sprintf("  - {sid: %d, name: r%d, condition: 'tcp.reassembled.data contains %q'}\n", i+1, i+1, lit)
	}
	set, err := rules.Parse("ooo.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	if got := caseFrames(t, set, 1, path, time.UTC)["1"]; !slices.Equal(got, []int{3, 4}) {
		t.Fatalf("alerts on frames %v, want [3 4] (the hole filled, and the whole segment)", got)
	}
}

// tcpFrame is an Ethernet, IPv4 and TCP frame from 10.0.0.1:40000 to
// 10.0.0.2:80 with sequence number seq (the client's initial one is 0),
// the TCP flags and payload. Checksums are left zero: Vigil does not
// check them.
func tcpFrame(seq uint32, flags byte, payload string) []byte {
	f := make([]byte, 14+20+20, 14+20+20+len(payload))
	f[12], f[13] = 0x08, 0x00
	ip := f[14:]
	ip[0], ip[8], ip[9] = 0x45, 64, 6
	binary.BigEndian.PutUint16(ip[2:], uint16(20+20+len(payload)))
	copy(ip[12:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
	tcp := f[34:]
	binary.BigEndian.PutUint16(tcp[0:], 40000)
	binary.BigEndian.PutUint16(tcp[2:], 80)
	binary.BigEndian.PutUint32(tcp[4:], seq)
	tcp[12], tcp[13] = 5<<4, flags
	binary.BigEndian.PutUint16(tcp[14:], 65535)
	return append(f, payload...)
}
