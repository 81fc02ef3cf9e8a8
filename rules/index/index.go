package index

import (
	"slices"
	"strings"
	"unsafe"

	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/rules/field"
)

// Index files the rules of a set under what a packet needs for each to
// match, and answers which rules may match a packet. The tables are
// immutable once built; the scratch space used by Candidates is not, so an
// Index must not be used by two goroutines at once: give each worker its
// own [Index.Clone], which shares the tables.
type Index struct {
	t *tables

	gen    uint32   // stamp of the current Candidates call
	keyGen []uint32 // per header key: gen when it held
	out    []uint32 // per rule: gen when it was put in dst
	useGen []uint32 // per use: gen when it was found
	found  []int32  // uses found in this call
	win    []window // per text source: its place in the text areas
	// area holds the texts a text source may be a slice of: the frame,
	// then the engine's stream view (Meta.Stream) and message
	// (Meta.App), then the decoder's buffers for address text
	// (Meta.Scratch) and dns.qry.name (Meta.Name). Window offsets run
	// across them, each area starting where the one before ends
	// (areaBase).
	area     [numAreas]string
	areaBase [numAreas]int
	lo, hi   [numAreas]int // per area: the range to scan, in window offsets
	// base is added to the offsets the scanners report: the areaBase of
	// the area being scanned.
	base int
	// mirror: the stream view ends with the packet's payload, which lies
	// in the frame at [mirrorLo, mirrorHi); a literal found there is also
	// found mirrorShift further on, in the view, whose copy of the
	// payload is then not scanned again.
	mirror             bool
	mirrorLo, mirrorHi int
	mirrorShift        int
	// litKeys are the header keys that held in this call and file rules
	// that need a literal too, nLit the number of those rules; play is
	// the rules in play when they are few.
	litKeys []*keyed
	nLit    int
	play    []int32
	srcGen  []uint32 // per text source: gen when it was located
	f       *filter  // the filter of this call: t.all or t.narrow
}

// directMax is the most literal uses in play for which each literal is
// looked for on its own (memchr-fast) instead of running the automaton
// over the whole text; a header key usually leaves only a few in play.
const directMax = 4

// maxPlay is the most rules with literals in play for which the index
// works out which sources and literals they need; past it every source is
// scanned at once.
const maxPlay = 32

// maxGates is the most distinct gates tested per packet (see tables.gates).
const maxGates = 16

// numAreas is the number of texts that text sources are located in.
const numAreas = 5

// tables is the shared, read-only part of an Index.
type tables struct {
	n      int
	always []int // unindexed rules, ascending
	eqs    []eqTable
	nzs    []nzTable
	// keys are the header keys, keysOf per rule those it is filed under.
	keys   []*keyed
	keysOf [][]*keyed
	// extra holds, per rule, header parts that must all hold too, checked
	// once the rule is otherwise in play: the other header tests of its
	// conjunction, and for a rule with a literal part a header part too
	// common to file (tcp.present).
	extra [][][]hdrAtom
	// alwaysLit are the rules with a literal part and no filed header
	// part: while there are any, the literal pass runs on every packet.
	alwaysLit []int32
	// litGroups are the alwaysLit rules by their extra parts: the parts
	// are tested once per packet for all the rules that share them.
	litGroups []litGroup
	// gates are header tests one of which every alwaysLit rule needs
	// (the first of its extra parts): when none holds, no such rule can
	// match and the literal pass is skipped for them. ungated is true
	// when some alwaysLit rule has no extra part, or there are too many
	// gates to be worth testing.
	gates   [][]hdrAtom
	ungated bool
	// all finds every pattern; narrow only those of the alwaysLit rules,
	// all a packet needs when no rule with a header key is in play (nil
	// when those are every pattern).
	all, narrow *filter
	lens        []int     // per pattern: its length in the automaton
	pats        []string  // per pattern: its folded text
	ruleUses    [][]int32 // per rule: its uses
	uses        []use
	patUses     [][]int32 // per pattern: its uses
	srcs        []fieldRef
	srcUses     [][]int32 // per text source: its uses
	// reach, per text source, is how far into it a scan must go: the
	// longest of its patterns when every use of it is anchored (a
	// payload startsWith list), 0 for the whole source.
	reach []int
	expl  []Explanation
}

// litGroup is alwaysLit rules with the same extra parts: their rules,
// the text sources those read and the number of their literal uses.
type litGroup struct {
	extra [][]hdrAtom
	rules []int32
	srcs  []int32
	uses  int
}

// eqTable files rules under values of one integer field.
type eqTable struct {
	f     fieldRef
	small [1024]uint64 // bit v set when byVal has v, for 0 <= v < 65536
	byVal map[int]*keyed
}

// nzTable files the rules that need one field non-zero (a bool true).
type nzTable struct {
	f fieldRef
	k *keyed
}

// keyed is the rules filed under one header key (a field's value, or a
// field non-zero), in ascending order: those that need a literal too,
// which the literal pass takes as a whole, and the others.
type keyed struct {
	id         int32 // its place among the keys, for Index.keyGen
	lit, plain []int32
}

// use is one literal requirement: pattern pat found inside text source
// src (at its start when anchored), needed by rules.
type use struct {
	pat      int32
	src      int32
	anchored bool
	rules    []int32
}

// window is a text source's byte range [lo, hi) in the frame; ok is false
// when the source is not empty and lies outside the frame.
type window struct {
	lo, hi int
	ok     bool
}

// Explanation says how one rule is indexed, for `vigil lint --explain`.
type Explanation struct {
	// Pos is the rule's position in the slice given to Build.
	Pos int
	SID int
	// Keys is what a packet must have for the rule to be a candidate,
	// e.g. `tcp.dstport==23` or `tcp.present && payload∋"passwd"`; an
	// atom list in parentheses joined by || means any of them.
	Keys string
	// Indexed is false for a rule evaluated on every packet.
	Indexed bool
	// Why says why the rule is not indexed ("" when it is).
	Why string
	// Layer, for an indexed rule whose only key is a layer's presence or
	// a field being non-zero (tcp.present, ip.ttl!=0), names the layers
	// ("tcp", "tcp/udp") on every packet of which it runs; "" when a
	// literal or a value narrows it.
	Layer string
}

// Build indexes rs, the enabled rules in evaluation order; the Index
// refers to them by their position in rs.
func Build(rs []*rules.Rule) *Index {
	t := &tables{n: len(rs), extra: make([][][]hdrAtom, len(rs)),
		ruleUses: make([][]int32, len(rs)), keysOf: make([][]*keyed, len(rs))}
	eqByName := map[string]int{}
	nzByName := map[string]int{}
	patID := map[string]int32{}
	var pats []string
	type useKey struct {
		pat, src int32
		anchored bool
	}
	useID := map[useKey]int32{}
	srcID := map[string]int32{}

	for pos, r := range rs {
		e := Explanation{Pos: pos}
		var nd need
		if r != nil {
			e.SID = r.SID
			if r.Node != nil {
				nd = analyze(r.Node)
			}
		}
		if !nd.hasHdr && !nd.hasLit {
			e.Why = "no rule"
			if r != nil {
				e.Why = whyNot(r.Node)
			}
			e.Keys = "always"
			t.always = append(t.always, pos)
			t.expl = append(t.expl, e)
			continue
		}
		e.Indexed = true
		if !nd.hasLit {
			e.Layer = layerOnly(nd.hdr)
		}
		var keys []string
		extra := nd.extra
		if nd.hasHdr && nd.hasLit && hdrCost(nd.hdr) >= lazyCost {
			extra = append(extra, nd.hdr)
			nd.hasHdr = false
		}
		for _, x := range extra {
			if len(x) <= maxExtraAtoms && len(t.extra[pos]) < maxExtra {
				t.extra[pos] = append(t.extra[pos], x)
			}
		}
		var then []string
		for _, x := range t.extra[pos] {
			then = append(then, joinAtoms(x))
		}
		if nd.hasHdr {
			keys = append(keys, joinAtoms(nd.hdr))
			for _, a := range nd.hdr {
				if a.eq {
					i, ok := eqByName[a.f.Name]
					if !ok {
						i = len(t.eqs)
						eqByName[a.f.Name] = i
						t.eqs = append(t.eqs, eqTable{f: a.f, byVal: map[int]*keyed{}})
					}
					tb := &t.eqs[i]
					if tb.byVal[a.v] == nil {
						tb.byVal[a.v] = t.newKey()
					}
					t.file(tb.byVal[a.v], pos, nd.hasLit)
					if uint(a.v) < 65536 {
						tb.small[a.v>>6] |= 1 << (a.v & 63)
					}
					continue
				}
				i, ok := nzByName[a.f.Name]
				if !ok {
					i = len(t.nzs)
					nzByName[a.f.Name] = i
					t.nzs = append(t.nzs, nzTable{f: a.f, k: t.newKey()})
				}
				t.file(t.nzs[i].k, pos, nd.hasLit)
			}
		}
		if nd.hasLit {
			if !nd.hasHdr {
				t.alwaysLit = append(t.alwaysLit, int32(pos))
			}
			keys = append(keys, joinAtoms(nd.lit))
			for _, a := range nd.lit {
				p := capFold(filedPart(a.lit, a.anchored))
				pid, ok := patID[p]
				if !ok {
					pid = int32(len(pats))
					patID[p] = pid
					pats = append(pats, p)
					t.patUses = append(t.patUses, nil)
				}
				sid, ok := srcID[a.src.Name]
				if !ok {
					sid = int32(len(t.srcs))
					srcID[a.src.Name] = sid
					t.srcs = append(t.srcs, a.src)
					t.srcUses = append(t.srcUses, nil)
				}
				k := useKey{pid, sid, a.anchored}
				uid, ok := useID[k]
				if !ok {
					uid = int32(len(t.uses))
					useID[k] = uid
					t.uses = append(t.uses, use{pat: pid, src: sid, anchored: a.anchored})
					t.patUses[pid] = append(t.patUses[pid], uid)
					t.srcUses[sid] = append(t.srcUses[sid], uid)
				}
				u := &t.uses[uid]
				if len(u.rules) == 0 || u.rules[len(u.rules)-1] != int32(pos) {
					u.rules = append(u.rules, int32(pos))
				}
				if !slices.Contains(t.ruleUses[pos], uid) {
					t.ruleUses[pos] = append(t.ruleUses[pos], uid)
				}
			}
		}
		e.Keys = strings.Join(keys, " && ")
		if len(then) > 0 {
			e.Keys += " (then " + strings.Join(then, " && ") + ")"
		}
		t.expl = append(t.expl, e)
	}
	seen := map[string]bool{}
	for _, r := range t.alwaysLit {
		if len(t.extra[r]) == 0 {
			t.ungated = true
			break
		}
		if g := t.extra[r][0]; !seen[joinAtoms(g)] {
			seen[joinAtoms(g)] = true
			t.gates = append(t.gates, g)
		}
	}
	if len(t.gates) > maxGates {
		t.ungated = true
	}
	groupOf := map[string]int{}
	for _, r := range t.alwaysLit {
		var key []string
		for _, x := range t.extra[r] {
			key = append(key, joinAtoms(x))
		}
		k := strings.Join(key, " && ")
		gi, ok := groupOf[k]
		if !ok {
			gi = len(t.litGroups)
			groupOf[k] = gi
			t.litGroups = append(t.litGroups, litGroup{extra: t.extra[r]})
		}
		g := &t.litGroups[gi]
		g.rules = append(g.rules, r)
		for _, u := range t.ruleUses[r] {
			g.uses++
			if s := t.uses[u].src; !slices.Contains(g.srcs, s) {
				g.srcs = append(g.srcs, s)
			}
		}
	}
	t.lens = make([]int, len(pats))
	for i, p := range pats {
		t.lens[i] = len(p)
	}
	t.pats = pats
	t.all = newFilter(pats, nil)
	always, n := make([]bool, len(pats)), 0
	for _, r := range t.alwaysLit {
		for _, u := range t.ruleUses[r] {
			if pid := t.uses[u].pat; !always[pid] {
				always[pid] = true
				n++
			}
		}
	}
	if n > 0 && n < len(pats) {
		t.narrow = newFilter(pats, always)
	}
	t.reach = make([]int, len(t.srcs))
	for s, us := range t.srcUses {
		for _, u := range us {
			if !t.uses[u].anchored {
				t.reach[s] = 0
				break
			}
			t.reach[s] = max(t.reach[s], t.lens[t.uses[u].pat])
		}
	}
	return t.newIndex()
}

// newKey adds a header key with no rule yet.
func (t *tables) newKey() *keyed {
	k := &keyed{id: int32(len(t.keys))}
	t.keys = append(t.keys, k)
	return k
}

// file files rule pos, which needs a literal too when lit, under key k.
func (t *tables) file(k *keyed, pos int, lit bool) {
	if slices.Contains(t.keysOf[pos], k) {
		return
	}
	t.keysOf[pos] = append(t.keysOf[pos], k)
	if lit {
		k.lit = append(k.lit, int32(pos))
	} else {
		k.plain = append(k.plain, int32(pos))
	}
}

// filter finds where the patterns of a set occur in a text, each
// reported by its place in tables.pats. It holds the scanner the set's
// size and the CPU call for.
type filter struct {
	m     *matcher // sets with a pattern of under four bytes
	q     *qgram   // the others
	td    *teddy   // when not nil, used instead of m or q
	split *qsplit  // when not nil, used instead of q
}

// newFilter builds the filter of the patterns of pats that sel marks
// (every one when sel is nil); nil when there are none.
func newFilter(pats []string, sel []bool) *filter {
	if marked(pats, sel) == 0 {
		return nil
	}
	f := &filter{td: newTeddyOf(pats, sel)}
	// The q-gram filter scans faster than the automaton wherever it
	// tests one position in two or fewer, whatever the set's size (2.2
	// to 2.5 times at 16 and 100 literals, BenchmarkScan); the automaton
	// keeps the sets with a pattern of under four bytes, for which the
	// filter would test every position, while its table fits.
	if shortest(pats, sel) < 4 && dfaBytes(pats, sel) <= maxDFABytes {
		f.m = newMatcherOf(pats, sel)
	} else {
		f.q = newQgramOf(pats, sel)
	}
	if f.q != nil && f.td == nil && f.q.stride <= 2 {
		// A Teddy pass costs about what a q-gram stride of 3 instead of 4
		// saves, and less than one of 2 instead of 4.
		f.split = newSplitOf(pats, sel)
	}
	return f
}

// shortest is the length of the shortest pattern of pats that sel marks
// (every one when sel is nil).
func shortest(pats []string, sel []bool) int {
	n := maxPattern
	for id, p := range pats {
		if sel == nil || sel[id] {
			n = min(n, len(p))
		}
	}
	return n
}

// marked counts the patterns of pats that sel marks (every one when sel
// is nil).
func marked(pats []string, sel []bool) int {
	if sel == nil {
		return len(pats)
	}
	n := 0
	for _, m := range sel {
		if m {
			n++
		}
	}
	return n
}

// qsplit finds a large pattern set's occurrences in two scans: a Teddy
// filter for the few patterns too short for the q-gram filter to test
// one position in qgramStride, and that filter, at its full stride, for
// the others. It is used where those patterns would hold the stride to
// 2 or 1.
type qsplit struct {
	short *teddy
	long  *qgram
}

// maxSplitShort is the most short patterns a qsplit takes: one Teddy
// pass.
const maxSplitShort = 32

// newSplit returns the qsplit of pats, or nil when no pattern is short,
// too many are, or the build or the CPU has no Teddy filter.
func newSplit(pats []string) *qsplit { return newSplitOf(pats, nil) }

// newSplitOf is newSplit for the patterns of pats that sel marks (every
// one when sel is nil).
func newSplitOf(pats []string, sel []bool) *qsplit {
	short, long := make([]bool, len(pats)), make([]bool, len(pats))
	n := 0
	for id, p := range pats {
		if sel != nil && !sel[id] {
			continue
		}
		if len(p) < qgramStride+2 {
			short[id] = true
			n++
		} else {
			long[id] = true
		}
	}
	if n == 0 || n > maxSplitShort {
		return nil
	}
	td := buildTeddyOf(pats, short)
	if td == nil {
		return nil
	}
	return &qsplit{short: td, long: newQgramOf(pats, long)}
}

// layerOnly returns the layers of atoms when each is a layer's presence
// or an integer field being non-zero, and "" when one is a value test (an
// equality, a flag).
func layerOnly(atoms []hdrAtom) string {
	var layers []string
	for _, a := range atoms {
		if a.eq || a.f.Kind == field.KindBool && !strings.HasSuffix(a.f.Name, ".present") {
			return ""
		}
		l, _, _ := strings.Cut(strings.TrimSuffix(a.f.Name, ".present"), ".")
		if !slices.Contains(layers, l) {
			layers = append(layers, l)
		}
	}
	return strings.Join(layers, "/")
}

// filedPart picks the maxPattern bytes of lit the automaton looks for. Any
// part of a literal is a sound filter (the literal can only be where its
// part is), so for a literal not anchored at its source's start the
// rarest-looking part is taken: "User-Agent: sqlmap" is filed under
// "t: sqlmap", not under "user-age", which every HTTP request has.
func filedPart(lit string, anchored bool) string {
	if anchored || len(lit) <= maxPattern {
		return lit
	}
	best := rarestWindow(lit, maxPattern)
	return lit[best : best+maxPattern]
}

// rarestWindow returns where the n bytes of s (len(s) >= n) that look
// least like payload text start: the sum of their rarity, plus
// wordNumber for each letter next to a digit in the window. Text keeps
// words and numbers apart: a number's digits come together, so "409" of
// "record9409" is in every payload with a date or a length, and "d94" is
// not. (Punctuation next to letters is no sign: "GET /", "Host: ".) Ties
// go to the later window.
func rarestWindow(s string, n int) int {
	best, bestScore := 0, -1
	for i := 0; i+n <= len(s); i++ {
		score := 0
		for j := i; j < i+n; j++ {
			score += rarity(s[j])
			if j > i && letterDigit(s[j-1], s[j]) {
				score += wordNumber
			}
		}
		if score >= bestScore {
			best, bestScore = i, score
		}
	}
	return best
}

// wordNumber is rarestWindow's score for a letter next to a digit: more
// than the rarity of one byte, so that "s79" of "news7965" wins over
// "965".
const wordNumber = 3

// letterDigit reports whether of a and b one is an ASCII letter and the
// other a digit.
func letterDigit(a, b byte) bool {
	isLetter := func(c byte) bool { c = foldASCII(c); return c >= 'a' && c <= 'z' }
	isDigit := func(c byte) bool { return c >= '0' && c <= '9' }
	return isLetter(a) && isDigit(b) || isDigit(a) && isLetter(b)
}

// rarity scores how unusual a byte is in typical payloads (text
// protocols): frequent letters and separators score low, digits and
// symbols higher, binary bytes highest.
func rarity(c byte) int {
	switch c = foldASCII(c); {
	case strings.IndexByte(" etaoinsr", c) >= 0:
		return 1
	case c >= 'a' && c <= 'z', strings.IndexByte("/:-.=\r\n", c) >= 0:
		return 2
	case c >= '0' && c <= '9':
		return 3
	case c > ' ' && c < 0x7f:
		return 4
	}
	return 5
}

// capFold is the automaton's form of a literal: folded, at most
// maxPattern bytes.
func capFold(s string) string {
	if len(s) > maxPattern {
		s = s[:maxPattern]
	}
	b := []byte(s)
	for i, c := range b {
		b[i] = foldASCII(c)
	}
	return string(b)
}

func (t *tables) newIndex() *Index {
	return &Index{
		t:      t,
		keyGen: make([]uint32, len(t.keys)),
		out:    make([]uint32, t.n),
		useGen: make([]uint32, len(t.uses)),
		found:  make([]int32, 0, len(t.uses)),
		win:    make([]window, len(t.srcs)),
		srcGen: make([]uint32, len(t.srcs)),
	}
}

// Clone returns an Index sharing ix's tables with scratch space of its
// own, for another worker.
func (ix *Index) Clone() *Index { return ix.t.newIndex() }

// Len returns the number of rules indexed.
func (ix *Index) Len() int { return ix.t.n }

// Explain describes how each rule is indexed, in rule order.
func (ix *Index) Explain() []Explanation { return slices.Clone(ix.t.expl) }

// Candidates appends to dst the positions of every rule that may match p,
// in ascending order and without repeats, and returns the extended slice.
// A rule it leaves out cannot match p. Call it with p as the rules will
// see it (frame and flow fields filled); p is only read and need not
// outlive the call. It allocates nothing when dst has room for every
// rule (cap(dst)-len(dst) >= Len()).
func (ix *Index) Candidates(p *field.Packet, dst []int) []int {
	t := ix.t
	start := len(dst)
	dst = append(dst, t.always...)
	ix.gen++
	if ix.gen == 0 { // wrapped: old stamps could be mistaken for new ones
		clear(ix.keyGen)
		clear(ix.out)
		clear(ix.useGen)
		clear(ix.srcGen)
		ix.gen = 1
	}
	needLit := len(t.alwaysLit) > 0 && (t.ungated || anyGate(t.gates, p))
	ix.litKeys, ix.nLit = ix.litKeys[:0], 0
	for i := range t.eqs {
		e := &t.eqs[i]
		for _, v := range e.f.Ints(p) { // a field's every value, when it has several
			if uint(v) < 65536 && e.small[v>>6]&(1<<(v&63)) == 0 {
				continue
			}
			if k := e.byVal[v]; k != nil {
				dst = ix.keyHit(p, dst, k)
			}
		}
	}
	for i := range t.nzs {
		if z := &t.nzs[i]; z.f.Nonzero(p) {
			dst = ix.keyHit(p, dst, z.k)
		}
	}
	needLit = needLit || ix.nLit > 0
	if needLit {
		dst = ix.literals(p, dst)
	}
	if len(dst)-start > len(t.always) { // always alone is sorted already
		slices.Sort(dst[start:])
	}
	return dst
}

// lazyCost is the header cost from which a rule with a literal part has
// its header part checked after the literal pass rather than filed: a
// header that most packets have would only put the rule in play for
// nothing, at a cost per packet and rule.
const lazyCost = 0.1

// Limits on the extra header parts a rule is checked against.
const (
	maxExtra      = 4
	maxExtraAtoms = 4
)

// allHold reports whether each part has an atom that holds for p.
func allHold(parts [][]hdrAtom, p *field.Packet) bool {
	for _, as := range parts {
		if !anyHolds(as, p) {
			return false
		}
	}
	return true
}

// anyGate reports whether one of the gates holds for p.
func anyGate(gates [][]hdrAtom, p *field.Packet) bool {
	for _, g := range gates {
		if anyHolds(g, p) {
			return true
		}
	}
	return false
}

// anyHolds reports whether one of the header atoms holds for p.
func anyHolds(as []hdrAtom, p *field.Packet) bool {
	for i := range as {
		a := &as[i]
		if !a.eq {
			if a.f.Nonzero(p) {
				return true
			}
			continue
		}
		for _, v := range a.f.Ints(p) {
			if v == a.v {
				return true
			}
		}
	}
	return false
}

// keyHit records that header key k holds: its rules that need nothing
// more (and whose extra parts hold) are candidates, and those that need
// a literal are in play for the literal pass.
func (ix *Index) keyHit(p *field.Packet, dst []int, k *keyed) []int {
	if ix.keyGen[k.id] == ix.gen { // a field with the same value twice
		return dst
	}
	ix.keyGen[k.id] = ix.gen
	if len(k.lit) > 0 {
		ix.litKeys = append(ix.litKeys, k)
		ix.nLit += len(k.lit)
	}
	for _, r := range k.plain {
		if ix.out[r] == ix.gen {
			continue
		}
		if x := ix.t.extra[r]; x != nil && !allHold(x, p) {
			continue
		}
		ix.out[r] = ix.gen
		dst = append(dst, int(r))
	}
	return dst
}

// keyHeld reports whether rule r is filed under no header key or one of
// its keys held in this call.
func (ix *Index) keyHeld(r int32) bool {
	for _, k := range ix.t.keysOf[r] {
		if ix.keyGen[k.id] == ix.gen {
			return true
		}
	}
	return len(ix.t.keysOf[r]) == 0
}

// literals runs the automaton once over the part of the frame that holds
// the text sources, and appends the rules whose literal key is found and
// whose header key held (or who have none).
func (ix *Index) literals(p *field.Packet, dst []int) []int {
	t := ix.t
	m := &p.Meta
	ix.area = [numAreas]string{p.Frame.Bytes, m.Stream, m.App,
		unsafe.String(&m.Scratch[0], len(m.Scratch)), unsafe.String(&m.Name[0], len(m.Name))}
	next := 0
	for k, a := range ix.area {
		ix.areaBase[k] = next
		next += len(a)
		ix.lo[k], ix.hi[k] = next, 0
	}
	ix.found = ix.found[:0]
	direct := false
	if ix.nLit+len(t.alwaysLit) > maxPlay {
		// Many rules in play: locate every source, and let the
		// automaton find what any of them needs.
		for s := range t.srcs {
			ix.locate(p, int32(s))
		}
	} else {
		// Few rules in play: those whose header key held, and those
		// without one whose other header tests hold. Only their sources
		// are located and only their literals looked for; the loop at the
		// end admits no other rule anyway.
		ix.play = ix.play[:0]
		uses := 0
		for _, k := range ix.litKeys {
			ix.play = append(ix.play, k.lit...)
			for _, r := range k.lit {
				for _, u := range t.ruleUses[r] {
					uses++
					if s := t.uses[u].src; ix.srcGen[s] != ix.gen {
						ix.locate(p, s)
					}
				}
			}
		}
		for i := range t.litGroups {
			g := &t.litGroups[i]
			if !allHold(g.extra, p) {
				continue
			}
			ix.play = append(ix.play, g.rules...)
			uses += g.uses
			for _, s := range g.srcs {
				if ix.srcGen[s] != ix.gen {
					ix.locate(p, s)
				}
			}
		}
		direct = uses <= directMax
	}
	ix.f = t.all
	if len(ix.litKeys) == 0 && t.narrow != nil {
		ix.f = t.narrow // only alwaysLit rules are in play
	}
	if direct {
		for _, r := range ix.play {
			for _, u := range t.ruleUses[r] {
				ix.direct(u)
			}
		}
	} else {
		ix.mirrorPayload(p)
		for k, a := range ix.area {
			ix.base = ix.areaBase[k]
			ix.scanText(a, ix.lo[k]-ix.base, ix.hi[k]-ix.base)
		}
	}
	for _, u := range ix.found {
		for _, r := range t.uses[u].rules {
			if ix.out[r] == ix.gen || !ix.keyHeld(r) {
				continue
			}
			if x := t.extra[r]; x != nil && !allHold(x, p) {
				continue
			}
			ix.out[r] = ix.gen
			dst = append(dst, int(r))
		}
	}
	return dst
}

// mirrorPayload arranges for the view's copy of the payload not to be
// scanned when the view (area 1) ends with it (Meta.StreamTail), the
// usual case for a segment delivered in order: the frame scan then
// covers the payload, the view scan stops maxPattern-1 bytes into the
// copy (so that literals starting in the earlier stream bytes are still
// found), and hit reports each literal found inside the payload at its
// place in the view as well. It halves the scanning of in-order TCP data.
func (ix *Index) mirrorPayload(p *field.Packet) {
	ix.mirror = false
	view, pl := p.Meta.Stream, p.Payload
	if !p.Meta.StreamTail || len(pl) == 0 || len(view) < len(pl) || ix.lo[1] >= ix.hi[1] {
		return
	}
	w := locate(p.Frame.Bytes, pl)
	if !w.ok {
		return
	}
	tail := ix.areaBase[1] + len(view) - len(pl)
	if ix.hi[1] <= tail { // the view's range ends before the copy
		return
	}
	ix.mirror, ix.mirrorLo, ix.mirrorHi, ix.mirrorShift = true, w.lo, w.hi, tail-w.lo
	// the frame scan takes over the part of the copy in the view's range
	ix.lo[0] = min(ix.lo[0], w.lo+max(ix.lo[1]-tail, 0))
	ix.hi[0] = max(ix.hi[0], w.lo+ix.hi[1]-tail)
	ix.hi[1] = min(ix.hi[1], tail+maxPattern-1)
}

// scanText looks for the literals in text[lo:hi] with the vectorised
// filter, the automaton or the q-gram filter.
func (ix *Index) scanText(text string, lo, hi int) {
	f := ix.f
	switch {
	case lo >= hi:
	case f.td != nil && hi >= teddyMin:
		f.td.scan(text, lo, hi, ix.hit)
	case f.m != nil:
		ix.scan(text, lo, hi)
	case f.split != nil && hi >= teddyMin:
		f.split.short.scan(text, lo, hi, ix.hit)
		f.split.long.scan(text, lo, hi, ix.hit)
	case f.q != nil:
		f.q.scan(text, lo, hi, ix.hit)
	}
}

// scan runs the automaton over frame[lo:hi] and marks the uses whose
// pattern ends inside their source's window. A DFA step is one dependent
// load, so its speed is bound by load latency; a text of some length is
// cut in four quarters scanned in the same loop, four independent chains
// the CPU overlaps (measured on payloads of 200 to 1,460 bytes: 1.3 to
// 1.5 times the bytes per second of two chains). Each quarter after the first starts maxPattern-1 bytes early,
// so that it sees every pattern that ends in it, and all run n+back steps;
// a pattern ending inside an overlap may be reported twice, which markUse
// ignores.
func (ix *Index) scan(frame string, lo, hi int) {
	m := ix.f.m
	trans, class := m.trans, &m.class
	i := lo
	var a uint32 = m.state0
	if n := (hi - lo) / 4; n >= 2*maxPattern {
		const back = maxPattern - 1
		j, k, l := lo+n-back, lo+2*n-back, lo+3*n-back
		b, c, d := a, a, a
		// frame[i:i+n+back], frame[j:j+n+back], ... (l+n+back = lo+4n <= hi)
		for end := i + n + back; i < end; i++ {
			va := trans[a+uint32(class[frame[i]])]
			vb := trans[b+uint32(class[frame[j]])]
			vc := trans[c+uint32(class[frame[k]])]
			vd := trans[d+uint32(class[frame[l]])]
			a, b, c, d = va&^outFlag, vb&^outFlag, vc&^outFlag, vd&^outFlag
			if (va|vb|vc|vd)&outFlag != 0 {
				if va&outFlag != 0 {
					ix.hits(i, a)
				}
				if vb&outFlag != 0 {
					ix.hits(j, b)
				}
				if vc&outFlag != 0 {
					ix.hits(k, c)
				}
				if vd&outFlag != 0 {
					ix.hits(l, d)
				}
			}
			j++
			k++
			l++
		}
		i, a = l, d // finish the last quarter alone
	}
	for ; i < hi; i++ {
		v := trans[a+uint32(class[frame[i]])]
		a = v &^ outFlag
		if v&outFlag != 0 {
			ix.hits(i, a)
		}
	}
}

// hits calls hit for the patterns ending at frame[end] in state row st.
func (ix *Index) hits(end int, st uint32) {
	m := ix.f.m
	for _, pid := range m.outs[st/uint32(m.nclass)] {
		ix.hit(end, pid)
	}
}

// hit marks the uses of pattern pid, found ending at offset end of the
// text being scanned (ix.base past the frame's start), that lie inside
// their source's window; and, for a pattern inside the mirrored payload,
// those at its place in the stream view.
func (ix *Index) hit(end int, pid int32) {
	end += ix.base
	ix.hitAt(end, pid)
	if ix.mirror && end < ix.mirrorHi && end+1-ix.t.lens[pid] >= ix.mirrorLo {
		ix.hitAt(end+ix.mirrorShift, pid)
	}
}

// hitAt marks the uses of pattern pid ending at window offset end.
func (ix *Index) hitAt(end int, pid int32) {
	t := ix.t
	from := end + 1 - t.lens[pid]
	for _, u := range t.patUses[pid] {
		if ix.useGen[u] == ix.gen {
			continue
		}
		us := &t.uses[u]
		if ix.srcGen[us.src] != ix.gen {
			continue // no rule in play reads this source
		}
		w := ix.win[us.src]
		if w.ok && from >= w.lo && end < w.hi && (!us.anchored || from == w.lo) {
			ix.markUse(u)
		}
	}
}

// locate finds text source s of p in one of the text areas and widens
// that area's range to scan to cover it, or its first t.reach[s] bytes.
// A source that lies in none has its literals taken as found.
func (ix *Index) locate(p *field.Packet, s int32) {
	t := ix.t
	ix.srcGen[s] = ix.gen
	text := t.srcs[s].String(p)
	var w window
	for k, a := range ix.area {
		if w = locate(a, text); w.ok {
			w.lo, w.hi = w.lo+ix.areaBase[k], w.hi+ix.areaBase[k]
			if w.lo < w.hi {
				hi := w.hi
				if r := t.reach[s]; r > 0 {
					hi = min(hi, w.lo+r)
				}
				ix.lo[k], ix.hi[k] = min(ix.lo[k], w.lo), max(ix.hi[k], hi)
			}
			break
		}
	}
	ix.win[s] = w
	if !w.ok {
		for _, u := range t.srcUses[s] {
			ix.markUse(u)
		}
	}
}

// direct looks for use u's pattern in its source's window, as the
// automaton would find it (ASCII case-insensitively).
func (ix *Index) direct(u int32) {
	if ix.useGen[u] == ix.gen {
		return
	}
	us := &ix.t.uses[u]
	w := ix.win[us.src]
	if !w.ok || w.lo >= w.hi {
		return
	}
	k := numAreas - 1
	for k > 0 && w.lo < ix.areaBase[k] {
		k--
	}
	base := ix.areaBase[k]
	text, pat := ix.area[k][w.lo-base:w.hi-base], ix.t.pats[us.pat]
	if us.anchored {
		if len(text) >= len(pat) && equalFold(text[:len(pat)], pat) {
			ix.markUse(u)
		}
		return
	}
	if indexFold(text, pat) {
		ix.markUse(u)
	}
}

func (ix *Index) markUse(u int32) {
	if ix.useGen[u] != ix.gen {
		ix.useGen[u] = ix.gen
		ix.found = append(ix.found, u)
	}
}

// locate finds s inside frame by address: the decoder's text fields are
// slices of the frame. An empty s gets an empty window (it contains no
// literal); an s elsewhere in memory gets ok false.
func locate(frame, s string) window {
	if len(s) == 0 {
		return window{ok: true}
	}
	if len(frame) == 0 {
		return window{}
	}
	d := uintptr(unsafe.Pointer(unsafe.StringData(s))) - uintptr(unsafe.Pointer(unsafe.StringData(frame)))
	if d > uintptr(len(frame)) || uintptr(len(s)) > uintptr(len(frame))-d {
		return window{}
	}
	return window{lo: int(d), hi: int(d) + len(s), ok: true}
}
