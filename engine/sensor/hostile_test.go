package sensor_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-ids/vigil/engine"
	"github.com/vigil-ids/vigil/engine/respond"
	"github.com/vigil-ids/vigil/engine/sensor"
	"github.com/vigil-ids/vigil/ncf"
)

// Short deadlines keep these tests fast.
const (
	idle   = 300 * time.Millisecond
	record = 300 * time.Millisecond
	write  = 300 * time.Millisecond
	// slack is what a drop may take past its deadline on a busy machine.
	slack = 2 * time.Second
)

func hostileConfig() sensor.Config {
	return sensor.Config{IdleTimeout: idle, RecordTimeout: record, WriteTimeout: write}
}

// logBuffer collects log lines; it is safe for concurrent use.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) lines(substr string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range strings.Split(l.b.String(), "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return out
}

// dial connects to addr.
func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitDropped waits until the server counts n drops for reason and no
// sensor is connected, and returns how long that took.
func waitDropped(t *testing.T, srv *sensor.Server, reason string, n uint64, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		st := srv.Stats()
		if st.Dropped[reason] >= n && len(st.Sensors) == 0 {
			if st.Dropped[reason] != n {
				t.Errorf("%d connections dropped for %s, want %d", st.Dropped[reason], reason, n)
			}
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("after %v: %+v; want %d dropped for %s and none connected", within, st, n, reason)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// realSensor streams sv-telnet as a CommView sensor would and checks that
// its SYN raises an alert.
func realSensor(t *testing.T, addr string, sink alertSink) {
	t.Helper()
	c := dial(t, addr)
	if _, err := c.Write(telnetNCF(t)); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(5 * time.Second)
	for {
		select {
		case a := <-sink:
			if a.Sensor == c.LocalAddr().String() {
				return
			}
		case <-deadline:
			t.Fatal("a real sensor got no alert")
		}
	}
}

// TestHostileStreams: random bytes, a record header announcing 65,535
// bytes that never come, and a header trickled one byte every 100 ms are
// each dropped for their reason within the deadline, and a real sensor
// still gets its alerts.
func TestHostileStreams(t *testing.T) {
	header := make([]byte, ncf.HeaderLen)
	binary.LittleEndian.PutUint16(header, 65535)
	binary.LittleEndian.PutUint16(header[2:], 65535)
	binary.LittleEndian.PutUint16(header[5:], 2026)
	header[7], header[8] = 1, 1
	random := make([]byte, 4096)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	tests := []struct {
		name   string
		send   func(c net.Conn)
		reason string
		within time.Duration
	}{
		{"random bytes", func(c net.Conn) { c.Write(random) }, sensor.DroppedBadHeader, slack},
		{"header then stall", func(c net.Conn) { c.Write(header) }, sensor.DroppedRecordTimeout, record + slack},
		{"a byte every 100 ms", func(c net.Conn) {
			for _, b := range header {
				if _, err := c.Write([]byte{b}); err != nil {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		}, sensor.DroppedRecordTimeout, record + slack},
		{"nothing", func(net.Conn) {}, sensor.DroppedIdle, idle + slack},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, sink, srv := server(t, synRule, hostileConfig())
			c := dial(t, addr)
			go tt.send(c)
			took := waitDropped(t, srv, tt.reason, 1, tt.within)
			t.Logf("dropped after %v", took)
			c.SetReadDeadline(time.Now().Add(slack))
			// Closed: an end of stream, or a reset when bytes the sensor
			// sent after the last read were still unread.
			if _, err := io.Copy(io.Discard, c); err != nil && !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("the connection was not closed: %v", err)
			}
			realSensor(t, addr, sink)
		})
	}
}

// TestOverTheCap: 1,000 connections beyond the cap are refused and
// counted, their refusals logged a few lines at once and then one a second
// with the number held back, and the sensor already connected keeps
// getting alerts.
func TestOverTheCap(t *testing.T) {
	logs := &logBuffer{}
	cfg := hostileConfig()
	cfg.MaxConns, cfg.IdleTimeout = 1, time.Minute
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	addr, sink, srv := server(t, synRule, cfg)
	first := dial(t, addr)
	waitFor(t, func() bool { return srv.Stats().Accepted == 1 })
	dialed := uint64(0)
	refuse := func() {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return // the backlog may overflow; what was accepted counts
		}
		dialed++
		c.Close()
	}
	for range 1000 {
		refuse()
	}
	waitFor(t, func() bool { return srv.Stats().Refused[sensor.RefusedFull] == dialed })
	if lines := logs.lines("sensor refused"); len(lines) != 5 {
		t.Errorf("%d refusal lines for %d refusals at once, want 5:\n%s", len(lines), dialed, strings.Join(lines, "\n"))
	}
	time.Sleep(1100 * time.Millisecond)
	refuse()
	// The refusal is counted before it is logged: wait for the line.
	waitFor(t, func() bool { return len(logs.lines("sensor refused")) >= 6 })
	lines := logs.lines("sensor refused")
	if want := fmt.Sprintf("suppressed=%d", dialed-6); len(lines) != 6 || !strings.Contains(lines[5], want) {
		t.Errorf("after a second, %d refusal lines, the last:\n%s\nwant 6, the last with %s", len(lines), lines[len(lines)-1], want)
	}
	if _, err := first.Write(telnetNCF(t)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sink:
	case <-time.After(5 * time.Second):
		t.Fatal("the connected sensor got no alert")
	}
}

// TestIdleConnectionsFreeTheCap: connections that send nothing fill the
// cap only until the idle deadline; then a real sensor gets in.
func TestIdleConnectionsFreeTheCap(t *testing.T) {
	cfg := hostileConfig()
	cfg.MaxConns = 4
	addr, sink, srv := server(t, synRule, cfg)
	for range 4 {
		dial(t, addr)
	}
	waitFor(t, func() bool { return srv.Stats().Accepted == 4 })
	if !closedByServer(t, addr) {
		t.Fatal("a fifth connection was kept beyond the cap")
	}
	took := waitDropped(t, srv, sensor.DroppedIdle, 4, idle+slack)
	t.Logf("idle connections dropped after %v", took)
	realSensor(t, addr, sink)
	if st := srv.Stats(); st.Refused[sensor.RefusedFull] != 1 {
		t.Errorf("stats %+v", st)
	}
}

// resetRule answers every telnet SYN with resets.
const resetRule = `rules:
  - sid: 2
    name: reset telnet syn
    condition: tcp.flags.syn && !tcp.flags.ack && tcp.dstport == 23
    actions: [reset]
`

// synStream is n telnet SYNs of n flows as an NCF stream.
func synStream(n int) []byte {
	var buf bytes.Buffer
	w := ncf.NewWriter(&buf, nil)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		f := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0,
			0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, byte(i >> 8), byte(i), 10, 0, 0, 2,
			0, 0, 0, 23, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xFF, 0xFF, 0, 0, 0, 0}
		binary.BigEndian.PutUint16(f[34:], uint16(1024+i))
		w.Write(&ncf.Header{Time: at.Add(time.Duration(i) * time.Millisecond)}, f)
	}
	w.Flush()
	return buf.Bytes()
}

// smallWrites makes the server's socket buffer small, so a sensor that
// does not read blocks Vigil's writes soon.
type smallWrites struct{ net.Listener }

func (l smallWrites) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4096)
	}
	return c, err
}

// TestSensorThatDoesNotRead: a sensor that never reads the frames Vigil
// injects, whether it keeps its side open or half-closes it, is dropped
// once a write misses its deadline; the frames are counted queued, sent
// and failed apart; a real sensor still gets in (the cap is 1).
func TestSensorThatDoesNotRead(t *testing.T) {
	open := respond.Policy{GlobalRate: 1e9, Burst: 1e9}
	for _, halfClose := range []bool{false, true} {
		name := map[bool]string{false: "open", true: "half-closed"}[halfClose]
		t.Run(name, func(t *testing.T) {
			cfg := hostileConfig()
			cfg.MaxConns, cfg.IdleTimeout = 1, time.Minute
			// Room for every frame, so that more is written than the
			// socket buffers hold whatever the timing: a full queue would
			// drop frames instead and the writes might never block.
			cfg.InjectQueue = 8192
			addr, sink, srv, e := startServer(t, synRule+strings.TrimPrefix(resetRule, "rules:\n"), engine.StatefulConfig{Respond: open}, cfg,
				func(l net.Listener) net.Listener { return smallWrites{l} })
			c := dial(t, addr)
			c.(*net.TCPConn).SetReadBuffer(4096)
			if _, err := c.Write(synStream(3000)); err != nil {
				t.Fatal(err)
			}
			if halfClose {
				c.(*net.TCPConn).CloseWrite()
			}
			took := waitDropped(t, srv, sensor.DroppedWriteTimeout, 1, write+5*slack)
			t.Logf("dropped %v after the last record was sent", took)
			rs := e.Stats().Responses
			if rs.Queued == 0 || rs.Failed == 0 || rs.Sent+rs.Failed != rs.Queued {
				t.Errorf("responses %+v: want frames queued, some failed, and queued = sent + failed", rs)
			}
			for len(sink) > 0 {
				<-sink
			}
			realSensor(t, addr, sink)
		})
	}
}

// TestResponseOutcomes: frames a reading sensor takes are counted sent
// once written, as many as were queued; none fail, and the connection ends
// cleanly when the sensor closes it.
func TestResponseOutcomes(t *testing.T) {
	addr, _, srv, e := startServer(t, resetRule, engine.StatefulConfig{Respond: respond.Policy{GlobalRate: 1e9, Burst: 1e9}}, hostileConfig(), nil)
	c := dial(t, addr)
	got := make(chan int)
	go func() {
		r := ncf.NewInjectionReader(c)
		n := 0
		for _, err := r.Next(); err == nil; _, err = r.Next() {
			n++
		}
		got <- n
	}()
	if _, err := c.Write(synStream(50)); err != nil {
		t.Fatal(err)
	}
	c.(*net.TCPConn).CloseWrite()
	received := <-got
	waitFor(t, func() bool { return srv.Stats().Disconnected == 1 })
	st := srv.Stats()
	rs := e.Stats().Responses
	if len(st.Sensors) != 0 || rs.Queued == 0 || rs.Sent != rs.Queued || rs.Sent != uint64(received) || rs.Failed != 0 || rs.Dropped != 0 {
		t.Errorf("sensor stats %+v, responses %+v, %d frames received", st, rs, received)
	}
}

// dialFrom connects to addr from the local IP address from.
func dialFrom(t *testing.T, from, addr string) (net.Conn, error) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", addr)
	if err == nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, err
}

// TestOneAddressCannotFillTheCap: one host holding its cap of connections
// open and opening 100 more is refused for max_conns_per_address, counted
// and logged under that reason, while a sensor from a second address
// (127.0.0.2) connects and gets its alerts; once one of the first host's
// connections ends, it may open another.
func TestOneAddressCannotFillTheCap(t *testing.T) {
	const perAddr = 4
	logs := &logBuffer{}
	cfg := hostileConfig()
	cfg.MaxConnsPerAddr, cfg.IdleTimeout = perAddr, time.Minute
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	addr, sink, srv := server(t, synRule, cfg)
	var held []net.Conn
	for range perAddr {
		c, err := dialFrom(t, "127.0.0.1", addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	waitFor(t, func() bool { return srv.Stats().Accepted == perAddr })
	refused := uint64(0)
	for range 100 {
		c, err := dialFrom(t, "127.0.0.1", addr)
		if err != nil {
			continue // the backlog may overflow; what was accepted counts
		}
		refused++
		c.Close()
	}
	waitFor(t, func() bool { return srv.Stats().Refused[sensor.RefusedAddrFull] == refused })
	if st := srv.Stats(); st.Accepted != perAddr || st.Refused[sensor.RefusedFull] != 0 || len(st.Sensors) != perAddr {
		t.Errorf("after %d connections over the cap of one address: %+v", refused, st)
	}
	if lines := logs.lines("reason=" + sensor.RefusedAddrFull); len(lines) != 5 {
		t.Errorf("%d refusal lines for %d refusals at once, want 5:\n%s", len(lines), refused, strings.Join(lines, "\n"))
	}

	other, err := dialFrom(t, "127.0.0.2", addr)
	if err != nil {
		t.Skipf("no second loopback address: %v", err)
	}
	if _, err := other.Write(telnetNCF(t)); err != nil {
		t.Fatal(err)
	}
	select {
	case a := <-sink:
		if a.Sensor != other.LocalAddr().String() {
			t.Fatalf("an alert from %s, want from %s", a.Sensor, other.LocalAddr())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the sensor of the second address got no alert")
	}
	if st := srv.Stats(); st.Accepted != perAddr+1 {
		t.Errorf("the second address was not admitted: %+v", st)
	}

	held[0].Close()
	waitFor(t, func() bool { return len(srv.Stats().Sensors) == perAddr })
	again, err := dialFrom(t, "127.0.0.1", addr)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return srv.Stats().Accepted == perAddr+2 })
	if n := srv.Stats().Refused[sensor.RefusedAddrFull]; n != refused {
		t.Errorf("%d refused after a slot of the first address was freed, want %d", n, refused)
	}
	again.Close()
}
