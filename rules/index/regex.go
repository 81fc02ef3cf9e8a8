package index

import (
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"
)

// Limits on what a regex's literal sets may grow to; past them the
// analysis keeps a shorter, still necessary, requirement.
const (
	maxReSet   = 16 // strings in an exact or required set
	maxReLen   = 64 // bytes of one string
	maxReRunes = 8  // runes of a character class taken as alternatives
	maxReAtoms = 16 // literal atoms a regex files its rule under
)

// reInfo is what the analysis knows of a regex node, as in RE2's and
// Hyperscan's literal prefilters: exact, when not nil, is every string
// the node matches; must, when not nil, is a set of strings one of which
// every match contains. An empty, non-nil set means the node never
// matches.
type reInfo struct {
	exact []string
	must  []string
}

// regexNeed is the need of `t matches pattern`: the literals every match
// must contain, found in the parsed regex (Go's RE2 syntax, as expr
// compiles it). A case-insensitive part makes every literal a folded one.
func regexNeed(t text, pattern string) need {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return need{}
	}
	re = re.Simplify()
	fold := foldsCase(re)
	set := reAnalyze(re, fold).required()
	if set == nil || len(set) > maxReAtoms {
		return need{}
	}
	out := need{hasLit: true}
	for _, s := range set {
		if fold { // RE2 keeps a folded literal in upper case
			b := []byte(s)
			for i, c := range b {
				b[i] = foldASCII(c)
			}
			s = string(b)
		}
		as := t.atoms(s, false) // a match may start anywhere
		if as == nil {
			return need{}
		}
		for _, a := range as {
			a.fold = a.fold || fold
			out.lit = append(out.lit, a)
		}
	}
	slices.SortFunc(out.lit, func(a, b litAtom) int { return strings.Compare(a.lit, b.lit) })
	out.lit = slices.CompactFunc(out.lit, func(a, b litAtom) bool { return a.lit == b.lit })
	return out
}

// foldsCase reports whether any literal of re matches case-insensitively.
func foldsCase(re *syntax.Regexp) bool {
	if re.Op == syntax.OpLiteral && re.Flags&syntax.FoldCase != 0 {
		return true
	}
	return slices.ContainsFunc(re.Sub, foldsCase)
}

// reAnalyze returns what every match of re is known to be or contain.
// Under fold, an ASCII literal rune stands for itself (either case) or a
// non-ASCII rune of its folding orbit (k: KELVIN SIGN), a non-ASCII one
// is left unknown, since the folded atom only ignores ASCII case; so is
// U+FFFD, which matches any invalid UTF-8 byte.
func reAnalyze(re *syntax.Regexp, fold bool) reInfo {
	switch re.Op {
	case syntax.OpNoMatch:
		return reInfo{exact: []string{}}
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return reInfo{exact: []string{""}}
	case syntax.OpLiteral:
		parts := make([]reInfo, len(re.Rune))
		for i, r := range re.Rune {
			switch {
			case r == utf8.RuneError:
			case !fold:
				parts[i] = reInfo{exact: []string{string(r)}}
			case r < utf8.RuneSelf: // and the runes folding to it: k, KELVIN SIGN
				parts[i] = reInfo{exact: append([]string{string(r)}, foldSources.of(byte(r))...)}
			}
		}
		return concat(parts)
	case syntax.OpCharClass:
		var alts []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if hi-lo >= maxReRunes || len(alts) > maxReRunes || (lo <= utf8.RuneError && utf8.RuneError <= hi) {
				return reInfo{}
			}
			for r := lo; r <= hi; r++ {
				if fold && r >= 0x80 {
					return reInfo{}
				}
				alts = append(alts, string(r))
			}
		}
		if len(alts) > maxReRunes {
			return reInfo{}
		}
		return reInfo{exact: alts}
	case syntax.OpCapture:
		return reAnalyze(re.Sub[0], fold)
	case syntax.OpQuest:
		if in := reAnalyze(re.Sub[0], fold); in.exact != nil && len(in.exact) < maxReSet {
			return reInfo{exact: union([]string{""}, in.exact)}
		}
	case syntax.OpPlus:
		return reInfo{must: reAnalyze(re.Sub[0], fold).required()}
	case syntax.OpRepeat:
		if re.Min > 0 {
			return reInfo{must: reAnalyze(re.Sub[0], fold).required()}
		}
	case syntax.OpConcat:
		parts := make([]reInfo, len(re.Sub))
		for i, s := range re.Sub {
			parts[i] = reAnalyze(s, fold)
		}
		return concat(parts)
	case syntax.OpAlternate:
		var exact, must []string
		allExact, allMust := true, true
		for _, s := range re.Sub {
			in := reAnalyze(s, fold)
			if in.exact == nil {
				allExact = false
			} else {
				exact = union(exact, in.exact)
			}
			if r := in.required(); r == nil {
				allMust = false
			} else {
				must = union(must, r)
			}
		}
		switch {
		case allExact && len(exact) <= maxReSet:
			return reInfo{exact: exact}
		case allMust && len(must) <= maxReSet:
			return reInfo{must: must}
		}
	}
	// OpAnyChar, OpAnyCharNotNL, OpStar, a class or set too large: no
	// knowledge.
	return reInfo{}
}

// concat is what a sequence of nodes matches: the cross product of the
// exact sets while it stays small; where a part is unknown or the product
// grows too large, the product so far becomes a required set and a new
// product starts. The most selective required set is kept.
func concat(parts []reInfo) reInfo {
	cur := []string{""}
	var must []string
	exact := true
	flush := func() {
		if !slices.Contains(cur, "") && better(cur, must) {
			must = cur
		}
	}
	for _, p := range parts {
		if p.exact != nil {
			if next := cross(cur, p.exact); next != nil {
				cur = next
				continue
			}
		}
		exact = false
		flush()
		if better(p.must, must) {
			must = p.must
		}
		cur = p.exact
		if cur == nil {
			cur = []string{""}
		}
	}
	if exact {
		return reInfo{exact: cur}
	}
	flush()
	return reInfo{must: must}
}

// required returns a set one of whose strings every match contains, or
// nil.
func (in reInfo) required() []string {
	if in.exact != nil && !slices.Contains(in.exact, "") && better(in.exact, in.must) {
		return in.exact
	}
	return in.must
}

// better reports whether required set a is more selective than b (nil:
// none).
func better(a, b []string) bool {
	if a == nil {
		return false
	}
	return b == nil || setCost(a) < setCost(b)
}

func setCost(set []string) float64 {
	c := 0.0
	for _, s := range set {
		c += litAtom{lit: s}.cost()
	}
	return c
}

// cross returns every a+b, or nil when the result would pass the limits.
func cross(as, bs []string) []string {
	if len(as)*len(bs) > maxReSet {
		return nil
	}
	out := make([]string, 0, len(as)*len(bs))
	for _, a := range as {
		for _, b := range bs {
			if len(a)+len(b) > maxReLen {
				return nil
			}
			out = append(out, a+b)
		}
	}
	return union(nil, out)
}

// union returns the sorted, distinct strings of a and b.
func union(a, b []string) []string {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}
