// Package replay is a CommView stand-in: it connects to Vigil the way
// CommView's mirror mode does, streams capture files as NCF records, and
// collects the frames Vigil sends back for injection. Like CommView, it
// reconnects when Vigil goes away mid-stream and resumes after the last
// record Vigil's TCP acknowledged.
//
// Of Vigil it imports ncf and capture only.
package replay

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/vigil-ids/vigil/capture"
	"github.com/vigil-ids/vigil/ncf"
)

// Config configures a replay.
type Config struct {
	// Addr is Vigil's sensor address, host:port. Required.
	Addr string
	// Files are the captures to stream, in order.
	Files []string
	// Rate limits the stream to this many packets per second; 0 is as
	// fast as possible.
	Rate float64
	// Loop streams the files again and again until ctx ends.
	Loop bool
	// Retry is the wait between connection attempts, also after a
	// connection is lost mid-stream (default 15 s, as CommView).
	Retry time.Duration
	// GiveUpAfter ends the replay with an error wrapping ErrGaveUp when,
	// this long after the start or after the last connection that
	// delivered records was lost, no connection has delivered any (none
	// could be made, or each was closed at once); 0 retries for ever, as
	// CommView does.
	GiveUpAfter time.Duration
	// Zone is the zone written into NCF timestamps and used to read NCF
	// inputs (default UTC).
	Zone *time.Location
	// SaveInjected, if not empty, is the capture file (format by
	// extension) every frame Vigil sends back is written to, stamped with
	// the time it arrived, as an outgoing Ethernet record.
	SaveInjected string
	// Linger is how long to wait for injected frames after the last record
	// was sent, before the connection is closed (default 2 s). The wait
	// ends early when Vigil closes its side.
	Linger time.Duration
	// Logger (default slog.Default()).
	Logger *slog.Logger
}

// Stats counts what a replay did.
type Stats struct {
	// Records and Bytes (of frame data) count the records of the stream
	// Vigil received: acknowledged by its TCP on a connection that was
	// lost, written on the last one. A record resent after a reconnect
	// counts once.
	Records int
	Bytes   int64
	// Injected counts the frames Vigil sent back.
	Injected int
	// Attempts counts connection attempts; Connections those that
	// succeeded.
	Attempts, Connections int
}

// ErrGaveUp is wrapped by the error Run returns when Config.GiveUpAfter
// passed without a connection that reached the end of the stream.
var ErrGaveUp = errors.New("replay: gave up")

// Run checks cfg (Addr is host:port, every file opens as a capture) before
// any network action, then connects (retrying every Retry until ctx ends
// or GiveUpAfter passes), streams the files and returns when they are sent
// and the linger time is over. When Vigil closes or drops the connection
// before the end of the stream, Run connects again and resumes after the
// last record Vigil's TCP acknowledged (records it had not acknowledged
// are sent again). The SaveInjected file is created before connecting; an
// error writing it is returned once the replay is over, unless the replay
// itself failed.
func Run(ctx context.Context, cfg Config) (Stats, error) {
	if err := check(&cfg); err != nil {
		return Stats{}, err
	}
	if cfg.SaveInjected == "" {
		return run(ctx, cfg, nil)
	}
	f, err := capture.CreateInjectFile(cfg.SaveInjected, cfg.Zone, cfg.Files...)
	if err != nil {
		return Stats{}, err
	}
	st, err := run(ctx, cfg, func(frame []byte) { f.Inject(frame, time.Now()) })
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return st, err
}

// check validates cfg and fills in its defaults.
func check(cfg *Config) error {
	_, port, err := net.SplitHostPort(cfg.Addr)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 1 || n > 65535 {
		return fmt.Errorf("replay: Vigil's address %q is not HOST:PORT with a port from 1 to 65535 (e.g. 127.0.0.1:5555)", cfg.Addr)
	}
	if cfg.Retry <= 0 {
		cfg.Retry = 15 * time.Second
	}
	if cfg.Zone == nil {
		cfg.Zone = time.UTC
	}
	if cfg.Linger <= 0 {
		cfg.Linger = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	for _, path := range cfg.Files {
		r, err := capture.Open(path, cfg.Zone)
		if err != nil {
			return fmt.Errorf("replay: %w", err)
		}
		r.Close()
	}
	return nil
}

// earlyCloseWait is how long, after the last record is written, a close
// by Vigil counts as a lost connection rather than the end of the replay.
const earlyCloseWait = 50 * time.Millisecond

// errLost marks a connection that ended before the end of the stream.
var errLost = errors.New("connection lost")

// run is Run once cfg is checked, with injected frames handed to save
// (nil: dropped); save is called from one goroutine at a time, and frame
// is valid during the call only.
func run(ctx context.Context, cfg Config, save func(frame []byte)) (Stats, error) {
	var st Stats
	since := time.Now() // the start, or the loss of the last connection that delivered records
	for {
		conn, err := dial(ctx, &cfg, &st, since)
		if err != nil {
			return st, err
		}
		before := st.Records
		err = session(ctx, conn, &cfg, &st, save)
		if !errors.Is(err, errLost) || ctx.Err() != nil {
			return st, err
		}
		if st.Records > before {
			since = time.Now()
		}
		if cfg.GiveUpAfter > 0 && time.Since(since)+cfg.Retry > cfg.GiveUpAfter {
			return st, fmt.Errorf("%w after %v: %w", ErrGaveUp, cfg.GiveUpAfter, err)
		}
		cfg.Logger.Warn("connection lost, reconnecting", "addr", cfg.Addr, "err", err, "resume_at_record", st.Records+1, "retry_in", cfg.Retry)
		if err := wait(ctx, cfg.Retry); err != nil {
			return st, err
		}
	}
}

// dial connects to cfg.Addr, retrying every cfg.Retry, until ctx ends or
// cfg.GiveUpAfter has passed since since.
func dial(ctx context.Context, cfg *Config, st *Stats, since time.Time) (net.Conn, error) {
	for {
		st.Attempts++
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", cfg.Addr)
		if err == nil {
			st.Connections++
			return c, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if cfg.GiveUpAfter > 0 && time.Since(since)+cfg.Retry > cfg.GiveUpAfter {
			return nil, fmt.Errorf("%w after %v: %w", ErrGaveUp, cfg.GiveUpAfter, err)
		}
		cfg.Logger.Warn("connection failed, retrying", "addr", cfg.Addr, "err", err, "retry_in", cfg.Retry)
		if err := wait(ctx, cfg.Retry); err != nil {
			return nil, err
		}
	}
}

func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// session streams the records from st.Records on over conn and closes
// it. It returns nil at the end of the stream, or an error wrapping
// errLost when the connection ended before (st then counts the records
// Vigil acknowledged), or another error.
func session(ctx context.Context, conn net.Conn, cfg *Config, st *Stats, save func([]byte)) error {
	defer conn.Close()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var readErr error
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		defer cancel() // Vigil's side ended: stop streaming
		var n int
		n, readErr = readInjected(conn, save)
		st.Injected += n
	}()

	s := newSender(conn, cfg, st)
	err := s.stream(sctx)
	if err == nil {
		// Vigil ends a connection only after the end of the stream, which
		// it has not seen yet: one that ends now was refused or dropped
		// (its log says why). The wait lets a close already on its way be
		// read.
		select {
		case <-readDone:
			err = errors.New("closed before the end of the stream (refused or dropped: see Vigil's log)")
		case <-time.After(earlyCloseWait):
		}
	}
	if err != nil && ctx.Err() == nil && !errors.Is(err, errRead) {
		s.rewind()
		conn.Close()
		<-readDone
		return fmt.Errorf("replay: %s: %w: %w", cfg.Addr, errLost, err)
	}
	if tc, ok := conn.(*net.TCPConn); ok && err == nil {
		// Half-close: Vigil sees the end of the stream, finishes the
		// packets it holds and may still send responses.
		tc.CloseWrite()
	}
	select {
	case <-readDone:
	case <-time.After(cfg.Linger):
		conn.Close()
		<-readDone
	case <-ctx.Done():
		conn.Close()
		<-readDone
	}
	if err != nil {
		return err
	}
	if readErr != nil && !errors.Is(readErr, net.ErrClosed) {
		return fmt.Errorf("replay: reading injected frames: %w", readErr)
	}
	return nil
}

// errRead marks a capture that could not be read: no reconnect helps.
var errRead = errors.New("reading a capture")

// sender writes records to one connection and keeps, for the records not
// yet known to be acknowledged, where each ends in the connection's
// bytes, so that a lost connection rewinds st to the last acknowledged
// record.
type sender struct {
	conn  net.Conn
	cfg   *Config
	st    *Stats
	bw    *bufio.Writer
	w     *ncf.Writer
	start time.Time // pacing: when record base was due
	base  int       // st.Records at the start of the connection
	wire  int64     // bytes written to the connection
	// pending are the records written but not known acknowledged, in
	// order: their end offsets in the connection and data sizes.
	pending []sent
	acked   int64 // acknowledged bytes seen so far
}

type sent struct {
	end  int64
	size int
}

func newSender(conn net.Conn, cfg *Config, st *Stats) *sender {
	bw := bufio.NewWriterSize(conn, 256<<10)
	return &sender{conn: conn, cfg: cfg, st: st, bw: bw, w: ncf.NewWriter(bw, cfg.Zone), start: time.Now(), base: st.Records}
}

// stream sends the files (again and again with Loop), skipping the
// records before st.Records, which Vigil has.
func (s *sender) stream(ctx context.Context) error {
	pos := 0 // index of the next record of the stream
	for {
		for _, path := range s.cfg.Files {
			if err := s.file(ctx, path, &pos); err != nil {
				// Interrupted, or a later file failed: what was counted as
				// sent must reach Vigil, so the counters on both sides agree.
				s.flush()
				return err
			}
		}
		if !s.cfg.Loop || ctx.Err() != nil {
			break
		}
	}
	return s.flush()
}

func (s *sender) flush() error {
	if err := s.w.Flush(); err != nil {
		return err
	}
	err := s.bw.Flush()
	s.ack()
	return err
}

// ack drops the records the peer has acknowledged from pending.
func (s *sender) ack() {
	if n, ok := ackedBytes(s.conn); ok {
		s.acked = n
	}
	i := 0
	for i < len(s.pending) && s.pending[i].end <= s.acked {
		i++
	}
	s.pending = s.pending[i:]
}

// rewind takes the records not acknowledged off st, after the connection
// was lost.
func (s *sender) rewind() {
	s.ack()
	for _, p := range s.pending {
		s.st.Records--
		s.st.Bytes -= int64(p.size)
	}
	s.pending = nil
}

func (s *sender) file(ctx context.Context, path string, pos *int) error {
	r, err := capture.Open(path, s.cfg.Zone)
	if err != nil {
		return fmt.Errorf("replay: %w: %w", errRead, err)
	}
	defer r.Close()
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("replay: %s: %w: %w", path, errRead, err)
		}
		if *pos++; *pos <= s.st.Records {
			continue // Vigil has it
		}
		if s.cfg.Rate > 0 {
			due := s.start.Add(time.Duration(float64(s.st.Records-s.base) / s.cfg.Rate * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				// Pace: push what is buffered before sleeping.
				if err := s.flush(); err != nil {
					return err
				}
				if err := wait(ctx, d); err != nil {
					return err
				}
			}
		}
		if err := s.w.Write(&rec.Header, rec.Data); err != nil {
			return fmt.Errorf("sending: %w", err)
		}
		s.wire += ncf.HeaderLen + int64(len(rec.Data))
		s.pending = append(s.pending, sent{end: s.wire, size: len(rec.Data)})
		s.st.Records++
		s.st.Bytes += int64(len(rec.Data))
		if s.st.Records%4096 == 0 {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.ack()
		}
	}
}

// readInjected reads framed injections until the connection closes.
func readInjected(conn net.Conn, fn func([]byte)) (int, error) {
	r := ncf.NewInjectionReader(bufio.NewReader(conn))
	n := 0
	for {
		frame, err := r.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return n, nil
			}
			return n, err
		}
		n++
		if fn != nil {
			fn(frame)
		}
	}
}
