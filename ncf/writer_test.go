package ncf

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
)

func TestWriterRoundTrip(t *testing.T) {
	ny := time.FixedZone("NY", -5*3600)
	base := time.Date(2026, 11, 25, 23, 59, 59, 999999000, time.UTC)
	recs := []struct {
		h    Header
		data []byte
	}{
		{Header{Time: base, Medium: Ethernet, Direction: In}, []byte{1, 2, 3}},
		{Header{Time: base.Add(time.Microsecond), Medium: Ethernet, Direction: Out}, bytes.Repeat([]byte{0xAA}, 1500)},
		{Header{Time: base.Add(time.Hour), Medium: WiFi, Decrypted: true, Broken: true, SignalPercent: 80,
			Rate: 0x0258, Band: Band11N2_4GHz, Channel: 6, SignalDBm: 40, NoiseDBm: 92}, []byte{0x80, 0, 0, 0}},
		{Header{Time: base, Medium: TokenRing}, []byte{7}},
		{Header{Time: base, Medium: Ethernet, Compressed: true, SourceDataLen: 4000}, []byte{9, 9}},
		{Header{Time: base}, bytes.Repeat([]byte{1}, MaxDataLen)},
	}
	for _, loc := range []*time.Location{nil, ny} {
		var buf bytes.Buffer
		w := NewWriter(&buf, loc)
		for i := range recs {
			if err := w.Write(&recs[i].h, recs[i].data); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		r := NewReader(&buf, ReaderConfig{Location: loc})
		for i, want := range recs {
			got, err := r.Next()
			if err != nil {
				t.Fatalf("record %d: %v", i, err)
			}
			wh := want.h
			wh.DataLen, wh.WireLen = len(want.data), len(want.data)
			if wh.Compressed {
				wh.WireLen = wh.SourceDataLen // the original length
			} else {
				wh.SourceDataLen = len(want.data)
			}
			if !got.Time.Equal(wh.Time) {
				t.Fatalf("record %d: time %v want %v", i, got.Time, wh.Time)
			}
			gh := got.Header
			gh.Time, wh.Time = time.Time{}, time.Time{}
			if gh != wh || !bytes.Equal(got.Data, want.data) {
				t.Fatalf("record %d:\n got %+v\nwant %+v", i, gh, wh)
			}
		}
		if _, err := r.Next(); err != io.EOF {
			t.Fatalf("want io.EOF, got %v", err)
		}
	}
}

func TestWriterZoneChangesBytes(t *testing.T) {
	h := Header{Time: time.Date(2012, 11, 11, 0, 40, 20, 652165000, time.UTC)}
	var utc, ny bytes.Buffer
	for _, c := range []struct {
		b   *bytes.Buffer
		loc *time.Location
	}{{&utc, time.UTC}, {&ny, time.FixedZone("NY", -5*3600)}} {
		w := NewWriter(c.b, c.loc)
		if err := w.Write(&h, []byte{1}); err != nil {
			t.Fatal(err)
		}
		w.Flush()
	}
	if utc.Bytes()[9] != 0 || ny.Bytes()[9] != 19 || ny.Bytes()[8] != 10 {
		t.Fatalf("hours/day not in the writer's zone: utc %x ny %x", utc.Bytes()[:24], ny.Bytes()[:24])
	}
}

func TestWriterRejects(t *testing.T) {
	w := NewWriter(io.Discard, nil)
	if err := w.Write(&Header{}, make([]byte, MaxDataLen+1)); !errors.Is(err, ErrFrameTooLong) {
		t.Fatalf("oversize: %v", err)
	}
	if err := w.Write(&Header{Medium: 3}, []byte{1}); err == nil {
		t.Fatal("medium 3 accepted")
	}
	if err := w.Write(&Header{Time: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)}, []byte{1}); err == nil {
		t.Fatal("negative year accepted")
	}
}

func TestInjection(t *testing.T) {
	frames := [][]byte{{1}, bytes.Repeat([]byte{2}, 1514), bytes.Repeat([]byte{3}, MaxInjectLen)}
	var stream []byte
	for _, f := range frames {
		var err error
		if stream, err = AppendInjection(stream, f); err != nil {
			t.Fatal(err)
		}
	}
	if len(stream) != 6+1+1514+MaxInjectLen || stream[0] != 1 || stream[1] != 0 || stream[3] != 0xEA || stream[4] != 0x05 {
		t.Fatalf("bad encoding: % x", stream[:8])
	}
	r := NewInjectionReader(&chunkReader{b: stream, sizes: []int{1, 3, 1000}})
	for i, want := range frames {
		got, err := r.Next()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("want io.EOF, got %v", err)
	}
	for _, n := range []int{1, 4, 5, 6, 100} { // cuts inside a prefix or a frame
		_, err := readInjections(stream[:n])
		if !errors.Is(err, ErrTruncated) || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("cut at %d: %v", n, err)
		}
	}
	if _, err := readInjections([]byte{0, 0, 1}); !errors.Is(err, ErrEmptyFrame) {
		t.Fatalf("zero length: %v", err)
	}
	if _, err := AppendInjection(nil, nil); !errors.Is(err, ErrEmptyFrame) {
		t.Fatalf("empty frame: %v", err)
	}
	if out, err := AppendInjection([]byte{9}, make([]byte, MaxInjectLen+1)); !errors.Is(err, ErrFrameTooLong) || len(out) != 1 {
		t.Fatalf("long frame: %v", err)
	}
}

func readInjections(b []byte) (int, error) {
	r := NewInjectionReader(bytes.NewReader(b))
	n := 0
	for {
		if _, err := r.Next(); err != nil {
			return n, err
		}
		n++
	}
}

func TestLooksLikeNCFX(t *testing.T) {
	ncfx := []byte{
		40, 0, 0, 0, // record length 40
		0xEA, 0x07, 11, 25, 10, 30, 5, // 2026-11-25 10:30:05
		0, 0, 0, 0, // usecs
		1, 0, 0, 0, 0, // WiFi, not decrypted, direction 0
	}
	if !LooksLikeNCFX(ncfx) {
		t.Fatal("valid NCFX header not recognised")
	}
	if LooksLikeNCFX(validHeader(10)) {
		t.Fatal("NCF header taken for NCFX")
	}
	bad := bytes.Clone(ncfx)
	bad[15] = 2
	if LooksLikeNCFX(bad) || LooksLikeNCFX(ncfx[:19]) {
		t.Fatal("bad medium or short input accepted")
	}
	// And an NCFX record is not a valid NCF header.
	if _, err := NewReader(bytes.NewReader(append(ncfx, make([]byte, 40)...)), ReaderConfig{}).Next(); err == nil {
		t.Fatal("NCFX read as NCF")
	}
}
