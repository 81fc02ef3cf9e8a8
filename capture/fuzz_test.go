package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/vigil-ids/vigil/ncf"
)

func seedFiles(f *testing.F, max int) [][]byte {
	var out [][]byte
	for _, path := range []string{capturesDir + "sv-arp.ncf", capturesDir + "sv-arp.pcap", capturesDir + "zeek-http-dvwa.orig.pcapng",
		capturesDir + "sv-http-ipv6.orig-null.pcap", capturesDir + "sv-urgent11-cve-2019-12260.orig-sll.pcap",
		oddDir + "c12-radiotap-datapad.pcap", oddDir + "c14-truncated.pcap", oddDir + "c17-ncf-compressed.ncf"} {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b[:min(len(b), max)])
	}
	// A WiFi pcap with radiotap, written by this package.
	var buf bytes.Buffer
	w, _ := writeStream(&buf, PCAP, nil)
	w.Write(&ncf.Record{Header: ncf.Header{Time: time.Unix(1e9, 0), Medium: ncf.WiFi, Rate: 2, Channel: 1, SignalDBm: 50, Broken: true}, Data: []byte{8, 0, 0, 0}})
	w.Close()
	out = append(out, buf.Bytes())
	// Records whose framing is lost: a pcap capture length above the
	// maximum, garbage between pcapng blocks, a bad NCF header.
	eth := bytes.Repeat([]byte{0x45}, 40)
	lost := pcapFile(1, eth, eth, eth)
	binary.LittleEndian.PutUint32(lost[pcapFileHdrLen+pcapRecHdrLen+len(eth)+8:], 0x7FFFFFFF)
	ng := bytes.Join([][]byte{shb, idb(1), epb(0, 1, eth), {1, 2, 3, 4, 5, 6, 7, 8}, epb(0, 2, eth), epb(5, 3, eth)}, nil)
	ncfBad := append([]byte{}, out[0][:min(len(out[0]), 200)]...)
	if len(ncfBad) > 30 {
		ncfBad[4] = 3
	}
	return append(out, lost, ng, ncfBad)
}

func FuzzDetect(f *testing.F) {
	for _, s := range seedFiles(f, 64) {
		f.Add(s)
	}
	f.Add([]byte{0x1f, 0x8b, 8, 0})
	f.Fuzz(func(t *testing.T, head []byte) {
		format, err := Detect(head)
		if err == nil && format == NCF {
			if _, herr := ncf.CheckHeader(head); herr != nil {
				t.Fatalf("detected NCF from an invalid header: %v", herr)
			}
		}
	})
}

// FuzzOpen reads arbitrary input as a capture to its end and checks that
// the reader never panics, never loops (every call consumes input until
// io.EOF), returns consistent records, numbers and places its skips in
// order, and at io.EOF has consumed the whole input. Only *BadRecord and
// io.EOF may come out of an in-memory input.
func FuzzOpen(f *testing.F) {
	for _, s := range seedFiles(f, 600) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := readStream(bytes.NewReader(data), nil)
		if err != nil {
			return
		}
		var records int64
		last := r.Offset()
		for {
			rec, err := r.Next()
			var bad *BadRecord
			switch {
			case err == io.EOF:
				if r.Offset() != int64(len(data)) {
					t.Fatalf("io.EOF at offset %d of %d bytes", r.Offset(), len(data))
				}
				if _, err := r.Next(); err != io.EOF {
					t.Fatalf("after io.EOF: %v", err)
				}
				return
			case errors.As(err, &bad):
				records++
				if bad.Record != records || bad.Offset < last || bad.Len < 1 || bad.Offset+bad.Len > r.Offset() || bad.Reason == "" {
					t.Fatalf("skip %+v after record %d at offset %d (now %d)", bad, records-1, last, r.Offset())
				}
			case err != nil:
				t.Fatalf("unexpected error %v", err)
			default:
				records++
				if len(rec.Data) != rec.DataLen || rec.WireLen < 0 {
					t.Fatalf("inconsistent record: len %d DataLen %d WireLen %d", len(rec.Data), rec.DataLen, rec.WireLen)
				}
			}
			if r.Offset() <= last || r.Offset() > int64(len(data)) {
				t.Fatalf("offset %d after %d, of %d bytes", r.Offset(), last, len(data))
			}
			last = r.Offset()
		}
	})
}
