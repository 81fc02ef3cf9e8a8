// Package lru is a bounded map that keeps its entries in order of use, for
// the engine's tables that must forget old entries rather than grow: the
// flow table, the threshold tracker and the de-duplicator.
//
// It imports nothing.
package lru

// None is the slot Front and Next return when there is no entry.
const None int32 = -1

// LRU is a map from K to V holding at most a fixed number of entries, each
// on one of a fixed number of lists ordered from least to most recently
// used. It is not safe for concurrent use.
//
// Shape: entries live in one slice; a slot is an entry's index in it, a
// small integer (0 to bound-1) that stays the same while the entry is
// held. An open-addressing hash index (linear probing; never more than
// half full, a quarter while the slice grows) finds an entry's slot from
// its key and the key's hash, which the caller computes once and passes
// to Lookup and Insert. Each list is doubly linked through the slice by slot. The
// slice grows by doubling up to the bound and is then reused: slots of
// removed entries are handed out again, the most recently freed first.
// Once the LRU has reached its working size, Insert, Lookup, MoveToBack
// and Remove do not allocate.
//
// Bound: Insert panics on a full LRU; the owner makes room first by
// removing an entry of its choice, usually the Front of a list. That is
// what eviction means here: the owner forgets an entry, typically the
// least recently used, to make room for a new one.
//
// Values: Insert does not clear a reused slot's value, and Remove does
// not clear it either: a value may keep storage (a slice, a counter) for
// the slot's next entry. The owner sets what a new entry needs and clears
// what a removed one must not keep alive.
type LRU[K comparable, V any] struct {
	bound int
	index []int32 // slots by hash; None is an empty cell
	mask  uint64  // len(index)-1, a power of two less one
	nodes []node[K, V]
	free  []int32
	lists []list
	held  int
}

// node is one entry. What Lookup reads (the hash, then the key) comes
// first, and nothing pads it: a flow table's node is 128 bytes, two
// cache lines that the CPU fetches as a pair, where a 160-byte node
// straddled three.
type node[K comparable, V any] struct {
	hash       uint32 // the low half of the key's hash: the index has fewer than 1<<32 cells (slots are int32)
	prev, next int32
	list       uint8
	held       bool
	key        K
	val        V
}

type list struct{ head, tail int32 }

// New returns an empty LRU holding at most bound entries on lists lists
// (1 to 256). It panics if bound < 1 or lists is out of range.
//
// Every method that takes a key takes its hash h too: equal keys must
// have equal hashes, and as keys usually come from the network the hash
// should be seeded (hash/maphash).
func New[K comparable, V any](bound, lists int) *LRU[K, V] {
	if bound < 1 || lists < 1 || lists > 256 {
		panic("lru: bad size")
	}
	c := &LRU[K, V]{bound: bound, lists: make([]list, lists)}
	for i := range c.lists {
		c.lists[i] = list{None, None}
	}
	c.resize(min(bound, 1024))
	return c
}

// Len returns the number of entries held.
func (c *LRU[K, V]) Len() int { return c.held }

// Full reports whether Len has reached the bound given to New.
func (c *LRU[K, V]) Full() bool { return c.held >= c.bound }

// Lookup returns the slot of *k, whose hash is h, and false when it is
// not held. It does not change the order of use. (Keys are passed by
// pointer, read and not kept: a flow key is 40 bytes, and copying it on
// every packet shows.)
func (c *LRU[K, V]) Lookup(k *K, h uint64) (int32, bool) {
	for i := h & c.mask; ; i = (i + 1) & c.mask {
		s := c.index[i]
		if s == None {
			return None, false
		}
		if n := &c.nodes[s]; n.hash == uint32(h) && n.key == *k {
			return s, true
		}
	}
}

// Insert adds a copy of *k, whose hash is h, as the most recently used
// entry of list l and returns its slot. The LRU must not be Full (Insert
// panics) and the key must not be held (Insert does not look: Lookup
// first). The slot's value
// is what its previous entry left, or the zero V for a slot never used.
func (c *LRU[K, V]) Insert(k *K, h uint64, l int) int32 {
	if c.Full() {
		panic("lru: Insert on a full LRU")
	}
	var s int32
	if n := len(c.free); n > 0 {
		s = c.free[n-1]
		c.free = c.free[:n-1]
	} else {
		if len(c.nodes) == cap(c.nodes) {
			c.resize(min(2*cap(c.nodes), c.bound))
		}
		c.nodes = c.nodes[:len(c.nodes)+1]
		s = int32(len(c.nodes) - 1)
	}
	i := h & c.mask
	for c.index[i] != None {
		i = (i + 1) & c.mask
	}
	c.index[i] = s
	n := &c.nodes[s]
	n.key, n.hash, n.held = *k, uint32(h), true
	c.held++
	c.pushBack(n, s, &c.lists[l], l)
	return s
}

// resize gives the slice room for size entries and the index four times
// as many cells, or twice as many as the bound allows entries if that is
// fewer, placing the held entries again. Below a quarter full, probe
// chains stay short while the LRU grows; at the bound the index is half
// full at most.
func (c *LRU[K, V]) resize(size int) {
	grown := make([]node[K, V], len(c.nodes), size)
	copy(grown, c.nodes)
	c.nodes = grown
	cells := 16
	for cells < min(4*size, 2*c.bound) {
		cells <<= 1
	}
	if cells <= len(c.index) {
		return
	}
	c.index = make([]int32, cells)
	for i := range c.index {
		c.index[i] = None
	}
	c.mask = uint64(cells - 1)
	for s := range c.nodes {
		if n := &c.nodes[s]; n.held {
			i := uint64(n.hash) & c.mask
			for c.index[i] != None {
				i = (i + 1) & c.mask
			}
			c.index[i] = int32(s)
		}
	}
}

// Held reports whether slot s holds an entry; s may be any number.
func (c *LRU[K, V]) Held(s int32) bool {
	return s >= 0 && int(s) < len(c.nodes) && c.nodes[s].held
}

// Key returns the key of the entry in slot s.
func (c *LRU[K, V]) Key(s int32) K { return c.nodes[s].key }

// Value returns the value of slot s. The pointer is valid until the next
// Insert, which may move the slice.
func (c *LRU[K, V]) Value(s int32) *V { return &c.nodes[s].val }

// MoveToBack makes the entry in slot s the most recently used of list l,
// moving it from the list it was on.
func (c *LRU[K, V]) MoveToBack(s int32, l int) {
	t := &c.lists[l]
	if t.tail == s {
		return // already the most recent: a key used twice in a row
	}
	n := &c.nodes[s]
	c.unlink(n)
	c.pushBack(n, s, t, l)
}

// Front returns the least recently used slot of list l, or None when the
// list is empty.
func (c *LRU[K, V]) Front(l int) int32 { return c.lists[l].head }

// Next returns the slot used next after s on s's list, or None when s is
// the most recently used.
func (c *LRU[K, V]) Next(s int32) int32 { return c.nodes[s].next }

// Remove forgets the entry in slot s, which must be held, and frees the
// slot for a later Insert. The value is left as it is.
func (c *LRU[K, V]) Remove(s int32) {
	n := &c.nodes[s]
	if !n.held {
		panic("lru: Remove of a free slot")
	}
	c.unlink(n)
	i := uint64(n.hash) & c.mask
	for c.index[i] != s {
		i = (i + 1) & c.mask
	}
	// Backward-shift deletion keeps every probe chain unbroken.
	j := i
	for {
		j = (j + 1) & c.mask
		x := c.index[j]
		if x == None {
			break
		}
		home := uint64(c.nodes[x].hash) & c.mask
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			c.index[i] = x
			i = j
		}
	}
	c.index[i] = None
	var zero K
	n.key, n.held = zero, false
	c.held--
	c.free = append(c.free, s)
}

// unlink takes node n off its list.
func (c *LRU[K, V]) unlink(n *node[K, V]) {
	l := &c.lists[n.list]
	if n.prev != None {
		c.nodes[n.prev].next = n.next
	} else {
		l.head = n.next
	}
	if n.next != None {
		c.nodes[n.next].prev = n.prev
	} else {
		l.tail = n.prev
	}
}

// pushBack puts node n, in slot s, at the back of list t, number l.
func (c *LRU[K, V]) pushBack(n *node[K, V], s int32, t *list, l int) {
	n.list, n.prev, n.next = uint8(l), t.tail, None
	if t.tail != None {
		c.nodes[t.tail].next = s
	} else {
		t.head = s
	}
	t.tail = s
}
