package index

import (
	"slices"
	"unicode"
	"unicode/utf8"

	"github.com/expr-lang/expr/ast"

	"github.com/vigil-ids/vigil/rules/field"
)

// text is a haystack a literal test reads: a text field, a slice of it, or
// lower()/upper() of either, in any nesting.
type text struct {
	f fieldRef
	// sliced: a literal found in the haystack may lie anywhere in the
	// field, so it cannot be anchored at the field's start.
	sliced bool
	// caseMapped: lower() or upper() was applied. The haystack's ASCII
	// bytes then come from the field's ASCII bytes with ASCII case
	// changed, or, for an ASCII letter, from one of the non-ASCII runes
	// in sources that the mapping turns into it.
	caseMapped bool
	sources    *letterSources
}

// letterSources lists, per ASCII lower-case letter, the UTF-8 encodings
// of the non-ASCII runes a case mapping or case folding makes that letter
// of (either case).
type letterSources [128][]string

// textOf resolves n to a text haystack.
func textOf(n ast.Node) (text, bool) {
	switch n := n.(type) {
	case *ast.SliceNode:
		t, ok := textOf(n.Node)
		t.sliced = true
		return t, ok
	case *ast.BuiltinNode:
		if len(n.Arguments) != 1 || (n.Name != "lower" && n.Name != "upper") {
			return text{}, false
		}
		t, ok := textOf(n.Arguments[0])
		t.caseMapped = true
		t.sources = joinSources(t.sources, caseSources[n.Name])
		return t, ok
	}
	f, ok := fieldOf(n)
	if !ok || f.Kind != field.KindString || !textFields[f.Name] {
		return text{}, false
	}
	return text{f: f}, true
}

// maxVariants caps the literals one case-mapped literal expands to.
const maxVariants = 8

// atoms returns the literal atoms one of which holds when haystack t
// holds lit (at its start when anchored and t is not sliced), or nil when
// nothing is surely known. Through a case mapping only the longest run of
// lit without non-ASCII bytes is surely in the field, ASCII case ignored,
// each letter of it written there either as itself or as one of the runes
// its sources list (`lower(x) contains "kit"` holds on x = "\u212aIT"):
// the run is expanded into those spellings, or, past maxVariants, cut at
// such letters to its rarest piece.
func (t text) atoms(lit string, anchored bool) []litAtom {
	anchored = anchored && !t.sliced
	fold := false
	if t.caseMapped {
		from, to := run(lit, 0, func(c byte) bool { return c < utf8.RuneSelf })
		lit, anchored, fold = lit[from:to], anchored && from == 0, true
	}
	if lit == "" {
		return nil
	}
	spellings := []string{lit}
	if t.caseMapped {
		spellings = variants(lit, t.sources)
		if spellings == nil {
			from, to := rarestPiece(lit, t.sources)
			spellings, anchored = []string{lit[from:to]}, anchored && from == 0
		}
	}
	out := make([]litAtom, len(spellings))
	for i, s := range spellings {
		out[i] = litAtom{src: t.f, lit: s, fold: fold, anchored: anchored}
	}
	return out
}

// variants returns every spelling of lit with each letter that sources
// lists replaced by itself or by one of its sources, or nil when there
// are more than maxVariants.
func variants(lit string, sources *letterSources) []string {
	out := []string{""}
	start := 0
	for i := 0; i < len(lit); i++ {
		alts := sources.of(lit[i])
		if len(alts) == 0 {
			continue
		}
		if len(out)*(1+len(alts)) > maxVariants {
			return nil
		}
		var next []string
		for _, v := range out {
			next = append(next, v+lit[start:i+1])
			for _, a := range alts {
				next = append(next, v+lit[start:i]+a)
			}
		}
		out, start = next, i+1
	}
	for i := range out {
		out[i] += lit[start:]
	}
	return out
}

// rarestPiece returns the bounds of the piece of lit between letters that
// sources lists that the index finds rarest.
func rarestPiece(lit string, sources *letterSources) (from, to int) {
	best := -1.0
	for i := 0; i < len(lit); {
		f, t := run(lit, i, func(c byte) bool { return len(sources.of(c)) == 0 })
		if t <= f {
			break
		}
		if c := (litAtom{lit: lit[f:t]}).cost(); best < 0 || c < best {
			from, to, best = f, t, c
		}
		i = t + 1
	}
	return from, to
}

// run returns the bounds of the first longest run of bytes of s, from i
// on, that keep holds for.
func run(s string, i int, keep func(byte) bool) (from, to int) {
	from, to = i, i
	start := i
	for j := i; j <= len(s); j++ {
		if j < len(s) && keep(s[j]) {
			continue
		}
		if j-start > to-from {
			from, to = start, j
		}
		start = j + 1
	}
	return from, to
}

// of returns the sources of ASCII byte c (nil for none or no table).
func (s *letterSources) of(c byte) []string {
	if s == nil || c >= utf8.RuneSelf {
		return nil
	}
	return s[c|0x20]
}

func joinSources(a, b *letterSources) *letterSources {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	var out letterSources
	for i := range out {
		out[i] = append(slices.Clone(a[i]), b[i]...)
		slices.Sort(out[i])
		out[i] = slices.Compact(out[i])
	}
	return &out
}

// caseSources holds, for expr's lower() and upper() (strings.ToLower and
// strings.ToUpper), the non-ASCII runes each maps to an ASCII letter:
// KELVIN SIGN and LATIN CAPITAL LETTER I WITH DOT ABOVE lower to k and i;
// LATIN SMALL LETTER DOTLESS I and LONG S upper to I and S. foldSources
// holds those in the simple case folding orbit of each letter, which a
// case-insensitive regex matches (KELVIN SIGN for k, LONG S for s). Both
// are read from Go's unicode tables.
var caseSources, foldSources = func() (map[string]*letterSources, *letterSources) {
	var lower, upper, fold letterSources
	for _, cr := range unicode.CaseRanges { // every rune with a case mapping
		for r := max(rune(cr.Lo), utf8.RuneSelf); r <= rune(cr.Hi); r++ {
			if l := unicode.ToLower(r); l < utf8.RuneSelf {
				lower[l|0x20] = append(lower[l|0x20], string(r))
			}
			if u := unicode.ToUpper(r); u < utf8.RuneSelf {
				upper[u|0x20] = append(upper[u|0x20], string(r))
			}
		}
	}
	for c := rune('a'); c <= 'z'; c++ {
		for f := unicode.SimpleFold(c); f != c; f = unicode.SimpleFold(f) {
			if f >= utf8.RuneSelf {
				fold[c] = append(fold[c], string(f))
			}
		}
	}
	return map[string]*letterSources{"lower": &lower, "upper": &upper}, &fold
}()
