package rules

import (
	"fmt"
	"strings"
)

// levenshtein is the edit distance between a and b, in bytes, counting a
// swap of two neighbours as one edit (optimal string alignment), since
// "tpc" for "tcp" is the commonest typo.
func levenshtein(a, b string) int {
	rows := make([][]int, len(a)+1)
	for i := range rows {
		rows[i] = make([]int, len(b)+1)
		rows[i][0] = i
	}
	for j := range rows[0] {
		rows[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d := min(rows[i-1][j]+1, rows[i][j-1]+1, rows[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d = min(d, rows[i-2][j-2]+1)
			}
			rows[i][j] = d
		}
	}
	return rows[len(a)][len(b)]
}

// maxExtension is how many bytes a candidate may add to a name it
// extends (tcp.src: tcp.srcport) and still be suggested.
const maxExtension = 6

// closest returns the candidate that s is most likely a short or mistyped
// form of: the shortest candidate that extends s by a few bytes
// (tcp.src: tcp.srcport, dns.qry: dns.qry.name), else the nearest one
// if it is near enough to be a likely typo (at most a third of the name's
// length, and at most 3 edits).
func closest(s string, candidates ...[]string) string {
	best, bestD := "", 1<<30
	ext := ""
	for _, list := range candidates {
		for _, c := range list {
			if len(s) >= 3 && len(c) > len(s) && len(c)-len(s) <= maxExtension && strings.HasPrefix(c, s) &&
				(ext == "" || len(c) < len(ext) || len(c) == len(ext) && c < ext) {
				ext = c
			}
			if d := levenshtein(s, c); d < bestD {
				best, bestD = c, d
			}
		}
	}
	if ext != "" {
		return ext
	}
	limit := min(3, max(1, len(s)/3))
	if bestD > limit {
		return ""
	}
	return best
}

// Suggest returns the name of candidates that name is most likely a short
// or mistyped form of, or "" when none is near: the suggestion of rule
// file errors, for other names (configuration keys).
func Suggest(name string, candidates ...[]string) string { return closest(name, candidates...) }

// didYouMean formats a suggestion suffix: ` (did you mean "x"?)` or "".
func didYouMean(s string, candidates ...[]string) string {
	if c := closest(s, candidates...); c != "" {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	return ""
}
