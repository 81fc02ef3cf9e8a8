package index

// qgram finds the same occurrences as matcher for large pattern sets,
// where a DFA's table no longer fits the CPU caches and every input byte
// becomes a cache miss. It tests each position's three folded bytes
// against two 64 K-bit maps (a Bloom filter of 16 KiB, kept in L1) of
// the patterns' key grams, hashed, and compares the few patterns of that
// hash only on a hit; positions are independent, so the loads overlap. A
// pattern's key gram is its rarest three bytes (by rarity, as filedPart
// chooses), not its first: rule literals often begin with a common word
// ("record4711"), whose first bytes would pass the filter at every
// "rec" of the traffic. Patterns of one or two bytes are looked up in
// tables of their own.
type qgram struct {
	fold  [256]byte
	bits  [1 << 10]uint64 // hash of a 3-byte prefix present
	bits2 [1 << 10]uint64 // the same under a second hash (a Bloom filter)
	start []int32         // bucket h holds ids[start[h]:start[h+1]]
	ids   []int32
	pats  []string // folded
	off   []int    // per pattern: where its key gram starts
	one   [256][]int32
	two   map[uint16][]int32
	twoB  [1 << 10]uint64 // 2-byte pattern present, by its 16-bit value
	short bool            // some pattern has fewer than 3 bytes
}

// q3 hashes three bytes (x holds them as a<<16|b<<8|c) into two 16-bit
// values, from one multiplication.
func q3(x uint32) (h, h2 uint32) {
	m := uint64(x) * 0x9e3779b97f4a7c15
	return uint32(m >> 48), uint32(m>>32) & 0xffff
}

func gram(a, b, c byte) uint32 { return uint32(a)<<16 | uint32(b)<<8 | uint32(c) }

// newQgram indexes pats (folded, non-empty, distinct).
func newQgram(pats []string) *qgram {
	q := &qgram{pats: pats, off: make([]int, len(pats)), two: map[uint16][]int32{}, start: make([]int32, 1<<16+1)}
	for c := 0; c < 256; c++ {
		q.fold[c] = foldASCII(byte(c))
	}
	count := make([]int32, 1<<16)
	for id, p := range pats {
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
			q.off[id] = rarestWindow(p, 3)
			o := q.off[id]
			h, h2 := q3(gram(p[o], p[o+1], p[o+2]))
			q.bits[h>>6] |= 1 << (h & 63)
			q.bits2[h2>>6] |= 1 << (h2 & 63)
			count[h]++
		}
	}
	for h := range count {
		q.start[h+1] = q.start[h] + count[h]
	}
	q.ids = make([]int32, q.start[1<<16])
	fill := make([]int32, 1<<16)
	for id, p := range pats {
		if len(p) >= 3 {
			o := q.off[id]
			h, _ := q3(gram(p[o], p[o+1], p[o+2]))
			q.ids[q.start[h]+fill[h]] = int32(id)
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

// scan calls hit for every occurrence in text[lo:hi] with the index of
// its last byte.
func (q *qgram) scan(text string, lo, hi int, hit func(end int, pat int32)) {
	text = text[:hi]
	fold := &q.fold
	var x uint32 // the folded bytes at i, i+1, i+2
	if lo+1 < hi {
		x = uint32(fold[text[lo]])<<8 | uint32(fold[text[lo+1]])
	}
	for i := lo; i+2 < hi; i++ {
		x = (x<<8 | uint32(fold[text[i+2]])) & 0xffffff
		h, h2 := q3(x)
		if q.bits[h>>6]&(1<<(h&63)) == 0 || q.bits2[h2>>6]&(1<<(h2&63)) == 0 {
			continue
		}
		for _, id := range q.ids[q.start[h]:q.start[h+1]] {
			if p, at := q.pats[id], i-q.off[id]; q.has(text, lo, at, p) {
				hit(at+len(p)-1, id)
			}
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
