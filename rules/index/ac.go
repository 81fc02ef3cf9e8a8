package index

import "strings"

// maxPattern caps the bytes of a literal the automaton looks for: a
// literal can only occur where its first maxPattern bytes occur, so
// searching for the prefix is a sound (slightly weaker) filter, and it
// bounds the automaton at maxPattern states per literal.
const maxPattern = 8

// foldASCII maps A–Z to a–z, as the icontains function does.
func foldASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// equalFold reports whether s equals the folded pattern p, ASCII
// case-insensitively.
func equalFold(s, p string) bool {
	for i := 0; i < len(p); i++ {
		if foldASCII(s[i]) != p[i] {
			return false
		}
	}
	return true
}

// indexFold reports whether the folded, non-empty pattern p occurs in s,
// ASCII case-insensitively. Candidate starts are found with IndexByte
// (vectorised) for each case of p's first byte.
func indexFold(s, p string) bool {
	c := p[0]
	if c >= 'a' && c <= 'z' && indexFrom(s, p, c-'a'+'A') {
		return true
	}
	return indexFrom(s, p, c)
}

// indexFrom reports whether p occurs, case-folded, in s at a position
// where s holds the byte c.
func indexFrom(s, p string, c byte) bool {
	for i := 0; i+len(p) <= len(s); i++ {
		j := strings.IndexByte(s[i:len(s)-len(p)+1], c)
		if j < 0 {
			return false
		}
		i += j
		if equalFold(s[i:i+len(p)], p) {
			return true
		}
	}
	return false
}

// matcher is an Aho–Corasick automaton compiled into a dense DFA over
// byte classes, matching ASCII case-insensitively. Every pattern is
// searched folded: an exact occurrence is also a folded one, so a
// case-sensitive literal that is absent from the folded text is surely
// absent, which is all a prefilter needs, and one pass serves contains and
// icontains alike.
//
// Why hand-written: a full transition table (state × class → state) costs
// one table load per input byte, with no failure-link loop, no allocation
// and no interface call; byte classes (one per distinct folded byte of the
// patterns, plus one for all other bytes) keep the table small enough for
// thousands of literals. The table stores the next state's row offset
// with a flag bit for "some pattern ends here", so the loop is
// `v = trans[s+class[b]]`. Library automata cost the same or more per
// byte and coregx/ahocorasick v0.3.1 panics on patterns using all 256
// byte values with byte classes on.
type matcher struct {
	class  [256]uint8
	nclass int
	trans  []uint32  // row offset of the next state | outFlag
	outs   [][]int32 // per state: patterns ending here (with suffixes)
	lens   []int     // per pattern: length in bytes
	state0 uint32    // row offset of the root
}

const outFlag = 1 << 31

// maxDFABytes bounds the DFA's table; a set whose table would be larger
// uses qgram, whose working set stays in the L1 cache, even where its
// shortest patterns make it test every position.
const maxDFABytes = 512 << 10

// dfaBytes bounds the table size of the DFA for the patterns of pats
// that sel marks (every one when sel is nil) from above.
func dfaBytes(pats []string, sel []bool) int {
	var used [256]bool
	states := 1
	for id, p := range pats {
		if sel != nil && !sel[id] {
			continue
		}
		states += len(p)
		for i := 0; i < len(p); i++ {
			used[p[i]] = true
		}
	}
	classes := 1
	for _, u := range used {
		if u {
			classes++
		}
	}
	return states * classes * 4
}

// newMatcher builds the automaton for pats (already folded and capped).
func newMatcher(pats []string) *matcher { return newMatcherOf(pats, nil) }

// newMatcherOf builds the automaton for the patterns of pats that sel
// marks (every one when sel is nil); it reports them by their place in
// pats.
func newMatcherOf(pats []string, sel []bool) *matcher {
	m := &matcher{lens: make([]int, len(pats))}
	// byte classes: class 0 is "no pattern uses this byte"
	var used [256]bool
	for id, p := range pats {
		if sel != nil && !sel[id] {
			continue
		}
		for i := 0; i < len(p); i++ {
			used[p[i]] = true
		}
	}
	m.nclass = 1
	for b := 0; b < 256; b++ {
		if used[b] {
			m.class[b] = uint8(m.nclass)
			m.nclass++
			if m.nclass > 255 { // every byte used: fall back to identity
				break
			}
		}
	}
	if m.nclass > 255 {
		m.nclass = 256
		for b := 0; b < 256; b++ {
			m.class[b] = uint8(b)
		}
	}
	for b := 'A'; b <= 'Z'; b++ {
		m.class[b] = m.class[b+'a'-'A']
	}

	// the trie; next[c] is the child on class c, or -1
	type node struct {
		next []int32
		fail int32
		outs []int32
	}
	newNode := func() node {
		n := node{next: make([]int32, m.nclass)}
		for i := range n.next {
			n.next[i] = -1
		}
		return n
	}
	nodes := []node{newNode()}
	for id, p := range pats {
		m.lens[id] = len(p)
		if sel != nil && !sel[id] {
			continue
		}
		s := int32(0)
		for i := 0; i < len(p); i++ {
			c := m.class[p[i]]
			if nodes[s].next[c] < 0 {
				nodes = append(nodes, newNode())
				nodes[s].next[c] = int32(len(nodes) - 1)
			}
			s = nodes[s].next[c]
		}
		nodes[s].outs = append(nodes[s].outs, int32(id))
	}
	// breadth-first: failure links, then complete transitions
	queue := make([]int32, 0, len(nodes))
	for c := 0; c < m.nclass; c++ {
		if t := nodes[0].next[c]; t >= 0 {
			nodes[t].fail = 0
			queue = append(queue, t)
		} else {
			nodes[0].next[c] = 0
		}
	}
	for qi := 0; qi < len(queue); qi++ {
		s := queue[qi]
		f := nodes[s].fail
		nodes[s].outs = append(nodes[s].outs, nodes[f].outs...)
		for c := 0; c < m.nclass; c++ {
			t := nodes[s].next[c]
			if t >= 0 {
				nodes[t].fail = nodes[f].next[c]
				queue = append(queue, t)
			} else {
				nodes[s].next[c] = nodes[f].next[c]
			}
		}
	}
	m.trans = make([]uint32, len(nodes)*m.nclass)
	m.outs = make([][]int32, len(nodes))
	for s := range nodes {
		m.outs[s] = nodes[s].outs
		for c, t := range nodes[s].next {
			v := uint32(int(t) * m.nclass)
			if len(nodes[t].outs) > 0 {
				v |= outFlag
			}
			m.trans[s*m.nclass+c] = v
		}
	}
	return m
}
