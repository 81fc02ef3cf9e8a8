package engine

import (
	"fmt"
	"hash/maphash"
	"net/netip"
	"sync"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/vigil-ids/vigil/alerts"
	"github.com/vigil-ids/vigil/engine/flow"
	"github.com/vigil-ids/vigil/engine/respond"
	"github.com/vigil-ids/vigil/engine/threshold"
	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/rules/field"
)

// StatefulConfig configures what the engine keeps across packets. Zero
// fields take the defaults of the packages named.
type StatefulConfig struct {
	// Flow bounds each worker's flow table (flow.Config).
	Flow flow.Config
	// MaxThresholdEntries bounds threshold and de-duplication state
	// (default threshold.DefaultMaxEntries).
	MaxThresholdEntries int
	// Respond caps active responses (respond.Policy).
	Respond respond.Policy
}

// ResponseStats count active responses.
type ResponseStats struct {
	Sent       uint64            `json:"sent"`
	Failed     uint64            `json:"failed"`
	Suppressed map[string]uint64 `json:"suppressed,omitempty"`
}

// sharedState is the state that spans workers: thresholds and
// de-duplication tracked by address (a source's flows land on different
// workers), suppression, response caps and the own-frame guard. Matches are
// rare next to packets, so one mutex is enough.
type sharedState struct {
	mu         sync.Mutex
	tracker    *threshold.Tracker
	dedup      *threshold.Deduper
	firsts     map[dedupKey]*alerts.Alert // first alert of each open window
	lastExpire time.Time
	summaries  []threshold.Summary
	suppressed uint64
	lastLog    map[int]time.Time

	limiter *respond.Limiter
	guard   *respond.Guard
}

type dedupKey struct {
	sid int
	key threshold.Key
}

func newSharedState(cfg StatefulConfig) (*sharedState, error) {
	lim, err := respond.NewLimiter(cfg.Respond)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	return &sharedState{
		tracker: threshold.NewTracker(cfg.MaxThresholdEntries),
		dedup:   threshold.NewDeduper(cfg.MaxThresholdEntries),
		firsts:  map[dedupKey]*alerts.Alert{},
		lastLog: map[int]time.Time{},
		limiter: lim,
		guard:   respond.NewGuard(0, 0),
	}, nil
}

// AlertStats count the matches that did not become alerts, by reason.
type AlertStats struct {
	// Suppressed matches were dropped by a global suppress entry.
	Suppressed uint64 `json:"suppressed"`
	// Thresholded matches were held back by their rule's threshold.
	Thresholded uint64 `json:"thresholded"`
	// Folded matches were folded into a de-duplication summary.
	Folded uint64 `json:"folded"`
	// Summaries is the number of de-duplication summaries emitted.
	Summaries uint64 `json:"summaries"`
}

func (s *sharedState) stats() (ResponseStats, AlertStats) {
	ls := s.limiter.Stats()
	s.mu.Lock()
	defer s.mu.Unlock()
	ts, ds := s.tracker.Stats(), s.dedup.Stats()
	return ResponseStats{Sent: ls.Sent, Failed: ls.Failed, Suppressed: ls.Suppressed},
		AlertStats{Suppressed: s.suppressed, Thresholded: ts.Suppressed, Folded: ds.Folded, Summaries: ds.Summaries}
}

// shouldLog rate-limits run-time error logs per rule to one a minute.
func (s *sharedState) shouldLog(sid int, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if last, ok := s.lastLog[sid]; ok && now.Sub(last) < time.Minute && now.Sub(last) > -time.Minute {
		return false
	}
	s.lastLog[sid] = now
	return true
}

// statefulWorker is a worker's own flow table.
type statefulWorker struct {
	flows  *flow.Table
	flowID uint64 // the current packet's flow
}

func newStatefulWorker(cfg StatefulConfig, shard int) *statefulWorker {
	fc := cfg.Flow
	fc.Shard = uint8(shard)
	return &statefulWorker{flows: flow.NewTable(fc)}
}

// track updates the packet's flow and fills p.Flow.
func (sw *statefulWorker) track(p *field.Packet, source uint32) {
	sw.flowID = sw.flows.Update(p, source)
}

// isOwnFrame reports a frame Vigil injected, mirrored back by the sensor.
// Only resets and ICMP errors can be ours, so other packets cost nothing.
func (w *worker) isOwnFrame(p *field.Packet) bool {
	if !p.TCP.Flags.Reset && !(p.ICMP.Present && p.ICMP.Type == 3) && !(p.ICMPv6.Present && p.ICMPv6.Type == 1) {
		return false
	}
	return w.e.shared.guard.IsOwn(p.Meta.Raw, p.Frame.Time)
}

// onMatch handles a match of r on p in the worker: it applies flowbits
// (the flow's next packet must see them) and global suppression, then
// queues the match, with what the stateful stage will need from the packet,
// on b for release in packet order.
func (w *worker) onMatch(r *rules.Rule, pos int, rs *ruleState, p *field.Packet, b *batch, c *ruleCounter) {
	sw := w.state
	if r.FlowbitsSet|r.FlowbitsUnset|r.FlowbitsToggle != 0 {
		sw.flows.SetBits(sw.flowID, uint64(r.FlowbitsSet), uint64(r.FlowbitsUnset), uint64(r.FlowbitsToggle))
	}
	if rs.suppressed(r.SID, p) {
		w.e.shared.mu.Lock()
		w.e.shared.suppressed++
		w.e.shared.mu.Unlock()
		return
	}
	m := match{frame: p.Frame.Number, pos: pos, rule: r, counter: c, at: p.Frame.Time}
	if r.Threshold != nil {
		spec := rs.thresholds[r.SID]
		m.spec = &spec
		m.thKey = threshold.KeyFor(r.Threshold.Track, p, sw.flowID)
		if spec.Distinct != "" {
			m.distinct = w.distinctValue(rs, r.SID, p)
		}
	}
	m.alert = newAlert(r, p, b.src, sw.flowID)
	m.alert.CommunityID = flow.CommunityID(p, 0)
	if r.Dedup != nil {
		m.ddKey = threshold.KeyFor(r.Dedup.Track, p, sw.flowID)
	}
	if r.Reset {
		target, err := respond.ParseTarget(r.Response.Target)
		if err != nil {
			target = respond.Both
		}
		m.frames, m.buildErr = respond.Build(p, target, r.Response.Strafe)
		// Remember now, not at release: the sensor may mirror the frames
		// back into the flow's next batch before this match is released.
		// Frames the caps then hold back are remembered too, harmlessly:
		// a copy of them on the wire would be ours or a forgery of ours.
		w.e.shared.guard.Remember(m.frames, p.Frame.Time)
		m.flowKey = flow.Hash(p)
		m.src, m.dst = p.Meta.Src, p.Meta.Dst
	}
	b.matches = append(b.matches, m)
}

// release turns a match into an alert, in packet order: thresholds,
// de-duplication, then the response and the alert itself.
func (e *Engine) release(m *match, src *Source) {
	sh := e.shared
	var ended []*alerts.Alert
	sh.mu.Lock()
	if m.spec != nil && !sh.tracker.Allow(m.rule.SID, m.spec, m.thKey, m.distinct, m.at) {
		sh.mu.Unlock()
		return
	}
	if d := m.rule.Dedup; d != nil {
		if !sh.dedup.Observe(m.rule.SID, m.ddKey, m.at, time.Duration(d.Seconds)*time.Second) {
			sh.mu.Unlock()
			return
		}
		// A window of this key may have just ended: its summary goes out
		// before the new window's first alert takes its place.
		sh.summaries = sh.dedup.Expired(m.at, sh.summaries[:0])
		ended = sh.summaryAlerts()
		sh.firsts[dedupKey{m.rule.SID, m.ddKey}] = m.alert
	}
	sh.mu.Unlock()
	emitAll(e, ended)
	if m.rule.Reset {
		e.respond(m, src)
	}
	m.counter.alerts.Add(1)
	e.alertCount.Add(1)
	e.cfg.Sink.Emit(m.alert)
}

// respond injects the frames of a reset rule's match, within the caps,
// and records them in the alert.
func (e *Engine) respond(m *match, src *Source) {
	sh := e.shared
	if m.buildErr != nil {
		sh.limiter.RecordSuppressed("not answerable")
		return
	}
	if ok, _ := sh.limiter.Allow(m.flowKey, m.src, m.dst, m.at); !ok {
		return
	}
	sent, failed := 0, 0
	a := m.alert
	for _, f := range m.frames {
		// Offline runs without a file to save to: the frames are what
		// would have been sent, and count as sent.
		if src.cfg.Injector == nil || src.cfg.Injector.Inject(f.Data, m.at) {
			sent++
			a.Injected = append(a.Injected, alerts.Injected{Direction: f.Dir, Type: f.Kind, Seq: f.Seq, Ack: f.Ack})
		} else {
			failed++
		}
	}
	sh.limiter.RecordSent(sent)
	sh.limiter.RecordFailed(failed)
	if sent > 0 {
		a.Action = alerts.ActionBlocked
	}
}

// tick emits the de-duplication summaries of windows that ended by packet
// time now; a source calls it when its matches up to now are released,
// and it works at most once a second of packet time.
func (s *sharedState) tick(e *Engine, now time.Time) {
	s.mu.Lock()
	if now.Sub(s.lastExpire) < time.Second {
		s.mu.Unlock()
		return
	}
	s.lastExpire = now
	s.summaries = s.dedup.Expired(now, s.summaries[:0])
	out := s.summaryAlerts()
	s.mu.Unlock()
	emitAll(e, out)
}

// flush emits every pending summary, at the end of a run.
func (s *sharedState) flush(e *Engine) {
	s.mu.Lock()
	s.summaries = s.dedup.Flush(s.summaries[:0])
	out := s.summaryAlerts()
	clear(s.firsts)
	s.mu.Unlock()
	emitAll(e, out)
}

func emitAll(e *Engine, list []*alerts.Alert) {
	for _, a := range list {
		e.alertCount.Add(1)
		e.cfg.Sink.Emit(a)
	}
}

// summaryAlerts turns s.summaries into alerts, each a copy of its window's
// first alert carrying the summary. s.mu is held.
func (s *sharedState) summaryAlerts() []*alerts.Alert {
	var out []*alerts.Alert
	for _, sum := range s.summaries {
		k := dedupKey{sum.SID, sum.Key}
		first, ok := s.firsts[k]
		if !ok {
			continue
		}
		delete(s.firsts, k)
		a := *first
		a.Summary = &alerts.Summary{Count: sum.Count, FirstSeen: sum.FirstSeen, LastSeen: sum.LastSeen}
		a.Timestamp = sum.LastSeen
		a.ID = first.ID + "-summary"
		a.Injected = nil
		out = append(out, &a)
	}
	// Windows that folded nothing end without a summary: forget their
	// first alert once they are surely over.
	for k, a := range s.firsts {
		if s.lastExpire.Sub(a.Timestamp) > 24*time.Hour {
			delete(s.firsts, k)
		}
	}
	return out
}

// ruleStatefulParts are the parts of a rule set the stateful stage needs,
// prepared once per load.
type ruleStatefulParts struct {
	thresholds map[int]threshold.Spec
	distinct   map[int]*vm.Program
	suppress   []suppression
}

type suppression struct {
	sid   int
	track string
	net   netip.Prefix
}

func prepareStateful(set *rules.Set) (ruleStatefulParts, error) {
	parts := ruleStatefulParts{thresholds: map[int]threshold.Spec{}, distinct: map[int]*vm.Program{}}
	for _, r := range set.Rules {
		t := r.Threshold
		if t == nil {
			continue
		}
		parts.thresholds[r.SID] = threshold.Spec{Type: t.Type, Track: t.Track, Count: t.Count, Seconds: t.Seconds, Distinct: t.Distinct}
		if t.Distinct != "" {
			prog, err := expr.Compile(t.Distinct, expr.Env(field.Packet{}))
			if err != nil {
				return parts, fmt.Errorf("engine: sid %d: distinct %q: %w", r.SID, t.Distinct, err)
			}
			parts.distinct[r.SID] = prog
		}
	}
	for _, s := range set.Suppress {
		sp := suppression{sid: s.SID, track: s.Track}
		if s.Track != "" {
			pfx, err := netip.ParsePrefix(s.Net)
			if err != nil {
				a, aerr := netip.ParseAddr(s.Net)
				if aerr != nil {
					return parts, fmt.Errorf("engine: suppress sid %d: %q: %w", s.SID, s.Net, err)
				}
				pfx = netip.PrefixFrom(a, a.BitLen())
			}
			sp.net = pfx.Masked()
		}
		parts.suppress = append(parts.suppress, sp)
	}
	return parts, nil
}

// suppressed reports whether a global suppression entry drops sid on p.
func (rs *ruleState) suppressed(sid int, p *field.Packet) bool {
	for _, s := range rs.suppress {
		if s.sid != sid {
			continue
		}
		src, dst := s.net.Contains(p.Meta.Src), s.net.Contains(p.Meta.Dst)
		switch s.track {
		case "":
			return true
		case "by_src":
			if src {
				return true
			}
		case "by_dst":
			if dst {
				return true
			}
		default: // by_either
			if src || dst {
				return true
			}
		}
	}
	return false
}

var distinctSeed = maphash.MakeSeed()

// distinctValue is the 64-bit form of the rule's distinct field on p.
func (w *worker) distinctValue(rs *ruleState, sid int, p *field.Packet) uint64 {
	v, err := w.vm.Run(rs.distinct[sid], p)
	if err != nil {
		return 0
	}
	switch x := v.(type) {
	case int:
		return uint64(x)
	case bool:
		if x {
			return 1
		}
		return 0
	case string:
		return maphash.String(distinctSeed, x)
	case float64:
		return uint64(x)
	}
	return maphash.String(distinctSeed, fmt.Sprint(v))
}
