package alerts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigil-ids/vigil/alerts/natsserver"
)

// outageDuration is how long the NATS server stays down in the outage test.
const outageDuration = 3 * time.Second

var quiet = slog.New(slog.DiscardHandler)

func startEmbedded(t testing.TB, listen, dir string) *server.Server {
	t.Helper()
	s, err := natsserver.StartServer(natsserver.ServerConfig{Listen: listen, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// connect dials url with the options PublisherConfig recommends.
func connect(t testing.TB, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url,
		nats.MaxReconnects(-1),
		nats.ReconnectWait(50*time.Millisecond),
		nats.RetryOnFailedConnect(true),
		nats.ReconnectBufSize(-1),
		nats.ReconnectJitter(0, 0),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func ensureStream(t testing.TB, nc *nats.Conn) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := EnsureStream(js, StreamName, StreamSubjects(""), DefaultRetention); err != nil {
		t.Fatal(err)
	}
	return js
}

var sensors = []string{"10.0.0.7:51234", "lab", "[::1]:9"}

func testAlert(i int) *Alert {
	a := sampleAlert()
	a.ID = "t-" + strconv.Itoa(i)
	a.PcapCnt = i
	a.Sensor = sensors[i%len(sensors)]
	a.SID = 1000000 + i%5
	a.SeverityWord, a.Severity = []string{"high", "low"}[i%2], []int{1, 3}[i%2]
	return a
}

type stored struct {
	subject, id string
	alert       *Alert
}

// readStream returns every message of the alert stream in stream order.
func readStream(t testing.TB, js jetstream.JetStream) []stored {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	total := int(info.State.Msgs)
	var out []stored
	if total == 0 {
		return out
	}
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for len(out) < total {
		batch, err := cons.Fetch(min(1000, total-len(out)), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			a, err := Decode(m.Data())
			if err != nil {
				t.Fatalf("stored message %s: %v", m.Data(), err)
			}
			out = append(out, stored{m.Subject(), m.Headers().Get(nats.MsgIdHdr), a})
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatalf("fetch returned nothing after %d of %d messages", len(out), total)
		}
	}
	return out
}

// checkExactlyOnce asserts the stream holds alerts t-0..t-(n-1) once each
// with correct subjects and headers, and reports the order.
func checkExactlyOnce(t *testing.T, msgs []stored, n int) {
	t.Helper()
	if len(msgs) != n {
		t.Errorf("stream holds %d messages, want %d", len(msgs), n)
	}
	seen := make(map[string]bool, len(msgs))
	outOfOrder := 0
	last := make(map[string]int)
	for _, m := range msgs {
		if seen[m.id] {
			t.Errorf("duplicate Nats-Msg-Id %s", m.id)
		}
		seen[m.id] = true
		if m.alert.ID != m.id {
			t.Errorf("header id %q, body id %q", m.id, m.alert.ID)
		}
		i, err := strconv.Atoi(m.id[2:])
		if err != nil {
			t.Fatalf("unexpected id %q", m.id)
		}
		want := testAlert(i)
		if ws := Subject("", want.Sensor, want.SeverityWord, want.SID); m.subject != ws {
			t.Errorf("id %s on subject %s, want %s", m.id, m.subject, ws)
		}
		if m.alert.PcapCnt != i {
			t.Errorf("id %s carries pcap_cnt %d", m.id, m.alert.PcapCnt)
		}
		if i < last[m.subject] {
			outOfOrder++
		}
		last[m.subject] = i
	}
	for i := range n {
		if id := "t-" + strconv.Itoa(i); !seen[id] {
			t.Errorf("alert %s missing from the stream", id)
		}
	}
	t.Logf("%d messages, %d out of order within their subject", len(msgs), outOfOrder)
}

func closePublisher(t *testing.T, p *Publisher, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		t.Fatalf("Close: %v (stats %+v)", err, p.Stats())
	}
}

func TestPublishJetStreamEmbedded(t *testing.T) {
	s := startEmbedded(t, "127.0.0.1:0", t.TempDir())
	defer s.Shutdown()
	nc := connect(t, s.ClientURL())
	js := ensureStream(t, nc)
	p, err := NewPublisher(PublisherConfig{Conn: nc, JetStream: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	const n = 2000
	for i := range n {
		p.Publish(testAlert(i))
	}
	// The same alert twice (a retry by the producer): JetStream keeps one.
	p.Publish(testAlert(0))
	closePublisher(t, p, 20*time.Second)
	st := p.Stats()
	if st.Published != n+1 || st.Acked != n+1 || st.Pending != 0 || st.Dropped != 0 {
		t.Errorf("stats %+v, want %d published and acked", st, n+1)
	}
	msgs := readStream(t, js)
	checkExactlyOnce(t, msgs, n)
	for i, m := range msgs {
		if m.id != "t-"+strconv.Itoa(i) {
			t.Fatalf("message %d is %s: order not kept without failures", i, m.id)
		}
	}
}

func TestPublishDropsAlertWithoutID(t *testing.T) {
	s := startEmbedded(t, "127.0.0.1:0", t.TempDir())
	defer s.Shutdown()
	nc := connect(t, s.ClientURL())
	sub, err := nc.SubscribeSync(DefaultPrefix + ".>")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	p, err := NewPublisher(PublisherConfig{Conn: nc, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	noID := testAlert(0)
	noID.ID = ""
	p.Publish(noID)
	p.Publish(testAlert(1))
	closePublisher(t, p, 10*time.Second)
	m, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if id := m.Header.Get(nats.MsgIdHdr); id != "t-1" {
		t.Errorf("first message has id %q, want t-1", id)
	}
	if m, err := sub.NextMsg(200 * time.Millisecond); err == nil {
		t.Errorf("unexpected message %s", m.Data)
	}
	if st := p.Stats(); st.Published != 1 || st.Dropped != 1 || st.Pending != 0 {
		t.Errorf("stats %+v, want 1 published and 1 dropped", st)
	}
}

func TestSpillWhileServerDown(t *testing.T) {
	dir := t.TempDir()
	s := startEmbedded(t, "127.0.0.1:0", filepath.Join(dir, "js"))
	addr := s.Addr().String()
	nc := connect(t, s.ClientURL())
	ensureStream(t, nc)
	p, err := NewPublisher(PublisherConfig{Conn: nc, JetStream: true, DataDir: filepath.Join(dir, "spill"), MemoryLimit: 10, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	stopEmbedded(t, s, nc)
	const n = 500
	for i := range n {
		p.Publish(testAlert(i))
	}
	st := p.Stats()
	if st.Spilled != n-10 || st.Pending != n || st.Dropped != 0 {
		t.Fatalf("while down: stats %+v, want %d spilled, %d pending", st, n-10, n)
	}
	s = startEmbedded(t, addr, filepath.Join(dir, "js"))
	defer s.Shutdown()
	closePublisher(t, p, 20*time.Second)
	if st := p.Stats(); st.Pending != 0 || st.Dropped != 0 {
		t.Errorf("after close: stats %+v", st)
	}
	js, _ := jetstream.New(nc)
	checkExactlyOnce(t, readStream(t, js), n)
	if left := segmentFiles(t, filepath.Join(dir, "spill")); len(left) != 0 {
		t.Errorf("segments left after delivery: %v", left)
	}
}

// stopEmbedded shuts s down and waits until nc has noticed.
func stopEmbedded(t *testing.T, s *server.Server, nc *nats.Conn) {
	t.Helper()
	s.Shutdown()
	s.WaitForShutdown()
	deadline := time.Now().Add(10 * time.Second)
	for nc.IsConnected() {
		if time.Now().After(deadline) {
			t.Fatal("client still connected after server shutdown")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func segmentFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+segmentExt))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSpillSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	spill := filepath.Join(dir, "spill")
	s := startEmbedded(t, "127.0.0.1:0", filepath.Join(dir, "js"))
	addr := s.Addr().String()
	nc := connect(t, s.ClientURL())
	ensureStream(t, nc)
	stopEmbedded(t, s, nc)

	p, err := NewPublisher(PublisherConfig{Conn: nc, JetStream: true, DataDir: spill, MemoryLimit: 10, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	for i := range n {
		p.Publish(testAlert(i))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	err = p.Close(ctx)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close with NATS down = %v, want deadline exceeded", err)
	}
	if st := p.Stats(); st.Dropped != 0 || st.Pending != n {
		t.Fatalf("after close: stats %+v, want %d pending on disk", st, n)
	}
	p.Publish(testAlert(n)) // after Close: dropped, counted
	if st := p.Stats(); st.Dropped != 1 {
		t.Errorf("Publish after Close: Dropped %d, want 1", st.Dropped)
	}
	if len(segmentFiles(t, spill)) == 0 {
		t.Fatal("no segment left on disk")
	}

	s = startEmbedded(t, addr, filepath.Join(dir, "js"))
	defer s.Shutdown()
	p2, err := NewPublisher(PublisherConfig{Conn: nc, JetStream: true, DataDir: spill, MemoryLimit: 10, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	closePublisher(t, p2, 20*time.Second)
	js, _ := jetstream.New(nc)
	msgs := readStream(t, js)
	checkExactlyOnce(t, msgs, n)
	for i, m := range msgs {
		if m.id != "t-"+strconv.Itoa(i) {
			t.Fatalf("message %d is %s: restart lost the order", i, m.id)
		}
	}
	if left := segmentFiles(t, spill); len(left) != 0 {
		t.Errorf("segments left after delivery: %v", left)
	}
}

func TestDroppedWhenLimitsExhausted(t *testing.T) {
	s := startEmbedded(t, "127.0.0.1:0", t.TempDir())
	nc := connect(t, s.ClientURL())
	stopEmbedded(t, s, nc)
	size := recordSize(&record{subject: Subject("", testAlert(0).Sensor, "high", 1000000), id: "t-0", data: testAlert(0).AppendJSON(nil)})
	cases := []struct {
		name        string
		dataDir     bool
		diskLimit   int64
		wantSpilled uint64
	}{
		{"no spill folder", false, 0, 0},
		{"disk full", true, 5*size + size/2, 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := PublisherConfig{Conn: nc, JetStream: true, MemoryLimit: 5, DiskLimit: tc.diskLimit, Logger: quiet}
			if tc.dataDir {
				cfg.DataDir = t.TempDir()
			}
			p, err := NewPublisher(cfg)
			if err != nil {
				t.Fatal(err)
			}
			const n = 20
			for i := range n {
				p.Publish(testAlert(i))
			}
			st := p.Stats()
			wantDropped := n - 5 - tc.wantSpilled
			if st.Dropped != wantDropped || st.Spilled != tc.wantSpilled || st.Pending != 5+tc.wantSpilled {
				t.Errorf("stats %+v, want dropped %d spilled %d pending %d", st, wantDropped, tc.wantSpilled, 5+tc.wantSpilled)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			_ = p.Close(ctx)
		})
	}
}

// freePort returns a TCP port free on 127.0.0.1 at the time of the call.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// natsProcess runs the nats-server binary with JetStream on port and dir.
func natsProcess(t *testing.T, bin string, port int, dir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, "-js", "-sd", dir, "-a", "127.0.0.1", "-p", strconv.Itoa(port))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 100*time.Millisecond)
		if err == nil {
			c.Close()
			return cmd
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("nats-server did not start on port %d: %v", port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func stopProcess(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// TestOutageSeparateServer kills a real nats-server process while alerts
// flow and restarts it: every alert must land in the stream exactly once.
func TestOutageSeparateServer(t *testing.T) {
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		t.Skip("nats-server binary not installed")
	}
	dir := t.TempDir()
	port := freePort(t)
	cmd := natsProcess(t, bin, port, filepath.Join(dir, "js"))
	defer func() { stopProcess(t, cmd) }()
	nc := connect(t, fmt.Sprintf("nats://127.0.0.1:%d", port))
	js := ensureStream(t, nc)
	p, err := NewPublisher(PublisherConfig{Conn: nc, JetStream: true, DataDir: filepath.Join(dir, "spill"),
		MemoryLimit: 1000, MaxInFlight: 256, AckTimeout: 2 * time.Second, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}

	const n = 6000 // at ~1000 alerts/s, before, during and after the outage
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for i := 0; i < n; {
			<-tick.C
			for k := 0; k < 10 && i < n; k++ {
				p.Publish(testAlert(i))
				i++
			}
		}
	}()
	time.Sleep(time.Second)
	stopProcess(t, cmd)
	time.Sleep(outageDuration)
	down := p.Stats()
	cmd = natsProcess(t, bin, port, filepath.Join(dir, "js"))
	wg.Wait()
	closePublisher(t, p, 30*time.Second)
	st := p.Stats()
	t.Logf("during outage: %+v; final: %+v", down, st)
	if down.Pending == 0 {
		t.Errorf("nothing pending during the outage: the outage was not observed")
	}
	if st.Dropped != 0 || st.Pending != 0 {
		t.Errorf("final stats %+v", st)
	}
	checkExactlyOnce(t, readStream(t, js), n)
}

func TestNewPublisherErrors(t *testing.T) {
	if _, err := NewPublisher(PublisherConfig{}); !errors.Is(err, ErrNoConn) {
		t.Errorf("no conn: %v", err)
	}
	s := startEmbedded(t, "127.0.0.1:0", t.TempDir())
	defer s.Shutdown()
	nc := connect(t, s.ClientURL())
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewPublisher(PublisherConfig{Conn: nc, DataDir: filepath.Join(file, "sub")}); err == nil {
		t.Errorf("spill folder under a file: no error")
	}
}

func TestPublishEvent(t *testing.T) {
	s := startEmbedded(t, "127.0.0.1:0", t.TempDir())
	defer s.Shutdown()
	nc := connect(t, s.ClientURL())
	sub, err := nc.SubscribeSync("vigil.stats")
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPublisher(PublisherConfig{Conn: nc, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	body, _ := json.Marshal(map[string]int{"packets": 1})
	p.PublishEvent("vigil.stats", body)
	m, err := sub.NextMsg(5 * time.Second)
	if err != nil || string(m.Data) != string(body) {
		t.Fatalf("event: %v %v", err, m)
	}
	p.PublishEvent("", body) // invalid subject
	if st := p.Stats(); st.EventErrors != 1 {
		t.Errorf("EventErrors %d, want 1", st.EventErrors)
	}
}
