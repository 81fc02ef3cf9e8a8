package lru

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// hash is deliberately poor: keys 0..6 apart collide, so probe chains
// are long and removal has to shift entries back.
func hash(k int) uint64 { return uint64(k % 7) }

func insert(c *LRU[int, string], k int, l int) int32 {
	return c.Insert(&k, hash(k), l)
}

func lookup(c *LRU[int, string], k int) (int32, bool) {
	return c.Lookup(&k, hash(k))
}

// order returns the keys of list l from least to most recently used.
func order(c *LRU[int, string], l int) []int {
	var out []int
	for s := c.Front(l); s != None; s = c.Next(s) {
		out = append(out, c.Key(s))
	}
	return out
}

func TestInsertLookup(t *testing.T) {
	c := New[int, string](4, 1)
	for _, k := range []int{10, 17, 24} { // one hash: one probe chain
		insert(c, k, 0)
	}
	for _, k := range []int{10, 17, 24} {
		s, ok := lookup(c, k)
		if !ok || c.Key(s) != k || !c.Held(s) {
			t.Fatalf("Lookup(%d) = %d, %v", k, s, ok)
		}
	}
	if s, ok := lookup(c, 31); ok || s != None {
		t.Errorf("Lookup of a key never inserted = %d, %v", s, ok)
	}
	if got := order(c, 0); !slices.Equal(got, []int{10, 17, 24}) {
		t.Errorf("order %v", got)
	}
	if c.Len() != 3 || c.Full() {
		t.Errorf("Len %d Full %v", c.Len(), c.Full())
	}
}

// TestMoveToBack: using an entry makes it the most recently used.
func TestMoveToBack(t *testing.T) {
	c := New[int, string](8, 1)
	for k := range 4 {
		insert(c, k, 0)
	}
	for _, k := range []int{0, 2, 0} {
		s, _ := lookup(c, k)
		c.MoveToBack(s, 0)
	}
	if got := order(c, 0); !slices.Equal(got, []int{1, 3, 2, 0}) {
		t.Errorf("order %v, want [1 3 2 0]", got)
	}
	// Using the most recent entry again changes nothing.
	s, _ := lookup(c, 0)
	c.MoveToBack(s, 0)
	if got := order(c, 0); !slices.Equal(got, []int{1, 3, 2, 0}) {
		t.Errorf("order %v after using the back again", got)
	}
	// Lookup alone does not reorder.
	lookup(c, 1)
	if got := order(c, 0); got[0] != 1 {
		t.Errorf("Lookup moved an entry: %v", got)
	}
}

// TestEviction: a full LRU takes a new key once its owner removed the
// front, the least recently used entry; the rest keep their order.
func TestEviction(t *testing.T) {
	c := New[int, string](3, 1)
	for k := range 3 {
		insert(c, k, 0)
	}
	s0, _ := lookup(c, 0)
	c.MoveToBack(s0, 0)
	if !c.Full() {
		t.Fatal("not full at the bound")
	}
	var evicted []int
	for k := 3; k < 6; k++ {
		f := c.Front(0)
		evicted = append(evicted, c.Key(f))
		c.Remove(f)
		insert(c, k, 0)
	}
	if !slices.Equal(evicted, []int{1, 2, 0}) {
		t.Errorf("evicted %v, want [1 2 0]", evicted)
	}
	if got := order(c, 0); !slices.Equal(got, []int{3, 4, 5}) {
		t.Errorf("order %v", got)
	}
	for _, k := range evicted {
		if _, ok := lookup(c, k); ok {
			t.Errorf("evicted key %d still found", k)
		}
	}
}

func TestBound(t *testing.T) {
	const bound = 1500 // above the first allocation, not a power of two
	c := New[int, string](bound, 1)
	for k := range bound {
		insert(c, k, 0)
	}
	if c.Len() != bound || !c.Full() {
		t.Fatalf("Len %d Full %v", c.Len(), c.Full())
	}
	if cap(c.nodes) != bound {
		t.Errorf("slab room %d, want %d", cap(c.nodes), bound)
	}
	func() {
		defer func() {
			if r := recover(); r != "lru: Insert on a full LRU" {
				t.Errorf("Insert on a full LRU: recovered %v", r)
			}
		}()
		insert(c, bound, 0)
	}()
	if c.Len() != bound {
		t.Errorf("Len %d after a refused Insert", c.Len())
	}
}

// TestRemove takes out the front, a middle and the back entry.
func TestRemove(t *testing.T) {
	c := New[int, string](8, 1)
	slots := map[int]int32{}
	for _, k := range []int{1, 8, 15, 22, 29} { // one probe chain
		slots[k] = insert(c, k, 0)
		*c.Value(slots[k]) = "x"
	}
	for _, k := range []int{1, 15, 29} {
		c.Remove(slots[k])
		if c.Held(slots[k]) {
			t.Errorf("slot of %d still held", k)
		}
		if _, ok := lookup(c, k); ok {
			t.Errorf("removed key %d found", k)
		}
	}
	if got := order(c, 0); !slices.Equal(got, []int{8, 22}) || c.Len() != 2 {
		t.Errorf("order %v Len %d", got, c.Len())
	}
	for _, k := range []int{8, 22} {
		if s, ok := lookup(c, k); !ok || s != slots[k] {
			t.Errorf("key %d lost after removals", k)
		}
	}
	// The slot freed last is reused first, its value left as it was.
	if s := insert(c, 36, 0); s != slots[29] || *c.Value(s) != "x" {
		t.Errorf("Insert took slot %d holding %q, want slot %d holding \"x\"", s, *c.Value(s), slots[29])
	}
	if c.Held(-1) || c.Held(100) {
		t.Error("Held outside the slab")
	}
}

// TestLists: an entry is on one list at a time; MoveToBack can change it.
func TestLists(t *testing.T) {
	c := New[int, string](8, 3)
	for k := range 6 {
		insert(c, k, k%3)
	}
	s, _ := lookup(c, 3)
	c.MoveToBack(s, 2)
	s, _ = lookup(c, 0)
	c.MoveToBack(s, 1)
	for l, want := range [][]int{nil, {1, 4, 0}, {2, 5, 3}} {
		if got := order(c, l); !slices.Equal(got, want) {
			t.Errorf("list %d: %v, want %v", l, got, want)
		}
	}
	if c.Front(0) != None {
		t.Error("emptied list has a front")
	}
}

// TestChurn checks the LRU against a plain model through random inserts,
// uses and removals, with colliding hashes.
func TestChurn(t *testing.T) {
	const bound = 37
	c := New[int, string](bound, 2)
	var model [2][]int // per list, least recently used first
	rng := rand.New(rand.NewPCG(1, 2))
	find := func(k int) (int, int) {
		for l := range model {
			if i := slices.Index(model[l], k); i >= 0 {
				return l, i
			}
		}
		return -1, -1
	}
	for op := range 20000 {
		k, l := rng.IntN(100), rng.IntN(2)
		ml, mi := find(k)
		s, ok := lookup(c, k)
		if ok != (ml >= 0) {
			t.Fatalf("op %d: Lookup(%d) found %v, model %v", op, k, ok, ml >= 0)
		}
		switch {
		case ok && rng.IntN(3) == 0:
			c.Remove(s)
			model[ml] = slices.Delete(model[ml], mi, mi+1)
		case ok:
			c.MoveToBack(s, l)
			model[ml] = slices.Delete(model[ml], mi, mi+1)
			model[l] = append(model[l], k)
		default:
			if c.Full() {
				from := rng.IntN(2)
				if c.Front(from) == None {
					from = 1 - from
				}
				c.Remove(c.Front(from))
				model[from] = model[from][1:]
			}
			insert(c, k, l)
			model[l] = append(model[l], k)
		}
		for l := range model {
			if got := order(c, l); !slices.Equal(got, model[l]) {
				t.Fatalf("op %d: list %d is %v, model %v", op, l, got, model[l])
			}
		}
		if c.Len() != len(model[0])+len(model[1]) || c.Len() > bound {
			t.Fatalf("op %d: Len %d, model %d", op, c.Len(), len(model[0])+len(model[1]))
		}
	}
	if cap(c.nodes) > bound {
		t.Errorf("slab room %d over the bound %d", cap(c.nodes), bound)
	}
}

func TestDoesNotAllocate(t *testing.T) {
	c := New[int, string](64, 1)
	k := 0
	run := func() {
		if s, ok := lookup(c, k%100); ok {
			c.MoveToBack(s, 0)
		} else {
			if c.Full() {
				c.Remove(c.Front(0))
			}
			insert(c, k%100, 0)
		}
		k += 7
	}
	for range 1000 {
		run()
	}
	if n := testing.AllocsPerRun(1000, run); n != 0 {
		t.Errorf("%v allocations per operation", n)
	}
}
