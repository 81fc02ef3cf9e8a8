package index

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

type hit struct{ end, pat int }

// bruteHits lists every (end, pattern) occurrence of the folded patterns
// in the folded text.
func bruteHits(text string, pats []string) []hit {
	ft := capFoldAll(text)
	var out []hit
	for i := range ft {
		for id, p := range pats {
			if len(p) > 0 && i+1 >= len(p) && ft[i+1-len(p):i+1] == p {
				out = append(out, hit{i, id})
			}
		}
	}
	return out
}

func capFoldAll(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = foldASCII(c)
	}
	return string(b)
}

func scanHits(m *matcher, text string) []hit {
	var out []hit
	m.scan(text, func(end int, pats []int32) {
		for _, p := range pats {
			out = append(out, hit{end, int(p)})
		}
	})
	sortHits(out)
	return out
}

func sortHits(h []hit) {
	slices.SortFunc(h, func(a, b hit) int {
		if a.end != b.end {
			return a.end - b.end
		}
		return a.pat - b.pat
	})
}

// checkMatcher builds the automaton for raw patterns and compares every
// occurrence it reports with a brute-force search.
func checkMatcher(t *testing.T, raw []string, text string) {
	t.Helper()
	var pats []string
	seen := map[string]bool{}
	for _, r := range raw {
		p := capFold(r)
		if p == "" || seen[p] {
			continue
		}
		seen[p] = true
		pats = append(pats, p)
	}
	if len(pats) == 0 {
		return
	}
	m := newMatcher(pats)
	want := bruteHits(text, pats)
	if got := scanHits(m, text); !slices.Equal(got, want) {
		t.Fatalf("dfa: patterns %q over %q:\n got  %v\n want %v", pats, text, got, want)
	}
	q := newQgram(pats)
	// the whole text, then text[lo:] alone: a pattern must start at lo or
	// after, wherever its key gram lies
	for _, lo := range []int{0, len(text) / 3} {
		var got, inside []hit
		q.scan(text, lo, len(text), func(end int, pat int32) { got = append(got, hit{end, int(pat)}) })
		sortHits(got)
		for _, h := range want {
			if h.end+1-len(pats[h.pat]) >= lo {
				inside = append(inside, h)
			}
		}
		if !slices.Equal(got, inside) {
			t.Fatalf("qgram from %d: patterns %q over %q:\n got  %v\n want %v", lo, pats, text, got, inside)
		}
	}
}

func TestMatcher(t *testing.T) {
	tests := []struct {
		pats []string
		text string
	}{
		{[]string{"he", "she", "his", "hers"}, "ushers"},
		{[]string{"a", "aa", "aaa"}, "aaaa"},
		{[]string{"GET ", "get /"}, "GeT /index.html"},
		{[]string{"\x00\xff", "\xff\x00"}, "\x00\xff\x00\xff"},
		{[]string{"abcdefghijklmnopqrstuvwxyz"}, "xxABCDEFGHIJKLmnopq"}, // capped at maxPattern
		{[]string{"x"}, ""},
	}
	for _, tt := range tests {
		checkMatcher(t, tt.pats, tt.text)
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	checkMatcher(t, []string{string(all[:128]), string(all[128:]), string(all[200:210])}, string(all)+string(all))
}

// TestMatcherRandom compares the automaton with a brute-force search over
// random patterns on a small alphabet, where overlaps abound.
func TestMatcherRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	word := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte("abAB\x00\xfe"[r.IntN(6)])
		}
		return b.String()
	}
	for range 300 {
		pats := make([]string, 1+r.IntN(20))
		for i := range pats {
			pats[i] = word(1 + r.IntN(6))
		}
		checkMatcher(t, pats, word(r.IntN(200)))
	}
}

func FuzzMatcher(f *testing.F) {
	f.Add("he\nshe\nhis\nhers", "ushers")
	f.Add("GET \n\x00\xff", "GeT \x00\xff")
	f.Fuzz(func(t *testing.T, pats, text string) {
		if len(pats) > 400 || len(text) > 1500 {
			return
		}
		checkMatcher(t, strings.Split(pats, "\n"), text)
	})
}

// scan runs the automaton over text, one chain (Index.scan is the
// production form), and calls hit with the index in text of each
// match's last byte and the patterns ending there.
func (m *matcher) scan(text string, hit func(end int, pats []int32)) {
	s := m.state0
	trans, class := m.trans, &m.class
	for i := 0; i < len(text); i++ {
		v := trans[s+uint32(class[text[i]])]
		s = v &^ outFlag
		if v&outFlag != 0 {
			hit(i, m.outs[s/uint32(m.nclass)])
		}
	}
}

// TestQgramStride checks the strided q-gram filter, where every pattern is
// long enough for positions to be skipped: each occurrence is reported
// once, wherever it lies relative to the tested positions and to lo and
// hi, with repeated grams and overlapping occurrences.
func TestQgramStride(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 12))
	for n := range 300 {
		var pats []string
		seen := map[string]bool{}
		for range 1 + rng.IntN(40) {
			b := make([]byte, 3+1+rng.IntN(9))
			for i := range b {
				b[i] = "abAB19x"[rng.IntN(7)]
			}
			if p := capFold(string(b)); !seen[p] {
				seen[p] = true
				pats = append(pats, p)
			}
		}
		q := newQgram(pats)
		if n == 0 && q.stride < 2 {
			t.Fatalf("stride %d for patterns of 4 bytes or more", q.stride)
		}
		var sb strings.Builder
		for sb.Len() < 200 {
			if rng.IntN(4) == 0 {
				sb.WriteString(pats[rng.IntN(len(pats))])
			} else {
				sb.WriteByte("abAB19xy"[rng.IntN(8)])
			}
		}
		text := sb.String()
		for _, lo := range []int{0, 1, 2, 3, len(text) / 3} {
			for _, hi := range []int{len(text), len(text) - 1, len(text) - 5} {
				var got []hit
				q.scan(text, lo, hi, func(end int, pat int32) { got = append(got, hit{end, int(pat)}) })
				sortHits(got)
				if want := rangeHits(text, lo, hi, pats); !slices.Equal(got, want) {
					t.Fatalf("stride %d [%d:%d]: patterns %q over %q:\n got  %v\n want %v", q.stride, lo, hi, pats, text, got, want)
				}
			}
		}
	}
}
