// Package replay is a CommView stand-in: it connects to Vigil the way
// CommView's mirror mode does, streams capture files as NCF records, and
// collects the frames Vigil sends back for injection.
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
	"sync"
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
	// Retry is the wait between connection attempts (CommView: 15 s).
	Retry time.Duration
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
	Records  int
	Bytes    int64
	Injected int
	Attempts int
}

// Run connects (retrying every Retry until ctx ends), streams the files and
// returns when they are sent and the linger time is over. The SaveInjected
// file is created before connecting; an error writing it is returned once
// the replay is over, unless the replay itself failed.
func Run(ctx context.Context, cfg Config) (Stats, error) {
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

// run is Run with injected frames handed to save (nil: dropped); save is
// called from one goroutine, and frame is valid during the call only.
// earlyCloseWait is how long, after the last record is written, a close
// by Vigil counts as a refusal rather than the end of the replay.
const earlyCloseWait = 50 * time.Millisecond

func run(ctx context.Context, cfg Config, save func(frame []byte)) (Stats, error) {
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
	var st Stats
	var conn net.Conn
	for {
		st.Attempts++
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", cfg.Addr)
		if err == nil {
			conn = c
			break
		}
		cfg.Logger.Warn("connection failed, retrying", "addr", cfg.Addr, "err", err, "retry_in", cfg.Retry)
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-time.After(cfg.Retry):
		}
	}
	defer conn.Close()

	var wg sync.WaitGroup
	var readErr error
	readDone := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(readDone)
		st.Injected, readErr = readInjected(conn, save)
	}()

	err := stream(ctx, conn, &cfg, &st)
	if err == nil {
		// Vigil ends a connection only after the end of the stream, which
		// it has not seen yet: one that ends now was refused or dropped
		// (its log says why), and what was sent may not have been read.
		// The wait lets a close already on its way be read.
		select {
		case <-readDone:
			err = fmt.Errorf("replay: %s closed the connection before the end of the stream (refused or dropped: see its log); %d records written", cfg.Addr, st.Records)
		case <-time.After(earlyCloseWait):
		}
	}
	if tc, ok := conn.(*net.TCPConn); ok && err == nil {
		// Half-close: Vigil sees the end of the stream, finishes the
		// packets it holds and may still send responses.
		tc.CloseWrite()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(cfg.Linger):
		conn.Close()
		<-done
	case <-ctx.Done():
		conn.Close()
		<-done
	}
	if err != nil {
		return st, err
	}
	if readErr != nil && !errors.Is(readErr, net.ErrClosed) {
		return st, fmt.Errorf("replay: reading injected frames: %w", readErr)
	}
	return st, nil
}

func stream(ctx context.Context, conn net.Conn, cfg *Config, st *Stats) error {
	bw := bufio.NewWriterSize(conn, 256<<10)
	w := ncf.NewWriter(bw, cfg.Zone)
	start := time.Now()
	for {
		for _, path := range cfg.Files {
			if err := streamFile(ctx, path, w, bw, cfg, st, start); err != nil {
				// Interrupted, or a later file failed: what was counted as
				// sent must reach Vigil, so the counters on both sides agree.
				if ferr := w.Flush(); ferr == nil {
					bw.Flush()
				}
				return err
			}
		}
		if !cfg.Loop || ctx.Err() != nil {
			break
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return bw.Flush()
}

func streamFile(ctx context.Context, path string, w *ncf.Writer, bw *bufio.Writer, cfg *Config, st *Stats, start time.Time) error {
	r, err := capture.Open(path, cfg.Zone)
	if err != nil {
		return err
	}
	defer r.Close()
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("replay: %s: %w", path, err)
		}
		if cfg.Rate > 0 {
			due := start.Add(time.Duration(float64(st.Records) / cfg.Rate * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				// Pace: push what is buffered before sleeping.
				if err := w.Flush(); err != nil {
					return err
				}
				if err := bw.Flush(); err != nil {
					return err
				}
				t := time.NewTimer(d)
				select {
				case <-ctx.Done():
					t.Stop()
					return ctx.Err()
				case <-t.C:
				}
			}
		}
		if err := w.Write(&rec.Header, rec.Data); err != nil {
			return fmt.Errorf("replay: sending: %w", err)
		}
		st.Records++
		st.Bytes += int64(len(rec.Data))
		if st.Records%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
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
