package capture

import (
	"bytes"
	"io"
	"os"
	"testing"
	"time"

	"github.com/vigil-ids/vigil/ncf"
)

func seedFiles(f *testing.F, max int) [][]byte {
	var out [][]byte
	for _, name := range []string{"sv-arp.ncf", "sv-arp.pcap", "zeek-http-dvwa.orig.pcapng",
		"sv-http-ipv6.orig-null.pcap", "sv-urgent11-cve-2019-12260.orig-sll.pcap"} {
		b, err := os.ReadFile(capturesDir + name)
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
	return append(out, buf.Bytes())
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

func FuzzOpen(f *testing.F) {
	for _, s := range seedFiles(f, 600) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := readStream(bytes.NewReader(data), nil)
		if err != nil {
			return
		}
		for range 1000 {
			rec, err := r.Next()
			if err != nil {
				if err != io.EOF && r.Format() == NCF && len(data) == 0 {
					t.Fatal("empty input detected as NCF")
				}
				return
			}
			if len(rec.Data) != rec.DataLen || rec.WireLen < rec.DataLen {
				t.Fatalf("inconsistent record: len %d DataLen %d WireLen %d", len(rec.Data), rec.DataLen, rec.WireLen)
			}
		}
	})
}
