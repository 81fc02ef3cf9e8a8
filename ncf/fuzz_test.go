package ncf

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzReader feeds arbitrary bytes through a reader that splits them into
// chunks whose sizes come from the input's first bytes, and checks that the
// reader never panics, returns consistent records, and ends with io.EOF, a
// truncation or a *HeaderError.
func FuzzReader(f *testing.F) {
	real := loadStream(f, "sv-arp.ncf", 4)
	f.Add([]byte{1, 5}, real)
	f.Add([]byte{}, real)
	f.Add([]byte{24, 24, 3}, loadStream(f, "sv-telnet.ncf", 3))
	f.Add([]byte{2}, real[:len(real)-7])
	f.Add([]byte{}, append(validHeader(2), 1, 2, 0xFF))
	f.Add([]byte{}, bytes.Repeat([]byte{0xFF}, 64))
	f.Fuzz(func(t *testing.T, split, data []byte) {
		sizes := make([]int, len(split))
		for i, s := range split {
			sizes[i] = int(s) + 1
		}
		r := NewReader(&chunkReader{b: data, sizes: sizes}, ReaderConfig{})
		var consumed int64
		for {
			rec, err := r.Next()
			if err != nil {
				var he *HeaderError
				switch {
				case err == io.EOF:
					if consumed != int64(len(data)) {
						t.Fatalf("io.EOF after %d of %d bytes", consumed, len(data))
					}
				case errors.Is(err, ErrTruncated), errors.As(err, &he):
				default:
					t.Fatalf("unexpected error %v", err)
				}
				break
			}
			if len(rec.Data) != rec.DataLen || rec.DataLen > MaxDataLen || rec.WireLen != rec.DataLen {
				t.Fatalf("inconsistent record: len %d DataLen %d", len(rec.Data), rec.DataLen)
			}
			if !bytes.Equal(rec.Data, data[consumed+HeaderLen:consumed+HeaderLen+int64(rec.DataLen)]) {
				t.Fatal("record data does not match the input")
			}
			consumed += int64(HeaderLen + rec.DataLen)
			if r.Offset() != consumed {
				t.Fatalf("offset %d, want %d", r.Offset(), consumed)
			}
		}
	})
}

// FuzzInjectionReader checks the injection reader on arbitrary bytes.
func FuzzInjectionReader(f *testing.F) {
	s, _ := AppendInjection(nil, []byte{1, 2, 3})
	s, _ = AppendInjection(s, bytes.Repeat([]byte{4}, 300))
	f.Add(s)
	f.Add([]byte{0, 0})
	f.Add([]byte{5})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewInjectionReader(iotest1(data))
		off := 0
		for {
			fr, err := r.Next()
			if err != nil {
				if err == io.EOF && off != len(data) {
					t.Fatalf("io.EOF after %d of %d bytes", off, len(data))
				}
				return
			}
			if len(fr) == 0 || !bytes.Equal(fr, data[off+2:off+2+len(fr)]) {
				t.Fatal("frame does not match input")
			}
			off += 2 + len(fr)
		}
	})
}

func iotest1(b []byte) io.Reader { return &chunkReader{b: b, sizes: []int{3, 1, 64}} }
