package threshold

import (
	"hash/maphash"
	"time"

	"github.com/vigil-ids/vigil/engine/internal/lru"
	"github.com/vigil-ids/vigil/rules"
)

// DefaultMaxEntries is the size of a Tracker or Deduper made with
// maxEntries <= 0.
const DefaultMaxEntries = 65536

// TrackerStats are a Tracker's counters.
type TrackerStats struct {
	Active     int    // keys held now
	Evicted    uint64 // keys dropped, least recently used first, to make room
	Suppressed uint64 // matches Allow turned down
	// ClockSteps counts windows restarted because packet time stepped
	// back (see Allow).
	ClockSteps uint64
}

type tentry struct {
	start int64 // window start, Unix nanoseconds of packet time
	count int
	set   valueSet
}

// Tracker keeps the threshold counters of many rules and keys. It is not
// safe for concurrent use. It holds at most maxEntries (sid, key)
// counters; a full Tracker forgets its least recently used counter,
// which then starts afresh if that key matches again. Allow does not
// allocate once the Tracker has reached its working size (a distinct
// set grows up to its threshold's Count the first time and is reused
// after, by the next counter of its slot too).
type Tracker struct {
	counters *lru.LRU[tkey, tentry]
	seed     maphash.Seed
	stats    TrackerStats
}

// NewTracker returns a Tracker holding at most maxEntries counters
// (DefaultMaxEntries if maxEntries <= 0).
func NewTracker(maxEntries int) *Tracker {
	if maxEntries <= 0 {
		maxEntries = DefaultMaxEntries
	}
	return &Tracker{counters: lru.New[tkey, tentry](maxEntries, 1), seed: maphash.MakeSeed()}
}

// Stats returns the Tracker's counters.
func (t *Tracker) Stats() TrackerStats {
	t.stats.Active = t.counters.Len()
	return t.stats
}

// Allow counts one match of rule sid for key at packet time now and
// reports whether it may alert, with Suricata's semantics:
//
//   - A window starts at the first match counted for (sid, key) and lasts
//     s.Window; a match Window or more after the window's start starts a
//     new window, counting 1.
//   - limit: the first s.Count matches of each window alert.
//   - threshold: every s.Count-th match within the window alerts; the
//     count restarts from 0 after an alert while the window goes on.
//   - both: the s.Count-th match of the window alerts, and no other.
//
// With s.DistinctName set, distinct is the match's value of that field
// (its 64-bit form) and only a value not yet seen in the window counts as
// a match (a repeated value never alerts); for type threshold the values
// seen are forgotten with the count after an alert. Values beyond s.Count
// in a window are not remembered: they cannot change the outcome.
//
// Packet time may step back (a daylight-saving fall-back in a sensor's
// local clock, a clock reset): a match more than s.Window before its
// window's start restarts the window, as a match s.Window after it does,
// so a step back never holds alerts back for longer than two windows; it
// is counted in ClockSteps. Smaller disorder, such as sensors whose
// clocks differ by less than a window, keeps the window.
//
// s is a threshold as the rules package loads it (see [rules.Threshold]);
// Allow does not check it again.
func (t *Tracker) Allow(sid int, s *rules.Threshold, key Key, distinct uint64, now time.Time) bool {
	ns := now.UnixNano()
	k := tkey{sid, key}
	h := k.hash(t.seed)
	idx, ok := t.counters.Lookup(&k, h)
	if ok {
		t.counters.MoveToBack(idx, 0)
	} else {
		if t.counters.Full() {
			t.counters.Remove(t.counters.Front(0))
			t.stats.Evicted++
		}
		idx = t.counters.Insert(&k, h, 0)
	}
	e := t.counters.Value(idx)
	stepped := ok && steppedBack(ns, e.start, s.Window)
	if stepped {
		t.stats.ClockSteps++
	}
	if !ok || stepped || ns-e.start >= int64(s.Window) {
		e.start, e.count = ns, 0
		e.set.clear()
	}
	if s.DistinctName != "" {
		if e.count >= s.Count && s.Type != rules.TypeThreshold {
			t.stats.Suppressed++
			return false // saturated: nothing more can alert this window
		}
		if !e.set.add(distinct) {
			t.stats.Suppressed++
			return false
		}
	}
	e.count++
	var allow bool
	switch s.Type {
	case rules.TypeLimit:
		allow = e.count <= s.Count
	case rules.TypeThreshold:
		if e.count >= s.Count {
			allow = true
			e.count = 0
			e.set.clear()
		}
	case rules.TypeBoth:
		allow = e.count == s.Count
	}
	if e.count > s.Count {
		e.count = s.Count + 1 // no overflow on endless matches
	}
	if !allow {
		t.stats.Suppressed++
	}
	return allow
}

// valueSet is a small open-addressing set of uint64 values; it keeps its
// storage when cleared.
type valueSet struct {
	slots   []uint64 // 0 is empty; the value 0 is kept in zero
	n       int
	zero    bool
	touched bool // slots hold values that clear must wipe
}

func (s *valueSet) clear() {
	if s.touched {
		clear(s.slots)
	}
	s.n, s.zero, s.touched = 0, false, false
}

// add inserts v and reports whether it was new.
func (s *valueSet) add(v uint64) bool {
	if v == 0 {
		if s.zero {
			return false
		}
		s.zero = true
		s.n++
		return true
	}
	if 2*(s.n+1) > len(s.slots) {
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	for i := (v * 0x9e3779b97f4a7c15) >> 32 & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case v:
			return false
		case 0:
			s.slots[i] = v
			s.n++
			s.touched = true
			return true
		}
	}
}

func (s *valueSet) grow() {
	old := s.slots
	n := max(16, 2*len(old))
	s.slots = make([]uint64, n)
	mask := uint64(n - 1)
	for _, v := range old {
		if v == 0 {
			continue
		}
		i := (v * 0x9e3779b97f4a7c15) >> 32 & mask
		for s.slots[i] != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = v
	}
}

// steppedBack reports whether packet time ns lies more than window before
// start: the clock stepped back rather than packets arriving out of order.
func steppedBack(ns, start int64, window time.Duration) bool {
	return ns < start-int64(window)
}
