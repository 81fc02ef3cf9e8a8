package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ids/vigil/ncf"
)

const oddDir = "../testdata/cases/"

// outcome is what Next gave: a record (its first bytes and lengths), a
// skipped record, or the end.
type outcome struct {
	bad     *BadRecord
	dataLen int
	wireLen int
}

// readOutcomes reads everything r gives until io.EOF (or another error,
// which fails the test) and checks that it consumed the whole input.
func readOutcomes(t *testing.T, r Reader, size int) []outcome {
	t.Helper()
	var out []outcome
	for {
		rec, err := r.Next()
		var bad *BadRecord
		switch {
		case err == io.EOF:
			if r.Offset() != int64(size) {
				t.Fatalf("io.EOF at offset %d of %d bytes", r.Offset(), size)
			}
			return out
		case errors.As(err, &bad):
			out = append(out, outcome{bad: bad})
		case err != nil:
			t.Fatalf("after %d outcomes: %v", len(out), err)
		default:
			out = append(out, outcome{dataLen: rec.DataLen, wireLen: rec.WireLen})
		}
	}
}

func openOutcomes(t *testing.T, path string) []outcome {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := readStream(bytes.NewReader(data), nil)
	if err != nil {
		t.Fatal(err)
	}
	return readOutcomes(t, r, len(data))
}

// TestOddCapturesLikeTshark reads c14 (a snap-cut frame, an empty record,
// a record whose capture length exceeds its original length) and c12 (a
// radiotap header longer than its frame): every record tshark reads is
// read with tshark's lengths, and c12's malformed frame is skipped without
// ending the file.
func TestOddCapturesLikeTshark(t *testing.T) {
	c14 := openOutcomes(t, oddDir+"c14-truncated.pcap")
	want := "327 64\n60 0\n42 42\n327 327\n76 76\n1 48\n327 327\n"
	var got strings.Builder
	for _, o := range c14 {
		if o.bad != nil {
			t.Fatalf("c14: %v", o.bad)
		}
		fmt.Fprintf(&got, "%d %d\n", o.wireLen, o.dataLen)
	}
	if got.String() != want {
		t.Fatalf("c14 frame.len, frame.cap_len:\n%s\nwant\n%s", got.String(), want)
	}
	c12 := openOutcomes(t, oddDir+"c12-radiotap-datapad.pcap")
	if len(c12) != 4 || c12[2].bad == nil || c12[2].bad.Record != 3 || c12[2].bad.Reason != reasonRadiotap || !errors.Is(c12[2].bad, ErrRadiotap) {
		t.Fatalf("c12: %+v; want record 3 skipped for its radiotap header, the others read", c12)
	}
	for _, i := range []int{0, 1, 3} {
		if c12[i].bad != nil {
			t.Fatalf("c12 record %d: %v", i+1, c12[i].bad)
		}
	}
	if _, err := exec.LookPath("tshark"); err == nil {
		if out := tshark(t, oddDir+"c14-truncated.pcap", "frame.len", "frame.cap_len"); strings.ReplaceAll(out, "\t", " ") != want {
			t.Fatalf("tshark reads c14 as\n%s", out)
		}
	}
}

// pcapRecords returns the offsets of the records of a pcap file, and its
// end.
func pcapRecords(b []byte) []int {
	var offs []int
	for off := pcapFileHdrLen; off+pcapRecHdrLen <= len(b); off += pcapRecHdrLen + int(binary.LittleEndian.Uint32(b[off+8:])) {
		offs = append(offs, off)
	}
	return append(offs, len(b))
}

func TestPcapBadRecords(t *testing.T) {
	frames := [][]byte{bytes.Repeat([]byte{1}, 60), bytes.Repeat([]byte{2}, 70), bytes.Repeat([]byte{3}, 80), bytes.Repeat([]byte{4}, 90)}
	clean := pcapFile(1, frames...)
	offs := pcapRecords(clean)
	tests := []struct {
		name string
		edit func(b []byte) []byte
		// want lists, per outcome, the record's length or -1 for a skip.
		want []int
		skip BadRecord // the skip's fields that are checked
	}{
		{"capture length above the maximum", func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[offs[1]+8:], 0xFFFFFFF0)
			return b
		}, []int{60, -1, 80, 90}, BadRecord{Record: 2, Offset: int64(offs[1]), Len: int64(offs[2] - offs[1]), Reason: reasonLost}},
		{"garbage between records", func(b []byte) []byte {
			return append(append(append([]byte{}, b[:offs[2]]...), bytes.Repeat([]byte{0xEE}, 33)...), b[offs[2]:]...)
		}, []int{60, 70, -1, 80, 90}, BadRecord{Record: 3, Offset: int64(offs[2]), Len: 33, Reason: reasonLost}},
		{"zeros at the end", func(b []byte) []byte { return append(b, make([]byte, 100)...) },
			[]int{60, 70, 80, 90, 0, 0, 0, 0, 0, 0, -1}, BadRecord{Record: 11, Offset: int64(len(clean) + 96), Len: 4, Reason: reasonTruncated}},
		{"capture length above the original length", func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[offs[0]+12:], 1)
			return b
		}, []int{60, 70, 80, 90}, BadRecord{}},
		{"truncated", func(b []byte) []byte { return b[:len(b)-5] },
			[]int{60, 70, 80, -1}, BadRecord{Record: 4, Offset: int64(offs[3]), Len: int64(pcapRecHdrLen + 85), Reason: reasonTruncated}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.edit(bytes.Clone(clean))
			r, err := readStream(bytes.NewReader(data), nil)
			if err != nil {
				t.Fatal(err)
			}
			got := readOutcomes(t, r, len(data))
			checkOutcomes(t, got, tt.want, tt.skip)
		})
	}
}

func checkOutcomes(t *testing.T, got []outcome, want []int, skip BadRecord) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d outcomes (%+v), want %d", len(got), got, len(want))
	}
	for i, o := range got {
		if want[i] < 0 {
			b := o.bad
			if b == nil || b.Record != skip.Record || b.Offset != skip.Offset || b.Len != skip.Len || b.Reason != skip.Reason {
				t.Fatalf("outcome %d: %+v, want a skip %+v", i+1, b, skip)
			}
			continue
		}
		if o.bad != nil || o.dataLen != want[i] {
			t.Fatalf("outcome %d: %+v (%v), want a record of %d bytes", i+1, o, o.bad, want[i])
		}
	}
}

// ngFile writes Ethernet frames to pcapng and returns the file and the
// offsets of its blocks (the last entry is its end).
func ngFile(t *testing.T, frames ...[]byte) ([]byte, []int) {
	t.Helper()
	var buf bytes.Buffer
	w, err := writeStream(&buf, PCAPNG, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range frames {
		if err := w.Write(&ncf.Record{Header: ncf.Header{Time: time.Unix(1700000000+int64(i), 0), WireLen: len(f)}, Data: f}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	var offs []int
	for off := 0; off < len(b); off += int(binary.LittleEndian.Uint32(b[off+4:])) {
		offs = append(offs, off)
	}
	return b, append(offs, len(b))
}

func TestPcapngBadBlocks(t *testing.T) {
	frames := [][]byte{bytes.Repeat([]byte{1}, 60), bytes.Repeat([]byte{2}, 70), bytes.Repeat([]byte{3}, 80)}
	clean, offs := ngFile(t, frames...)
	// Blocks: section header, interface, then one packet block per frame.
	if len(offs) != 6 || binary.LittleEndian.Uint32(clean[offs[2]:]) != blockEPB {
		t.Fatalf("unexpected layout: blocks at %v", offs)
	}
	p1, p2, p3 := offs[2], offs[3], offs[4]
	put := func(at int, v uint32) func([]byte) []byte {
		return func(b []byte) []byte { binary.LittleEndian.PutUint32(b[at:], v); return b }
	}
	tests := []struct {
		name string
		edit func(b []byte) []byte
		want []int
		skip BadRecord
	}{
		{"block length impossible", put(p2+4, 7), []int{60, -1, 80},
			BadRecord{Record: 2, Offset: int64(p2), Len: int64(p3 - p2), Reason: reasonLost}},
		{"trailing length differs", put(p3-4, 12), []int{60, -1, 80},
			BadRecord{Record: 2, Offset: int64(p2), Len: int64(p3 - p2), Reason: reasonLost}},
		{"capture length past the block", put(p2+8+12, 500), []int{60, -1, 80},
			BadRecord{Record: 2, Offset: int64(p2), Len: int64(p3 - p2), Reason: reasonBlockShort}},
		{"undeclared interface", put(p1+8, 3), []int{-1, 70, 80},
			BadRecord{Record: 1, Offset: int64(p1), Len: int64(p2 - p1), Reason: reasonInterface}},
		{"truncated", func(b []byte) []byte { return b[:len(b)-6] }, []int{60, 70, -1},
			BadRecord{Record: 3, Offset: int64(p3), Len: int64(offs[5] - p3 - 6), Reason: reasonTruncated}},
		{"garbage between blocks", func(b []byte) []byte {
			return append(append(append([]byte{}, b[:p2]...), bytes.Repeat([]byte{6, 0, 0, 0}, 9)...), b[p2:]...)
		}, []int{60, -1, 70, 80}, BadRecord{Record: 2, Offset: int64(p2), Len: 36, Reason: reasonLost}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.edit(bytes.Clone(clean))
			r, err := readStream(bytes.NewReader(data), nil)
			if err != nil {
				t.Fatal(err)
			}
			checkOutcomes(t, readOutcomes(t, r, len(data)), tt.want, tt.skip)
		})
	}
}

// idb builds a little-endian interface description block with options.
func idb(link uint16, opts ...[]byte) []byte {
	body := binary.LittleEndian.AppendUint16(nil, link)
	body = append(body, 0, 0, 0, 0, 4, 0) // reserved, snap length 262144
	for _, o := range opts {
		body = append(body, o...)
	}
	return block(blockIDB, body)
}

func block(typ uint32, body []byte) []byte {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	n := uint32(len(body) + blockMinLen)
	b := binary.LittleEndian.AppendUint32(nil, typ)
	b = binary.LittleEndian.AppendUint32(b, n)
	b = append(b, body...)
	return binary.LittleEndian.AppendUint32(b, n)
}

func epb(iface uint32, ts uint64, frame []byte) []byte {
	body := binary.LittleEndian.AppendUint32(nil, iface)
	body = binary.LittleEndian.AppendUint32(body, uint32(ts>>32))
	body = binary.LittleEndian.AppendUint32(body, uint32(ts))
	body = binary.LittleEndian.AppendUint32(body, uint32(len(frame)))
	body = binary.LittleEndian.AppendUint32(body, uint32(len(frame)))
	return block(blockEPB, append(body, frame...))
}

var shb = block(blockSHB, []byte{0x4D, 0x3C, 0x2B, 0x1A, 1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF})

// TestPcapngInterfaces: timestamp resolution and offset options, a packet
// of an interface whose link type cannot be read (skipped), a simple
// packet block, and a file whose only interface cannot be read (refused).
func TestPcapngInterfaces(t *testing.T) {
	eth := bytes.Repeat([]byte{0xAB}, 60)
	nsRes := []byte{optTSResol, 0, 1, 0, 9, 0, 0, 0}
	offset := append([]byte{optTSOffset, 0, 8, 0}, binary.LittleEndian.AppendUint64(nil, 100)...)
	spb := block(blockSPB, append(binary.LittleEndian.AppendUint32(nil, 60), eth...))
	data := bytes.Join([][]byte{shb, idb(1, nsRes, offset), idb(147), epb(0, 1_500_000_000_123_456_789, eth), epb(1, 5, eth), spb}, nil)
	r, err := readStream(bytes.NewReader(data), nil)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Unix(1_500_000_100, 123_456_789); !rec.Time.Equal(want) || rec.DataLen != 60 {
		t.Fatalf("time %v, want %v", rec.Time, want)
	}
	var bad *BadRecord
	if _, err := r.Next(); !errors.As(err, &bad) || bad.Reason != reasonLinkType || bad.Record != 2 {
		t.Fatalf("packet of link type 147: %v", err)
	}
	if rec, err = r.Next(); err != nil || rec.DataLen != 60 || !rec.Time.Equal(time.Unix(1_500_000_100, 123_456_789)) {
		t.Fatalf("simple packet: %v", err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
	only := bytes.Join([][]byte{shb, idb(147), epb(0, 5, eth)}, nil)
	if _, err := readStream(bytes.NewReader(only), nil); !errors.Is(err, ErrLinkType) {
		t.Fatalf("a pcapng of link type 147 only: %v", err)
	}
	if units, ok := tsUnits(0x80 | 10); !ok || units != 1024 {
		t.Fatalf("if_tsresol 2^-10: %d %v", units, ok)
	}
	if _, ok := tsUnits(20); ok {
		t.Fatal("if_tsresol 10^-20 accepted")
	}
}

// TestNCFBadRecords: the NCF reader resumes after a bad header, reports
// compressed records as they are, and ends with a truncated record.
func TestNCFBadRecords(t *testing.T) {
	c17, err := os.ReadFile(oddDir + "c17-ncf-compressed.ncf")
	if err != nil {
		t.Fatal(err)
	}
	first := ncf.HeaderLen + int(binary.LittleEndian.Uint16(c17))
	bad := bytes.Clone(c17[first:])
	bad[9] = 24 // hours
	data := bytes.Join([][]byte{c17, bad, c17, c17[:30]}, nil)
	r, err := readStream(bytes.NewReader(data), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := readOutcomes(t, r, len(data))
	if len(got) != 6 || got[0].wireLen != 265 || got[0].dataLen != first-ncf.HeaderLen || got[1].dataLen != 265 {
		t.Fatalf("%+v", got)
	}
	if b := got[2].bad; b == nil || b.Reason != reasonNCFHeader || b.Record != 3 || b.Offset != int64(len(c17)) || b.Len != int64(len(bad)) {
		t.Fatalf("bad header: %+v", b)
	}
	if b := got[5].bad; b == nil || b.Reason != reasonTruncated || b.Record != 6 || b.Offset != int64(2*len(c17)+len(bad)) || b.Len != 30 || !errors.Is(b, ncf.ErrTruncated) {
		t.Fatalf("truncated: %+v", b)
	}
}
