package cluster

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigil-ids/vigil/alerts"
	"github.com/vigil-ids/vigil/engine"
	"github.com/vigil-ids/vigil/ncf"
)

// A partition's batches are acknowledged once their packets are evaluated
// and every alert raised so far is stored: at most every syncBatches
// batches or syncEvery, whichever comes first.
const (
	syncBatches = 256
	syncEvery   = 200 * time.Millisecond
	// maxAckPending caps a partition's batches delivered and not yet
	// acknowledged: past it JetStream holds delivery back.
	maxAckPending = 4096
	// finalWait bounds the wait for alerts to be stored when a
	// partition is given up.
	finalWait = 5 * time.Second
)

// EvaluatorConfig configures NewEvaluator. Zero fields take the defaults
// named.
type EvaluatorConfig struct {
	// Conn is the NATS connection; required.
	Conn *nats.Conn
	// Engine evaluates the packets; required. Its Sink publishes the
	// alerts.
	Engine *engine.Engine
	// Pending reports the alerts raised and not yet stored
	// (alerts.PublisherStats.Pending); a batch is acknowledged only
	// while it is 0. Nil acknowledges once the packets are evaluated.
	Pending func() uint64
	// Partitions is the cluster's partition count (DefaultPartitions).
	Partitions int
	// Buffer is the packet stream's size limit (DefaultBuffer), used
	// when this process creates the stream.
	Buffer int64
	// ClaimTTL is how long its claims and heartbeat live unless renewed
	// (DefaultClaimTTL); it renews them every second, or three times
	// per ClaimTTL where that is more often. An
	// evaluator that stops renewing loses its partitions this long
	// after; one starved of CPU for this long loses them too. Every
	// evaluator of a cluster must agree: the partition bucket's TTL is
	// the value of the last one to start.
	ClaimTTL time.Duration
	// Name names the evaluator in claims (default: a random name).
	Name string
	// Logger (default slog.Default()).
	Logger *slog.Logger
}

// EvaluatorStats are an evaluator's counters.
type EvaluatorStats struct {
	Name string `json:"name"`
	// Partitions are those it owns now, by number.
	Partitions map[int]PartitionStats `json:"partitions"`
	// Claimed and Released count the partitions taken and given up
	// (to balance, or lost to another evaluator).
	Claimed  uint64 `json:"claimed"`
	Released uint64 `json:"released"`
	// Packets and Batches count what was evaluated; Malformed the
	// batches that could not be read (acknowledged and skipped).
	Packets   uint64 `json:"packets"`
	Batches   uint64 `json:"batches"`
	Malformed uint64 `json:"malformed"`
}

// PartitionStats are one owned partition's counters.
type PartitionStats struct {
	// Packets and Batches evaluated since the claim.
	Packets uint64 `json:"packets"`
	Batches uint64 `json:"batches"`
	// Gaps counts batches missing from a sensor connection's sequence
	// (never stored, or lost with a moved partition's unacknowledged
	// state).
	Gaps uint64 `json:"gaps"`
	// Lag is the batches stored and not yet delivered or acknowledged,
	// as of the last check (every few seconds).
	Lag uint64 `json:"lag"`
}

// Evaluator is the evaluate role: it claims a fair share of the
// partitions (partition.<n> keys in PartitionBucket, renewed every
// second, lost ClaimTTL after its last renewal) and evaluates their
// batches through its Engine, one goroutine per partition.
type Evaluator struct {
	cfg EvaluatorConfig
	log *slog.Logger
	js  jetstream.JetStream
	kv  jetstream.KeyValue

	mu    sync.Mutex
	owned map[int]*partition

	claimed, released, packets, batches, malformed atomic.Uint64
}

// NewEvaluator makes sure of the packet stream and the partition bucket.
func NewEvaluator(cfg EvaluatorConfig) (*Evaluator, error) {
	if cfg.Conn == nil || cfg.Engine == nil {
		return nil, errors.New("cluster: an evaluator needs a NATS connection and an engine")
	}
	cfg.Partitions = cmp.Or(cfg.Partitions, DefaultPartitions)
	cfg.Buffer = cmp.Or(cfg.Buffer, DefaultBuffer)
	if cfg.ClaimTTL <= 0 {
		cfg.ClaimTTL = DefaultClaimTTL
	}
	cfg.Name = cmp.Or(cfg.Name, alerts.NewInstance())
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Pending == nil {
		cfg.Pending = func() uint64 { return 0 }
	}
	js, err := jetstream.New(cfg.Conn)
	if err != nil {
		return nil, fmt.Errorf("cluster: jetstream: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if err := ensurePackets(ctx, js, cfg.Partitions, cfg.Buffer); err != nil {
		return nil, err
	}
	kv, err := partitionBucket(ctx, js, cfg.ClaimTTL)
	if err != nil {
		return nil, err
	}
	return &Evaluator{cfg: cfg, log: cfg.Logger.With("evaluator", cfg.Name), js: js, kv: kv, owned: map[int]*partition{}}, nil
}

// Run claims partitions and evaluates them until ctx ends; then it
// evaluates and acknowledges what it took, and gives its partitions up.
func (ev *Evaluator) Run(ctx context.Context) error {
	tick := time.NewTicker(min(time.Second, ev.cfg.ClaimTTL/3))
	defer tick.Stop()
	for {
		ev.balance(ctx)
		select {
		case <-ctx.Done():
			ev.mu.Lock()
			parts := make([]int, 0, len(ev.owned))
			for n := range ev.owned {
				parts = append(parts, n)
			}
			ev.mu.Unlock()
			for _, n := range parts {
				ev.release(n, true)
			}
			return nil
		case <-tick.C:
		}
	}
}

// Stats returns the counters.
func (ev *Evaluator) Stats() EvaluatorStats {
	st := EvaluatorStats{Name: ev.cfg.Name, Partitions: map[int]PartitionStats{}, Claimed: ev.claimed.Load(), Released: ev.released.Load(),
		Packets: ev.packets.Load(), Batches: ev.batches.Load(), Malformed: ev.malformed.Load()}
	ev.mu.Lock()
	for n, p := range ev.owned {
		st.Partitions[n] = PartitionStats{Packets: p.packets.Load(), Batches: p.batches.Load(), Gaps: p.gaps.Load(), Lag: p.lag.Load()}
	}
	ev.mu.Unlock()
	return st
}

// balance is one claim round: renew the heartbeat and the claims held,
// give up those over the fair share (the partition count over the
// evaluators alive, rounded up), and claim free ones up to it.
func (ev *Evaluator) balance(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, ev.cfg.ClaimTTL/2)
	defer cancel()
	if _, err := ev.kv.Put(ctx, "member."+ev.cfg.Name, nil); err != nil {
		if ctx.Err() == nil {
			ev.log.Warn("cluster: heartbeat failed", "err", err)
		}
		return
	}
	members := 0
	if keys, err := ev.kv.ListKeysFiltered(ctx, "member.*"); err == nil {
		for range keys.Keys() {
			members++
		}
	}
	fair := (ev.cfg.Partitions + max(members, 1) - 1) / max(members, 1)
	ev.mu.Lock()
	owned := make(map[int]uint64, len(ev.owned))
	for n, p := range ev.owned {
		owned[n] = p.rev
	}
	ev.mu.Unlock()
	for n, rev := range owned {
		next, err := ev.kv.Update(ctx, partitionKey(n), []byte(ev.cfg.Name), rev)
		if err != nil {
			ev.log.Warn("cluster: partition lost", "partition", n, "err", err)
			ev.release(n, false)
			delete(owned, n)
			continue
		}
		ev.mu.Lock()
		ev.owned[n].rev = next
		ev.mu.Unlock()
	}
	for n := ev.cfg.Partitions - 1; n >= 0 && len(owned) > fair; n-- {
		if _, ok := owned[n]; ok {
			ev.release(n, true)
			delete(owned, n)
		}
	}
	for n := 0; n < ev.cfg.Partitions && len(owned) < fair; n++ {
		if _, ok := owned[n]; ok {
			continue
		}
		rev, err := ev.kv.Create(ctx, partitionKey(n), []byte(ev.cfg.Name))
		if err != nil {
			continue // held by another evaluator
		}
		if err := ev.claim(n, rev); err != nil {
			ev.log.Warn("cluster: partition not taken", "partition", n, "err", err)
			ev.kv.Delete(ctx, partitionKey(n), jetstream.LastRevision(rev))
			continue
		}
		owned[n] = rev
	}
}

func partitionKey(n int) string { return "partition." + strconv.Itoa(n) }

// claim starts evaluating partition n, claimed at revision rev. Its
// consumer is made anew: the batches a previous owner did not
// acknowledge are still in the stream (a work queue), and come first.
func (ev *Evaluator) claim(n int, rev uint64) error {
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	durable := "partition-" + strconv.Itoa(n)
	if err := ev.js.DeleteConsumer(ctx, PacketStream, durable); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return err
	}
	cons, err := ev.js.CreateConsumer(ctx, PacketStream, jetstream.ConsumerConfig{
		Durable: durable, FilterSubject: packetSubject(n), AckPolicy: jetstream.AckExplicitPolicy,
		AckWait: 10 * time.Minute, MaxAckPending: maxAckPending,
	})
	if err != nil {
		return err
	}
	p := &partition{ev: ev, n: n, rev: rev, cons: cons, sources: map[engine.Origin]*connState{}, done: make(chan struct{})}
	ev.mu.Lock()
	ev.owned[n] = p
	ev.mu.Unlock()
	ev.claimed.Add(1)
	ev.log.Info("cluster: partition claimed", "partition", n)
	go p.run()
	return nil
}

// release stops partition n's goroutine once what it took is evaluated
// and acknowledged, and, if the claim is still this evaluator's, gives
// the claim up for another to take at once.
func (ev *Evaluator) release(n int, stillOurs bool) {
	ev.mu.Lock()
	p := ev.owned[n]
	delete(ev.owned, n)
	ev.mu.Unlock()
	if p == nil {
		return
	}
	p.stop.Store(true)
	<-p.done
	ev.released.Add(1)
	if stillOurs {
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		ev.kv.Delete(ctx, partitionKey(n), jetstream.LastRevision(p.rev))
	}
	ev.log.Info("cluster: partition released", "partition", n)
}

// partition is an owned partition's consumer and the engine sources of
// the sensor connections whose packets it carries.
type partition struct {
	ev      *Evaluator
	n       int
	rev     uint64 // claim revision; guarded by ev.mu
	cons    jetstream.Consumer
	sources map[engine.Origin]*connState
	stop    atomic.Bool // set to give the partition up
	done    chan struct{}

	unacked  []jetstream.Msg
	lastSync time.Time

	packets, batches, gaps, lag atomic.Uint64
}

// connState is one sensor connection's share of the partition.
type connState struct {
	src  *engine.Source
	seq  uint64    // last batch seen
	seen time.Time // when
}

// idleSource is how long a connection's share of a partition may go
// without a batch before its state is let go: an ingest process that
// ended without its end marks (a crash) leaves nothing behind. It is
// the sensors' default idle timeout.
const idleSource = 2 * time.Minute

func (p *partition) run() {
	defer close(p.done)
	p.lastSync = time.Now()
	lagAt := time.Time{}
	for !p.stop.Load() {
		// One pull request at a time: the batches come in order, and
		// giving the partition up leaves nothing delivered and unseen.
		msgs, err := p.cons.Fetch(syncBatches, jetstream.FetchMaxWait(syncEvery))
		if err == nil {
			for m := range msgs.Messages() {
				p.take(m)
				if len(p.unacked) >= syncBatches {
					p.sync()
				}
			}
			err = msgs.Error()
		}
		if err != nil && !errors.Is(err, nats.ErrTimeout) {
			// The consumer is gone (the partition moved, the server went
			// away): the claim round sees to it.
			time.Sleep(syncEvery)
		}
		if time.Since(p.lastSync) >= syncEvery {
			p.sync()
		}
		if time.Since(lagAt) > 2*time.Second {
			lagAt = time.Now()
			p.checkLag()
			p.closeIdle(lagAt.Add(-idleSource))
		}
	}
	for _, c := range p.sources {
		c.src.Wait()
	}
	// Acknowledge what was taken once its alerts are stored, if that
	// comes soon; what is not acknowledged is evaluated again by the
	// next owner, and its alerts are dropped as duplicates there.
	for wait := time.Now(); p.ev.cfg.Pending() != 0 && time.Since(wait) < finalWait; {
		time.Sleep(10 * time.Millisecond)
	}
	p.sync()
	for o, c := range p.sources {
		c.src.Close()
		delete(p.sources, o)
	}
}

// take evaluates one batch.
func (p *partition) take(msg jetstream.Msg) {
	p.unacked = append(p.unacked, msg)
	b, err := readBatch(msg.Data())
	if err != nil {
		p.ev.malformed.Add(1)
		return
	}
	o := engine.Origin{Instance: b.instance, Source: b.source}
	c := p.sources[o]
	if c == nil {
		c = &connState{src: p.ev.cfg.Engine.NewSource(engine.SourceConfig{
			Name: b.sensor, Origin: o, Injector: injector{nc: p.ev.cfg.Conn, subject: injectSubject + "." + b.instance + "." + strconv.FormatUint(b.source, 10)},
		}), seq: b.seq - 1}
		p.sources[o] = c
	}
	if b.seq > c.seq+1 {
		p.gaps.Add(b.seq - c.seq - 1)
	}
	c.seq, c.seen = b.seq, time.Now()
	var rec ncf.Record
	n := uint64(0)
	for {
		number, err := b.next(&rec)
		if err != nil {
			p.ev.malformed.Add(1)
			break
		}
		if number == 0 {
			break
		}
		c.src.PushNumbered(&rec, number)
		n++
	}
	p.packets.Add(n)
	p.batches.Add(1)
	p.ev.packets.Add(n)
	p.ev.batches.Add(1)
	if b.end {
		c.src.Close()
		delete(p.sources, o)
	}
}

// sync waits until the batches taken are evaluated and, when no alert is
// waiting to be stored, acknowledges them.
func (p *partition) sync() {
	p.lastSync = time.Now()
	if len(p.unacked) == 0 {
		return
	}
	for _, c := range p.sources {
		c.src.Wait()
	}
	if p.ev.cfg.Pending() != 0 {
		return
	}
	for i, m := range p.unacked {
		m.Ack()
		p.unacked[i] = nil
	}
	p.unacked = p.unacked[:0]
}

// closeIdle lets go of the connections not seen since before.
func (p *partition) closeIdle(before time.Time) {
	for o, c := range p.sources {
		if c.seen.Before(before) {
			c.src.Close()
			delete(p.sources, o)
		}
	}
}

// checkLag reads the partition's backlog from its consumer.
func (p *partition) checkLag() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if info, err := p.cons.Info(ctx); err == nil {
		p.lag.Store(info.NumPending + uint64(info.NumAckPending))
	}
}

// injector sends a Source's response frames to the ingest process that
// owns the sensor, which writes them (a core NATS message each).
type injector struct {
	nc      *nats.Conn
	subject string
}

func (j injector) Inject(frame []byte, _ time.Time) bool {
	return j.nc.Publish(j.subject, frame) == nil
}
