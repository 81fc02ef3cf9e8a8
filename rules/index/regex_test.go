package index

import (
	"regexp"
	"strings"
	"testing"
)

// FuzzRegexLiterals checks the regex analysis against Go's regexp: when
// a pattern matches a text (or lower() or upper() of it), one of the
// literals the analysis requires occurs in the text, ASCII case ignored.
func FuzzRegexLiterals(f *testing.F) {
	for _, s := range [][2]string{
		{"(?i)union\\s+select", "1 UNION  SELECT 2"},
		{"^(GET|POST) /admin", "POST /admin"},
		{"\\.(php|asp)\\?id=", "/x.asp?id=1"},
		{"(?i)kiss", "\u212aiss"},
		{"(ab)?[c-e]x+", "dxx"},
		{"a{2,3}b|c[^d]", "cz"},
		{"\\x{fffd}ab", "\xffab"},
		{"(?i)ß", "SS"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, input string) {
		re, err := regexp.Compile(pattern)
		if err != nil {
			return
		}
		for _, h := range []struct {
			name     string
			mapped   string
			caseFunc string
		}{{"", input, ""}, {"lower", strings.ToLower(input), "lower"}, {"upper", strings.ToUpper(input), "upper"}} {
			if !re.MatchString(h.mapped) {
				continue
			}
			tx := text{}
			if h.caseFunc != "" {
				tx = text{caseMapped: true, sources: caseSources[h.caseFunc]}
			}
			n := regexNeed(tx, pattern)
			if !n.hasLit {
				continue
			}
			found := false
			for _, a := range n.lit {
				found = found || strings.Contains(asciiLower(input), asciiLower(a.lit))
			}
			if !found {
				t.Fatalf("%s(%q) matches %q, but none of its required literals %v occurs", h.name, input, pattern, n.lit)
			}
		}
	})
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = foldASCII(c)
	}
	return string(b)
}
