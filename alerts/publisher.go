package alerts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Publisher defaults, used when the PublisherConfig field is zero.
const (
	DefaultMemoryLimit = 10000
	DefaultDiskLimit   = 1 << 30
	DefaultMaxInFlight = 4096
	DefaultAckTimeout  = 5 * time.Second
)

const (
	sendBatch     = 256                    // records taken from the queue per round
	retryBackoff  = 100 * time.Millisecond // pause after a failed publish
	idlePoll      = 200 * time.Millisecond // re-check of the connection while waiting
	dropLogPeriod = 5 * time.Second        // at most one drop log line per period
)

// PublisherConfig configures NewPublisher. Zero fields take the defaults
// above.
type PublisherConfig struct {
	// Conn is the NATS connection; required. The Publisher does not close it.
	//
	// Connect it with nats.MaxReconnects(-1), a small nats.ReconnectWait,
	// nats.RetryOnFailedConnect(true) and nats.ReconnectBufSize(-1). The last
	// one disables nats.go's own reconnect buffer: while disconnected a
	// publish then fails at once and the alert stays in the Publisher's
	// queue, which is bounded, spills to disk, survives a restart, and is
	// counted in Stats. With nats.go's buffer the same alerts would sit in
	// an unaccounted 8 MiB buffer that is lost with the process.
	Conn *nats.Conn
	// Prefix is the subject prefix (DefaultPrefix when empty).
	Prefix string
	// JetStream publishes with acknowledgements (PublishMsgAsync) and
	// resends until acknowledged; the stream must exist (EnsureStream).
	// Without it alerts go out as core NATS messages: once written to the
	// connection they count as delivered.
	JetStream bool
	// DataDir is the spill folder; empty means no disk spill.
	DataDir string
	// MemoryLimit is the number of alerts queued in memory before new ones
	// spill to disk (or are dropped without DataDir). Loading a spilled
	// segment back may exceed it by one segment (at most 4 MiB).
	MemoryLimit int
	// DiskLimit is the total size in bytes of the spill segments.
	DiskLimit int64
	// MaxInFlight caps JetStream publishes awaiting their acknowledgement.
	MaxInFlight int
	// AckTimeout is how long a JetStream acknowledgement may take before
	// the alert is resent.
	AckTimeout time.Duration
	// Logger receives drops and errors (rate-limited); slog.Default() when nil.
	Logger *slog.Logger
}

// PublisherStats are cumulative counters, except Pending.
type PublisherStats struct {
	Published uint64 // alerts sent for the first time (core: delivered)
	Acked     uint64 // JetStream acknowledgements (duplicates included)
	Pending   uint64 // alerts not yet delivered: memory, in flight and disk
	Spilled   uint64 // alerts written to the spill folder
	Dropped   uint64 // alerts that could not be kept (limits, no DataDir, after Close) or had no ID
	Retries   uint64 // resends after a failure, timeout or disconnect
	// EventErrors counts PublishEvent calls that failed.
	EventErrors uint64
}

// record states.
const (
	stQueued = iota
	stOutstanding
	stAcked
	stFailed
)

// record is one encoded alert, owned by the Publisher until delivered.
type record struct {
	subject string
	id      string
	data    []byte
	msg     *nats.Msg
	seg     *segment // spill segment it was loaded from; nil if never on disk
	state   int
	sent    bool
}

// Publisher delivers alerts to NATS in the order Publish received them.
// Publish never waits for the network; a background goroutine sends. See
// PublisherConfig for the buffering. All methods are safe for concurrent
// use.
type Publisher struct {
	cfg  PublisherConfig
	conn *nats.Conn
	js   jetstream.JetStream
	log  *slog.Logger

	mu          sync.Mutex
	queue       []*record // memory queue; live part is queue[qhead:]
	qhead       int
	inflight    []*record // JetStream: sent and not yet acked, in send order
	outstanding int       // JetStream: publishes whose outcome is unknown
	byMsg       map[*nats.Msg]*record
	resend      bool      // a publish failed: requeue the unacked in order
	retryAt     time.Time // no send before this
	spool       *spool
	scratch     []byte
	closing     bool
	closed      bool
	stats       PublisherStats
	dropLogged  time.Time
	dropUnseen  uint64
	errLogged   time.Time

	wake chan struct{}
	stop chan struct{}
	done chan struct{}
}

// NewPublisher starts a Publisher. With DataDir set, alerts a previous run
// spilled and did not deliver are queued first, oldest first.
func NewPublisher(cfg PublisherConfig) (*Publisher, error) {
	if cfg.Conn == nil {
		return nil, ErrNoConn
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if cfg.MemoryLimit <= 0 {
		cfg.MemoryLimit = DefaultMemoryLimit
	}
	if cfg.DiskLimit <= 0 {
		cfg.DiskLimit = DefaultDiskLimit
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.AckTimeout <= 0 {
		cfg.AckTimeout = DefaultAckTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	p := &Publisher{
		cfg:   cfg,
		conn:  cfg.Conn,
		log:   cfg.Logger,
		byMsg: make(map[*nats.Msg]*record),
		wake:  make(chan struct{}, 1),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	if cfg.DataDir != "" {
		s, err := openSpool(cfg.DataDir, cfg.DiskLimit)
		if err != nil {
			return nil, err
		}
		p.spool = s
		if s.unread > 0 {
			p.log.Info("alerts: spilled alerts from a previous run queued", "count", s.unread, "dir", cfg.DataDir)
		}
	}
	if cfg.JetStream {
		js, err := jetstream.New(cfg.Conn,
			jetstream.WithPublishAsyncMaxPending(2*cfg.MaxInFlight),
			jetstream.WithPublishAsyncTimeout(cfg.AckTimeout),
			jetstream.WithPublishAsyncAckHandler(p.onAck),
			jetstream.WithPublishAsyncErrHandler(p.onErr),
		)
		if err != nil {
			return nil, fmt.Errorf("alerts: jetstream: %w", err)
		}
		p.js = js
	}
	go p.run()
	return p, nil
}

// Publish encodes a and queues it for delivery. It does not wait for NATS:
// the alert goes to the memory queue, or to the spill folder when the
// memory queue is full or older alerts are still on disk; if neither can
// take it, it is counted in Dropped and logged. a.ID must be set (see ID):
// it is the Nats-Msg-Id, and an alert without one is dropped the same way.
// The Publisher keeps no reference to a.
func (p *Publisher) Publish(a *Alert) {
	p.PublishEncoded(a, a.AppendJSON(make([]byte, 0, 512)))
}

// PublishEncoded is Publish for an alert already encoded: data is a's
// AppendJSON output, which the Publisher keeps as the message body
// (EncodedPublisher). The Publisher keeps no reference to a.
func (p *Publisher) PublishEncoded(a *Alert, data []byte) {
	if a.ID == "" {
		p.mu.Lock()
		p.dropLocked(1, errNoID)
		p.mu.Unlock()
		return
	}
	r := newRecord(Subject(p.cfg.Prefix, a.Sensor, a.SeverityWord, a.SID), a.ID, data, nil)

	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.closing:
		p.dropLocked(1, ErrClosed)
		return
	case (p.spool == nil || !p.spool.hasUnread()) && len(p.queue)-p.qhead < p.cfg.MemoryLimit:
		p.queue = append(p.queue, r)
	case p.spool != nil:
		var err error
		p.scratch, err = p.spool.write(r, p.scratch)
		if err != nil {
			p.dropLocked(1, err)
			return
		}
		p.stats.Spilled++
	default:
		p.dropLocked(1, errMemoryFull)
		return
	}
	p.signal()
}

// Reasons an alert is dropped, for the log.
var (
	errMemoryFull = errors.New("alerts: memory queue full and no spill folder")
	errNoID       = errors.New("alerts: alert without an ID")
)

// PublishEvent publishes data on subject as a core NATS message, best
// effort (stats and reload events): a failure is counted in EventErrors,
// nothing is queued. data may be reused after the call returns.
func (p *Publisher) PublishEvent(subject string, data []byte) {
	if err := p.conn.Publish(subject, data); err != nil {
		p.mu.Lock()
		p.stats.EventErrors++
		p.mu.Unlock()
	}
}

// Stats returns a snapshot of the counters.
func (p *Publisher) Stats() PublisherStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.Pending = uint64(p.pendingLocked())
	return s
}

func (p *Publisher) pendingLocked() int {
	n := len(p.queue) - p.qhead
	for _, r := range p.inflight {
		if r.state != stAcked {
			n++
		}
	}
	if p.spool != nil {
		n += p.spool.unread
	}
	return n
}

// Close stops accepting alerts (later ones are dropped and counted) and
// delivers what is pending until ctx ends. What is still undelivered then
// is written to the spill folder, in order, for the next run; without
// DataDir it is counted as Dropped. It returns ctx's error when not all was
// delivered. The NATS connection is left open.
func (p *Publisher) Close(ctx context.Context) error {
	p.mu.Lock()
	if p.closing {
		p.mu.Unlock()
		return ErrClosed
	}
	p.closing = true
	p.mu.Unlock()
	p.signal()

	drained := false
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		p.mu.Lock()
		drained = p.pendingLocked() == 0
		p.mu.Unlock()
		if drained {
			break
		}
		select {
		case <-ctx.Done():
			break wait
		case <-tick.C:
		}
	}
	if drained && p.js == nil && p.conn.IsConnected() {
		// Core messages count as delivered once written to the connection;
		// push them out of nats.go's buffer.
		if err := p.conn.FlushWithContext(ctx); err != nil {
			p.log.Warn("alerts: flush on close", "err", err)
		}
	}
	close(p.stop)
	<-p.done

	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	var rest []*record
	for _, r := range p.inflight {
		if r.state != stAcked {
			rest = append(rest, r)
		}
	}
	rest = append(rest, p.queue[p.qhead:]...)
	p.inflight, p.queue, p.qhead = nil, nil, 0
	clear(p.byMsg)
	var err error
	if p.spool != nil {
		if e := p.spool.persistFront(rest); e != nil {
			p.dropLocked(uint64(len(rest)), e)
			err = e
		} else if len(rest) > 0 {
			p.log.Info("alerts: undelivered alerts kept on disk", "count", len(rest), "dir", p.cfg.DataDir)
		}
		if e := p.spool.close(); e != nil && err == nil {
			err = e
		}
	} else if len(rest) > 0 {
		p.dropLocked(uint64(len(rest)), ctx.Err())
	}
	if err == nil && !drained {
		err = fmt.Errorf("alerts: close: %d alerts undelivered: %w", len(rest), ctx.Err())
	}
	return err
}

// signal wakes the sender without blocking.
func (p *Publisher) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// dropLocked counts n dropped alerts and logs at most once per period.
func (p *Publisher) dropLocked(n uint64, why error) {
	p.stats.Dropped += n
	p.dropUnseen += n
	if now := time.Now(); now.Sub(p.dropLogged) >= dropLogPeriod {
		p.log.Error("alerts: alerts dropped", "count", p.dropUnseen, "total", p.stats.Dropped, "reason", why)
		p.dropLogged, p.dropUnseen = now, 0
	}
}

// errLocked logs a delivery error at most once per period.
func (p *Publisher) errLocked(msg string, err error) {
	if now := time.Now(); now.Sub(p.errLogged) >= dropLogPeriod {
		p.log.Warn(msg, "err", err)
		p.errLogged = now
	}
}

// run is the sender goroutine.
func (p *Publisher) run() {
	defer close(p.done)
	timer := time.NewTimer(idlePoll)
	defer timer.Stop()
	batch := make([]*record, 0, sendBatch)
	for {
		wait := p.step(&batch)
		if wait == 0 {
			select {
			case <-p.stop:
				return
			default:
			}
			continue
		}
		timer.Reset(wait)
		select {
		case <-p.stop:
			return
		case <-p.wake:
		case <-timer.C:
		}
	}
}

// step sends one batch; it returns 0 to go on at once or how long to wait
// (a wake-up from Publish or an acknowledgement cuts the wait short).
func (p *Publisher) step(batch *[]*record) time.Duration {
	p.mu.Lock()
	if p.spool != nil {
		if err := p.spool.flush(); err != nil {
			p.errLocked("alerts: spill", err)
		}
	}
	if p.resend {
		if p.outstanding > 0 {
			p.mu.Unlock()
			return idlePoll
		}
		p.requeueLocked()
	}
	if d := time.Until(p.retryAt); d > 0 {
		p.mu.Unlock()
		return d
	}
	connected := p.conn.IsConnected()
	if connected && p.qhead == len(p.queue) && p.spool != nil && p.spool.hasUnread() {
		recs, err := p.spool.loadNext()
		if err != nil {
			p.log.Error("alerts: reading spilled alerts", "err", err)
		}
		p.queue = append(p.queue, recs...)
	}
	if p.qhead == len(p.queue) || !connected {
		p.mu.Unlock()
		return idlePoll
	}
	n := len(p.queue) - p.qhead
	n = min(n, sendBatch)
	if p.js != nil {
		n = min(n, p.cfg.MaxInFlight-p.outstanding)
		if n <= 0 {
			p.mu.Unlock()
			return idlePoll
		}
	}
	b := append((*batch)[:0], p.queue[p.qhead:p.qhead+n]...)
	*batch = b
	if p.js != nil {
		// Hand the batch to the in-flight window before sending: the
		// acknowledgement may arrive before PublishMsgAsync returns.
		for _, r := range b {
			r.state = stOutstanding
			p.byMsg[r.msg] = r
		}
		p.inflight = append(p.inflight, b...)
		p.outstanding += n
		p.popLocked(n)
	}
	p.mu.Unlock()

	if p.js != nil {
		return p.sendJetStream(b)
	}
	return p.sendCore(b)
}

// popLocked removes n records from the head of the queue.
func (p *Publisher) popLocked(n int) {
	clear(p.queue[p.qhead : p.qhead+n])
	p.qhead += n
	if p.qhead == len(p.queue) {
		p.queue, p.qhead = p.queue[:0], 0
	} else if p.qhead >= 4096 && p.qhead*2 >= len(p.queue) {
		k := copy(p.queue, p.queue[p.qhead:])
		clear(p.queue[k:])
		p.queue, p.qhead = p.queue[:k], 0
	}
}

func (p *Publisher) sendCore(b []*record) time.Duration {
	sent := 0
	var err error
	for _, r := range b {
		if err = p.conn.PublishMsg(r.msg); err != nil {
			break
		}
		sent++
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range b[:sent] {
		if r.seg != nil && p.spool != nil {
			p.spool.done(r.seg)
		}
	}
	p.stats.Published += uint64(sent)
	p.popLocked(sent)
	if err != nil {
		p.errLocked("alerts: publish", err)
		p.retryAt = time.Now().Add(retryBackoff)
		return retryBackoff
	}
	return 0
}

func (p *Publisher) sendJetStream(b []*record) time.Duration {
	for i, r := range b {
		if _, err := p.js.PublishMsgAsync(r.msg); err != nil {
			p.mu.Lock()
			for _, r := range b[i:] {
				if r.state == stOutstanding {
					r.state = stFailed
					p.outstanding--
					delete(p.byMsg, r.msg)
				}
			}
			p.resend = true
			p.retryAt = time.Now().Add(retryBackoff)
			p.errLocked("alerts: publish", err)
			p.mu.Unlock()
			return retryBackoff
		}
		p.mu.Lock()
		if r.sent {
			p.stats.Retries++
		} else {
			r.sent = true
			p.stats.Published++
		}
		p.mu.Unlock()
	}
	return 0
}

// requeueLocked puts the unacknowledged in-flight records back at the
// head of the queue, in their order, once no outcome is outstanding.
func (p *Publisher) requeueLocked() {
	var back []*record
	for _, r := range p.inflight {
		if r.state != stAcked {
			r.state = stQueued
			back = append(back, r)
		}
	}
	clear(p.inflight)
	p.inflight = p.inflight[:0]
	p.queue = append(back, p.queue[p.qhead:]...)
	p.qhead = 0
	p.resend = false
}

// onAck is the JetStream acknowledgement callback.
func (p *Publisher) onAck(_ jetstream.JetStream, m *nats.Msg, _ *jetstream.PubAck) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.byMsg[m]
	if r == nil || r.state != stOutstanding {
		return
	}
	delete(p.byMsg, m)
	r.state = stAcked
	p.outstanding--
	p.stats.Acked++
	if r.seg != nil && p.spool != nil {
		p.spool.done(r.seg)
	}
	// Trim acknowledged records from the front of the window.
	k := 0
	for k < len(p.inflight) && p.inflight[k].state == stAcked {
		k++
	}
	if k > 0 {
		if k == len(p.inflight) {
			clear(p.inflight)
			p.inflight = p.inflight[:0]
		} else if k >= 1024 || k*2 >= len(p.inflight) {
			n := copy(p.inflight, p.inflight[k:])
			clear(p.inflight[n:])
			p.inflight = p.inflight[:n]
		}
	}
	p.signal()
}

// onErr is the JetStream failure callback (timeout, disconnect, no stream).
func (p *Publisher) onErr(_ jetstream.JetStream, m *nats.Msg, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.byMsg[m]
	if r == nil || r.state != stOutstanding {
		return
	}
	delete(p.byMsg, m)
	r.state = stFailed
	p.outstanding--
	p.resend = true
	p.retryAt = time.Now().Add(retryBackoff)
	p.errLocked("alerts: publish not acknowledged", err)
	p.signal()
}
