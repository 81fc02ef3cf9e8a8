package engine

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/vigil-ids/vigil/alerts"
	"github.com/vigil-ids/vigil/decode"
	"github.com/vigil-ids/vigil/decode/defrag"
	"github.com/vigil-ids/vigil/engine/flow"
	"github.com/vigil-ids/vigil/engine/stream"
	"github.com/vigil-ids/vigil/rules"
)

// Overload says what a Source does when its worker's queue is full.
type Overload uint8

const (
	// Block waits for room: back-pressure into the sensor's TCP stream.
	Block Overload = iota
	// Drop discards the packet and counts it on the Source.
	Drop
)

// ParseOverload parses "block" or "drop".
func ParseOverload(s string) (Overload, error) {
	switch s {
	case "", "block":
		return Block, nil
	case "drop":
		return Drop, nil
	}
	return 0, errors.New(`engine: overload must be "block" or "drop"`)
}

// Sink receives the alerts of all workers. Publish is called concurrently
// from worker goroutines, must not block for long, and owns a after the
// call. *alerts.Publisher is a Sink.
//
// A Sink that is also an alerts.EncodedPublisher (Publisher, LineWriter,
// File, Publishers) gets most alerts through PublishEncoded instead, with
// their EVE JSON written by the worker that found the match, so encoding
// runs in parallel and the in-order release only hands over bytes. Alerts
// that the release changes (those of reset rules, which record the frames
// injected), those of rules with a threshold or dedup (most of whose
// matches the release drops) and de-duplication summaries still come
// through Publish.
type Sink interface {
	Publish(a *alerts.Alert)
}

// Config configures an Engine. The zero value of every field but Rules and
// Sink is a documented default.
type Config struct {
	// Rules is the rule set to run; Reload replaces it.
	Rules *rules.Set
	// Sink receives alerts.
	Sink Sink
	// Workers is the number of evaluation goroutines (default GOMAXPROCS).
	Workers int
	// QueueBatches is each worker's queue length in batches of up to
	// BatchSize packets (default 64).
	QueueBatches int
	// Overload is the policy when a worker queue is full (default Block).
	Overload Overload
	// Logger receives run-time errors (default slog.Default()).
	Logger *slog.Logger
	// Stateful configures flows, thresholds and responses.
	Stateful StatefulConfig
	// Defrag bounds the IP defragmentation each Source runs (its zero
	// value takes defrag's defaults: 60 s timeout, 256 fragments per
	// datagram, 32 MiB per Source).
	Defrag defrag.Config
	// Instance is the first part of every alert ID (alerts.ID). The
	// default is random (alerts.NewInstance), so IDs differ across runs
	// of Vigil; an offline run sets a fixed one to make its output
	// reproducible.
	Instance string
}

// BatchSize is the number of packets handed from a Source to a worker at once.
const BatchSize = 64

// Engine evaluates rules over packets pushed by Sources. Create it with New,
// then Start; Stop drains every queued packet before it returns.
type Engine struct {
	cfg     Config
	log     *slog.Logger
	state   atomic.Pointer[ruleState]
	workers []*worker
	wg      sync.WaitGroup
	started atomic.Bool
	stopped atomic.Bool
	srcMu   sync.Mutex
	srcSeq  uint64
	shared  *sharedState
	// encoded is cfg.Sink as an alerts.EncodedPublisher, nil if it is not.
	encoded alerts.EncodedPublisher
	// instance makes alert IDs unique across runs of Vigil.
	instance string

	packets, bytes, drops, decodeErrs, ruleErrs atomic.Uint64
	alertCount, ownFrames, skipped, compressed  atomic.Uint64
	respSent, respFailed                        atomic.Uint64
	encaps                                      encapCounters
	// defrag counts the defragmentation of every Source.
	defrag defrag.Counters
}

// New checks cfg and builds an Engine; no goroutine runs before Start.
func New(cfg Config) (*Engine, error) {
	if cfg.Rules == nil {
		return nil, errors.New("engine: no rule set")
	}
	if cfg.Sink == nil {
		return nil, errors.New("engine: no alert sink")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.QueueBatches <= 0 {
		cfg.QueueBatches = 64
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Instance == "" {
		cfg.Instance = alerts.NewInstance()
	}
	e := &Engine{cfg: cfg, log: cfg.Logger, instance: cfg.Instance}
	shared, err := newSharedState(cfg.Stateful)
	if err != nil {
		return nil, err
	}
	e.shared = shared
	e.encoded, _ = cfg.Sink.(alerts.EncodedPublisher)
	e.state.Store(newRuleState(cfg.Rules, cfg.Workers))
	for i := 0; i < cfg.Workers; i++ {
		e.workers = append(e.workers, newWorker(e, i))
	}
	return e, nil
}

// Start launches the workers.
func (e *Engine) Start() {
	if e.started.Swap(true) {
		return
	}
	for _, w := range e.workers {
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			w.run()
		}()
	}
}

// Stop closes the worker queues and waits until every queued packet has
// been evaluated, or ctx ends. Sources must be closed first.
func (e *Engine) Stop(ctx context.Context) error {
	if e.stopped.Swap(true) {
		return nil
	}
	for _, w := range e.workers {
		close(w.in)
	}
	done := make(chan struct{})
	go func() { e.wg.Wait(); close(done) }()
	select {
	case <-done:
		e.shared.flush(e)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Reload swaps in a new rule set. Workers pick it up at their next batch;
// no queued packet is lost. It returns the rule set it replaced; on error
// the running set stays.
func (e *Engine) Reload(set *rules.Set) (*rules.Set, error) {
	if set == nil {
		return nil, errors.New("engine: no rule set")
	}
	return e.state.Swap(newRuleState(set, len(e.workers))).set, nil
}

// Workers returns the number of evaluation goroutines.
func (e *Engine) Workers() int { return len(e.workers) }

// Rules returns the rule set in force.
func (e *Engine) Rules() *rules.Set { return e.state.Load().set }

// Stats are the engine's cumulative counters, over all sources.
type Stats struct {
	// Packets counts the packets evaluated, Bytes their frame bytes.
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
	// Drops counts packets dropped under the Drop overload policy.
	Drops uint64 `json:"drops"`
	// DecodeErrors counts packets whose headers are malformed or cut.
	DecodeErrors uint64 `json:"decode_errors"`
	// Encapsulations counts, per encapsulation met (decode.Encap's
	// name: "vlan", "mpls", "gre", "vxlan", ...), the headers decoded
	// through and those that could not be, by reason. Those that could
	// not be are among DecodeErrors too.
	Encapsulations map[string]decode.EncapCount `json:"encapsulations,omitempty"`
	// RuleErrors counts rule evaluations that failed at run time.
	RuleErrors uint64 `json:"rule_errors"`
	// Alerts counts the alerts published, summaries included.
	Alerts uint64 `json:"alerts"`
	// OwnFrames counts frames Vigil injected, mirrored back and ignored.
	OwnFrames uint64 `json:"own_frames_ignored"`
	// Skipped counts records that could not be read (Source.Skip).
	Skipped uint64 `json:"skipped"`
	// Compressed counts compressed records evaluated without decoding.
	Compressed uint64 `json:"compressed"`
	// Responses counts response frames by outcome.
	Responses ResponseStats `json:"responses"`
	// NotAlerted counts matches that did not become alerts, by reason.
	NotAlerted AlertStats `json:"not_alerted"`
	// Flows counts the flow tables' flows, over all workers.
	Flows flow.Stats `json:"flows"`
	// Stream counts TCP reassembly work and anomalies, over all workers.
	Stream stream.Stats `json:"stream"`
	// Defrag counts IP fragments, reassembled datagrams and
	// defragmentation anomalies over all sources.
	Defrag defrag.Stats `json:"defrag"`
}

// Stats returns the counters so far.
func (e *Engine) Stats() Stats {
	s := Stats{
		Packets:        e.packets.Load(),
		Bytes:          e.bytes.Load(),
		Drops:          e.drops.Load(),
		DecodeErrors:   e.decodeErrs.Load(),
		Encapsulations: e.encaps.stats(),
		RuleErrors:     e.ruleErrs.Load(),
		Alerts:         e.alertCount.Load(),
		OwnFrames:      e.ownFrames.Load(),
		Skipped:        e.skipped.Load(),
		Compressed:     e.compressed.Load(),
		Defrag:         e.defrag.Stats(),
	}
	s.Responses, s.NotAlerted = e.shared.stats()
	s.Responses.Sent, s.Responses.Failed = e.respSent.Load(), e.respFailed.Load()
	s.Flows, s.Stream = e.stateStats()
	return s
}

// RecordDelivery counts response frames an Injector that queues
// (SourceConfig.InjectorQueues) took earlier: sent were written to the
// sensor, failed never will be. It is safe for concurrent use.
func (e *Engine) RecordDelivery(sent, failed int) {
	e.respSent.Add(uint64(sent))
	e.respFailed.Add(uint64(failed))
}

// RuleStats returns per-rule counters of the rule set in force, in the
// set's order.
func (e *Engine) RuleStats() []RuleStats { return e.state.Load().totals() }
