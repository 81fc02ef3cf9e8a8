package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ids/vigil/ncf"
)

const capturesDir = "../testdata/captures/"

type frame struct {
	data []byte
	t    time.Time
	rec  ncf.Header
}

func readFrames(t *testing.T, r Reader) []frame {
	t.Helper()
	var out []frame
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("after %d frames: %v", len(out), err)
		}
		if len(rec.Data) != rec.DataLen {
			t.Fatalf("frame %d: len(Data) %d != DataLen %d", len(out)+1, len(rec.Data), rec.DataLen)
		}
		out = append(out, frame{bytes.Clone(rec.Data), rec.Time, rec.Header})
	}
}

func openFrames(t *testing.T, path string, want Format) []frame {
	t.Helper()
	r, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Format() != want {
		t.Fatalf("%s: format %v, want %v", path, r.Format(), want)
	}
	return readFrames(t, r)
}

func sameFrames(t *testing.T, what string, got, want []frame) {
	t.Helper()
	if len(got) != len(want) || len(got) == 0 {
		t.Fatalf("%s: %d frames, want %d", what, len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i].data, want[i].data) {
			t.Fatalf("%s: frame %d bytes differ", what, i+1)
		}
		if !got[i].t.Equal(want[i].t) || got[i].t.UTC().Nanosecond()%1000 != 0 {
			t.Fatalf("%s: frame %d time %v, want %v", what, i+1, got[i].t.UTC(), want[i].t.UTC())
		}
	}
}

func pairs(t *testing.T) []string {
	ncfs, err := filepath.Glob(capturesDir + "*.ncf")
	if err != nil || len(ncfs) == 0 {
		t.Fatalf("no captures: %v", err)
	}
	for i, p := range ncfs {
		ncfs[i] = strings.TrimSuffix(p, ".ncf")
	}
	return ncfs
}

func TestPairsIdentical(t *testing.T) {
	for _, base := range pairs(t) {
		t.Run(filepath.Base(base), func(t *testing.T) {
			n := openFrames(t, base+".ncf", NCF)
			p := openFrames(t, base+".pcap", PCAP)
			sameFrames(t, "ncf vs pcap", n, p)
			for i := range p {
				if p[i].rec.WireLen < p[i].rec.DataLen || n[i].rec.WireLen != n[i].rec.DataLen {
					t.Fatalf("frame %d: wire lengths pcap %d ncf %d", i+1, p[i].rec.WireLen, n[i].rec.WireLen)
				}
			}
		})
	}
}

func TestConvertRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, base := range pairs(t) {
		name := filepath.Base(base)
		t.Run(name, func(t *testing.T) {
			orig := openFrames(t, base+".ncf", NCF)
			for _, ext := range []string{".pcap", ".pcapng"} {
				mid := filepath.Join(dir, name+ext)
				back := filepath.Join(dir, name+ext+".ncf")
				if n, err := Convert(base+".ncf", mid, nil); err != nil || n != len(orig) {
					t.Fatalf("ncf -> %s: %d, %v", ext, n, err)
				}
				want := PCAP
				if ext == ".pcapng" {
					want = PCAPNG
				}
				sameFrames(t, "ncf -> "+ext, openFrames(t, mid, want), orig)
				if n, err := Convert(mid, back, nil); err != nil || n != len(orig) {
					t.Fatalf("%s -> ncf: %d, %v", ext, n, err)
				}
				sameFrames(t, ext+" -> ncf", openFrames(t, back, NCF), orig)
				// Ethernet NCF written by Vigil is byte-identical to editcap's.
				a, _ := os.ReadFile(back)
				b, _ := os.ReadFile(base + ".ncf")
				if !bytes.Equal(a, b) {
					t.Fatalf("%s -> ncf: file differs from the reference NCF", ext)
				}
			}
			// pcap -> ncf gives the reference NCF too.
			out := filepath.Join(dir, name+".direct.ncf")
			if _, err := Convert(base+".pcap", out, nil); err != nil {
				t.Fatal(err)
			}
			a, _ := os.ReadFile(out)
			b, _ := os.ReadFile(base + ".ncf")
			if !bytes.Equal(a, b) {
				t.Fatal("pcap -> ncf differs from the reference NCF")
			}
		})
	}
}

func TestOriginalLinkTypes(t *testing.T) {
	for _, tc := range []struct{ orig, ref string }{
		{"sv-http-ipv6.orig-null.pcap", "sv-http-ipv6.pcap"},
		{"sv-urgent11-cve-2019-12260.orig-sll.pcap", "sv-urgent11-cve-2019-12260.pcap"},
		{"zeek-http-dvwa.orig.pcapng", "zeek-http-dvwa.pcap"},
	} {
		t.Run(tc.orig, func(t *testing.T) {
			want := PCAP
			if strings.HasSuffix(tc.orig, ".pcapng") {
				want = PCAPNG
			}
			got := openFrames(t, capturesDir+tc.orig, want)
			for i := range got { // pcapng has nanoseconds, the pcap copy microseconds
				got[i].t = got[i].t.Truncate(time.Microsecond)
			}
			sameFrames(t, tc.orig, got, openFrames(t, capturesDir+tc.ref, PCAP))
		})
	}
}

// TestOpenCooked checks that OpenCooked gives Linux cooked frames as
// captured: the SLL header, then what the re-linked frame carries after
// its Ethernet header; other link types as Open does.
func TestOpenCooked(t *testing.T) {
	sll := capturesDir + "sv-urgent11-cve-2019-12260.orig-sll.pcap"
	r, err := OpenCooked(sll, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cooked, relinked := readFrames(t, r), openFrames(t, sll, PCAP)
	if len(cooked) != len(relinked) || len(cooked) == 0 {
		t.Fatalf("%d frames, want %d", len(cooked), len(relinked))
	}
	for i, f := range cooked {
		if f.rec.Medium != ncf.LinuxSLL || f.rec.WireLen != relinked[i].rec.WireLen+2 ||
			!bytes.Equal(f.data[16:], relinked[i].data[14:]) || !bytes.Equal(f.data[14:16], relinked[i].data[12:14]) {
			t.Fatalf("frame %d: medium %v, %d bytes on the wire, % x; re-linked % x", i+1, f.rec.Medium, f.rec.WireLen, f.data, relinked[i].data)
		}
	}
	eth := capturesDir + "sv-urgent11-cve-2019-12260.pcap"
	r2, err := OpenCooked(eth, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	sameFrames(t, "ethernet", readFrames(t, r2), openFrames(t, eth, PCAP))
}

// pcapFile builds a little-endian microsecond pcap with one packet per frame.
func pcapFile(linkType uint32, frames ...[]byte) []byte {
	b := make([]byte, 24)
	binary.LittleEndian.PutUint32(b[0:], 0xA1B2C3D4)
	binary.LittleEndian.PutUint16(b[4:], 2)
	binary.LittleEndian.PutUint16(b[6:], 4)
	binary.LittleEndian.PutUint32(b[16:], 65535)
	binary.LittleEndian.PutUint32(b[20:], linkType)
	for i, f := range frames {
		var h [16]byte
		binary.LittleEndian.PutUint32(h[0:], uint32(1700000000+i))
		binary.LittleEndian.PutUint32(h[4:], 250)
		binary.LittleEndian.PutUint32(h[8:], uint32(len(f)))
		binary.LittleEndian.PutUint32(h[12:], uint32(len(f)))
		b = append(append(b, h[:]...), f...)
	}
	return b
}

func TestUnsupportedLinkType(t *testing.T) {
	for _, lt := range []uint32{147, 9, 204} {
		_, err := readStream(bytes.NewReader(pcapFile(lt, []byte{1, 2, 3})), nil)
		if !errors.Is(err, ErrLinkType) || !strings.Contains(err.Error(), "("+strconv.Itoa(int(lt))+")") {
			t.Fatalf("link type %d: %v", lt, err)
		}
	}
}

func TestRawIPRelinked(t *testing.T) {
	ip4 := []byte{0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}
	r, err := readStream(bytes.NewReader(pcapFile(101, ip4, []byte{0x12})), nil)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	want := append([]byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00}, ip4...)
	if !bytes.Equal(rec.Data, want) || rec.WireLen != len(want) || rec.Medium != ncf.Ethernet {
		t.Fatalf("relinked frame % x (wire %d)", rec.Data, rec.WireLen)
	}
	_, err = r.Next()
	var bad *BadRecord
	if !errors.As(err, &bad) || bad.Record != 2 || bad.Reason != reasonLink {
		t.Fatalf("non-IP raw frame: %v", err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("after the bad record: %v, want io.EOF", err)
	}
}

func TestWiFiThroughPcap(t *testing.T) {
	base := time.Date(2026, 11, 25, 10, 0, 0, 1000, time.UTC)
	frameBody := []byte{0x08, 0x02, 0, 0, 1, 2, 3, 4, 5, 6}
	hs := []ncf.Header{
		{Time: base, Medium: ncf.WiFi, Rate: 108, Band: ncf.Band11G, Channel: 6, SignalDBm: 40, NoiseDBm: 95},
		{Time: base.Add(time.Second), Medium: ncf.WiFi, Rate: 22, Band: ncf.Band11B, Channel: 14, SignalDBm: 70, Broken: true},
		{Time: base.Add(2 * time.Second), Medium: ncf.WiFi, Rate: 12, Band: ncf.Band11A, Channel: 36, NoiseDBm: 100},
		{Time: base.Add(3 * time.Second), Medium: ncf.WiFi},
	}
	for _, f := range []Format{PCAP, PCAPNG} {
		var buf bytes.Buffer
		w, err := writeStream(&buf, f, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range hs {
			if err := w.Write(&ncf.Record{Header: hs[i], Data: frameBody}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		r, err := readStream(&buf, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := readFrames(t, r)
		if len(got) != len(hs) {
			t.Fatalf("%v: %d frames", f, len(got))
		}
		for i, g := range got {
			w := hs[i]
			w.DataLen, w.SourceDataLen, w.WireLen = len(frameBody), len(frameBody), len(frameBody)
			g.rec.Time, w.Time = time.Time{}, time.Time{}
			if g.rec != w || !bytes.Equal(g.data, frameBody) || !got[i].t.Equal(hs[i].Time) {
				t.Fatalf("%v frame %d:\n got %+v\nwant %+v", f, i+1, g.rec, w)
			}
		}
	}
}

func TestMixedMedia(t *testing.T) {
	eth := &ncf.Record{Header: ncf.Header{Time: time.Unix(1, 0), Medium: ncf.Ethernet}, Data: make([]byte, 60)}
	wifi := &ncf.Record{Header: ncf.Header{Time: time.Unix(2, 0), Medium: ncf.WiFi, Channel: 1}, Data: make([]byte, 30)}
	w, _ := writeStream(io.Discard, PCAP, nil)
	if err := w.Write(eth); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(wifi); !errors.Is(err, ErrMixedMedia) {
		t.Fatalf("pcap with two media: %v", err)
	}
	var buf bytes.Buffer
	w, _ = writeStream(&buf, PCAPNG, nil)
	for _, rec := range []*ncf.Record{eth, wifi, eth} {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	r, err := readStream(&buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := readFrames(t, r)
	if len(got) != 3 || got[0].rec.Medium != ncf.Ethernet || got[1].rec.Medium != ncf.WiFi || got[1].rec.Channel != 1 || got[2].rec.Medium != ncf.Ethernet {
		t.Fatalf("pcapng mixed media read back wrong: %d frames", len(got))
	}
}

func TestEmptyWriters(t *testing.T) {
	for _, f := range []Format{PCAP, PCAPNG} {
		var buf bytes.Buffer
		w, _ := writeStream(&buf, f, nil)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		r, err := readStream(&buf, nil)
		if err != nil {
			t.Fatalf("%v: %v", f, err)
		}
		if _, err := r.Next(); err != io.EOF {
			t.Fatalf("%v: want io.EOF, got %v", f, err)
		}
	}
}

func TestNCFZone(t *testing.T) {
	// The same NCF bytes read in another zone shift by its offset.
	tokyo := time.FixedZone("JST", 9*3600)
	r, err := Open(capturesDir+"sv-arp.ncf", tokyo)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rec, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.Time.Unix(); got != 1352595620-9*3600 {
		t.Fatalf("first frame at %d in JST", got)
	}
}

func TestFormatFromPath(t *testing.T) {
	for path, want := range map[string]Format{"a.ncf": NCF, "B.PCAP": PCAP, "x/y.cap": PCAP, "c.pcapng": PCAPNG} {
		if got, err := FormatFromPath(path); err != nil || got != want {
			t.Fatalf("%s: %v, %v", path, got, err)
		}
	}
	if _, err := FormatFromPath("a.txt"); !errors.Is(err, ErrUnknownFormat) {
		t.Fatalf("a.txt: %v", err)
	}
	if _, err := Create(filepath.Join(t.TempDir(), "out.txt"), nil); !errors.Is(err, ErrUnknownFormat) {
		t.Fatalf("Create out.txt: %v", err)
	}
}

func TestTruncatedPcap(t *testing.T) {
	full, err := os.ReadFile(capturesDir + "sv-arp.pcap")
	if err != nil {
		t.Fatal(err)
	}
	// Packet boundaries: after the 24-byte file header, 16-byte record
	// headers with little-endian capture lengths.
	bounds := map[int]int{24: 0}
	for off, k := 24, 1; off < len(full); k++ {
		off += 16 + int(binary.LittleEndian.Uint32(full[off+8:]))
		bounds[off] = k
	}
	for n := 24; n <= len(full); n++ {
		r, err := readStream(bytes.NewReader(full[:n]), nil)
		if err != nil {
			t.Fatal(err)
		}
		k := 0
		for ; ; k++ {
			if _, err = r.Next(); err != nil {
				break
			}
		}
		want, atBoundary := bounds[n]
		if atBoundary != (err == io.EOF) || (atBoundary && k != want) {
			t.Fatalf("cut at %d: %d packets, %v", n, k, err)
		}
		if !atBoundary && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("cut at %d: %v, want io.ErrUnexpectedEOF", n, err)
		}
	}
}

// readStream is Open over an in-memory stream.
func readStream(r io.Reader, loc *time.Location) (Reader, error) {
	return newReader(r, loc, nil, false)
}

// writeStream is Create over an in-memory stream; Close does not close w.
func writeStream(w io.Writer, f Format, loc *time.Location) (Writer, error) {
	return newWriter(w, f, loc, nil)
}
