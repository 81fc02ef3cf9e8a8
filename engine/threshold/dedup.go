package threshold

import (
	"hash/maphash"
	"time"

	"github.com/vigil-ids/vigil/engine/internal/lru"
)

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
	// ClockSteps counts windows closed early because packet time stepped
	// back (see Observe).
	ClockSteps uint64
}

type dentry struct {
	first, last time.Time
	deadline    int64
	count       int
	data        any
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
//
// Windows are kept in an LRU in the order they opened (a fold does not
// move a window), so the front is always the oldest window.
type Deduper struct {
	windows *lru.LRU[tkey, dentry]
	seed    maphash.Seed
	pending []Summary
	stats   DeduperStats
}

// NewDeduper returns a Deduper with at most maxEntries open windows
// (DefaultMaxEntries if maxEntries <= 0).
func NewDeduper(maxEntries int) *Deduper {
	if maxEntries <= 0 {
		maxEntries = DefaultMaxEntries
	}
	return &Deduper{windows: lru.New[tkey, dentry](maxEntries, 1), seed: maphash.MakeSeed()}
}

// Stats returns the Deduper's counters.
func (d *Deduper) Stats() DeduperStats {
	d.stats.Active = d.windows.Len()
	return d.stats
}

// Observe records one occurrence of rule sid for key at packet time now
// and reports whether it is to be alerted (the first of a window) or
// folded. An occurrence more than its window's length before the window's
// first (packet time stepped back: a daylight-saving fall-back, a clock
// reset) closes the window and opens a new one, counted in ClockSteps, so
// a step back never folds for longer than two windows. window is the
// length of a window opened by this call, and data
// is kept with it and handed back in its Summary (it is dropped with a
// window that folds nothing).
func (d *Deduper) Observe(sid int, key Key, now time.Time, window time.Duration, data any) (emit bool) {
	k := tkey{sid, key}
	h := k.hash(d.seed)
	ns := now.UnixNano()
	if idx, ok := d.windows.Lookup(&k, h); ok {
		e := d.windows.Value(idx)
		stepped := steppedBack(ns, e.first.UnixNano(), time.Duration(e.deadline-e.first.UnixNano()))
		if stepped {
			d.stats.ClockSteps++
		}
		if ns < e.deadline && !stepped {
			e.count++
			if now.After(e.last) {
				e.last = now
			}
			d.stats.Folded++
			return false
		}
		d.close(idx)
	}
	if d.windows.Full() {
		d.stats.Evicted++
		d.close(d.windows.Front(0))
	}
	idx := d.windows.Insert(&k, h, 0)
	*d.windows.Value(idx) = dentry{first: now, last: now, deadline: ns + int64(window), count: 1, data: data}
	return true
}

// close ends window idx, queueing its summary if it folded anything.
func (d *Deduper) close(idx int32) {
	e := d.windows.Value(idx)
	if e.count > 1 {
		k := d.windows.Key(idx)
		d.pending = append(d.pending, Summary{SID: k.sid, Key: k.key, Count: e.count, FirstSeen: e.first, LastSeen: e.last, Data: e.data})
	}
	*e = dentry{} // let go of data
	d.windows.Remove(idx)
}

// Expired appends to dst the summaries of the windows that ended at or
// before packet time now (and of windows ended earlier by Observe or by
// eviction), removes those windows and returns the extended slice. The
// engine calls it regularly, e.g. once per second of packet time; it
// walks every open window. The summaries queued between calls are held
// by the Deduper, so a caller that never calls Expired grows that queue.
func (d *Deduper) Expired(now time.Time, dst []Summary) []Summary {
	ns := now.UnixNano()
	for idx := d.windows.Front(0); idx != lru.None; {
		next := d.windows.Next(idx)
		if ns >= d.windows.Value(idx).deadline {
			d.close(idx)
		}
		idx = next
	}
	return d.drain(dst)
}

// Flush ends every open window, as at the end of a capture, and appends
// all pending summaries to dst.
func (d *Deduper) Flush(dst []Summary) []Summary {
	for d.windows.Len() > 0 {
		d.close(d.windows.Front(0))
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
