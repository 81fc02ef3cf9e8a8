// Package sensor accepts CommView mirror connections: each TCP connection is
// one sensor streaming NCF records, back to back, into the engine, and
// receiving the frames Vigil asks CommView to inject (2-byte little-endian
// length, then the frame) on the same connection.
//
// CommView connects to us and, when the connection fails or breaks,
// reconnects every 15 s. Whoever can reach the port can connect, so a
// connection is held to deadlines: it is dropped when it sends nothing for
// Config.IdleTimeout between records, when a record it began is not
// complete Config.RecordTimeout later, when it does not take the frames
// injected into it within Config.WriteTimeout, when it sends an impossible
// record header (NCF has no sync marker: the stream cannot be trusted
// after one), or when it breaks mid-record. The allow-list, the connection
// cap and the cap per remote address refuse connections at once, so that
// one host cannot take every slot. Every outcome is counted by
// reason (Stats) and logged, at most a few lines at once and then one a
// second per kind of outcome, with the number of lines held back; the
// other sensors are never affected.
//
// It belongs to the engine room: of Vigil it imports engine and ncf.
package sensor

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-ids/vigil/engine"
	"github.com/vigil-ids/vigil/ncf"
)

// Defaults of Config.
const (
	// DefaultMaxConns is the cap on concurrent sensors.
	DefaultMaxConns = 64
	// DefaultMaxConnsPerAddr is the cap on concurrent sensors from one
	// remote IP address.
	DefaultMaxConnsPerAddr = 8
	// DefaultIdleTimeout is how long a sensor may send nothing between
	// records.
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultRecordTimeout is how long a record may take from its first
	// byte to its last.
	DefaultRecordTimeout = 30 * time.Second
	// DefaultWriteTimeout is how long a sensor may take to accept the
	// frames injected into it.
	DefaultWriteTimeout = 30 * time.Second
)

// Why a connection was refused: the keys of Stats.Refused.
const (
	RefusedNotAllowed = "not_allowed"           // its address is not in Config.Allow
	RefusedFull       = "max_conns"             // Config.MaxConns sensors are connected
	RefusedAddrFull   = "max_conns_per_address" // Config.MaxConnsPerAddr sensors are connected from its address
	RefusedClosing    = "closing"               // the Server is shutting down
)

// Why a connection was dropped: the keys of Stats.Dropped.
const (
	DroppedIdle          = "idle"           // nothing sent for Config.IdleTimeout between records
	DroppedRecordTimeout = "record_timeout" // a record begun not complete within Config.RecordTimeout
	DroppedWriteTimeout  = "write_timeout"  // injected frames not accepted within Config.WriteTimeout
	DroppedBadHeader     = "bad_header"     // an impossible record header
	DroppedTruncated     = "truncated"      // the connection ended mid-record
	DroppedReadError     = "read_error"     // the connection failed (reset, ...)
	DroppedWriteError    = "write_error"    // writing injected frames failed (reset, ...)
)

var (
	refusedReasons = []string{RefusedNotAllowed, RefusedFull, RefusedAddrFull, RefusedClosing}
	droppedReasons = []string{DroppedIdle, DroppedRecordTimeout, DroppedWriteTimeout, DroppedBadHeader,
		DroppedTruncated, DroppedReadError, DroppedWriteError}
)

// Config configures a Server. Zero fields take the documented defaults.
type Config struct {
	// Engine receives the packets, unless Pipeline is set: one of the
	// two is required.
	Engine *engine.Engine
	// Pipeline, when set, receives the packets in place of Engine: a
	// cluster ingest process publishes them for evaluators elsewhere.
	Pipeline Pipeline
	// Allow lists the addresses that may connect; empty allows any.
	Allow []netip.Prefix
	// MaxConns caps concurrent sensors (default DefaultMaxConns).
	MaxConns int
	// MaxConnsPerAddr caps concurrent sensors from one remote IP address
	// (default DefaultMaxConnsPerAddr; negative: no cap but MaxConns).
	MaxConnsPerAddr int
	// Names maps a sensor's IP address to its name; a sensor not listed is
	// named by its remote address ("10.0.0.7:51234").
	Names map[netip.Addr]string
	// Zones maps a sensor's IP address to the time zone of its NCF
	// timestamps; others use Zone.
	Zones map[netip.Addr]*time.Location
	// Zone is the default time zone of NCF timestamps (default UTC).
	Zone *time.Location
	// ReadBuffer is the per-connection read buffer in bytes (default
	// 1 MiB).
	ReadBuffer int
	// InjectQueue is the per-sensor queue of frames to inject (default
	// 1024); a full queue drops and counts, it never blocks the engine.
	InjectQueue int
	// IdleTimeout drops a connection that sends nothing for this long
	// between records (default DefaultIdleTimeout). RecordTimeout drops
	// one whose record is not complete this long after its first byte
	// came, or after Vigil began waiting for the rest of it (default
	// DefaultRecordTimeout). WriteTimeout drops one that does not accept
	// injected frames for this long (default DefaultWriteTimeout). A
	// negative value turns that deadline off.
	IdleTimeout, RecordTimeout, WriteTimeout time.Duration
	// Logger (default slog.Default()).
	Logger *slog.Logger
}

// Pipeline takes the records of each sensor connection.
type Pipeline interface {
	// Open starts the records of one connection; cfg's Injector writes
	// frames back to it.
	Open(cfg engine.SourceConfig) Feed
	// RecordDelivery counts the injected frames written and failed
	// (engine.Engine.RecordDelivery).
	RecordDelivery(sent, failed int)
}

// Feed takes one connection's records, as *engine.Source does: Push
// (rec is reused after the call), Flush when no more input is buffered,
// Close when the connection ends.
type Feed interface {
	Name() string
	Push(rec *ncf.Record)
	Flush()
	Close()
	Stats() engine.SourceStats
}

// enginePipeline evaluates the records in the process.
type enginePipeline struct{ *engine.Engine }

func (p enginePipeline) Open(cfg engine.SourceConfig) Feed { return p.NewSource(cfg) }

// Server accepts sensors on a listener.
type Server struct {
	cfg Config
	log *slog.Logger
	// lines rate-limits the log lines of connection outcomes.
	lines logLimiter

	mu     sync.Mutex
	conns  map[*conn]struct{}
	byAddr map[netip.Addr]int // connections open per remote address
	closed bool
	wg     sync.WaitGroup

	accepted, disconnected atomic.Uint64
	refused, dropped       map[string]*atomic.Uint64 // by reason, fixed at New
}

// New checks cfg and returns a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Pipeline == nil {
		if cfg.Engine == nil {
			return nil, errors.New("sensor: no engine")
		}
		cfg.Pipeline = enginePipeline{cfg.Engine}
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.MaxConnsPerAddr == 0 {
		cfg.MaxConnsPerAddr = DefaultMaxConnsPerAddr
	}
	if cfg.Zone == nil {
		cfg.Zone = time.UTC
	}
	if cfg.ReadBuffer <= 0 {
		cfg.ReadBuffer = 1 << 20
	}
	if cfg.InjectQueue <= 0 {
		cfg.InjectQueue = 1024
	}
	for _, d := range []struct {
		t   *time.Duration
		def time.Duration
	}{{&cfg.IdleTimeout, DefaultIdleTimeout}, {&cfg.RecordTimeout, DefaultRecordTimeout}, {&cfg.WriteTimeout, DefaultWriteTimeout}} {
		if *d.t == 0 {
			*d.t = d.def
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, log: cfg.Logger, conns: map[*conn]struct{}{}, byAddr: map[netip.Addr]int{},
		refused: counters(refusedReasons), dropped: counters(droppedReasons)}
	return s, nil
}

// counters returns a zero counter for each reason.
func counters(reasons []string) map[string]*atomic.Uint64 {
	m := make(map[string]*atomic.Uint64, len(reasons))
	for _, r := range reasons {
		m[r] = new(atomic.Uint64)
	}
	return m
}

// snapshot returns the values of counters.
func snapshot(m map[string]*atomic.Uint64) map[string]uint64 {
	out := make(map[string]uint64, len(m))
	for r, c := range m {
		out[r] = c.Load()
	}
	return out
}

// deadline returns the time d from now, or no deadline when d is negative.
func deadline(d time.Duration) time.Time {
	if d < 0 {
		return time.Time{}
	}
	return time.Now().Add(d)
}

// Serve accepts sensors on l until ctx ends or Shutdown is called. It
// always closes l.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	defer l.Close()
	var delay time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil || s.isClosed() || errors.Is(err, net.ErrClosed) {
				return nil
			}
			// Temporary failure (e.g. out of file descriptors): back off.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.log.Warn("accept failed", "err", err, "retry_in", delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		s.admit(nc)
	}
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// admit applies the allow-list and the caps, then serves the connection.
func (s *Server) admit(nc net.Conn) {
	remote := addrOf(nc.RemoteAddr())
	if !s.allowed(remote) {
		s.refuse(nc, RefusedNotAllowed)
		return
	}
	s.mu.Lock()
	reason := ""
	switch {
	case s.closed:
		reason = RefusedClosing
	case len(s.conns) >= s.cfg.MaxConns:
		reason = RefusedFull
	case s.cfg.MaxConnsPerAddr > 0 && s.byAddr[remote] >= s.cfg.MaxConnsPerAddr:
		reason = RefusedAddrFull
	}
	if reason != "" {
		s.mu.Unlock()
		s.refuse(nc, reason)
		return
	}
	c := s.newConn(nc, remote)
	s.conns[c] = struct{}{}
	s.byAddr[remote]++
	s.wg.Add(1)
	s.mu.Unlock()
	s.accepted.Add(1)
	go func() {
		defer s.wg.Done()
		c.serve()
	}()
}

// refuse counts a connection refused for reason, closes it and logs it;
// counted first, so a peer that sees the close finds it in the stats.
func (s *Server) refuse(nc net.Conn, reason string) {
	s.refused[reason].Add(1)
	nc.Close()
	if held, ok := s.lines.allow("refused " + reason); ok {
		s.log.Warn("sensor refused", "reason", reason, "remote", nc.RemoteAddr().String(),
			"max_conns", s.cfg.MaxConns, "max_conns_per_address", s.cfg.MaxConnsPerAddr, "suppressed", held)
	}
}

func (s *Server) allowed(a netip.Addr) bool {
	if len(s.cfg.Allow) == 0 {
		return true
	}
	for _, p := range s.cfg.Allow {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func addrOf(a net.Addr) netip.Addr {
	if ta, ok := a.(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(ta.IP); ok {
			return ip.Unmap()
		}
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// Shutdown stops accepting, closes every sensor connection and waits until
// their records are handed to the engine, or ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats describes the sensors: the server's counters since New and one
// entry per connected sensor. Accepted connections end up disconnected
// (cleanly, or by Shutdown), dropped, or still connected.
type Stats struct {
	// Accepted counts connections admitted.
	Accepted uint64 `json:"accepted"`
	// Refused counts connections refused, by reason (the Refused*
	// constants); every reason is present, zero or not.
	Refused map[string]uint64 `json:"refused"`
	// Dropped counts connections dropped, by reason (the Dropped*
	// constants); every reason is present, zero or not.
	Dropped map[string]uint64 `json:"dropped"`
	// Disconnected counts connections that ended cleanly (the sensor
	// closed between records) or were closed by Shutdown.
	Disconnected uint64 `json:"disconnected"`
	// Sensors describes the connections open now.
	Sensors []SensorStats `json:"sensors"`
}

// SensorStats are one connection's counters.
type SensorStats struct {
	// Name is the sensor's configured name, or its remote address.
	Name string `json:"name"`
	// Remote is its address and port.
	Remote string `json:"remote"`
	// Since is when it connected.
	Since time.Time `json:"since"`
	// TZ is the IANA name of the zone its NCF timestamps are read in.
	TZ string `json:"tz"`
	// Packets, Bytes and Drops are its source's counters
	// (engine.SourceStats).
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
	Drops   uint64 `json:"drops"`
	// Injected counts the frames written to the sensor.
	Injected uint64 `json:"injected"`
	// InjectDropped counts the frames refused: queue full, frame too long,
	// connection closing.
	InjectDropped uint64 `json:"inject_dropped"`
	// InjectFailed counts the frames queued but never written.
	InjectFailed uint64 `json:"inject_failed"`
}

// Stats returns the counters so far.
func (s *Server) Stats() Stats {
	st := Stats{Accepted: s.accepted.Load(), Refused: snapshot(s.refused), Dropped: snapshot(s.dropped), Disconnected: s.disconnected.Load()}
	s.mu.Lock()
	for c := range s.conns {
		src := c.src.Stats()
		st.Sensors = append(st.Sensors, SensorStats{
			Name: c.src.Name(), Remote: c.nc.RemoteAddr().String(), Since: c.since, TZ: c.zone.String(),
			Packets: src.Packets, Bytes: src.Bytes, Drops: src.Drops,
			Injected: c.inj.sent.Load(), InjectDropped: c.inj.dropped.Load(), InjectFailed: c.inj.failed.Load(),
		})
	}
	s.mu.Unlock()
	return st
}

// conn is one sensor connection.
type conn struct {
	s      *Server
	nc     net.Conn
	remote netip.Addr // its key in Server.byAddr
	src    Feed
	inj    *injector
	zone   *time.Location
	since  time.Time

	// why is the first reason found to drop the connection, with its
	// error; empty for a clean end.
	whyOnce sync.Once
	why     string
	whyErr  error
}

func (s *Server) newConn(nc net.Conn, remote netip.Addr) *conn {
	name, ok := s.cfg.Names[remote]
	if !ok {
		name = nc.RemoteAddr().String()
	}
	zone, ok := s.cfg.Zones[remote]
	if !ok {
		zone = s.cfg.Zone
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetKeepAlive(true)
		tc.SetKeepAlivePeriod(30 * time.Second)
	}
	c := &conn{s: s, nc: nc, remote: remote, zone: zone, since: time.Now()}
	c.inj = newInjector(c, s.cfg.InjectQueue)
	c.src = s.cfg.Pipeline.Open(engine.SourceConfig{Name: name, Injector: c.inj, InjectorQueues: true})
	return c
}

// drop records why the connection must end, if no reason was found
// before, and closes it, which ends the read loop.
func (c *conn) drop(why string, err error) {
	c.whyOnce.Do(func() { c.why, c.whyErr = why, err })
	c.nc.Close()
}

// serve reads records until the connection ends, then hands what was read
// on, writes what is left to inject (within the write deadline) and
// closes.
func (c *conn) serve() {
	s := c.s
	log := s.log.With("sensor", c.src.Name())
	if held, ok := s.lines.allow("connected"); ok {
		log.Info("sensor connected", "remote", c.nc.RemoteAddr().String(), "suppressed", held)
	}
	go c.inj.run()
	dl := &deadlines{nc: c.nc, idle: s.cfg.IdleTimeout, record: s.cfg.RecordTimeout}
	br := bufio.NewReaderSize(dl, s.cfg.ReadBuffer)
	dl.br = br
	rd := ncf.NewReader(br, ncf.ReaderConfig{Location: c.zone})
	var err error
	held := 0 // bytes of the last record, still in br until the next read
	for {
		if br.Buffered()-held < ncf.HeaderLen {
			// Nothing more is waiting: hand queued packets on before the
			// read blocks, so a quiet sensor's alerts are not delayed.
			c.src.Flush()
		}
		var rec *ncf.Record
		if rec, err = rd.Next(); err != nil {
			break
		}
		dl.recordDone()
		c.src.Push(rec)
		held = ncf.HeaderLen + len(rec.Data)
	}
	if why := dropReason(err, dl.inRecord); why != "" {
		c.drop(why, err)
	}
	c.src.Close()
	c.inj.close()
	c.nc.Close()
	// Off the sensor list before it is counted as ended, so the stats
	// never show an ended connection as connected.
	s.mu.Lock()
	delete(s.conns, c)
	if s.byAddr[c.remote]--; s.byAddr[c.remote] <= 0 {
		delete(s.byAddr, c.remote)
	}
	s.mu.Unlock()
	st := c.src.Stats()
	if c.why == "" {
		s.disconnected.Add(1)
		if held, ok := s.lines.allow("disconnected"); ok {
			log.Info("sensor disconnected", "packets", st.Packets, "drops", st.Drops, "suppressed", held)
		}
		return
	}
	s.dropped[c.why].Add(1)
	if held, ok := s.lines.allow("dropped " + c.why); ok {
		log.Warn("sensor connection dropped", "reason", c.why, "err", describe(c.whyErr), "packets", st.Packets, "drops", st.Drops, "suppressed", held)
	}
}

// dropReason tells why a read error ends a connection: "" for a clean end
// (the stream ended between records, or Vigil closed the connection:
// Shutdown, or a drop whose reason is already known). inRecord says the
// read deadline in force was a record's.
func dropReason(err error, inRecord bool) string {
	var he *ncf.HeaderError
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		return ""
	case errors.Is(err, os.ErrDeadlineExceeded) && inRecord:
		return DroppedRecordTimeout
	case errors.Is(err, os.ErrDeadlineExceeded):
		return DroppedIdle
	case errors.As(err, &he):
		return DroppedBadHeader
	case errors.Is(err, ncf.ErrTruncated):
		return DroppedTruncated
	}
	return DroppedReadError
}

// describe turns the error that ended a connection into words.
func describe(err error) string {
	var he *ncf.HeaderError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &he):
		return fmt.Sprintf("impossible record header: %v", he)
	case errors.Is(err, ncf.ErrTruncated):
		return fmt.Sprintf("stream ended mid-record: %v", err)
	}
	return err.Error()
}

// deadlines is the connection as its read buffer sees it: before each
// read it sets the read deadline, IdleTimeout from now when no record has
// begun (the buffer is empty), or RecordTimeout from when the record being
// read began.
type deadlines struct {
	nc           net.Conn
	br           *bufio.Reader // the buffer the reads fill
	idle, record time.Duration
	begun        time.Time // when the record being read began; zero between records
	inRecord     bool      // the deadline of the last read was a record's
}

func (d *deadlines) Read(p []byte) (int, error) {
	d.inRecord = d.br.Buffered() > 0
	if !d.inRecord {
		d.nc.SetReadDeadline(deadline(d.idle))
	} else {
		if d.begun.IsZero() {
			d.begun = time.Now()
		}
		if d.record < 0 {
			d.nc.SetReadDeadline(time.Time{})
		} else {
			d.nc.SetReadDeadline(d.begun.Add(d.record))
		}
	}
	n, err := d.nc.Read(p)
	if n > 0 && d.begun.IsZero() {
		d.begun = time.Now()
	}
	return n, err
}

// recordDone says a record is complete: the next one begins with the next
// byte that comes, or, if some are buffered, when Vigil waits for more.
func (d *deadlines) recordDone() { d.begun = time.Time{} }

// Log lines of one kind come at most logBurst at once, then one per
// logEvery.
const (
	logEvery = time.Second
	logBurst = 5
)

// logLimiter lets log lines of each kind through at most logBurst at once
// and then one per logEvery (a token bucket per kind), and counts the
// lines it holds back, which the next line let through reports. Kinds are
// a small fixed set (outcomes and reasons).
type logLimiter struct {
	mu    sync.Mutex
	kinds map[string]*logBucket
}

// logBucket is one kind's tokens, as of at, and its lines held back.
type logBucket struct {
	tokens float64
	at     time.Time
	held   int
}

// allow reports whether a line of kind may be logged now, and how many of
// its kind were held back since the last one.
func (l *logLimiter) allow(kind string) (held int, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.kinds == nil {
		l.kinds = map[string]*logBucket{}
	}
	now := time.Now()
	b := l.kinds[kind]
	if b == nil {
		b = &logBucket{tokens: logBurst, at: now}
		l.kinds[kind] = b
	}
	b.tokens = min(logBurst, b.tokens+float64(now.Sub(b.at))/float64(logEvery))
	b.at = now
	if b.tokens < 1 {
		b.held++
		return 0, false
	}
	b.tokens--
	held, b.held = b.held, 0
	return held, true
}
