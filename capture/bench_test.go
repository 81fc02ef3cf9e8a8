package capture

import (
	"bytes"
	"io"
	"os"
	"testing"
)

// benchCapture reads a whole capture file from memory per iteration and
// reports records/s. Allocations per op are per file (reader set-up), not
// per record.
func benchCapture(b *testing.B, name string) {
	raw, err := os.ReadFile(capturesDir + name)
	if err != nil {
		b.Fatal(err)
	}
	src := bytes.NewReader(raw)
	records := 0
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		src.Reset(raw)
		r, err := readStream(src, nil)
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := r.Next(); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
			records++
		}
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(records)/float64(b.N), "records/op")
}

func BenchmarkReadCapture(b *testing.B) {
	b.Run("ncf", func(b *testing.B) { benchCapture(b, "sv-tls-cert.ncf") })
	b.Run("pcap", func(b *testing.B) { benchCapture(b, "sv-tls-cert.pcap") })
	b.Run("pcapng", func(b *testing.B) { benchCapture(b, "zeek-http-dvwa.orig.pcapng") })
	b.Run("sll-relinked", func(b *testing.B) { benchCapture(b, "sv-urgent11-cve-2019-12260.orig-sll.pcap") })
}
