package ncf

import (
	"io"
	"os"
	"testing"
	"time"
)

// loopReader repeats its stream forever, like a sensor that never stops.
type loopReader struct {
	b   []byte
	off int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := copy(p, l.b[l.off:])
	l.off = (l.off + n) % len(l.b)
	return n, nil
}

// benchRead reads realistic records (the records of a real TLS capture,
// repeated endlessly, mean ~1.4 kB) from memory; one op is one record.
func benchRead(b *testing.B, newReader func(io.Reader, ReaderConfig) *Reader, cfg ReaderConfig) {
	raw, err := os.ReadFile(capturesDir + "sv-tls-cert.ncf")
	if err != nil {
		b.Fatal(err)
	}
	r := newReader(&loopReader{b: raw}, cfg)
	var bytes int64
	for range 1000 { // warm up and measure the mean record size
		rec, err := r.Next()
		if err != nil {
			b.Fatal(err)
		}
		bytes += int64(HeaderLen + rec.DataLen)
	}
	b.SetBytes(bytes / 1000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := r.Next(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkReader reads records with UTC and with a non-UTC zone.
func BenchmarkReader(b *testing.B) {
	tokyo := time.FixedZone("JST", 9*3600)
	b.Run("peek", func(b *testing.B) { benchRead(b, NewReader, ReaderConfig{}) })
	b.Run("peek-zone", func(b *testing.B) { benchRead(b, NewReader, ReaderConfig{Location: tokyo}) })
}

func BenchmarkWriter(b *testing.B) {
	h := Header{Time: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	data := make([]byte, 554)
	w := NewWriter(io.Discard, nil)
	b.SetBytes(HeaderLen + 554)
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Write(&h, data); err != nil {
			b.Fatal(err)
		}
	}
}
