package ncf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"testing"
	"testing/iotest"
	"time"
)

const capturesDir = "../testdata/captures/"

// validHeader returns a valid Ethernet header for a body of n bytes.
func validHeader(n int) []byte {
	b := make([]byte, HeaderLen)
	binary.LittleEndian.PutUint16(b[0:], uint16(n))
	binary.LittleEndian.PutUint16(b[2:], uint16(n))
	binary.LittleEndian.PutUint16(b[5:], 2026)
	b[7], b[8], b[9], b[10], b[11] = 11, 25, 10, 0, 0
	binary.LittleEndian.PutUint32(b[12:], 123456)
	return b
}

func TestHostileHeaders(t *testing.T) {
	tests := []struct {
		name  string
		mod   func(b []byte)
		field string
		value int64
	}{
		{"version", func(b []byte) { b[4] = 1 }, "version", 1},
		{"month 0", func(b []byte) { b[7] = 0 }, "month", 0},
		{"month 13", func(b []byte) { b[7] = 13 }, "month", 13},
		{"day 0", func(b []byte) { b[8] = 0 }, "day", 0},
		{"day 32", func(b []byte) { b[8] = 32 }, "day", 32},
		{"hours 24", func(b []byte) { b[9] = 24 }, "hours", 24},
		{"minutes 60", func(b []byte) { b[10] = 60 }, "minutes", 60},
		{"seconds 61", func(b []byte) { b[11] = 61 }, "seconds", 61},
		{"usecs 1e6", func(b []byte) { binary.LittleEndian.PutUint32(b[12:], 1000000) }, "microseconds", 1000000},
		{"usecs max", func(b []byte) { binary.LittleEndian.PutUint32(b[12:], 0xFFFFFFFF) }, "microseconds", 0xFFFFFFFF},
		{"reserved flag", func(b []byte) { b[16] = 0x80 }, "flags", 0x80},
		{"medium 3", func(b []byte) { b[16] = 3 }, "medium", 3},
		{"medium 15", func(b []byte) { b[16] = 0x1F }, "medium", 15},
		{"source < data", func(b []byte) { binary.LittleEndian.PutUint16(b[2:], 9) }, "source_data_len", 9},
	}
	prefix := append(validHeader(4), 1, 2, 3, 4) // one good record first
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := validHeader(10)
			tt.mod(h)
			stream := append(append(append([]byte{}, prefix...), h...), make([]byte, 10)...)
			r := NewReader(bytes.NewReader(stream), ReaderConfig{})
			if _, err := r.Next(); err != nil {
				t.Fatalf("first record: %v", err)
			}
			_, err := r.Next()
			var he *HeaderError
			if !errors.As(err, &he) {
				t.Fatalf("got %v, want *HeaderError", err)
			}
			if he.Field != tt.field || he.Value != tt.value || he.Offset != int64(len(prefix)) {
				t.Fatalf("got field %q value %d offset %d, want %q %d %d", he.Field, he.Value, he.Offset, tt.field, tt.value, len(prefix))
			}
			if _, err2 := r.Next(); err2 != err {
				t.Fatalf("error not sticky: %v then %v", err, err2)
			}
		})
	}
}

func TestMaxDataLenCap(t *testing.T) {
	stream := append(validHeader(100), make([]byte, 100)...)
	r := NewReader(bytes.NewReader(stream), ReaderConfig{MaxDataLen: 99})
	_, err := r.Next()
	var he *HeaderError
	if !errors.As(err, &he) || he.Field != "data_len" || he.Value != 100 {
		t.Fatalf("got %v, want data_len HeaderError", err)
	}
	r = NewReader(bytes.NewReader(stream), ReaderConfig{MaxDataLen: 100})
	if rec, err := r.Next(); err != nil || len(rec.Data) != 100 {
		t.Fatalf("at the cap: %v", err)
	}
}

func TestAcceptedEdgeValues(t *testing.T) {
	h := validHeader(0) // empty body is readable, as in Wireshark
	h[11] = 60          // leap second
	h[16] = 0x40 | 0x20 | 0x10 | 1
	binary.LittleEndian.PutUint16(h[2:], 0) // compressed: source may be anything
	r := NewReader(bytes.NewReader(h), ReaderConfig{})
	rec, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Compressed || !rec.Broken || !rec.Decrypted || rec.Medium != WiFi || len(rec.Data) != 0 {
		t.Fatalf("flags not decoded: %+v", rec.Header)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("want io.EOF, got %v", err)
	}
}

func TestHeaderFields(t *testing.T) {
	h := validHeader(3)
	h[16] = 1 // WiFi
	h[17], h[18], h[19], h[20], h[21], h[22], h[23] = 77, 0x2C, Band11N5GHz, 36, 0x01, 45, 95
	loc := time.FixedZone("X", 3*3600)
	rec, err := NewReader(bytes.NewReader(append(h, 9, 8, 7)), ReaderConfig{Location: loc}).Next()
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 11, 25, 7, 0, 0, 123456000, time.UTC)
	if !rec.Time.Equal(want) {
		t.Fatalf("time %v, want %v", rec.Time.UTC(), want)
	}
	if rec.Rate != 0x012C || rec.RateMbps() != 150 || rec.Direction != Pass {
		t.Fatalf("rate %d (%v Mbps) dir %v", rec.Rate, rec.RateMbps(), rec.Direction)
	}
	if rec.SignalPercent != 77 || rec.Band != Band11N5GHz || rec.Channel != 36 || rec.SignalDBm != 45 || rec.NoiseDBm != 95 {
		t.Fatalf("radio fields %+v", rec.Header)
	}
	if !bytes.Equal(rec.Data, []byte{9, 8, 7}) || rec.WireLen != 3 || rec.DataLen != 3 {
		t.Fatalf("data %v wirelen %d", rec.Data, rec.WireLen)
	}

	h = validHeader(1)
	h[18], h[21] = 5, 2 // Ethernet: byte 21 is the direction
	rec, err = NewReader(bytes.NewReader(append(h, 1)), ReaderConfig{}).Next()
	if err != nil {
		t.Fatal(err)
	}
	if rec.Direction != Out || rec.Direction.String() != "out" || rec.Rate != 5 || rec.Medium.String() != "ethernet" {
		t.Fatalf("ethernet fields %+v", rec.Header)
	}
}

// loadStream returns the first n records of a real capture as raw bytes.
func loadStream(t testing.TB, name string, n int) []byte {
	t.Helper()
	raw, err := os.ReadFile(capturesDir + name)
	if err != nil {
		t.Fatal(err)
	}
	off := 0
	for i := 0; i < n && off+HeaderLen <= len(raw); i++ {
		off += HeaderLen + int(binary.LittleEndian.Uint16(raw[off:]))
	}
	return raw[:off]
}

type rec struct {
	data []byte
	t    time.Time
}

func readAll(r *Reader) ([]rec, error) {
	var out []rec
	for {
		x, err := r.Next()
		if err != nil {
			return out, err
		}
		if len(x.Data) != x.DataLen {
			panic("inconsistent record")
		}
		out = append(out, rec{bytes.Clone(x.Data), x.Time})
	}
}

func sameRecords(t *testing.T, got, want []rec) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i].data, want[i].data) || !got[i].t.Equal(want[i].t) {
			t.Fatalf("record %d differs", i)
		}
	}
}

// chunkReader delivers its input in chunks of the given sizes (cycled),
// like a socket.
type chunkReader struct {
	b     []byte
	sizes []int
	i     int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := 1
	if len(c.sizes) > 0 {
		n = c.sizes[c.i%len(c.sizes)]
		c.i++
	}
	n = max(1, min(n, len(p), len(c.b)))
	copy(p, c.b[:n])
	c.b = c.b[n:]
	return n, nil
}

func TestSplitReads(t *testing.T) {
	stream := loadStream(t, "sv-telnet.ncf", 8)
	want, err := readAll(NewReader(bytes.NewReader(stream), ReaderConfig{}))
	if err != io.EOF || len(want) != 8 {
		t.Fatalf("reference read: %d records, %v", len(want), err)
	}
	readers := map[string]func() io.Reader{
		"onebyte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(stream)) },
		"half":    func() io.Reader { return iotest.HalfReader(bytes.NewReader(stream)) },
		"dataerr": func() io.Reader { return iotest.DataErrReader(bytes.NewReader(stream)) },
		"chunks":  func() io.Reader { return &chunkReader{b: stream, sizes: []int{7, 1, 23, 24, 25, 300, 2}} },
		"timeout": func() io.Reader { return iotest.TimeoutReader(iotest.OneByteReader(bytes.NewReader(stream))) },
	}
	for name, mk := range readers {
		r := NewReader(mk(), ReaderConfig{})
		got, err := readAll(r)
		if name == "timeout" {
			// The second read fails: no record can complete.
			if !errors.Is(err, iotest.ErrTimeout) {
				t.Fatalf("%s: got %v", name, err)
			}
			continue
		}
		if err != io.EOF {
			t.Fatalf("%s: %v", name, err)
		}
		sameRecords(t, got, want)
		if r.Offset() != int64(len(stream)) || r.Records() != 8 {
			t.Fatalf("%s: offset %d records %d", name, r.Offset(), r.Records())
		}
	}
	// Every split point into two chunks.
	for i := 1; i < len(stream); i++ {
		r := NewReader(io.MultiReader(bytes.NewReader(stream[:i]), bytes.NewReader(stream[i:])), ReaderConfig{})
		got, err := readAll(r)
		if err != io.EOF {
			t.Fatalf("split %d: %v", i, err)
		}
		sameRecords(t, got, want)
	}
}

func TestTruncationAtEveryLength(t *testing.T) {
	stream := loadStream(t, "sv-arp.ncf", 3)
	bounds := map[int]int{0: 0}
	off := 0
	for k := 1; off < len(stream); k++ {
		off += HeaderLen + int(binary.LittleEndian.Uint16(stream[off:]))
		bounds[off] = k
	}
	for n := 0; n <= len(stream); n++ {
		r := NewReader(iotest.OneByteReader(bytes.NewReader(stream[:n])), ReaderConfig{})
		got, err := readAll(r)
		if k, ok := bounds[n]; ok {
			if err != io.EOF || len(got) != k {
				t.Fatalf("len %d: %d records, %v; want %d, io.EOF", n, len(got), err, k)
			}
			continue
		}
		if !errors.Is(err, ErrTruncated) || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("len %d: got %v, want ErrTruncated", n, err)
		}
	}
}

func TestNoAllocations(t *testing.T) {
	stream := bytes.Repeat(loadStream(t, "sv-telnet.ncf", 20), 50)
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		tokyo = time.FixedZone("JST", 9*3600)
	}
	for _, loc := range []*time.Location{nil, tokyo} {
		br := bytes.NewReader(stream)
		r := NewReader(br, ReaderConfig{Location: loc})
		allocs := testing.AllocsPerRun(500, func() {
			if _, err := r.Next(); err != nil {
				br.Reset(stream)
				r = NewReader(br, ReaderConfig{Location: loc})
			}
		})
		// A new Reader each 1000 records is amortised below 1.
		if allocs >= 1 {
			t.Fatalf("loc %v: %.2f allocs per record", loc, allocs)
		}
	}
}
