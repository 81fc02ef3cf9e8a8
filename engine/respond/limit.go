package respond

import (
	"container/list"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// Policy defaults.
const (
	DefaultPerFlowInterval = time.Second
	DefaultGlobalRate      = 100
	DefaultBurst           = 10
	DefaultMaxFlows        = 65536
)

// Reasons a Limiter suppresses a response (the keys of Stats.Suppressed).
const (
	ReasonDeny     = "deny-list"
	ReasonNotAllow = "not-allowed"
	ReasonFlow     = "flow-interval"
	ReasonRate     = "global-rate"
	ReasonDryRun   = "dry-run"
)

// Policy holds the safety caps on active responses. A zero field means its
// documented default.
type Policy struct {
	// DryRun builds responses but never sends them: Allow applies every
	// other cap, then says no with ReasonDryRun.
	DryRun bool
	// PerFlowInterval is the minimum packet time between two responses to
	// the same flow (default 1 s).
	PerFlowInterval time.Duration
	// GlobalRate caps responses per second of packet time over all flows
	// (default 100).
	GlobalRate float64
	// Burst is how many responses may go at once above GlobalRate
	// (default 10).
	Burst int
	// Allow, if not empty, lists the addresses that may be reset: a flow
	// is answered only if its source or destination is in one of them.
	Allow []netip.Prefix
	// Deny lists addresses never reset: a flow with its source or
	// destination in one of them is not answered. Deny wins over Allow.
	Deny []netip.Prefix
	// MaxFlows bounds the flows whose last response time is kept
	// (default 65536); beyond it the flow answered longest ago is
	// forgotten.
	MaxFlows int
}

// Stats are a Limiter's counters.
type Stats struct {
	// Sent counts frames the caller reported sent.
	Sent uint64
	// Failed counts frames the caller reported it could not send.
	Failed uint64
	// Suppressed counts responses not sent, by reason.
	Suppressed map[string]uint64
}

// Limiter applies a Policy. Time is packet time, passed by the caller, so
// offline runs over captures behave as live ones. It is safe for
// concurrent use.
type Limiter struct {
	pol Policy

	mu     sync.Mutex
	flows  map[uint64]*list.Element // of flowState
	lru    *list.List               // front: answered longest ago
	tokens float64
	last   time.Time // last global refill
	stats  Stats
}

type flowState struct {
	key  uint64
	last time.Time
}

// NewLimiter returns a Limiter for pol, with zero fields set to their
// defaults. Negative values and invalid prefixes are errors.
func NewLimiter(pol Policy) (*Limiter, error) {
	if pol.PerFlowInterval < 0 || pol.GlobalRate < 0 || pol.Burst < 0 || pol.MaxFlows < 0 {
		return nil, fmt.Errorf("%w: negative interval, rate, burst or max flows", ErrPolicy)
	}
	pol.Allow, pol.Deny = slices.Clone(pol.Allow), slices.Clone(pol.Deny)
	for _, p := range slices.Concat(pol.Allow, pol.Deny) {
		if !p.IsValid() {
			return nil, fmt.Errorf("%w: invalid prefix %v", ErrPolicy, p)
		}
	}
	if pol.PerFlowInterval == 0 {
		pol.PerFlowInterval = DefaultPerFlowInterval
	}
	if pol.GlobalRate == 0 {
		pol.GlobalRate = DefaultGlobalRate
	}
	if pol.Burst == 0 {
		pol.Burst = DefaultBurst
	}
	if pol.MaxFlows == 0 {
		pol.MaxFlows = DefaultMaxFlows
	}
	return &Limiter{
		pol:    pol,
		flows:  make(map[uint64]*list.Element),
		lru:    list.New(),
		tokens: float64(pol.Burst),
		stats:  Stats{Suppressed: map[string]uint64{}},
	}, nil
}

// Policy returns the policy in force, defaults filled in.
func (l *Limiter) Policy() Policy { return l.pol }

// Allow decides whether a response to the flow flowKey (a
// direction-symmetric flow hash) between src and dst may be sent at packet
// time now. When it says yes it counts the response against the caps;
// when it says no, reason is one of the Reason constants and the response
// is counted as suppressed. Checks run in this order: deny list, allow
// list, per-flow interval, global rate, dry run.
//
// Packet times a little out of order are handled: a flow is held while
// now is within PerFlowInterval of its last response on either side, and
// the global bucket never refills from a time going backwards.
func (l *Limiter) Allow(flowKey uint64, src, dst netip.Addr, now time.Time) (ok bool, reason string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	reason = l.check(flowKey, src, dst, now)
	if reason != "" {
		l.stats.Suppressed[reason]++
		return false, reason
	}
	return true, ""
}

func (l *Limiter) check(flowKey uint64, src, dst netip.Addr, now time.Time) string {
	if in(l.pol.Deny, src) || in(l.pol.Deny, dst) {
		return ReasonDeny
	}
	if len(l.pol.Allow) > 0 && !in(l.pol.Allow, src) && !in(l.pol.Allow, dst) {
		return ReasonNotAllow
	}
	el := l.flows[flowKey]
	if el != nil {
		d := now.Sub(el.Value.(*flowState).last)
		if d < l.pol.PerFlowInterval && d > -l.pol.PerFlowInterval {
			return ReasonFlow
		}
	}
	if !l.last.IsZero() && now.After(l.last) {
		l.tokens += now.Sub(l.last).Seconds() * l.pol.GlobalRate
		l.tokens = min(l.tokens, float64(l.pol.Burst))
	}
	if l.last.IsZero() || now.After(l.last) {
		l.last = now
	}
	if l.tokens < 1 {
		return ReasonRate
	}
	l.tokens--
	if el != nil {
		el.Value.(*flowState).last = now
		l.lru.MoveToBack(el)
	} else {
		l.flows[flowKey] = l.lru.PushBack(&flowState{key: flowKey, last: now})
		for len(l.flows) > l.pol.MaxFlows {
			old := l.lru.Remove(l.lru.Front()).(*flowState)
			delete(l.flows, old.key)
		}
	}
	if l.pol.DryRun {
		return ReasonDryRun
	}
	return ""
}

func in(prefixes []netip.Prefix, a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// RecordSent counts n frames handed on to be written to the sensor.
func (l *Limiter) RecordSent(n int) { l.add(&l.stats.Sent, n) }

// RecordFailed counts n frames that could not be handed on (a full write
// queue, a closed connection).
func (l *Limiter) RecordFailed(n int) { l.add(&l.stats.Failed, n) }

// RecordSuppressed counts a response suppressed outside Allow, under
// reason.
func (l *Limiter) RecordSuppressed(reason string) {
	l.mu.Lock()
	l.stats.Suppressed[reason]++
	l.mu.Unlock()
}

func (l *Limiter) add(c *uint64, n int) {
	if n <= 0 {
		return
	}
	l.mu.Lock()
	*c += uint64(n)
	l.mu.Unlock()
}

// Stats returns a copy of the counters.
func (l *Limiter) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.stats
	s.Suppressed = maps.Clone(l.stats.Suppressed)
	return s
}
