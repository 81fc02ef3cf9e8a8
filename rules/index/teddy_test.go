package index

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// rangeHits lists the occurrences of the folded patterns that lie inside
// text[lo:hi], by brute force.
func rangeHits(text string, lo, hi int, pats []string) []hit {
	var out []hit
	for _, h := range bruteHits(text[:hi], pats) {
		if h.end+1-len(pats[h.pat]) >= lo {
			out = append(out, h)
		}
	}
	return out
}

// checkScanners compares, over text[lo:hi], the occurrences the scanner
// this build picks for pats (the vectorised filter where the build and
// the CPU have one) reports with those of the scalar q-gram filter and
// of a brute-force search.
func checkScanners(t *testing.T, pats []string, text string, lo, hi int) {
	t.Helper()
	want := rangeHits(text, lo, hi, pats)
	var got []hit
	collect := func(end int, pat int32) { got = append(got, hit{end, int(pat)}) }
	newQgram(pats).scan(text, lo, hi, collect)
	sortHits(got)
	if !slices.Equal(got, want) {
		t.Fatalf("qgram [%d:%d]: patterns %q over %q:\n got  %v\n want %v", lo, hi, pats, text, got, want)
	}
	if hi < teddyMin { // shorter texts take the scalar path
		return
	}
	eachTeddy(func(kind string) {
		td := newTeddy(pats)
		if td == nil {
			return
		}
		got = got[:0]
		td.scan(text, lo, hi, collect)
		sortHits(got)
		if !slices.Equal(got, want) {
			t.Fatalf("teddy (%s) [%d:%d]: patterns %q over %q:\n got  %v\n want %v", kind, lo, hi, pats, text, got, want)
		}
	})
}

// eachTeddy calls f once per vectorised filter the CPU has, with its
// name: AVX2 ("avx2"), then AVX-512 VBMI ("vbmi") where the CPU has it.
// f builds its filters itself (useVBMI picks the kind at build time).
func eachTeddy(f func(kind string)) {
	defer func(v bool) { useVBMI = v }(useVBMI)
	useVBMI = false
	f("avx2")
	if hasVBMI {
		useVBMI = true
		f("vbmi")
	}
}

// randomScanCase returns a folded, distinct pattern set of 1 to 128
// patterns (one time in eight up to 800, past the largest vectorised
// filter, whose passes then share pass set bits) of 1 to maxPattern bytes, and a text of up to 300 bytes that
// holds some of them in either case, often at its very start and end.
// Bytes come from a small alphabet (letters of both cases, a digit,
// binary bytes, and '@' and '`', which share a letter's low nibble) so
// that patterns overlap and near misses abound.
func randomScanCase(r *rand.Rand) ([]string, string) {
	const alpha = "abcABCz0\x00\xff@`"
	word := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alpha[r.IntN(len(alpha))]
		}
		return string(b)
	}
	n := 1 + r.IntN(128)
	if r.IntN(8) == 0 {
		n = 1 + r.IntN(800)
	}
	var pats []string
	for range n {
		p := capFold(word(1 + r.IntN(maxPattern)))
		if !slices.Contains(pats, p) {
			pats = append(pats, p)
		}
	}
	var b strings.Builder
	for b.Len() < r.IntN(300) {
		if r.IntN(3) == 0 {
			b.WriteString(upperSome(r, pats[r.IntN(len(pats))]))
		} else {
			b.WriteString(word(1 + r.IntN(40)))
		}
	}
	text := b.String()
	switch r.IntN(3) {
	case 0:
		text = upperSome(r, pats[r.IntN(len(pats))]) + text
	case 1:
		text += upperSome(r, pats[r.IntN(len(pats))])
	}
	return pats, text
}

// upperSome returns p with some of its letters in upper case.
func upperSome(r *rand.Rand, p string) string {
	b := []byte(p)
	for i, c := range b {
		if c >= 'a' && c <= 'z' && r.IntN(2) == 0 {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// TestScanEquivalence: on random pattern sets and texts, whole and in
// sub-ranges, the scanner the build uses reports exactly the occurrences
// of the scalar path.
func TestScanEquivalence(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 3000 {
		pats, text := randomScanCase(r)
		checkScanners(t, pats, text, 0, len(text))
		if len(text) > 0 {
			lo := r.IntN(len(text) + 1)
			hi := lo + r.IntN(len(text)-lo+1)
			checkScanners(t, pats, text, lo, hi)
		}
	}
}

// TestScanEquivalenceCandidates: rules with literals of every form
// (contains, icontains, lower(), startsWith, slices, regexes) over every
// frame of the test captures give the same candidates with the scanner
// this build picks as with the scalar automaton and q-gram filter.
func TestScanEquivalenceCandidates(t *testing.T) {
	if buildTeddy([]string{"abc"}) == nil {
		t.Skip("no vectorised filter in this build or on this CPU")
	}
	pkts := loadPackets(t)
	eachTeddy(func(kind string) {
		g := newGen(21, pkts)
		used := 0
		for _, n := range []int{8, 40, 120, 300} {
			conds := make([]string, n)
			for i := range conds {
				conds[i] = "tcp && " + g.content()
			}
			ix := Build(parse(t, conds, nil))
			st, all := *ix.t, *ix.t.all
			all.td, all.split = nil, nil
			st.all = &all
			if all.m == nil && all.q == nil || ix.t.all.td == nil && ix.t.all.split == nil {
				continue
			}
			used++
			scalar := st.newIndex()
			var want, got []int
			for i := range pkts {
				want = scalar.Candidates(&pkts[i], want[:0])
				got = ix.Candidates(&pkts[i], got[:0])
				if !slices.Equal(got, want) {
					t.Fatalf("%s, %d rules, frame %d: candidates %v, scalar path %v", kind, n, i+1, got, want)
				}
			}
		}
		if used == 0 {
			t.Fatalf("%s: no rule set was scanned by the vectorised filter", kind)
		}
		t.Logf("%s: %d of 4 rule sets scanned by the vectorised filter", kind, used)
	})
}

func FuzzScan(f *testing.F) {
	f.Add("he\nshe\nhis\nhers", "ushers", uint16(0), uint16(6))
	f.Add("GET \n\x00\xff\nx", "GeT \x00\xffaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaX", uint16(1), uint16(40))
	f.Fuzz(func(t *testing.T, raw, text string, lo, hi uint16) {
		if len(raw) > 400 || len(text) > 1500 {
			return
		}
		var pats []string
		for _, r := range strings.Split(raw, "\n") {
			if p := capFold(r); p != "" && !slices.Contains(pats, p) {
				pats = append(pats, p)
			}
		}
		if len(pats) == 0 {
			return
		}
		h := int(hi) % (len(text) + 1)
		checkScanners(t, pats, text, min(int(lo)%(len(text)+1), h), h)
	})
}

// TestSplitEquivalence: a qsplit (a Teddy filter for the short patterns,
// the q-gram filter at its full stride for the others) reports exactly
// the occurrences of a brute-force search, whole texts and sub-ranges.
func TestSplitEquivalence(t *testing.T) {
	if buildTeddy([]string{"abc"}) == nil {
		t.Skip("no vectorised filter in this build or on this CPU")
	}
	eachTeddy(func(kind string) {
		r := rand.New(rand.NewPCG(5, 6))
		used := 0
		for range 3000 {
			pats, text := randomScanCase(r)
			var keep []string
			short := 0
			for _, p := range pats {
				if len(p) >= qgramStride+2 || short < 1+len(pats)%8 {
					keep = append(keep, p)
					if len(p) < qgramStride+2 {
						short++
					}
				}
			}
			sp := newSplit(keep)
			if sp == nil {
				continue
			}
			if sp.long.stride != qgramStride {
				t.Fatalf("stride %d with the short patterns apart", sp.long.stride)
			}
			lo, hi := 0, len(text)
			if r.IntN(2) == 0 && len(text) > 0 {
				lo = r.IntN(len(text) + 1)
				hi = lo + r.IntN(len(text)-lo+1)
			}
			if hi < teddyMin {
				continue
			}
			used++
			var got []hit
			collect := func(end int, pat int32) { got = append(got, hit{end, int(pat)}) }
			sp.short.scan(text, lo, hi, collect)
			sp.long.scan(text, lo, hi, collect)
			sortHits(got)
			if want := rangeHits(text, lo, hi, keep); !slices.Equal(got, want) {
				t.Fatalf("split (%s) [%d:%d]: patterns %q over %q:\n got  %v\n want %v", kind, lo, hi, keep, text, got, want)
			}
		}
		if used < 100 {
			t.Fatalf("%s: only %d cases split", kind, used)
		}
	})
}
