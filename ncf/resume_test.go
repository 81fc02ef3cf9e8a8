package ncf

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
)

// step is one outcome of Next: a record's first data byte, or a skip.
type step struct {
	skip   bool
	off    int64 // SkipError.Offset
	n      int64 // SkipError.Len
	resync bool
	first  byte // first data byte of a record
}

// resumeAll reads data with Resume and returns every outcome and the
// final error.
func resumeAll(t *testing.T, data []byte) ([]step, *Reader, error) {
	t.Helper()
	r := NewReader(bytes.NewReader(data), ReaderConfig{Resume: true})
	var out []step
	for {
		rec, err := r.Next()
		var se *SkipError
		switch {
		case errors.As(err, &se):
			out = append(out, step{skip: true, off: se.Offset, n: se.Len, resync: se.Resync})
		case err != nil:
			return out, r, err
		default:
			out = append(out, step{first: rec.Data[0]})
		}
	}
}

// record returns a valid record whose body is n bytes of b.
func record(n int, b byte) []byte {
	return append(validHeader(n), bytes.Repeat([]byte{b}, n)...)
}

func TestResume(t *testing.T) {
	bad := record(10, 2)
	bad[7] = 13 // month 13: the header is refused, its data_len is fine
	garbage := []byte{0xFF, 1, 2, 3, 0, 0, 0}
	cut := record(10, 9)[:20]
	tests := []struct {
		name string
		data []byte
		want []step
		err  error
	}{
		{"bad field, data_len kept", cat(record(4, 1), bad, record(5, 3)),
			[]step{{first: 1}, {skip: true, off: 28, n: 34}, {first: 3}}, io.EOF},
		{"bad field last", cat(record(4, 1), bad),
			[]step{{first: 1}, {skip: true, off: 28, n: 34}}, io.EOF},
		{"garbage between records", cat(record(4, 1), garbage, record(5, 3), record(6, 4)),
			[]step{{first: 1}, {skip: true, off: 28, n: 7, resync: true}, {first: 3}, {first: 4}}, io.EOF},
		{"garbage at the end", cat(record(4, 1), garbage, garbage, garbage, garbage),
			[]step{{first: 1}, {skip: true, off: 28, n: 28, resync: true}}, io.EOF},
		{"a short tail is a truncated header", cat(record(4, 1), garbage), []step{{first: 1}}, ErrTruncated},
		{"truncated record", cat(record(4, 1), cut), []step{{first: 1}}, ErrTruncated},
		{"all zeros", make([]byte, 100), []step{{skip: true, n: 100, resync: true}}, io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, r, err := resumeAll(t, tt.data)
			if !errors.Is(err, tt.err) {
				t.Fatalf("ends with %v, want %v", err, tt.err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("step %d: got %+v, want %+v", i, got[i], tt.want[i])
				}
			}
			if err == io.EOF && r.Offset() != int64(len(tt.data)) {
				t.Fatalf("offset %d at the end of %d bytes", r.Offset(), len(tt.data))
			}
		})
	}
}

// TestResumeRealCapture corrupts one byte in the middle of a real capture:
// every record but the one hit is still read.
func TestResumeRealCapture(t *testing.T) {
	stream := loadStream(t, "sv-telnet.ncf", 40)
	want, err := readAll(NewReader(bytes.NewReader(stream), ReaderConfig{}))
	if err != io.EOF {
		t.Fatal(err)
	}
	off := 0
	for range 20 {
		off += HeaderLen + int(stream[off]) + int(stream[off+1])<<8
	}
	bad := bytes.Clone(stream)
	bad[off+4] = 7 // version of record 21
	got, _, err := resumeAll(t, bad)
	if err != io.EOF || len(got) != len(want) || !got[20].skip || got[20].resync {
		t.Fatalf("%d steps, %v; want %d with record 21 skipped by its data_len", len(got), err, len(want))
	}
	bad[off] ^= 0x55 // and its data_len: resynchronised at record 22
	got, _, err = resumeAll(t, bad)
	if err != io.EOF || len(got) != len(want) || !got[20].skip || !got[20].resync || got[20].n != int64(HeaderLen+len(want[20].data)) {
		t.Fatalf("%d steps (%+v), %v; want record 21 skipped by resynchronising", len(got), got[20], err)
	}
}

func TestStrictReaderStops(t *testing.T) {
	bad := record(10, 2)
	bad[7] = 13
	r := NewReader(bytes.NewReader(cat(bad, record(4, 1))), ReaderConfig{})
	_, err := r.Next()
	var he *HeaderError
	if !errors.As(err, &he) {
		t.Fatalf("got %v, want a *HeaderError", err)
	}
	if _, err2 := r.Next(); err2 != err {
		t.Fatalf("not sticky: %v", err2)
	}
}

// TestCompressedRecord reads case c17: a record flagged compressed, then
// the same frame uncompressed. The compressed one keeps its body and
// reports the frame's original length.
func TestCompressedRecord(t *testing.T) {
	data, err := os.ReadFile("../testdata/cases/c17-ncf-compressed.ncf")
	if err != nil {
		t.Fatal(err)
	}
	r := NewReader(bytes.NewReader(data), ReaderConfig{})
	first, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if !first.Compressed || first.WireLen != first.SourceDataLen || first.WireLen <= first.DataLen {
		t.Fatalf("compressed record: %+v", first.Header)
	}
	wire := first.WireLen
	second, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if second.Compressed || second.DataLen != wire || second.WireLen != wire {
		t.Fatalf("plain record: %+v, want %d bytes", second.Header, wire)
	}
}

func TestPlausible(t *testing.T) {
	h, err := CheckHeader(validHeader(0))
	if err != nil || !h.Plausible() {
		t.Fatalf("a 2026 header: %v, plausible %v", err, h.Plausible())
	}
	b := validHeader(0)
	b[5], b[6] = 0xB0, 0x04 // year 1200
	if h, _ := CheckHeader(b); h.Plausible() {
		t.Fatal("year 1200 is plausible")
	}
	b = validHeader(0)
	b[17] = 101
	if h, _ := CheckHeader(b); h.Plausible() {
		t.Fatal("signal 101% is plausible")
	}
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
