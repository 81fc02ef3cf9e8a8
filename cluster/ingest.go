package cluster

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigil-ids/vigil/alerts"
	"github.com/vigil-ids/vigil/decode"
	"github.com/vigil-ids/vigil/engine"
	"github.com/vigil-ids/vigil/engine/flow"
	"github.com/vigil-ids/vigil/engine/sensor"
	"github.com/vigil-ids/vigil/ncf"
	"github.com/vigil-ids/vigil/rules/field"
)

// Batches are published once they hold batchRecords records or
// batchBytes bytes, or when the sensor's input pauses (Flush).
const (
	batchRecords = 256
	batchBytes   = 128 << 10
)

// IngestConfig configures NewIngest. Zero fields take the defaults named.
type IngestConfig struct {
	// Conn is the NATS connection; required.
	Conn *nats.Conn
	// Partitions is the number of partitions (DefaultPartitions); every
	// process of a cluster must be given the same.
	Partitions int
	// Buffer caps, in bytes, the packets the stream holds for the
	// evaluators (DefaultBuffer); past it publishing fails, and Overload
	// says what then happens.
	Buffer int64
	// Overload is engine.Block (the default: retry, back-pressure into
	// the sensor's TCP stream) or engine.Drop (count the batch's records
	// as dropped).
	Overload engine.Overload
	// MaxPending caps the batches published and not yet acknowledged
	// (default 64).
	MaxPending int
	// Logger (default slog.Default()).
	Logger *slog.Logger
}

// IngestStats are an ingest process's cumulative counters.
type IngestStats struct {
	// Instance names the process's run in every batch and alert ID.
	Instance string `json:"instance"`
	// Packets and Batches count what was published.
	Packets uint64 `json:"packets"`
	Batches uint64 `json:"batches"`
	// Pending is the batches published and not yet acknowledged.
	Pending int `json:"pending"`
	// Dropped counts the records not published under the Drop policy;
	// Lost those of batches JetStream did not store (full, unreachable).
	Dropped uint64 `json:"dropped"`
	Lost    uint64 `json:"lost"`
	// Injected and InjectFailed count the response frames evaluators
	// sent that were written to their sensor, or could not be.
	Injected     uint64 `json:"injected"`
	InjectFailed uint64 `json:"inject_failed"`
}

// Ingest is the ingest role: it takes sensor connections' records (it is
// a sensor.Pipeline) and publishes them, batched, on their partitions'
// subjects, and writes the response frames evaluators send back to the
// sensor they name.
type Ingest struct {
	cfg      IngestConfig
	log      *slog.Logger
	js       jetstream.JetStream
	stream   jetstream.Stream
	instance string
	sub      *nats.Subscription
	// full says the packet stream is nearly full (watchBacklog).
	full          atomic.Bool
	stop, stopped chan struct{}

	mu    sync.RWMutex
	feeds map[uint64]*feed
	seq   uint64

	packets, batches, dropped, lost, injected, injectFailed atomic.Uint64
	// warned is when the last warning was logged (Unix nanoseconds).
	warned atomic.Int64
}

// NewIngest makes sure of the packet stream and the partition count
// (an error when another process of the cluster was given a different
// one), and subscribes to the response frames addressed to it.
func NewIngest(cfg IngestConfig) (*Ingest, error) {
	if cfg.Conn == nil {
		return nil, errors.New("cluster: no NATS connection")
	}
	cfg.Partitions = cmp.Or(cfg.Partitions, DefaultPartitions)
	cfg.Buffer = cmp.Or(cfg.Buffer, DefaultBuffer)
	cfg.MaxPending = cmp.Or(cfg.MaxPending, 64)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	in := &Ingest{cfg: cfg, log: cfg.Logger, instance: alerts.NewInstance(), feeds: map[uint64]*feed{}}
	js, err := jetstream.New(cfg.Conn,
		jetstream.WithPublishAsyncMaxPending(cfg.MaxPending),
		jetstream.WithPublishAsyncAckHandler(in.onAck),
		jetstream.WithPublishAsyncErrHandler(in.onErr))
	if err != nil {
		return nil, fmt.Errorf("cluster: jetstream: %w", err)
	}
	in.js = js
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	if err := ensurePackets(ctx, js, cfg.Partitions, cfg.Buffer); err != nil {
		return nil, err
	}
	in.sub, err = cfg.Conn.Subscribe(injectSubject+"."+in.instance+".*", in.inject)
	if err != nil {
		return nil, fmt.Errorf("cluster: subscribing to responses: %w", err)
	}
	in.stream, err = js.Stream(ctx, PacketStream)
	if err != nil {
		return nil, fmt.Errorf("cluster: packet stream %s: %w", PacketStream, err)
	}
	in.stop, in.stopped = make(chan struct{}), make(chan struct{})
	go in.watchBacklog()
	return in, nil
}

// backlogEvery is how often the ingest process reads the stream's size.
const backlogEvery = 10 * time.Millisecond

// watchBacklog keeps full up to date: whether the packet stream holds
// more than three quarters of its Buffer, batches the evaluators have
// not taken yet. The quarter left takes the batches in flight.
func (in *Ingest) watchBacklog() {
	defer close(in.stopped)
	tick := time.NewTicker(backlogEvery)
	defer tick.Stop()
	for {
		select {
		case <-in.stop:
			return
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		info, err := in.stream.Info(ctx)
		cancel()
		if err == nil {
			in.full.Store(info.State.Bytes > uint64(in.cfg.Buffer)/4*3)
		}
	}
}

// Open starts the records of one sensor connection (sensor.Pipeline).
func (in *Ingest) Open(cfg engine.SourceConfig) sensor.Feed {
	in.mu.Lock()
	in.seq++
	f := &feed{in: in, cfg: cfg, source: in.seq, dec: decode.New(), parts: make([]part, in.cfg.Partitions)}
	in.feeds[f.source] = f
	in.mu.Unlock()
	return f
}

// RecordDelivery counts the response frames written to sensors
// (sensor.Pipeline).
func (in *Ingest) RecordDelivery(sent, failed int) {
	in.injected.Add(uint64(sent))
	in.injectFailed.Add(uint64(failed))
}

// Stats returns the counters.
func (in *Ingest) Stats() IngestStats {
	return IngestStats{Instance: in.instance, Packets: in.packets.Load(), Batches: in.batches.Load(), Pending: in.js.PublishAsyncPending(),
		Dropped: in.dropped.Load(), Lost: in.lost.Load(), Injected: in.injected.Load(), InjectFailed: in.injectFailed.Load()}
}

// Close stops taking responses and waits, within ctx, until every batch
// published has been acknowledged or has failed. Close the sensor
// connections first.
func (in *Ingest) Close(ctx context.Context) error {
	close(in.stop)
	<-in.stopped
	err := in.sub.Unsubscribe()
	select {
	case <-in.js.PublishAsyncComplete():
	case <-ctx.Done():
		err = errors.Join(err, fmt.Errorf("cluster: %d packet batches unacknowledged: %w", in.js.PublishAsyncPending(), ctx.Err()))
	}
	return err
}

// inject writes a response frame to the sensor connection its subject
// names (…inject.<instance>.<source>).
func (in *Ingest) inject(m *nats.Msg) {
	source, err := strconv.ParseUint(m.Subject[strings.LastIndexByte(m.Subject, '.')+1:], 10, 64)
	in.mu.RLock()
	f := in.feeds[source]
	in.mu.RUnlock()
	if err != nil || f == nil || f.cfg.Injector == nil || !f.cfg.Injector.Inject(m.Data, time.Now()) {
		in.injectFailed.Add(1)
	}
}

// publish sends one batch of n records. Under Block a batch waits while
// the stream is nearly full (the evaluators behind) or the client cannot
// take it (its window of unacknowledged batches full, NATS unreachable),
// which holds the sensor back; under Drop it is counted as dropped.
func (in *Ingest) publish(subject, id string, data []byte, n int) {
	msg := &nats.Msg{Subject: subject, Data: data, Header: nats.Header{jetstream.MsgIDHeader: []string{id}}}
	for in.full.Load() {
		if in.cfg.Overload == engine.Drop {
			in.dropped.Add(uint64(n))
			putBuf(data)
			return
		}
		time.Sleep(backlogEvery)
	}
	for {
		_, err := in.js.PublishMsgAsync(msg)
		if err == nil {
			in.packets.Add(uint64(n))
			in.batches.Add(1)
			return
		}
		stalled := errors.Is(err, jetstream.ErrTooManyStalledMsgs)
		if in.cfg.Overload == engine.Drop || errors.Is(err, nats.ErrConnectionClosed) {
			in.dropped.Add(uint64(n))
			putBuf(data)
			if !stalled {
				in.warn("cluster: packet batch not published", "subject", subject, "err", err)
			}
			return
		}
		if !stalled {
			in.warn("cluster: packet batch not published yet; holding the sensor back", "subject", subject, "err", err)
			time.Sleep(retryWait)
		}
	}
}

// retryWait is the pause before a batch is offered again under Block.
const retryWait = 100 * time.Millisecond

// warn logs at most one line every logEvery.
func (in *Ingest) warn(msg string, args ...any) {
	now := time.Now().UnixNano()
	if last := in.warned.Load(); now-last < int64(logEvery) || !in.warned.CompareAndSwap(last, now) {
		return
	}
	in.log.Warn(msg, args...)
}

// logEvery spaces the ingest process's warnings.
const logEvery = 5 * time.Second

// onAck recycles an acknowledged batch's buffer.
func (in *Ingest) onAck(_ jetstream.JetStream, m *nats.Msg, _ *jetstream.PubAck) {
	putBuf(m.Data)
}

// onErr counts the records of a batch JetStream did not store.
func (in *Ingest) onErr(_ jetstream.JetStream, m *nats.Msg, err error) {
	n := 0
	if r, rerr := readBatch(m.Data); rerr == nil {
		var rec ncf.Record
		for k, _ := r.next(&rec); k != 0; k, _ = r.next(&rec) {
			n++
		}
	}
	in.lost.Add(uint64(n))
	in.warn("cluster: packet batch not stored", "subject", m.Subject, "records", n, "err", err)
}

// feed is one sensor connection's records on their way to the
// partitions.
type feed struct {
	in     *Ingest
	cfg    engine.SourceConfig
	source uint64
	dec    *decode.Decoder
	pkt    field.Packet
	peek   decode.FlowPeek
	parts  []part
	number int

	packets, bytes, compressed atomic.Uint64
	// pushed counts the records pushed since the last send, which adds
	// them to packets and bytes: one atomic update per batch, not per
	// record, on the connection's serial path.
	pushed struct{ packets, bytes uint64 }
}

// part is a feed's batch in the making for one partition.
type part struct {
	buf  []byte
	n    int    // records in buf
	seq  uint64 // batches published
	used bool   // a batch went out: Close sends the end mark
}

func (f *feed) Name() string { return f.cfg.Name }

// Push adds rec to the batch of its partition: the address pair's
// (flow.PairHash) modulo the partition count, from a peek at the
// headers where it suffices (as engine.Source chooses a worker).
func (f *feed) Push(rec *ncf.Record) {
	f.number++
	f.pushed.packets++
	f.pushed.bytes += uint64(len(rec.Data))
	p := 0
	switch link := engine.LinkOf(rec.Medium); {
	case rec.Compressed:
		f.compressed.Add(1)
	case decode.PeekFlow(&f.peek, link, rec.Data):
		p = int(flow.PairHashPeek(&f.peek) % uint64(len(f.parts)))
	default:
		f.dec.DecodeHeaders(&f.pkt, link, rec.Data)
		p = int(flow.PairHash(&f.pkt) % uint64(len(f.parts)))
	}
	pt := &f.parts[p]
	if pt.n == 0 {
		pt.buf = appendHeader(getBuf(), &batchHeader{instance: f.in.instance, source: f.source,
			sensor: f.cfg.Name, partition: p, seq: pt.seq + 1})
	}
	pt.buf = appendRecord(pt.buf, rec, f.number)
	pt.n++
	if pt.n >= batchRecords || len(pt.buf) >= batchBytes {
		f.send(p)
	}
}

// send publishes partition p's batch.
func (f *feed) send(p int) {
	f.packets.Add(f.pushed.packets)
	f.bytes.Add(f.pushed.bytes)
	f.pushed.packets, f.pushed.bytes = 0, 0
	pt := &f.parts[p]
	pt.seq++
	pt.used = true
	f.in.publish(packetSubject(p), msgID(f.in.instance, f.source, p, pt.seq), pt.buf, pt.n)
	pt.buf, pt.n = nil, 0
}

// Flush publishes every partly filled batch.
func (f *feed) Flush() {
	for p := range f.parts {
		if f.parts[p].n > 0 {
			f.send(p)
		}
	}
}

// Close publishes what is left and an end mark on every partition the
// connection used, so evaluators let its state go.
func (f *feed) Close() {
	f.Flush()
	for p := range f.parts {
		pt := &f.parts[p]
		if !pt.used {
			continue
		}
		pt.buf = appendHeader(getBuf(), &batchHeader{instance: f.in.instance, source: f.source,
			sensor: f.cfg.Name, partition: p, seq: pt.seq + 1, end: true})
		f.send(p)
	}
	f.in.mu.Lock()
	delete(f.in.feeds, f.source)
	f.in.mu.Unlock()
}

func (f *feed) Stats() engine.SourceStats {
	return engine.SourceStats{Packets: f.packets.Load(), Bytes: f.bytes.Load(), Compressed: f.compressed.Load()}
}

// msgID is a batch's Nats-Msg-Id: a batch published twice is stored once.
func msgID(instance string, source uint64, partition int, seq uint64) string {
	return instance + "-" + strconv.FormatUint(source, 10) + "-" + strconv.Itoa(partition) + "-" + strconv.FormatUint(seq, 10)
}

var bufPool = sync.Pool{New: func() any { return make([]byte, 0, batchBytes+64<<10) }}

func getBuf() []byte { return bufPool.Get().([]byte)[:0] }

func putBuf(b []byte) {
	if cap(b) >= batchBytes {
		//lint:ignore SA6002 one slice header per batch, not per packet
		bufPool.Put(b[:0])
	}
}
