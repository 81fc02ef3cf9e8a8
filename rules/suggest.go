package rules

import "fmt"

// levenshtein is the edit distance between a and b, in bytes.
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// closest returns the candidate nearest to s, if it is near enough to be a
// likely typo (at most a third of the name's length, and at most 3 edits).
func closest(s string, candidates ...[]string) string {
	best, bestD := "", 1<<30
	for _, list := range candidates {
		for _, c := range list {
			if d := levenshtein(s, c); d < bestD {
				best, bestD = c, d
			}
		}
	}
	limit := min(3, max(1, len(s)/3))
	if bestD > limit {
		return ""
	}
	return best
}

// didYouMean formats a suggestion suffix: ` (did you mean "x"?)` or "".
func didYouMean(s string, candidates ...[]string) string {
	if c := closest(s, candidates...); c != "" {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	return ""
}
