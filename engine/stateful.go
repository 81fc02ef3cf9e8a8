package engine

import (
	"fmt"
	"sync"
	"time"

	"github.com/vigil-ids/vigil/engine/flow"
	"github.com/vigil-ids/vigil/engine/respond"
	"github.com/vigil-ids/vigil/engine/stream"
	"github.com/vigil-ids/vigil/engine/threshold"
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
	// Stream configures TCP reassembly (stream.Config); its Memcap is
	// for the whole engine, shared evenly among the workers.
	Stream stream.Config
}

// ResponseStats count active response frames.
type ResponseStats struct {
	// Queued counts the frames an Injector took (Inject returned true).
	Queued uint64 `json:"queued"`
	// Dropped counts the frames an Injector refused: its queue full, its
	// connection gone, a frame too long to inject.
	Dropped uint64 `json:"dropped"`
	// Sent counts the frames written to a sensor's connection (offline:
	// to the file of injected frames, or built when there is none).
	Sent uint64 `json:"sent"`
	// Failed counts the frames taken but never written: the connection
	// broke, or did not take them before its write deadline.
	Failed uint64 `json:"failed"`
	// Suppressed counts responses not sent, by reason (the caps).
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
	lastExpire time.Time
	summaries  []threshold.Summary
	suppressed uint64
	lastLog    map[int]time.Time

	limiter *respond.Limiter
	guard   *respond.Guard
}

func newSharedState(cfg StatefulConfig) (*sharedState, error) {
	lim, err := respond.NewLimiter(cfg.Respond)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	return &sharedState{
		tracker: threshold.NewTracker(cfg.MaxThresholdEntries),
		dedup:   threshold.NewDeduper(cfg.MaxThresholdEntries),
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
	// ClockSteps counts threshold and de-duplication windows restarted
	// because packet time stepped back (a daylight-saving fall-back, a
	// sensor clock reset).
	ClockSteps uint64 `json:"clock_steps"`
}

func (s *sharedState) stats() (ResponseStats, AlertStats) {
	ls := s.limiter.Stats()
	s.mu.Lock()
	defer s.mu.Unlock()
	ts, ds := s.tracker.Stats(), s.dedup.Stats()
	// The limiter counts what the Injector took (RecordSent) and refused
	// (RecordFailed); the Engine counts what was written.
	return ResponseStats{Queued: ls.Sent, Dropped: ls.Failed, Suppressed: ls.Suppressed},
		AlertStats{Suppressed: s.suppressed, Thresholded: ts.Suppressed, Folded: ds.Folded, Summaries: ds.Summaries, ClockSteps: ts.ClockSteps + ds.ClockSteps}
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

// statefulWorker is a worker's own flow table and TCP reassembler.
type statefulWorker struct {
	flows  *flow.Table
	stream *workerStream
	flowID uint64 // the current packet's flow

	// mu guards the snapshot of the worker's counters that Engine.Stats
	// reads from another goroutine.
	mu          sync.Mutex
	flowStats   flow.Stats
	streamStats stream.Stats
}

// publish makes the worker's flow and stream counters so far visible to
// Engine.Stats.
func (sw *statefulWorker) publish() {
	fs, ss := sw.flows.Stats(), sw.stream.r.Stats()
	sw.mu.Lock()
	sw.flowStats, sw.streamStats = fs, ss
	sw.mu.Unlock()
}

// stateStats sums the workers' flow table and reassembly counters.
func (e *Engine) stateStats() (flow.Stats, stream.Stats) {
	var fs flow.Stats
	var ss stream.Stats
	for _, w := range e.workers {
		sw := w.state
		sw.mu.Lock()
		fs.Add(sw.flowStats)
		ss.Add(sw.streamStats)
		sw.mu.Unlock()
	}
	return fs, ss
}

func newStatefulWorker(cfg StatefulConfig, shard, workers int) *statefulWorker {
	ws := newWorkerStream(cfg.Stream, workers)
	fc := cfg.Flow
	fc.Shard = uint8(shard)
	fc.OnRemove = ws.forget
	return &statefulWorker{flows: flow.NewTable(fc), stream: ws}
}

// track updates the packet's flow, fills p.Flow and, for a TCP segment,
// its stream view.
func (sw *statefulWorker) track(p *field.Packet, source uint32) {
	sw.flowID = sw.flows.Update(p, source)
	sw.stream.add(p, sw.flowID)
}

// isOwnFrame reports a frame Vigil injected, mirrored back by the sensor.
// Only resets and ICMP errors can be ours, so other packets cost nothing.
func (w *worker) isOwnFrame(p *field.Packet) bool {
	if !p.TCP.Flags.Reset && !(p.ICMP.Present && p.ICMP.Type == 3) && !(p.ICMPv6.Present && p.ICMPv6.Type == 1) {
		return false
	}
	return w.e.shared.guard.IsOwn(p.Meta.Raw, p.Frame.Time)
}
