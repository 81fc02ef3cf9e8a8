package ncf

import (
	"bytes"
	"errors"
	"io"
	"os"
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
			wire := rec.DataLen
			if rec.Compressed {
				wire = rec.SourceDataLen
			}
			if len(rec.Data) != rec.DataLen || rec.DataLen > MaxDataLen || rec.WireLen != wire {
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

// FuzzResume feeds arbitrary bytes, in chunks as FuzzReader does, to a
// resuming Reader (ReaderConfig.Resume) and checks that it never panics,
// never loops (every call consumes input or ends the stream), returns
// records equal to the input at their offsets, reports skips that tile the
// input between them, and at io.EOF has consumed all of it. Only io.EOF
// and a truncation may end the stream.
func FuzzResume(f *testing.F) {
	real := loadStream(f, "sv-telnet.ncf", 6)
	f.Add([]byte{}, real)
	f.Add([]byte{3, 40}, append(bytes.Clone(real[:100]), real[130:]...))
	f.Add([]byte{}, append(append(bytes.Clone(real), 0xFF, 0, 1), real...))
	bad := bytes.Clone(real)
	bad[4] = 9 // first record's version
	f.Add([]byte{}, bad)
	f.Add([]byte{1}, make([]byte, 200))
	if c17, err := os.ReadFile("../testdata/cases/c17-ncf-compressed.ncf"); err == nil {
		f.Add([]byte{}, c17)
	}
	f.Fuzz(func(t *testing.T, split, data []byte) {
		sizes := make([]int, len(split))
		for i, s := range split {
			sizes[i] = int(s) + 1
		}
		r := NewReader(&chunkReader{b: data, sizes: sizes}, ReaderConfig{Resume: true})
		var consumed int64
		for calls := 0; ; calls++ {
			if calls > len(data)+1 {
				t.Fatalf("%d calls for %d bytes", calls, len(data))
			}
			rec, err := r.Next()
			var se *SkipError
			switch {
			case errors.As(err, &se):
				if se.Offset != consumed || se.Len < 1 || consumed+se.Len > int64(len(data)) {
					t.Fatalf("skip of %d bytes at %d after %d of %d bytes", se.Len, se.Offset, consumed, len(data))
				}
				consumed += se.Len
			case err == io.EOF:
				if consumed != int64(len(data)) || r.Offset() != consumed {
					t.Fatalf("io.EOF after %d (offset %d) of %d bytes", consumed, r.Offset(), len(data))
				}
				return
			case errors.Is(err, ErrTruncated):
				if consumed >= int64(len(data)) {
					t.Fatalf("truncation after all %d bytes", len(data))
				}
				return
			case err != nil:
				t.Fatalf("unexpected error %v", err)
			default:
				end := consumed + HeaderLen + int64(rec.DataLen)
				if len(rec.Data) != rec.DataLen || end > int64(len(data)) || !bytes.Equal(rec.Data, data[consumed+HeaderLen:end]) {
					t.Fatalf("record of %d bytes at %d does not match the input", rec.DataLen, consumed)
				}
				consumed = end
			}
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
