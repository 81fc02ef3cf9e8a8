package threshold

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/rules/field"
)

var t0 = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

func at(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }

func srcPkt(src, dst string) *field.Packet {
	var p field.Packet
	p.Reset()
	p.Meta.Src, p.Meta.Dst = netip.MustParseAddr(src), netip.MustParseAddr(dst)
	return &p
}

// matchTimes are the packet times (seconds) of eleven matches of one rule
// from one source, used by the three hand-worked cases below.
var matchTimes = []float64{0, 1, 2, 3, 4, 9.5, 10, 11, 12, 13, 25}

// TestTypes works through count 3, seconds 10 by hand. The first window
// starts at the first match, t=0, and covers [0, 10); the match at t=10
// is 10 s after the window's start, so it opens the second window
// [10, 20); t=25 opens a third.
//
//	t:          0  1  2  3  4  9.5 | 10 11 12 13 | 25
//	count:      1  2  3  4  5  6   |  1  2  3  4 |  1
//	limit:      A  A  A  .  .  .   |  A  A  A  . |  A   first 3 of each window
//	threshold:  .  .  A  .  .  A   |  .  .  A  . |  .   every 3rd; the count restarts at 0 after
//	                                                   an alert (t=3,4,9.5 count 1,2,3) but the
//	                                                   window does not
//	both:       .  .  A  .  .  .   |  .  .  A  . |  .   the 3rd of each window only
func TestTypes(t *testing.T) {
	cases := []struct {
		typ  rules.ThresholdType
		want []float64
	}{
		{rules.TypeLimit, []float64{0, 1, 2, 10, 11, 12, 25}},
		{rules.TypeThreshold, []float64{2, 9.5, 12}},
		{rules.TypeBoth, []float64{2, 12}},
	}
	for _, c := range cases {
		t.Run(c.typ.String(), func(t *testing.T) {
			spec := &rules.Threshold{Type: c.typ, Track: rules.BySrc, Count: 3, Window: 10 * time.Second}
			tr := NewTracker(16)
			p := srcPkt("10.0.0.1", "10.0.0.2")
			var got []float64
			for _, sec := range matchTimes {
				if tr.Allow(1000, spec, KeyFor(spec.Track, p, 0), 0, at(sec)) {
					got = append(got, sec)
				}
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("alerts at %v, want %v", got, c.want)
			}
			if s := tr.Stats(); s.Suppressed != uint64(len(matchTimes)-len(c.want)) || s.Active != 1 {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

// TestWindowEdge: 9.999999999 s after the start is inside the window, 10 s
// is not (Suricata compares the elapsed time with seconds).
func TestWindowEdge(t *testing.T) {
	spec := &rules.Threshold{Type: rules.TypeLimit, Track: rules.ByRule, Count: 1, Window: 10 * time.Second}
	tr := NewTracker(4)
	k := Key{Track: rules.ByRule}
	if !tr.Allow(1, spec, k, 0, t0) {
		t.Fatal("first match suppressed")
	}
	if tr.Allow(1, spec, k, 0, t0.Add(10*time.Second-1)) {
		t.Error("match inside the window alerted")
	}
	if !tr.Allow(1, spec, k, 0, t0.Add(10*time.Second)) {
		t.Error("match opening a new window suppressed")
	}
}

// TestCountOne: with count 1 every type alerts on every new window's first
// match; threshold alerts on every match.
func TestCountOne(t *testing.T) {
	times := []float64{0, 1, 2, 15}
	for typ, want := range map[rules.ThresholdType]int{rules.TypeLimit: 2, rules.TypeThreshold: 4, rules.TypeBoth: 2} {
		tr := NewTracker(4)
		spec := &rules.Threshold{Type: typ, Track: rules.ByRule, Count: 1, Window: 10 * time.Second}
		n := 0
		for _, s := range times {
			if tr.Allow(1, spec, Key{}, 0, at(s)) {
				n++
			}
		}
		if n != want {
			t.Errorf("%s: %d alerts, want %d", typ, n, want)
		}
	}
}

// TestDistinct counts distinct destination ports (count 3, 10 s):
//
//	t:     0   1   2    3   4     5   6    7
//	port:  80  80  443  22  8080  80  443  25
//	new:   1   -   2    3   4     -   -    5    (within the window [0,10))
//	both:  .   .   .    A   .     .   .    .    the 3rd distinct value
//	limit: A   .   A    A   .     .   .    .    the first 3 distinct values
//	threshold:                                 3rd distinct at t=3 alerts and forgets the
//	       .   .   .    A   .     .   A    .    values: 8080, 80, 443 are new again -> t=6
func TestDistinct(t *testing.T) {
	ports := []uint64{80, 80, 443, 22, 8080, 80, 443, 25}
	for typ, want := range map[rules.ThresholdType][]int{
		rules.TypeBoth:      {3},
		rules.TypeLimit:     {0, 2, 3},
		rules.TypeThreshold: {3, 6},
	} {
		tr := NewTracker(4)
		spec := &rules.Threshold{Type: typ, Track: rules.BySrc, Count: 3, Window: 10 * time.Second, DistinctName: "tcp.dstport"}
		var got []int
		for i, port := range ports {
			if tr.Allow(7, spec, KeyFor(rules.BySrc, srcPkt("10.0.0.1", "10.0.0.2"), 0), port, at(float64(i))) {
				got = append(got, i)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: alerts at %v, want %v", typ, got, want)
		}
	}
}

func TestDistinctValueZero(t *testing.T) {
	tr := NewTracker(4)
	spec := &rules.Threshold{Type: rules.TypeBoth, Track: rules.ByRule, Count: 2, Window: 10 * time.Second, DistinctName: "x"}
	if tr.Allow(1, spec, Key{}, 0, t0) || tr.Allow(1, spec, Key{}, 0, at(1)) {
		t.Error("0 counted twice or alerted early")
	}
	if !tr.Allow(1, spec, Key{}, 1, at(2)) {
		t.Error("second distinct value did not alert")
	}
}

func TestKeyFor(t *testing.T) {
	ab := srcPkt("10.0.0.1", "10.0.0.2")
	ba := srcPkt("10.0.0.2", "10.0.0.1")
	ac := srcPkt("10.0.0.1", "10.0.0.3")
	cases := []struct {
		track  rules.Track
		p, q   *field.Packet
		fp, fq uint64
		same   bool
	}{
		{rules.BySrc, ab, ac, 0, 0, true},
		{rules.BySrc, ab, ba, 0, 0, false},
		{rules.ByDst, ab, ac, 0, 0, false},
		{rules.ByDst, ab, srcPkt("10.0.0.9", "10.0.0.2"), 0, 0, true},
		{rules.ByBoth, ab, ba, 0, 0, true},
		{rules.ByBoth, ab, ac, 0, 0, false},
		{rules.ByFlow, ab, ac, 5, 5, true},
		{rules.ByFlow, ab, ab, 5, 6, false},
		{rules.ByRule, ab, ac, 1, 2, true},
	}
	for _, c := range cases {
		got := KeyFor(c.track, c.p, c.fp) == KeyFor(c.track, c.q, c.fq)
		if got != c.same {
			t.Errorf("%s: same key %v, want %v", c.track, got, c.same)
		}
	}
	if k := KeyFor(rules.Track(0), ab, 5); k != (Key{Track: rules.ByRule}) {
		t.Errorf("a value that is not a track gives %+v, want the by_rule key", k)
	}
	if n := testing.AllocsPerRun(100, func() { KeyFor(rules.ByBoth, ab, 0) }); n != 0 {
		t.Errorf("KeyFor allocates %v", n)
	}
	// Keys of different rules are counted apart.
	tr := NewTracker(8)
	spec := &rules.Threshold{Type: rules.TypeBoth, Track: rules.BySrc, Count: 2, Window: 10 * time.Second}
	k := KeyFor(rules.BySrc, ab, 0)
	if tr.Allow(1, spec, k, 0, t0) || tr.Allow(2, spec, k, 0, t0) {
		t.Error("rules share a counter")
	}
}

// TestTrackerBounded: a full Tracker forgets its least recently used key.
func TestTrackerBounded(t *testing.T) {
	tr := NewTracker(3)
	spec := &rules.Threshold{Type: rules.TypeLimit, Track: rules.BySrc, Count: 1, Window: 100 * time.Second}
	key := func(i int) Key {
		return KeyFor(rules.BySrc, srcPkt(fmt.Sprintf("10.0.0.%d", i), "10.0.0.254"), 0)
	}
	for i := range 3 {
		tr.Allow(1, spec, key(i), 0, at(float64(i)))
	}
	tr.Allow(1, spec, key(0), 0, at(3)) // key 0 is now the most recent
	if !tr.Allow(1, spec, key(3), 0, at(4)) {
		t.Fatal("new key suppressed")
	}
	if s := tr.Stats(); s.Active != 3 || s.Evicted != 1 {
		t.Errorf("stats %+v", s)
	}
	// key 1 was the least recently used and was forgotten: it alerts again.
	if !tr.Allow(1, spec, key(1), 0, at(5)) {
		t.Error("evicted key still counted")
	}
	if tr.Allow(1, spec, key(3), 0, at(6)) {
		t.Error("held key forgot its count")
	}
}

func TestTrackerDoesNotAllocate(t *testing.T) {
	tr := NewTracker(256)
	spec := &rules.Threshold{Type: rules.TypeBoth, Track: rules.BySrc, Count: 5, Window: 10 * time.Second, DistinctName: "tcp.dstport"}
	keys := make([]Key, 1024)
	for i := range keys {
		keys[i] = KeyFor(rules.BySrc, srcPkt(fmt.Sprintf("10.0.%d.%d", i/256, i%256), "10.9.9.9"), 0)
	}
	i := 0
	run := func() {
		tr.Allow(1, spec, keys[i%len(keys)], uint64(i%7), at(float64(i)/100))
		i++
	}
	for range 5000 {
		run()
	}
	if n := testing.AllocsPerRun(5000, run); n != 0 {
		t.Errorf("Allow allocates %v per call with churn", n)
	}
}

func BenchmarkAllow(b *testing.B) {
	tr := NewTracker(0)
	spec := &rules.Threshold{Type: rules.TypeThreshold, Track: rules.BySrc, Count: 20, Window: 10 * time.Second}
	p := srcPkt("10.0.0.1", "10.0.0.2")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tr.Allow(1, spec, KeyFor(spec.Track, p, 0), 0, t0.Add(time.Duration(i)*time.Millisecond))
	}
}

// TestClockStepBack: packet time that steps back an hour (a
// daylight-saving fall-back in a sensor's local clock) restarts a limit
// window instead of holding every later match back for the hour; disorder
// within a window does not.
func TestClockStepBack(t *testing.T) {
	spec := &rules.Threshold{Type: rules.TypeLimit, Track: rules.ByRule, Count: 1, Window: time.Minute}
	tr := NewTracker(4)
	k := Key{Track: rules.ByRule}
	for _, c := range []struct {
		sec   float64
		allow bool
	}{
		{0, true},
		{10, false},
		{-30, false},           // 30 s out of order: the same window
		{10 - 3600, true},      // an hour back: a new window
		{15 - 3600, false},     // inside it
		{10 - 3600 + 60, true}, // a minute on: the next window
	} {
		if got := tr.Allow(1, spec, k, 0, at(c.sec)); got != c.allow {
			t.Errorf("match at %v s: allowed %v, want %v", c.sec, got, c.allow)
		}
	}
	if s := tr.Stats(); s.ClockSteps != 1 {
		t.Errorf("ClockSteps %d, want 1", s.ClockSteps)
	}
}
