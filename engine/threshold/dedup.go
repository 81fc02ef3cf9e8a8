package threshold

import "time"

// Summary reports the alerts of one (sid, key) folded into a single
// alert: Count is the number of occurrences in the window INCLUDING the
// one that was alerted, so Count-1 alerts were folded. FirstSeen is the
// time of the alerted occurrence, LastSeen that of the last one. Data is
// what Observe was given with the alerted occurrence (the engine keeps the
// window's first alert there).
type Summary struct {
	SID       int
	Key       Key
	Count     int
	FirstSeen time.Time
	LastSeen  time.Time
	Data      any
}

// DeduperStats are a Deduper's counters.
type DeduperStats struct {
	Active    int    // windows open now
	Folded    uint64 // occurrences folded into a summary instead of alerting
	Summaries uint64 // summaries handed out
	Evicted   uint64 // windows closed early to make room (their summary is still reported)
}

type dentry struct {
	k           tkey
	first, last time.Time
	deadline    int64
	count       int
	data        any
	prev, next  int32
}

// Deduper folds repeated alerts of one rule and key into one alert and a
// later summary. It is not safe for concurrent use.
//
// The first occurrence of (sid, key) opens a window of the given length
// and is alerted (Observe returns true); later occurrences inside the
// window are counted and not alerted. When the window has ended (an
// occurrence at or after its end, a call to Expired at or after its end,
// or Flush), a window that folded at least one occurrence yields a
// Summary; a window with a single occurrence yields none, since its one
// alert already told everything. No occurrence is ever dropped without
// being counted in an alert or a summary: a full Deduper closes its
// oldest window early and reports its summary.
type Deduper struct {
	max        int
	index      map[tkey]int32
	entries    []dentry
	free       []int32
	head, tail int32 // oldest and newest window
	pending    []Summary
	stats      DeduperStats
}

// NewDeduper returns a Deduper with at most maxEntries open windows
// (DefaultMaxEntries if maxEntries <= 0).
func NewDeduper(maxEntries int) *Deduper {
	if maxEntries <= 0 {
		maxEntries = DefaultMaxEntries
	}
	return &Deduper{max: maxEntries, index: make(map[tkey]int32, min(maxEntries, 1024)), head: -1, tail: -1}
}

// Stats returns the Deduper's counters.
func (d *Deduper) Stats() DeduperStats {
	d.stats.Active = len(d.index)
	return d.stats
}

// Observe records one occurrence of rule sid for key at packet time now
// and reports whether it is to be alerted (the first of a window) or
// folded. window is the length of a window opened by this call, and data
// is kept with it and handed back in its Summary (it is dropped with a
// window that folds nothing).
func (d *Deduper) Observe(sid int, key Key, now time.Time, window time.Duration, data any) (emit bool) {
	k := tkey{sid, key}
	ns := now.UnixNano()
	if idx, ok := d.index[k]; ok {
		e := &d.entries[idx]
		if ns < e.deadline {
			e.count++
			if now.After(e.last) {
				e.last = now
			}
			d.stats.Folded++
			return false
		}
		d.close(idx)
	}
	if len(d.index) >= d.max {
		d.stats.Evicted++
		d.close(d.head)
	}
	var idx int32
	if n := len(d.free); n > 0 {
		idx = d.free[n-1]
		d.free = d.free[:n-1]
	} else {
		d.entries = append(d.entries, dentry{})
		idx = int32(len(d.entries) - 1)
	}
	d.entries[idx] = dentry{k: k, first: now, last: now, deadline: ns + int64(window), count: 1, data: data, prev: d.tail, next: -1}
	if d.tail >= 0 {
		d.entries[d.tail].next = idx
	} else {
		d.head = idx
	}
	d.tail = idx
	d.index[k] = idx
	return true
}

// close ends window idx, queueing its summary if it folded anything.
func (d *Deduper) close(idx int32) {
	e := &d.entries[idx]
	if e.count > 1 {
		d.pending = append(d.pending, Summary{SID: e.k.sid, Key: e.k.key, Count: e.count, FirstSeen: e.first, LastSeen: e.last, Data: e.data})
	}
	if e.prev >= 0 {
		d.entries[e.prev].next = e.next
	} else {
		d.head = e.next
	}
	if e.next >= 0 {
		d.entries[e.next].prev = e.prev
	} else {
		d.tail = e.prev
	}
	delete(d.index, e.k)
	*e = dentry{}
	d.free = append(d.free, idx)
}

// Expired appends to dst the summaries of the windows that ended at or
// before packet time now (and of windows ended earlier by Observe or by
// eviction), removes those windows and returns the extended slice. The
// engine calls it regularly, e.g. once per second of packet time; it
// walks every open window. The summaries queued between calls are held
// by the Deduper, so a caller that never calls Expired grows that queue.
func (d *Deduper) Expired(now time.Time, dst []Summary) []Summary {
	ns := now.UnixNano()
	for idx := d.head; idx >= 0; {
		next := d.entries[idx].next
		if ns >= d.entries[idx].deadline {
			d.close(idx)
		}
		idx = next
	}
	return d.drain(dst)
}

// Flush ends every open window, as at the end of a capture, and appends
// all pending summaries to dst.
func (d *Deduper) Flush(dst []Summary) []Summary {
	for d.head >= 0 {
		d.close(d.head)
	}
	return d.drain(dst)
}

func (d *Deduper) drain(dst []Summary) []Summary {
	dst = append(dst, d.pending...)
	d.stats.Summaries += uint64(len(d.pending))
	clear(d.pending)
	d.pending = d.pending[:0]
	return dst
}
