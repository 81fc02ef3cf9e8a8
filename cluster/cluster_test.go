package cluster_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigil-ids/vigil/alerts"
	"github.com/vigil-ids/vigil/alerts/natsserver"
	"github.com/vigil-ids/vigil/cluster"
	"github.com/vigil-ids/vigil/engine"
	"github.com/vigil-ids/vigil/engine/respond"
	"github.com/vigil-ids/vigil/engine/sensor"
	"github.com/vigil-ids/vigil/ncf"
	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/rules/defaults"
	"github.com/vigil-ids/vigil/tools/gen"
)

var quiet = slog.New(slog.NewTextHandler(logOut(), nil))

func logOut() io.Writer {
	if os.Getenv("VIGIL_TEST_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}

// natsCluster starts three embedded NATS servers routed to each other on
// loopback, with clustered JetStream, and returns their client URLs once
// JetStream has a leader.
func natsCluster(t *testing.T) []string {
	t.Helper()
	ports := make([]string, 3)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = l.Addr().String()
		l.Close()
	}
	var urls []string
	for i := range ports {
		var routes []string
		for j, p := range ports {
			if j != i {
				routes = append(routes, "nats://"+p)
			}
		}
		s, err := natsserver.StartServer(natsserver.ServerConfig{Listen: "127.0.0.1:0", DataDir: t.TempDir(),
			Cluster: natsserver.Cluster{Name: "vigil-test", Node: fmt.Sprintf("n%d", i), Listen: ports[i], Routes: routes}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
		urls = append(urls, s.ClientURL())
	}
	nc := connect(t, urls[0])
	js, _ := jetstream.New(nc)
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := js.AccountInfo(ctx)
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("JetStream cluster not ready: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := alerts.EnsureStream(js, alerts.StreamName, alerts.StreamSubjects(alerts.DefaultPrefix), alerts.DefaultRetention); err != nil {
		t.Fatal(err)
	}
	_ = ctx
	return urls
}

func connect(t *testing.T, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, nats.ReconnectBufSize(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// evaluator is an evaluate-role process: its own connection, engine and
// alert publisher.
type evaluator struct {
	nc     *nats.Conn
	eng    *engine.Engine
	pub    *alerts.Publisher
	ev     *cluster.Evaluator
	cancel context.CancelFunc
	done   chan struct{}
}

func startEvaluator(t *testing.T, url string, set *rules.Set, name string, claimTTL time.Duration) *evaluator {
	t.Helper()
	nc := connect(t, url)
	pub, err := alerts.NewPublisher(alerts.PublisherConfig{Conn: nc, JetStream: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(engine.Config{Rules: set, Sink: pub, Workers: 2, Logger: quiet, Stateful: uncapped})
	if err != nil {
		t.Fatal(err)
	}
	eng.Start()
	ev, err := cluster.NewEvaluator(cluster.EvaluatorConfig{Conn: nc, Engine: eng, Name: name, ClaimTTL: claimTTL, Logger: quiet,
		Pending: func() uint64 { return pub.Stats().Pending }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &evaluator{nc: nc, eng: eng, pub: pub, ev: ev, cancel: cancel, done: make(chan struct{})}
	go func() { defer close(e.done); ev.Run(ctx) }()
	t.Cleanup(func() {
		if !e.nc.IsClosed() {
			e.stop()
		}
	})
	return e
}

// stop is a clean shutdown: partitions given up, alerts flushed.
func (e *evaluator) stop() {
	e.cancel()
	<-e.done
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e.eng.Stop(ctx)
	e.pub.Close(ctx)
}

// ingest is an ingest-role process listening for sensors on loopback.
type ingest struct {
	in   *cluster.Ingest
	srv  *sensor.Server
	addr string
}

func startIngest(t *testing.T, url string) *ingest {
	t.Helper()
	nc := connect(t, url)
	in, err := cluster.NewIngest(cluster.IngestConfig{Conn: nc, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	// Every test sensor connects from 127.0.0.1: no cap per address.
	srv, err := sensor.New(sensor.Config{Pipeline: in, Logger: quiet, MaxConnsPerAddr: -1})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go srv.Serve(ctx, l)
	t.Cleanup(func() {
		ctx, c2 := context.WithTimeout(context.Background(), 10*time.Second)
		defer c2()
		srv.Shutdown(ctx)
		in.Close(ctx)
		cancel()
	})
	return &ingest{in: in, srv: srv, addr: l.Addr().String()}
}

// sensor is one CommView sensor connection to the ingest process.
type sensorConn struct {
	c        *net.TCPConn
	injected chan int // frames injected, once the connection ended
}

// send streams one capture to the ingest process as a CommView sensor
// does, and counts the frames Vigil injects back until the connection
// ends (end).
func (g *ingest) send(t *testing.T, stream []byte) *sensorConn {
	t.Helper()
	c, err := net.Dial("tcp", g.addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &sensorConn{c: c.(*net.TCPConn), injected: make(chan int, 1)}
	go func() {
		r, n := ncf.NewInjectionReader(c), 0
		for _, err := r.Next(); err == nil; _, err = r.Next() {
			n++
		}
		s.injected <- n
	}()
	if _, err := c.Write(stream); err != nil {
		t.Fatal(err)
	}
	return s
}

// end closes the sensor's side and returns the frames injected into it.
func (s *sensorConn) end() int {
	s.c.CloseWrite()
	n := <-s.injected
	s.c.Close()
	return n
}

// generated is cfg's traffic as an NCF stream (gen.WriteFile).
func generated(tb testing.TB, cfg gen.Config) []byte {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "gen.ncf")
	if _, err := gen.WriteFile(path, cfg); err != nil {
		tb.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// traffic is the test input: generated traffic with attacks, then every
// NCF capture of testdata, each one sensor connection.
func traffic(t *testing.T, packets int) [][]byte {
	t.Helper()
	out := [][]byte{generated(t, gen.Config{Packets: packets, Seed: 11, HitRate: 0.02})}
	files, _ := filepath.Glob("../testdata/captures/*.ncf")
	if len(files) == 0 {
		t.Fatal("no captures in testdata/captures")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// ruleSet is the built-in rules (stream, application-layer and threshold
// rules among them), 100 generated content rules and a rule that resets
// the flows of generated attacks.
func ruleSet(t *testing.T) *rules.Set {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gen.yaml")
	reset := `
  - sid: 9000001
    name: reset SQL injection
    condition: 'payload contains "union%20select"'
    actions: [reset]
`
	if err := os.WriteFile(path, []byte(gen.Rules(100, 42)+reset), 0o600); err != nil {
		t.Fatal(err)
	}
	set, err := defaults.Load(true, path)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// uncapped lifts the global response rate cap, which each evaluator
// applies to its own share (package doc), so every reset is sent.
var uncapped = engine.StatefulConfig{Respond: respond.Policy{GlobalRate: 1e6, Burst: 1e6}}

// idSink keeps alert IDs.
type idSink struct {
	mu  sync.Mutex
	ids []string
}

func (s *idSink) Publish(a *alerts.Alert) {
	s.mu.Lock()
	s.ids = append(s.ids, a.ID)
	s.mu.Unlock()
}

// reference is what one process gives: the alert IDs of one engine over
// the connections in order, less their instance part
// ("<source>-<packet>-<sid>"), and the response frames it sends.
func reference(t *testing.T, set *rules.Set, streams [][]byte) ([]string, uint64) {
	t.Helper()
	sink := &idSink{}
	e, err := engine.New(engine.Config{Rules: set, Sink: sink, Workers: 1, Logger: quiet, Stateful: uncapped})
	if err != nil {
		t.Fatal(err)
	}
	e.Start()
	for i, s := range streams {
		src := e.NewSource(engine.SourceConfig{Name: fmt.Sprint(i)})
		r := ncf.NewReader(bytes.NewReader(s), ncf.ReaderConfig{})
		for {
			rec, err := r.Next()
			if err != nil {
				break
			}
			src.Push(rec)
		}
		src.Close()
	}
	e.Stop(context.Background())
	return withoutInstance(sink.ids), e.Stats().Responses.Sent
}

func withoutInstance(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		_, out[i], _ = strings.Cut(id, "-")
	}
	slices.Sort(out)
	return out
}

// stored reads every alert of the alert stream: the IDs, less their
// instance part, and the number of messages.
func stored(t *testing.T, url string) []string {
	t.Helper()
	nc := connect(t, url)
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, alerts.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	want := int(st.CachedInfo().State.Msgs)
	cons, err := js.OrderedConsumer(ctx, alerts.StreamName, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for len(ids) < want {
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			ids = append(ids, m.Headers().Get(jetstream.MsgIDHeader))
		}
		if ctx.Err() != nil {
			t.Fatalf("read %d of the %d stored alerts", len(ids), want)
		}
	}
	return withoutInstance(ids)
}

// settle waits until the ingest process's batches are all stored and the
// evaluators have acknowledged every one (the work queue is empty: their
// packets evaluated, their alerts stored).
func settle(t *testing.T, url string, g *ingest, evs ...*evaluator) {
	t.Helper()
	js, _ := jetstream.New(connect(t, url))
	deadline := time.Now().Add(2 * time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		st, err := js.Stream(ctx, cluster.PacketStream)
		cancel()
		if in := g.in.Stats(); err == nil && st.CachedInfo().State.Msgs == 0 && in.Batches > 0 && in.Pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, e := range evs {
				t.Logf("evaluator %+v", e.ev.Stats())
			}
			t.Fatalf("not settled: ingest %+v, stream %v", g.in.Stats(), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// balanced waits until the evaluators own every partition between them,
// none more than its fair share.
func balanced(t *testing.T, evs ...*evaluator) {
	t.Helper()
	fair := (cluster.DefaultPartitions + len(evs) - 1) / len(evs)
	deadline := time.Now().Add(30 * time.Second)
	for {
		total, ok := 0, true
		for _, e := range evs {
			n := len(e.ev.Stats().Partitions)
			total += n
			ok = ok && n <= fair
		}
		if ok && total == cluster.DefaultPartitions {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("partitions not balanced: %d owned", total)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// diff counts the IDs of want missing from got and those of got not in
// want (both sorted; got may repeat one).
func diff(want, got []string) (missing, extra []string) {
	i, j := 0, 0
	for i < len(want) || j < len(got) {
		switch {
		case j == len(got) || (i < len(want) && want[i] < got[j]):
			missing = append(missing, want[i])
			i++
		case i == len(want) || got[j] < want[i]:
			extra = append(extra, got[j])
			j++
		default:
			i++
			j++
		}
	}
	return missing, extra
}

// compare fails the test on any difference between want and got, except
// in the alerts of rules whose thresholds or de-duplication count across
// hosts (by_src, by_dst, by_rule): each evaluator counts only the address
// pairs of its partitions (package doc). Those differences are logged.
func compare(t *testing.T, set *rules.Set, want, got []string) {
	t.Helper()
	missing, extra := diff(want, got)
	var crossMissing, crossExtra int
	for _, l := range []struct {
		ids   []string
		cross *int
		what  string
	}{{missing, &crossMissing, "missing"}, {extra, &crossExtra, "extra"}} {
		for _, id := range l.ids {
			if crossHost(set, id) {
				*l.cross++
				continue
			}
			t.Errorf("alert %s %s", id, l.what)
		}
	}
	t.Logf("rules counting across hosts: %d alerts missing, %d extra", crossMissing, crossExtra)
}

// crossHost says whether the alert ID's rule tracks a threshold or
// de-duplication by source, destination or rule.
func crossHost(set *rules.Set, id string) bool {
	var sid int
	fmt.Sscanf(id[strings.LastIndexByte(id, '-')+1:], "%d", &sid)
	r := set.BySID(sid)
	cross := func(tr rules.Track) bool { return tr == rules.BySrc || tr == rules.ByDst || tr == rules.ByRule }
	return r != nil && ((r.Threshold != nil && cross(r.Threshold.Track)) || (r.Dedup != nil && cross(r.Dedup.Track)))
}

// TestSameAlerts: a capture replayed through one ingest process and
// three evaluators over a three-node NATS cluster gives exactly the
// alerts of one process (IDs name the connection, packet and rule).
// steady is the claim TTL of the evaluators of TestSameAlerts: long
// enough that no partition moves when a loaded machine delays their
// renewals. (A partition that moves mid-replay picks its flows up anew,
// as the package doc says, and may then answer more of them.)
const steady = time.Minute

func TestSameAlerts(t *testing.T) {
	urls := natsCluster(t)
	set := ruleSet(t)
	streams := traffic(t, 30000)
	want, resets := reference(t, set, streams)
	if len(want) < 100 || resets == 0 {
		t.Fatalf("only %d reference alerts and %d reset frames: the test needs more", len(want), resets)
	}
	g := startIngest(t, urls[0])
	evs := []*evaluator{
		startEvaluator(t, urls[0], set, "a", steady), startEvaluator(t, urls[1], set, "b", steady), startEvaluator(t, urls[2], set, "c", steady),
	}
	balanced(t, evs...)
	var conns []*sensorConn
	for _, s := range streams {
		conns = append(conns, g.send(t, s))
	}
	settle(t, urls[0], g, evs...)
	injected := 0
	for _, c := range conns {
		injected += c.end()
	}
	if uint64(injected) != resets {
		t.Errorf("%d reset frames reached the sensors, want %d", injected, resets)
	}
	got := stored(t, urls[1])
	t.Logf("%d alerts (%d in one process) from %d packets; evaluators: %d, %d, %d packets", len(got), len(want), g.in.Stats().Packets,
		evs[0].ev.Stats().Packets, evs[1].ev.Stats().Packets, evs[2].ev.Stats().Packets)
	compare(t, set, want, got)
	for _, e := range evs {
		if e.ev.Stats().Packets == 0 {
			t.Errorf("evaluator %s evaluated nothing", e.ev.Stats().Name)
		}
	}
}

// kill stops an evaluator as a crash would: its connection goes, nothing
// it took is acknowledged, its claims are not given up.
func (e *evaluator) kill() {
	e.nc.Close()
}

// TestEvaluatorLost: one of three evaluators dies mid-replay; its
// partitions move to the other two once its claims expire, the batches
// it had not acknowledged are evaluated again there, and the alerts it
// had already stored are not stored twice (Nats-Msg-Id).
func TestEvaluatorLost(t *testing.T) {
	urls := natsCluster(t)
	set := ruleSet(t)
	streams := traffic(t, 120000)
	want, _ := reference(t, set, streams)
	g := startIngest(t, urls[0])
	a, b := startEvaluator(t, urls[0], set, "a", 0), startEvaluator(t, urls[1], set, "b", 0)
	victim := startEvaluator(t, urls[2], set, "victim", 0)
	balanced(t, a, b, victim)
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for _, s := range streams {
			g.send(t, s).end()
		}
	}()
	for victim.ev.Stats().Packets < 10000 {
		time.Sleep(time.Millisecond)
	}
	took := victim.ev.Stats()
	victim.kill()
	<-sent
	balanced(t, a, b) // the victim's claims expired and moved
	settle(t, urls[0], g, a, b)
	got := stored(t, urls[1])
	t.Logf("the victim evaluated %d packets of its %d partitions before it died; %d alerts stored, %d in one process",
		took.Packets, len(took.Partitions), len(got), len(want))
	compare(t, set, want, got)
}
