package engine

import (
	"encoding/binary"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"testing"

	"github.com/vigil-ids/vigil/capture"
	"github.com/vigil-ids/vigil/decode"
	"github.com/vigil-ids/vigil/engine/flow"
	"github.com/vigil-ids/vigil/ncf"
	"github.com/vigil-ids/vigil/rules/field"
	"github.com/vigil-ids/vigil/tools/gen"
)

// peekCheck compares, packet by packet, the flow a header peek reads
// (decode.PeekFlow, flow.HashPeek: the Source's worker choice) with the
// one the decoder gives (DecodeHeaders, flow.Hash: the choice before the
// peek existed), and counts the packets peeked.
type peekCheck struct {
	dec            *decode.Decoder
	p              field.Packet
	k              decode.FlowPeek
	peeked, frames int
}

func (c *peekCheck) check(t *testing.T, where string, n int, rec *ncf.Record) {
	t.Helper()
	if rec.Compressed {
		return
	}
	c.frames++
	if c.compare(t, where, n, rec) {
		c.peeked++
	}
}

// compare reports whether rec's frame was peeked, and fails the test
// if the peek disagrees with the decoder.
func (c *peekCheck) compare(t *testing.T, where string, n int, rec *ncf.Record) bool {
	t.Helper()
	link := LinkOf(rec.Medium)
	ok := decode.PeekFlow(&c.k, link, rec.Data)
	c.p.Frame.Len = rec.WireLen
	c.dec.DecodeHeaders(&c.p, link, rec.Data)
	if !ok {
		return false
	}
	p, k := &c.p, &c.k
	if decode.Fragmented(p) {
		t.Fatalf("%s #%d: a fragment peeked", where, n)
	}
	if k.Src != p.Meta.Src.As16() || k.Dst != p.Meta.Dst.As16() || int(k.SrcPort) != p.SrcPort || int(k.DstPort) != p.DestPort ||
		int(k.Proto) != p.Meta.IPProto || k.VLAN != p.VLANKey() {
		t.Fatalf("%s #%d: peek %v %v %d→%d proto %d vlan %v; decoder %v %v %d→%d proto %d vlan %v", where, n,
			k.Src, k.Dst, k.SrcPort, k.DstPort, k.Proto, k.VLAN, p.Meta.Src, p.Meta.Dst, p.SrcPort, p.DestPort, p.Meta.IPProto, p.VLANKey())
	}
	if flow.HashPeek(k) != flow.Hash(p) || flow.PairHashPeek(k) != flow.PairHash(p) {
		t.Fatalf("%s #%d: HashPeek or PairHashPeek differs from Hash or PairHash", where, n)
	}
	return true
}

// variants checks frames made from rec's: each of its prefixes up to
// 98 bytes (headers cut short by the capture), and, for a frame with VLAN
// tags, every choice of 802.1Q, 802.1ad and old QinQ type for its tags
// (802.1ad tags inside 802.1Q ones, which VLANKey reorders).
func (c *peekCheck) variants(t *testing.T, where string, n int, rec *ncf.Record) {
	t.Helper()
	if rec.Compressed || LinkOf(rec.Medium) != decode.Ethernet {
		return
	}
	v := *rec
	frame := rec.Data
	for l := 14; l < min(len(frame), 99); l++ {
		v.Data = frame[:l]
		c.compare(t, where+" (cut)", n, &v)
	}
	var tags []int // offsets of the tags' type fields
	for off := 12; off+4 <= len(frame) && len(tags) < 4; off += 4 {
		if et := binary.BigEndian.Uint16(frame[off:]); et != 0x8100 && et != 0x88a8 && et != 0x9100 {
			break
		}
		tags = append(tags, off)
	}
	if len(tags) == 0 {
		return
	}
	v.Data = slices.Clone(frame)
	types := []uint16{0x8100, 0x88a8, 0x9100}
	for combo := 0; combo < pow(len(types), len(tags)); combo++ {
		for i, x := 0, combo; i < len(tags); i, x = i+1, x/len(types) {
			binary.BigEndian.PutUint16(v.Data[tags[i]:], types[x%len(types)])
		}
		c.compare(t, where+" (tags)", n, &v)
	}
}

func pow(b, e int) int {
	r := 1
	for range e {
		r *= b
	}
	return r
}

// TestPeekFlowChoosesTheDecodedWorker holds the Source's worker choice
// to the decoder's: over every capture in testdata (the public captures,
// the tunnel and case captures, and variants of their frames) and
// generated traffic, every packet the
// peek reads has the flow fields and the flow hash of the full header
// decode, so it goes to the same worker; the others are decoded as
// before. Most packets of ordinary traffic must be peeked.
func TestPeekFlowChoosesTheDecodedWorker(t *testing.T) {
	var files []string
	for _, pat := range []string{capDir + "*.pcap", capDir + "*.ncf", caseDir + "*.pcap", tunnelsDir + "*.pcap"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 50 {
		t.Fatalf("only %d captures found", len(files))
	}
	all := peekCheck{dec: decode.New()}
	for _, path := range files {
		r, err := capture.Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for n := 1; ; n++ {
			rec, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			var bad *capture.BadRecord
			if errors.As(err, &bad) {
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			all.check(t, filepath.Base(path), n, rec)
			all.variants(t, filepath.Base(path), n, rec)
		}
		r.Close()
	}
	t.Logf("captures: %d of %d frames peeked", all.peeked, all.frames)
	if all.peeked*2 < all.frames {
		t.Errorf("captures: only %d of %d frames peeked", all.peeked, all.frames)
	}

	g, err := gen.New(gen.Config{Packets: 100000, Seed: 3, HitRate: 0.02})
	if err != nil {
		t.Fatal(err)
	}
	generated := peekCheck{dec: decode.New()}
	for n := 1; ; n++ {
		rec, ok := g.Next()
		if !ok {
			break
		}
		generated.check(t, "generated", n, rec)
	}
	t.Logf("generated: %d of %d frames peeked", generated.peeked, generated.frames)
	if generated.peeked*100 < generated.frames*95 {
		t.Errorf("generated: only %d of %d frames peeked", generated.peeked, generated.frames)
	}

	var k decode.FlowPeek
	var sum uint64
	recs := generatedItems(t, 2000, 0.02)
	if allocs := testing.AllocsPerRun(5, func() {
		for i := range recs {
			if decode.PeekFlow(&k, decode.Ethernet, recs[i].data) {
				sum += flow.HashPeek(&k)
			}
		}
	}); allocs != 0 || sum == 0 {
		t.Errorf("peeking %d frames: %.0f allocations", len(recs), allocs)
	}
}
