package threshold

import (
	"testing"
	"time"

	"github.com/vigil-ids/vigil/rules"
)

// TestDeduper folds occurrences of sid 1 for one key with a 10 s window:
//
//	t:      0  2  5  9.9 | 10  | 30
//	emit:   A  .  .  .   | A   | A
//
// The window opened at 0 ends at 10; the occurrence at 10 opens a new
// one and closes the first, whose summary says 4 occurrences from 0 to
// 9.9. The window opened at 10 holds one occurrence: no summary. The one
// opened at 30 is still open until Flush, and also holds one.
func TestDeduper(t *testing.T) {
	d := NewDeduper(8)
	k := Key{Track: rules.ByRule}
	var emitted []float64
	for _, s := range []float64{0, 2, 5, 9.9, 10, 30} {
		if d.Observe(1, k, at(s), 10*time.Second, s) {
			emitted = append(emitted, s)
		}
	}
	if len(emitted) != 3 || emitted[0] != 0 || emitted[1] != 10 || emitted[2] != 30 {
		t.Fatalf("emitted at %v", emitted)
	}
	sum := d.Expired(at(30), nil)
	if len(sum) != 1 {
		t.Fatalf("summaries %+v", sum)
	}
	if s := sum[0]; s.SID != 1 || s.Key != k || s.Count != 4 || !s.FirstSeen.Equal(at(0)) || !s.LastSeen.Equal(at(9.9)) || s.Data != 0.0 {
		t.Errorf("summary %+v", s)
	}
	if got := d.Flush(nil); len(got) != 0 {
		t.Errorf("flush gave %+v", got)
	}
	if s := d.Stats(); s.Folded != 3 || s.Summaries != 1 || s.Active != 0 {
		t.Errorf("stats %+v", s)
	}
}

// TestDeduperAccounting: whatever the mix of keys, windows, evictions and
// flushes, every occurrence is either emitted or counted in a summary
// (emitted + sum(Count-1) == occurrences), and a summary's Count includes
// its emitted alert.
func TestDeduperAccounting(t *testing.T) {
	d := NewDeduper(5) // small: forces evictions
	var occurrences, emitted, folded int
	var sums []Summary
	for i := range 5000 {
		k := Key{Track: rules.ByFlow, Flow: uint64(i*7919) % 13}
		if d.Observe(i%3, k, at(float64(i)/10), 3*time.Second, nil) {
			emitted++
		}
		occurrences++
		if i%50 == 0 {
			sums = d.Expired(at(float64(i)/10), sums)
		}
	}
	sums = d.Flush(sums)
	for _, s := range sums {
		if s.Count < 2 || s.LastSeen.Before(s.FirstSeen) {
			t.Fatalf("bad summary %+v", s)
		}
		folded += s.Count - 1
	}
	if emitted+folded != occurrences {
		t.Errorf("emitted %d + folded %d != %d occurrences", emitted, folded, occurrences)
	}
	st := d.Stats()
	if st.Folded != uint64(folded) || st.Summaries != uint64(len(sums)) || st.Evicted == 0 {
		t.Errorf("stats %+v, folded %d, summaries %d", st, folded, len(sums))
	}
}

func TestDeduperDoesNotAllocate(t *testing.T) {
	d := NewDeduper(64)
	buf := make([]Summary, 0, 1024)
	i := 0
	run := func() {
		d.Observe(1, Key{Track: rules.ByFlow, Flow: uint64(i % 200)}, at(float64(i)/100), time.Second, nil)
		if i%100 == 0 {
			buf = d.Expired(at(float64(i)/100), buf[:0])
		}
		i++
	}
	for range 5000 {
		run()
	}
	if n := testing.AllocsPerRun(5000, run); n != 0 {
		t.Errorf("Observe/Expired allocate %v per call", n)
	}
}

// TestDeduperClockStepBack: an occurrence an hour before its window's
// first (a daylight-saving fall-back) closes the window, with its summary,
// and opens a new one, instead of folding for the hour.
func TestDeduperClockStepBack(t *testing.T) {
	d := NewDeduper(4)
	k := Key{Track: rules.ByRule}
	for _, c := range []struct {
		sec  float64
		emit bool
	}{{0, true}, {5, false}, {-20, false}, {6 - 3600, true}, {7 - 3600, false}} {
		if got := d.Observe(1, k, at(c.sec), time.Minute, nil); got != c.emit {
			t.Errorf("occurrence at %v s: emitted %v, want %v", c.sec, got, c.emit)
		}
	}
	sums := d.Flush(nil)
	if len(sums) != 2 || sums[0].Count != 3 || sums[1].Count != 2 {
		t.Errorf("summaries %+v, want counts 3 and 2", sums)
	}
	if s := d.Stats(); s.ClockSteps != 1 {
		t.Errorf("ClockSteps %d, want 1", s.ClockSteps)
	}
}
