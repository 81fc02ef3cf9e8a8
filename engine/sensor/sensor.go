// Package sensor accepts CommView mirror connections: each TCP connection is
// one sensor streaming NCF records, back to back, into the engine, and
// receiving the frames Vigil asks CommView to inject (2-byte little-endian
// length, then the frame) on the same connection.
//
// CommView connects to us and, when the connection fails or breaks,
// reconnects every 15 s. A connection that breaks mid-record, sends an
// impossible record header, or is refused by the allow-list or the
// connection cap is logged with the reason and counted; the other sensors
// are never affected.
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
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-ids/vigil/engine"
	"github.com/vigil-ids/vigil/ncf"
)

// DefaultMaxConns is the cap on concurrent sensors when Config.MaxConns is
// zero.
const DefaultMaxConns = 64

// Config configures a Server. Zero fields take the documented defaults.
type Config struct {
	// Engine receives the packets. Required.
	Engine *engine.Engine
	// Allow lists the addresses that may connect; empty allows any.
	Allow []netip.Prefix
	// MaxConns caps concurrent sensors (default DefaultMaxConns).
	MaxConns int
	// Names maps a sensor's IP address to its name; a sensor not listed is
	// named by its remote address ("10.0.0.7:51234").
	Names map[netip.Addr]string
	// Zones maps a sensor's IP address to the time zone of its NCF
	// timestamps; others use Zone.
	Zones map[netip.Addr]*time.Location
	// Zone is the default time zone of NCF timestamps (default UTC).
	Zone *time.Location
	// ReadBuffer is the per-connection read buffer (default 1 MiB).
	ReadBuffer int
	// InjectQueue is the per-sensor queue of frames to inject (default
	// 1024); a full queue drops and counts, it never blocks the engine.
	InjectQueue int
	// Logger (default slog.Default()).
	Logger *slog.Logger
}

// Server accepts sensors on a listener.
type Server struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	conns  map[*conn]struct{}
	closed bool
	wg     sync.WaitGroup

	accepted, refused, broken atomic.Uint64
}

// New checks cfg and returns a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Engine == nil {
		return nil, errors.New("sensor: no engine")
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
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
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Server{cfg: cfg, log: cfg.Logger, conns: map[*conn]struct{}{}}, nil
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

// admit applies the allow-list and the cap, then serves the connection.
func (s *Server) admit(nc net.Conn) {
	remote := addrOf(nc.RemoteAddr())
	if !s.allowed(remote) {
		s.refused.Add(1)
		s.log.Warn("sensor refused: address not allowed", "remote", nc.RemoteAddr().String())
		nc.Close()
		return
	}
	s.mu.Lock()
	if s.closed || len(s.conns) >= s.cfg.MaxConns {
		full := !s.closed
		s.mu.Unlock()
		s.refused.Add(1)
		if full {
			s.log.Warn("sensor refused: connection limit reached", "remote", nc.RemoteAddr().String(), "max_conns", s.cfg.MaxConns)
		}
		nc.Close()
		return
	}
	c := s.newConn(nc, remote)
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	s.accepted.Add(1)
	go func() {
		defer s.wg.Done()
		c.serve()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
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

// Stats describes the sensors: the server's counters and one entry per
// connected sensor.
type Stats struct {
	Accepted uint64        `json:"accepted"`
	Refused  uint64        `json:"refused"`
	Broken   uint64        `json:"broken"`
	Sensors  []SensorStats `json:"sensors"`
}

// SensorStats are one connection's counters.
type SensorStats struct {
	Name          string    `json:"name"`
	Remote        string    `json:"remote"`
	Since         time.Time `json:"since"`
	Packets       uint64    `json:"packets"`
	Bytes         uint64    `json:"bytes"`
	Drops         uint64    `json:"drops"`
	Injected      uint64    `json:"injected"`
	InjectDropped uint64    `json:"inject_dropped"`
	InjectFailed  uint64    `json:"inject_failed"`
}

// Stats returns the counters so far.
func (s *Server) Stats() Stats {
	st := Stats{Accepted: s.accepted.Load(), Refused: s.refused.Load(), Broken: s.broken.Load()}
	s.mu.Lock()
	for c := range s.conns {
		src := c.src.Stats()
		st.Sensors = append(st.Sensors, SensorStats{
			Name: c.src.Name(), Remote: c.nc.RemoteAddr().String(), Since: c.since,
			Packets: src.Packets, Bytes: src.Bytes, Drops: src.Drops,
			Injected: c.inj.sent.Load(), InjectDropped: c.inj.dropped.Load(), InjectFailed: c.inj.failed.Load(),
		})
	}
	s.mu.Unlock()
	return st
}

// conn is one sensor connection.
type conn struct {
	s     *Server
	nc    net.Conn
	src   *engine.Source
	inj   *injector
	zone  *time.Location
	since time.Time
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
	inj := newInjector(nc, s.cfg.InjectQueue)
	c := &conn{s: s, nc: nc, inj: inj, zone: zone, since: time.Now()}
	c.src = s.cfg.Engine.NewSource(engine.SourceConfig{Name: name, Injector: inj})
	return c
}

// serve reads records until the connection ends.
func (c *conn) serve() {
	log := c.s.log.With("sensor", c.src.Name())
	log.Info("sensor connected", "remote", c.nc.RemoteAddr().String())
	go c.inj.run()
	br := bufio.NewReaderSize(c.nc, c.s.cfg.ReadBuffer)
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
		c.src.Push(rec)
		held = ncf.HeaderLen + len(rec.Data)
	}
	c.src.Close()
	c.inj.close()
	c.nc.Close()
	st := c.src.Stats()
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		log.Info("sensor disconnected", "packets", st.Packets, "drops", st.Drops)
	default:
		c.s.broken.Add(1)
		log.Warn("sensor connection dropped", "reason", describe(err), "packets", st.Packets, "drops", st.Drops)
	}
}

// describe turns a read error into the reason a connection was dropped.
func describe(err error) string {
	var he *ncf.HeaderError
	switch {
	case errors.As(err, &he):
		return fmt.Sprintf("impossible record header: %v", he)
	case errors.Is(err, ncf.ErrTruncated):
		return fmt.Sprintf("stream ended mid-record: %v", err)
	}
	return err.Error()
}
