package index

// qgram finds the same occurrences as matcher, faster wherever it can
// skip positions, and for large pattern sets, where a DFA's table no
// longer fits the CPU caches and every input byte becomes a cache miss. It tests each position's three folded bytes
// against two 64 K-bit maps (a Bloom filter of 16 KiB, kept in L1) of
// the patterns' key grams, hashed, and compares the few patterns of that
// hash only on a hit; positions are independent, so the loads overlap. A
// pattern's key gram is its rarest three bytes (by rarity, as filedPart
// chooses), not its first: rule literals often begin with a common word
// ("record4711"), whose first bytes would pass the filter at every
// "rec" of the traffic. Patterns of one or two bytes are looked up in
// tables of their own.
//
// Only every stride-th position is tested (stride is up to qgramStride,
// and at most the shortest pattern's length less two): a pattern files
// the stride consecutive grams of its rarest stride+2 bytes, so that
// exactly one of them starts at a tested position, wherever the pattern
// lies, and is found there once.
type qgram struct {
	fold  [256]byte
	bits  [1 << 10]uint64 // hash of a 3-byte prefix present
	bits2 [1 << 10]uint64 // the same under a second hash (a Bloom filter)
	start []int32         // bucket h holds ents[start[h]:start[h+1]]
	ents  []qent
	pats  []string // folded
	// stride is the distance between the positions tested, 1 to
	// qgramStride.
	stride int
	one    [256][]int32
	two    map[uint16][]int32
	twoB   [1 << 10]uint64 // 2-byte pattern present, by its 16-bit value
	short  bool            // some pattern has fewer than 3 bytes
}

// q3 hashes a gram into two 16-bit
// values, from one multiplication.
func q3(x uint32) (h, h2 uint32) {
	m := uint64(x) * 0x9e3779b97f4a7c15
	return uint32(m >> 48), uint32(m>>32) & 0xffff
}

// gram is the key of the three bytes s[i:i+3]: the bytes with bit 0x20
// set, which folds ASCII letters without a table (and merges a few
// symbols and control bytes with others, which only lets more through).
func gram(s string, i int) uint32 {
	_ = s[i+2]
	return (uint32(s[i]) | uint32(s[i+1])<<8 | uint32(s[i+2])<<16) | 0x202020
}

// qent is a filed gram: pattern id has it at offset off.
type qent struct {
	id, off int32
}

// qgramStride is the most positions one test stands for: four cut the
// filter's work per byte by about as much, and file four grams a
// pattern, which the two hashes still tell apart from the traffic's at
// 1,000 patterns.
const qgramStride = 4

// newQgram indexes pats (folded, non-empty, distinct).
func newQgram(pats []string) *qgram { return newQgramOf(pats, nil) }

// newQgramOf indexes the patterns of pats that sel marks (every one when
// sel is nil); it reports them by their place in pats.
func newQgramOf(pats []string, sel []bool) *qgram {
	q := &qgram{pats: pats, two: map[uint16][]int32{}, start: make([]int32, 1<<16+1), stride: qgramStride}
	for c := 0; c < 256; c++ {
		q.fold[c] = foldASCII(byte(c))
	}
	skip := func(id int) bool { return sel != nil && !sel[id] }
	for id, p := range pats {
		if len(p) >= 3 && !skip(id) {
			q.stride = min(q.stride, len(p)-2)
		}
	}
	count := make([]int32, 1<<16)
	off := make([]int, len(pats)) // per pattern: where its filed grams start
	for id, p := range pats {
		if skip(id) {
			continue
		}
		switch len(p) {
		case 1:
			q.one[p[0]] = append(q.one[p[0]], int32(id))
			q.short = true
		case 2:
			v := uint16(p[0])<<8 | uint16(p[1])
			q.two[v] = append(q.two[v], int32(id))
			q.twoB[v>>6] |= 1 << (v & 63)
			q.short = true
		default:
			off[id] = rarestWindow(p, q.stride+2)
			for o := off[id]; o < off[id]+q.stride; o++ {
				h, h2 := q3(gram(p, o))
				q.bits[h>>6] |= 1 << (h & 63)
				q.bits2[h2>>6] |= 1 << (h2 & 63)
				count[h]++
			}
		}
	}
	for h := range count {
		q.start[h+1] = q.start[h] + count[h]
	}
	q.ents = make([]qent, q.start[1<<16])
	fill := make([]int32, 1<<16)
	for id, p := range pats {
		if len(p) < 3 || skip(id) {
			continue
		}
		for o := off[id]; o < off[id]+q.stride; o++ {
			h, _ := q3(gram(p, o))
			q.ents[q.start[h]+fill[h]] = qent{id: int32(id), off: int32(o)}
			fill[h]++
		}
	}
	return q
}

// has reports whether the folded pattern p occurs at text[i:], within
// text[lo:].
func (q *qgram) has(text string, lo, i int, p string) bool {
	if i < lo || len(text)-i < len(p) {
		return false
	}
	for k := 0; k < len(p); k++ {
		if q.fold[text[i+k]] != p[k] {
			return false
		}
	}
	return true
}

// test reports whether gram g may start a pattern's filed grams, and
// its first hash, the bucket of those patterns.
func (q *qgram) test(g uint32) (uint32, bool) {
	h, h2 := q3(g)
	return h, q.bits[h>>6]&(1<<(h&63)) != 0 && q.bits2[h2>>6]&(1<<(h2&63)) != 0
}

// verify calls hit for the patterns of bucket h found with their filed
// gram at text[i:].
func (q *qgram) verify(text string, lo, i int, h uint32, hit func(end int, pat int32)) {
	for _, e := range q.ents[q.start[h]:q.start[h+1]] {
		if p, at := q.pats[e.id], i-int(e.off); q.has(text, lo, at, p) {
			hit(at+len(p)-1, e.id)
		}
	}
}

// scan calls hit for every occurrence in text[lo:hi] with the index of
// its last byte.
func (q *qgram) scan(text string, lo, hi int, hit func(end int, pat int32)) {
	text = text[:hi]
	fold := &q.fold
	i, stride := lo, q.stride
	// Where four bytes remain the gram is read with its next byte in one
	// 32-bit load (the compiler merges the byte loads), which took the
	// filter from about 29 instructions a position to about 20.
	for ; i+3 < hi; i += stride {
		w := text[i : i+4]
		x := uint32(w[0]) | uint32(w[1])<<8 | uint32(w[2])<<16 | uint32(w[3])<<24
		if h, ok := q.test(x&0xffffff | 0x202020); ok {
			q.verify(text, lo, i, h, hit)
		}
	}
	if i+2 < hi {
		if h, ok := q.test(gram(text, i)); ok {
			q.verify(text, lo, i, h, hit)
		}
	}
	if !q.short {
		return
	}
	for i := lo; i < hi; i++ {
		a := fold[text[i]]
		for _, id := range q.one[a] {
			hit(i, id)
		}
		if i+1 < hi {
			v := uint16(a)<<8 | uint16(fold[text[i+1]])
			if q.twoB[v>>6]&(1<<(v&63)) != 0 {
				for _, id := range q.two[v] {
					hit(i+1, id)
				}
			}
		}
	}
}
