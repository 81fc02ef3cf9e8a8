package index

import (
	"unicode"

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
	// changed, except for the letters in unsafe, which a non-ASCII rune
	// of the field may also turn into.
	caseMapped bool
	unsafe     *[128]bool
}

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
		t.unsafe = joinUnsafe(t.unsafe, caseUnsafe[n.Name])
		return t, ok
	}
	f, ok := fieldOf(n)
	if !ok || f.Kind != field.KindString || !textFields[f.Name] {
		return text{}, false
	}
	return text{f: f}, true
}

// atom is the literal atom for "haystack t holds lit" (at its start when
// anchored), or false when no part of lit is surely in the field. When a
// case mapping or case folding (fold, of a regex) lies between the field
// and the test, only the longest run of lit without non-ASCII bytes and
// unsafe letters is surely in the field, ASCII case ignored.
func (t text) atom(lit string, fold bool, foldUnsafe *[128]bool) (litAtom, bool) {
	anchored := !t.sliced
	if t.caseMapped || fold {
		unsafe := joinUnsafe(t.unsafe, foldUnsafe)
		from, to := safeRun(lit, unsafe)
		anchored = anchored && from == 0
		lit, fold = lit[from:to], true
	}
	if lit == "" {
		return litAtom{}, false
	}
	return litAtom{src: t.f, lit: lit, fold: fold, anchored: anchored}, true
}

// safeRun returns the bounds of the longest run of s made of ASCII bytes
// that are not unsafe letters (either case).
func safeRun(s string, unsafe *[128]bool) (from, to int) {
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] < 0x80 && (unsafe == nil || !unsafe[s[i]|0x20]) {
			continue
		}
		if i-start > to-from {
			from, to = start, i
		}
		start = i + 1
	}
	return from, to
}

func joinUnsafe(a, b *[128]bool) *[128]bool {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	var out [128]bool
	for i := range out {
		out[i] = a[i] || b[i]
	}
	return &out
}

// caseUnsafe holds, for expr's lower() and upper() (strings.ToLower and
// strings.ToUpper), the ASCII letters (lower case) that a non-ASCII rune
// maps to: KELVIN SIGN to k, LATIN SMALL LETTER DOTLESS I to I, ...
// foldUnsafe holds those whose simple case folding orbit, which a
// case-insensitive regex matches, has a non-ASCII member (k, s).
var caseUnsafe, foldUnsafe = func() (map[string]*[128]bool, *[128]bool) {
	var lower, upper, fold [128]bool
	for _, cr := range unicode.CaseRanges { // every rune with a case mapping
		for r := max(rune(cr.Lo), 0x80); r <= rune(cr.Hi); r++ {
			if l := unicode.ToLower(r); l < 0x80 {
				lower[l|0x20] = true
			}
			if u := unicode.ToUpper(r); u < 0x80 {
				upper[u|0x20] = true
			}
		}
	}
	for c := rune('a'); c <= 'z'; c++ {
		for f := unicode.SimpleFold(c); f != c; f = unicode.SimpleFold(f) {
			if f >= 0x80 {
				fold[c] = true
			}
		}
	}
	return map[string]*[128]bool{"lower": &lower, "upper": &upper}, &fold
}()
