//go:build goexperiment.simd && amd64

package index

import (
	"math/bits"
	"simd/archsimd"
	"slices"
	"unsafe"
)

// teddy finds the same occurrences as matcher and qgram with AVX2, 32
// text positions per step, or with AVX-512 VBMI, 64 per step, after
// Hyperscan's Teddy (and the packed::teddy searcher of Rust's
// aho-corasick crate). Each pattern has a fingerprint: three consecutive
// bytes of it, the rarest (rarestWindow, as qgram keys them), or the
// whole pattern and then any byte for a pattern of one or two bytes.
// Patterns are put in 8 buckets per pass, one bit of a table entry each.
//
// AVX2: for each fingerprint byte k, two 16-entry tables give, by the
// low and by the high nibble of a text byte, the buckets whose k-th
// fingerprint byte has that nibble; a text byte of a letter matches the
// nibbles of both its cases (the tables are built from the folded
// patterns, an upper-case letter's high nibble added), so case folding
// costs nothing per byte. Per step the 32 bytes at i, i+1 and i+2 are
// split into nibbles and looked up (VPSHUFB), and the six lookups and-ed.
//
// VBMI: for each fingerprint byte k, one 128-entry table gives, by the
// low 7 bits of a text byte, the buckets whose k-th fingerprint byte is
// that byte or that byte with bit 7 set, in either case of a letter; per
// step the 64 bytes at i, i+1 and i+2 are looked up whole (VPERMI2B, two
// 64-byte table halves) and the three lookups and-ed. The tables only
// let more through than the fingerprints (bit 7 ignored), never less.
//
// Either way, a bit left in byte j says that a pattern of that bucket may
// have its fingerprint at i+j, and only those patterns are compared, as
// qgram does.
//
// Nibble tables lose precision as buckets fill: past about four
// patterns a bucket lets most text through. Larger sets are split into
// passes of 8 buckets each (Hyperscan's grouping), up to a number of
// passes; sets larger than that keep the scalar matchers (see newTeddy).
type teddy struct {
	passes []teddyPass
	// passSet, for a filter of several passes, has a bucket per pass
	// (bit p%8: pass p, whatever its bucket): one lookup of its tables
	// tells the steps where no pass can have a pattern, which the scan
	// then skips without looking up each pass. (Its tables let through
	// more than the passes' together, never less.)
	passSet *teddyPass
	pats    []string // folded
	off     []int    // per pattern: where its fingerprint starts
	short   []int32  // the patterns of one or two bytes
	wide    bool     // the passes have full-byte tables (VBMI), not nibble tables
}

// teddyPass is one pass's tables and buckets: bucket[b] lists the
// patterns of bucket b. AVX2 uses lo and hi: lo[k] and hi[k] map the low
// and high nibble of the text byte at fingerprint position k to bucket
// bits, the 16 entries repeated for both 128-bit lanes (VPSHUFB looks up
// per lane). VBMI uses full: full[k] maps the low 7 bits of the text
// byte at fingerprint position k to bucket bits.
type teddyPass struct {
	lo, hi [3][32]uint8
	full   [3][128]uint8
	bucket [8][]int32
}

// hasVBMI is whether the CPU has AVX-512 VBMI and the AVX-512 base
// (F+CD+BW+DQ+VL) that its 64-byte vectors and masks need.
var hasVBMI = archsimd.X86.AVX512() && archsimd.X86.AVX512VBMI()

// useVBMI is whether new filters take the VBMI tables (where hasVBMI);
// the tests turn it off to check the AVX2 filter on the same CPU.
var useVBMI = hasVBMI

// Teddy sizing, from BenchmarkScan (frames of the bench captures, the
// literals of a peer rule set): 32 patterns per pass (4 per bucket) beat
// 16 (more passes) and did no worse than 48 or 64. With the pass set
// (teddy.passSet) skipping the steps no pass can match, the filter scans
// 1.5 times as fast as the q-gram filter at 100 and 200 patterns (ns per
// frame, medians of 3: 135 against 208, 207 against 289; 7 passes) and
// slower at 384 (450 against 306, 12 passes), so it takes sets of up to
// 7 passes.
const (
	teddyPatsPerPass = 32
	maxTeddyPasses   = 7
)

// VBMI sizing, from BenchmarkScan as above (ns per frame on one core,
// Sapphire Rapids): full-byte tables stay precise with more patterns a
// bucket, and 48 patterns per pass (6 a bucket) did best from 100 to 384
// patterns (384: 229 ns, against 270 with 32 a pass and 269 with 64,
// medians of 12, before the pass set). With the pass set, medians of 3:
// 3 times as fast as the q-gram filter at 100 patterns (68 against 208),
// 2 times at 384 (154 against 306, 8 passes) and 1.7 times at 503 (195
// against 340, 11 passes, the most the peer sets have), so it takes sets
// of up to 12 passes. Against the AVX2 filter: 2 to 3 times its speed
// from 100 to 384 patterns.
const (
	teddyWidePatsPerPass = 48
	maxTeddyWidePasses   = 12
)

// teddySize returns the patterns per pass and the most patterns of the
// filter the CPU takes.
func teddySize(wide bool) (perPass, most int) {
	if wide {
		return teddyWidePatsPerPass, teddyWidePatsPerPass * maxTeddyWidePasses
	}
	return teddyPatsPerPass, teddyPatsPerPass * maxTeddyPasses
}

// newTeddy builds the tables for pats (folded, non-empty, distinct), or
// returns nil when the CPU lacks AVX2 or pats is too large a set for
// its tables to filter well.
func newTeddy(pats []string) *teddy { return newTeddyOf(pats, nil) }

// newTeddyOf is newTeddy for the patterns of pats that sel marks (every
// one when sel is nil); it reports them by their place in pats.
func newTeddyOf(pats []string, sel []bool) *teddy {
	if _, most := teddySize(useVBMI); marked(pats, sel) > most {
		return nil
	}
	return buildTeddyOf(pats, sel)
}

// buildTeddy is newTeddy for a set of any size.
func buildTeddy(pats []string) *teddy { return buildTeddyOf(pats, nil) }

// buildTeddyOf is buildTeddy for the patterns of pats that sel marks
// (every one when sel is nil); it reports them by their place in pats.
func buildTeddyOf(pats []string, sel []bool) *teddy {
	if !archsimd.X86.AVX2() || len(pats) == 0 {
		return nil
	}
	td := &teddy{pats: pats, off: make([]int, len(pats)), wide: useVBMI}
	fp := make([]string, len(pats)) // fingerprint; shorter than 3 for short patterns
	var order []int32
	for id, p := range pats {
		if sel != nil && !sel[id] {
			continue
		}
		order = append(order, int32(id))
		if len(p) >= 3 {
			td.off[id] = rarestWindow(p, 3)
		} else {
			td.short = append(td.short, int32(id))
		}
		fp[id] = p[td.off[id]:min(len(p), td.off[id]+3)]
	}
	if len(order) == 0 {
		return nil
	}
	// Patterns with like fingerprints share a bucket, where they cost
	// less precision than apart.
	slices.SortFunc(order, func(a, b int32) int {
		if len(fp[a]) != len(fp[b]) { // short ones together
			return len(fp[a]) - len(fp[b])
		}
		if fp[a] < fp[b] {
			return -1
		}
		if fp[a] > fp[b] {
			return 1
		}
		return 0
	})
	perPass, _ := teddySize(td.wide)
	npass := (len(order) + perPass - 1) / perPass
	td.passes = make([]teddyPass, npass)
	nb := npass * 8
	for i, id := range order {
		b := i * nb / len(order) // even spread over every bucket
		ps := &td.passes[b/8]
		bit := uint8(1) << (b % 8)
		ps.bucket[b%8] = append(ps.bucket[b%8], id)
		f := fp[id]
		for k := 0; k < 3; k++ {
			switch {
			case k >= len(f): // past a short pattern's end: any byte
				for n := range ps.full[k] {
					ps.full[k][n] |= bit
				}
				for n := range ps.lo[k] {
					ps.lo[k][n] |= bit
					ps.hi[k][n] |= bit
				}
			case td.wide:
				ps.addFull(k, f[k], bit)
			default:
				ps.addNibbles(k, f[k], bit)
			}
		}
	}
	if npass > 1 {
		td.passSet = new(teddyPass)
		for p := range td.passes {
			ps, set := &td.passes[p], td.passSet
			for k := range 3 {
				for n := range ps.full[k] {
					set.full[k][n] |= anyBit(ps.full[k][n], p)
				}
				for n := range ps.lo[k] {
					set.lo[k][n] |= anyBit(ps.lo[k][n], p)
					set.hi[k][n] |= anyBit(ps.hi[k][n], p)
				}
			}
		}
	}
	return td
}

// anyBit returns bit p%8 when some bit of buckets is set, 0 otherwise.
func anyBit(buckets uint8, p int) uint8 {
	if buckets == 0 {
		return 0
	}
	return 1 << (p % 8)
}

// addNibbles files the folded byte c at fingerprint position k of the
// buckets of bit in the nibble tables.
func (ps *teddyPass) addNibbles(k int, c, bit uint8) {
	for lane := 0; lane < 32; lane += 16 {
		ps.lo[k][lane+int(c&15)] |= bit
		ps.hi[k][lane+int(c>>4)] |= bit
		if c >= 'a' && c <= 'z' {
			ps.hi[k][lane+int((c-'a'+'A')>>4)] |= bit
		}
	}
}

// addFull files the folded byte c at fingerprint position k of the
// buckets of bit in the full-byte table, under its low 7 bits.
func (ps *teddyPass) addFull(k int, c, bit uint8) {
	ps.full[k][c&0x7f] |= bit
	if c >= 'a' && c <= 'z' {
		ps.full[k][c-'a'+'A'] |= bit
	}
}

// teddyMin is the least text a scan reads: one AVX2 step, 34 bytes.
const teddyMin = 34

// scan calls hit for every occurrence in text[lo:hi] with the index of
// its last byte, each once; hi must be at least teddyMin (shorter texts
// go to the scalar matchers).
//
// With nibble tables (AVX2), per step of 32 positions the three loads are
// split into nibbles once for all passes, and each pass costs six table
// lookups (with several passes, a step the pass set rules out costs six
// in all); the loop makes no call, so the nibbles stay in registers, and
// a step where some pass has a candidate is looked up again, pass by
// pass, by blockNibbles. Full-byte tables go to scanFull.
func (td *teddy) scan(text string, lo, hi int, hit func(end int, pat int32)) {
	s := unsafe.Slice(unsafe.StringData(text), hi) // read only
	text = text[:hi]
	if td.wide {
		td.scanFull(s, text, lo, hi, hit)
		td.scanTail(text, lo, hi, hit)
		return
	}
	nib := archsimd.BroadcastUint8x32(0x0f)
	passes, set := td.passes, td.passSet
	i := lo
	for ; i+teddyMin <= hi; i += 32 {
		l0, h0 := nibbles(archsimd.LoadUint8x32Slice(s[i:i+32]), nib)
		l1, h1 := nibbles(archsimd.LoadUint8x32Slice(s[i+1:i+33]), nib)
		l2, h2 := nibbles(archsimd.LoadUint8x32Slice(s[i+2:i+34]), nib)
		if set != nil && set.look(l0, h0, l1, h1, l2, h2) == 0 {
			continue
		}
		var any uint32
		for pi := range passes {
			any |= passes[pi].look(l0, h0, l1, h1, l2, h2)
		}
		if any != 0 {
			td.blockNibbles(s[i:i+teddyMin], text, lo, i, ^uint32(0), nib, hit)
		}
	}
	if i < hi {
		// one more step ending at hi, less the positions done
		j := hi - teddyMin
		td.blockNibbles(s[j:], text, lo, j, ^uint32(0)<<(i-j), nib, hit)
	}
	td.scanTail(text, lo, hi, hit)
}

// scanTail ends a scan of text[lo:hi]: it cleans the vector registers
// and finds the patterns of one or two bytes at hi-2 and hi-1, which no
// step looks at.
func (td *teddy) scanTail(text string, lo, hi int, hit func(end int, pat int32)) {
	// Legacy SSE code (Go's own, the runtime's) runs slowly while the
	// upper halves of the vector registers are dirty.
	archsimd.ClearAVXUpperBits()
	for _, id := range td.short {
		p := td.pats[id]
		for at := max(lo, hi-2); at+len(p) <= hi; at++ {
			if equalFold(text[at:at+len(p)], p) {
				hit(at+len(p)-1, id)
			}
		}
	}
}

// look returns the positions (bits) of a step where one of the pass's
// buckets may have a pattern, given the low and high nibbles of the
// text bytes at fingerprint positions 0, 1 and 2.
func (ps *teddyPass) look(l0, h0, l1, h1, l2, h2 archsimd.Int8x32) uint32 {
	r := ps.bucketsAt(l0, h0, l1, h1, l2, h2)
	return ^r.Equal(archsimd.Uint8x32{}).ToBits()
}

// bucketsAt returns, per position of a step, the buckets whose
// fingerprint bytes have the nibbles given.
func (ps *teddyPass) bucketsAt(l0, h0, l1, h1, l2, h2 archsimd.Int8x32) archsimd.Uint8x32 {
	return archsimd.LoadUint8x32(&ps.lo[0]).PermuteOrZeroGrouped(l0).
		And(archsimd.LoadUint8x32(&ps.hi[0]).PermuteOrZeroGrouped(h0)).
		And(archsimd.LoadUint8x32(&ps.lo[1]).PermuteOrZeroGrouped(l1)).
		And(archsimd.LoadUint8x32(&ps.hi[1]).PermuteOrZeroGrouped(h1)).
		And(archsimd.LoadUint8x32(&ps.lo[2]).PermuteOrZeroGrouped(l2)).
		And(archsimd.LoadUint8x32(&ps.hi[2]).PermuteOrZeroGrouped(h2))
}

// blockNibbles looks up the fingerprints at s[0:32] (reading s[0:34]),
// text position i, in every pass, and verifies the positions of keep
// where a bucket may have a pattern.
func (td *teddy) blockNibbles(s []byte, text string, lo, i int, keep uint32, nib archsimd.Uint8x32, hit func(end int, pat int32)) {
	l0, h0 := nibbles(archsimd.LoadUint8x32Slice(s[0:32]), nib)
	l1, h1 := nibbles(archsimd.LoadUint8x32Slice(s[1:33]), nib)
	l2, h2 := nibbles(archsimd.LoadUint8x32Slice(s[2:34]), nib)
	for pi := range td.passes {
		ps := &td.passes[pi]
		r := ps.bucketsAt(l0, h0, l1, h1, l2, h2)
		if m := ^r.Equal(archsimd.Uint8x32{}).ToBits() & keep; m != 0 {
			var b [64]uint8
			r.Store((*[32]uint8)(b[:32]))
			td.verify(ps, text, lo, i, uint64(m), &b, hit)
		}
	}
}

// nibbles splits each byte of v into its low and high nibble, as
// PermuteOrZeroGrouped indices. The high nibbles come from a 16-bit
// multiply-high by 1<<12, a shift right by 4 (the low byte's extra bits
// are masked off): ShiftAllRight moves its count with a legacy SSE
// instruction, which stalls on the dirty upper halves and made a step
// some 50 times slower.
func nibbles(v, nib archsimd.Uint8x32) (lo, hi archsimd.Int8x32) {
	lo = v.And(nib).AsInt8x32()
	hi = v.AsInt16x16().MulHigh(archsimd.BroadcastInt16x16(1 << 12)).AsUint8x32().And(nib).AsInt8x32()
	return lo, hi
}

// scanFull is scan with full-byte tables (VBMI) up to position hi-3, 64
// positions per step: three loads, and per pass three table lookups
// (three in all where the pass set rules the step out); as
// in scan's nibble loop, the loop makes no call, and a step where some
// pass has a candidate is looked up again by blockFull. The last, shorter
// step reads only up to hi (masked loads), so texts need not be padded.
func (td *teddy) scanFull(s []byte, text string, lo, hi int, hit func(end int, pat int32)) {
	passes, set := td.passes, td.passSet
	i := lo
	for ; i+66 <= hi; i += 64 {
		t0 := archsimd.LoadUint8x64Slice(s[i : i+64])
		t1 := archsimd.LoadUint8x64Slice(s[i+1 : i+65])
		t2 := archsimd.LoadUint8x64Slice(s[i+2 : i+66])
		if set != nil && set.bucketsAtFull(t0, t1, t2).NotEqual(archsimd.Uint8x64{}).ToBits() == 0 {
			continue
		}
		var any archsimd.Uint8x64
		for pi := range passes {
			any = any.Or(passes[pi].bucketsAtFull(t0, t1, t2))
		}
		if any.NotEqual(archsimd.Uint8x64{}).ToBits() != 0 {
			td.blockFull(s[i:i+66], text, lo, i, ^uint64(0), hit)
		}
	}
	if n := hi - 2 - i; n > 0 {
		td.blockFull(s[i:hi], text, lo, i, 1<<n-1, hit)
	}
}

// bucketsAtFull returns, per position of a step, the buckets whose
// fingerprint bytes may be t0, t1, t2 there.
func (ps *teddyPass) bucketsAtFull(t0, t1, t2 archsimd.Uint8x64) archsimd.Uint8x64 {
	return ps.lookFull(0, t0).And(ps.lookFull(1, t1)).And(ps.lookFull(2, t2))
}

// lookFull maps each byte of t by the table of fingerprint position k.
func (ps *teddyPass) lookFull(k int, t archsimd.Uint8x64) archsimd.Uint8x64 {
	lo := archsimd.LoadUint8x64((*[64]uint8)(ps.full[k][:64]))
	hi := archsimd.LoadUint8x64((*[64]uint8)(ps.full[k][64:]))
	return lo.ConcatPermute(hi, t)
}

// blockFull looks up the fingerprints at s[0:64] (reading up to s[0:66]
// or to the end of a shorter s), text position i, in every pass, and
// verifies the positions of keep where a bucket may have a pattern.
func (td *teddy) blockFull(s []byte, text string, lo, i int, keep uint64, hit func(end int, pat int32)) {
	t0 := archsimd.LoadUint8x64SlicePart(s)
	t1 := archsimd.LoadUint8x64SlicePart(s[1:])
	t2 := archsimd.LoadUint8x64SlicePart(s[2:])
	for pi := range td.passes {
		ps := &td.passes[pi]
		r := ps.bucketsAtFull(t0, t1, t2)
		if m := r.NotEqual(archsimd.Uint8x64{}).ToBits() & keep; m != 0 {
			var b [64]uint8
			r.Store(&b)
			td.verify(ps, text, lo, i, m, &b, hit)
		}
	}
}

// verify compares the patterns of the buckets b names at each position
// of m (fingerprints at text[i+j]) and calls hit for those found inside
// text[lo:].
func (td *teddy) verify(ps *teddyPass, text string, lo, i int, m uint64, b *[64]uint8, hit func(end int, pat int32)) {
	for ; m != 0; m &= m - 1 {
		j := bits.TrailingZeros64(m)
		for bs := b[j]; bs != 0; bs &= bs - 1 {
			for _, id := range ps.bucket[bits.TrailingZeros8(bs)] {
				p := td.pats[id]
				at := i + j - td.off[id]
				if at >= lo && len(text)-at >= len(p) && equalFold(text[at:at+len(p)], p) {
					hit(at+len(p)-1, id)
				}
			}
		}
	}
}
