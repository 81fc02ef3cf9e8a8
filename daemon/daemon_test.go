package daemon_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/vigil-ids/vigil/alerts"
	"github.com/vigil-ids/vigil/cluster"
	"github.com/vigil-ids/vigil/daemon"
	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/tools/replay"
)

const telnet = "../testdata/captures/sv-telnet.pcap"

// everyPacket alerts once per IP packet.
const everyPacket = `rules:
  - sid: 9100001
    rev: 1
    name: Every IP packet
    severity: info
    condition: ip || ipv6
`

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// lockedBuf is a log the test reads while the daemon writes.
type lockedBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// running is a Daemon serving on 127.0.0.1.
type running struct {
	d       *daemon.Daemon
	listen  string // sensor address
	natsURL string
	reload  chan os.Signal
	log     *lockedBuf
	served  chan error
	cancel  context.CancelFunc
}

// start runs a Daemon with an embedded NATS server on a free port; edit
// adjusts the Config first. The daemon is shut down at the end of the test.
func start(t *testing.T, edit func(*daemon.Config)) *running {
	t.Helper()
	natsPort := freePort(t)
	cfg := daemon.Config{
		NATSListen: fmt.Sprintf("127.0.0.1:%d", natsPort),
		DataDir:    t.TempDir(),
		JetStream:  true,
		Log:        &lockedBuf{},
	}
	if edit != nil {
		edit(&cfg)
	}
	r := &running{natsURL: fmt.Sprintf("nats://127.0.0.1:%d", natsPort), reload: make(chan os.Signal, 1), served: make(chan error, 1)}
	r.log, _ = cfg.Log.(*lockedBuf)
	d, err := daemon.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.d = d
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.listen = l.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.served <- d.Serve(ctx, l, r.reload) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop ends Serve and shuts the daemon down, once.
func (r *running) stop(t *testing.T) {
	t.Helper()
	if r.d == nil {
		return
	}
	r.cancel()
	if err := <-r.served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.d.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	r.d = nil
}

// replayOnce streams a capture to the daemon and returns the records sent.
func replayOnce(t *testing.T, to, file string) int {
	t.Helper()
	st, err := replay.Run(context.Background(), replay.Config{Addr: to, Files: []string{file}, Linger: 200 * time.Millisecond, Retry: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return st.Records
}

// eventually polls cond every 20 ms until it holds or timeout passes.
func eventually(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// subscribe collects the messages on subject.
func subscribe(t *testing.T, url, subject string) chan *nats.Msg {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	ch := make(chan *nats.Msg, 1024)
	if _, err := nc.ChanSubscribe(subject, ch); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return ch
}

// TestMetrics checks the Prometheus endpoint: after a replay, the packet
// counter equals the records sent and per-rule counters are exported; a
// connection over --max-sensors-per-address is refused and counted.
func TestMetrics(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	r := start(t, func(c *daemon.Config) { c.Metrics, c.MaxSensorsPerAddress = addr, 1 })
	// A connection that sends no NCF is dropped and counted.
	junk, err := net.Dial("tcp", r.listen)
	if err != nil {
		t.Fatal(err)
	}
	// While it is open, a second one from its address is over the cap.
	if second, err := net.Dial("tcp", r.listen); err == nil {
		second.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := second.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("a second connection from one address with --max-sensors-per-address 1: %v, want it closed", err)
		}
		second.Close()
	}
	junk.Write([]byte(strings.Repeat("GET / HTTP/1.1\r\n", 4)))
	io.Copy(io.Discard, junk)
	junk.Close()
	sent := replayOnce(t, r.listen, telnet)

	packets := regexp.MustCompile(`(?m)^vigil_packets_total (\S+)$`)
	var body string
	ok := eventually(10*time.Second, func() bool {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		m := packets.FindStringSubmatch(body)
		if m == nil {
			return false
		}
		n, _ := strconv.ParseFloat(m[1], 64)
		return int(n) == sent
	})
	if !ok {
		t.Fatalf("vigil_packets_total never reached %d:\n%s", sent, body)
	}
	for _, want := range []string{`vigil_rule_matches_total{sid="2100201"} 1`, "vigil_alerts_total 3", "vigil_sensors_connected", "vigil_alerts_pending ",
		"vigil_sensor_connections_accepted_total 2", `vigil_sensor_connections_dropped_total{reason="bad_header"} 1`,
		`vigil_sensor_connections_dropped_total{reason="idle"} 0`, `vigil_sensor_connections_refused_total{reason="max_conns"} 0`,
		`vigil_sensor_connections_refused_total{reason="max_conns_per_address"} 1`,
		`vigil_responses_total{outcome="queued"} 0`, `vigil_responses_total{outcome="sent"} 0`, "vigil_records_compressed_total 0",
		"vigil_stream_segments_total ", `vigil_stream_events_total{kind="gap"} `, "vigil_stream_memory_bytes ",
		"vigil_defrag_fragments_total 0", `vigil_defrag_anomalies_total{kind="overlap"} 0`, "vigil_clock_steps_total 0",
		"vigil_flows 1\n", `vigil_flow_events_total{event="created"} 1`, `vigil_flow_events_total{event="evicted"} 0`} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	r.stop(t)
	if _, err := http.Get("http://" + addr + "/metrics"); err == nil {
		t.Error("the metrics endpoint still answers after Shutdown")
	}
}

// TestReloadAndStats: a reload with a broken rule file is refused with
// its file:line:col errors and the old rules keep alerting; a changed file
// is taken and the event lists the sids that came and went; stats count
// every packet.
func TestReloadAndStats(t *testing.T) {
	rulesFile := filepath.Join(t.TempDir(), "rules.yaml")
	write := func(content string) {
		if err := os.WriteFile(rulesFile, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(everyPacket)
	r := start(t, func(c *daemon.Config) {
		c.Rules = []string{rulesFile}
		c.StatsInterval = 50 * time.Millisecond
	})
	reloads := subscribe(t, r.natsURL, daemon.ReloadSubject)
	stats := subscribe(t, r.natsURL, daemon.StatsSubject)
	alerts := subscribe(t, r.natsURL, "vigil.alert.>")

	nextReload := func() daemon.ReloadEvent {
		t.Helper()
		r.reload <- syscall.SIGHUP
		select {
		case m := <-reloads:
			var ev daemon.ReloadEvent
			if err := json.Unmarshal(m.Data, &ev); err != nil {
				t.Fatal(err)
			}
			return ev
		case <-time.After(10 * time.Second):
			t.Fatal("no reload event")
		}
		return daemon.ReloadEvent{}
	}
	write(everyPacket + "    bogus: 1\n")
	ev := nextReload()
	if ev.OK || len(ev.Errors) != 1 || !strings.Contains(ev.Errors[0], "rules.yaml:7:5: ") {
		t.Errorf("broken file: event %+v, want ok=false with a rules.yaml:7:5 error", ev)
	}
	sent := replayOnce(t, r.listen, telnet)
	sids := map[string]int{}
	for range sent {
		select {
		case m := <-alerts:
			sids[m.Subject[strings.LastIndexByte(m.Subject, '.')+1:]]++
		case <-time.After(10 * time.Second):
			t.Fatalf("alerts after the refused reload: %v, want %d for sid 9100001", sids, sent)
		}
	}
	if sids["9100001"] != sent {
		t.Errorf("alerts after the refused reload: %v, want %d for sid 9100001", sids, sent)
	}

	write(strings.ReplaceAll(everyPacket, "9100001", "9100002"))
	ev = nextReload()
	if !ev.OK || ev.Rules != 1 || fmt.Sprint(ev.Added, ev.Removed, ev.Changed) != "[9100002] [9100001] []" || len(ev.Errors) != 0 {
		t.Errorf("changed file: event %+v, want ok, added [9100002], removed [9100001]", ev)
	}
	write(strings.ReplaceAll(strings.ReplaceAll(everyPacket, "9100001", "9100002"), "rev: 1", "rev: 2"))
	if ev = nextReload(); !ev.OK || fmt.Sprint(ev.Added, ev.Removed, ev.Changed) != "[] [] [9100002]" {
		t.Errorf("new rev: event %+v, want sid 9100002 changed", ev)
	}

	var st daemon.Stats
	if !eventually(10*time.Second, func() bool {
		select {
		case m := <-stats:
			if err := json.Unmarshal(m.Data, &st); err != nil {
				t.Fatal(err)
			}
		default:
		}
		// Messages published before the reload may still be queued.
		return st.Engine.Packets == uint64(sent) && len(st.Rules) == 1 && st.Rules[0].SID == 9100002
	}) {
		t.Fatalf("stats count %d packets under rules %+v; the replay sent %d, the rules are sid 9100002", st.Engine.Packets, st.Rules, sent)
	}
	if len(st.Rules) != 1 || st.Rules[0].SID != 9100002 || st.Engine.Alerts != uint64(sent) {
		t.Errorf("stats: rules %+v, %d alerts; want sid 9100002 and %d alerts", st.Rules, st.Engine.Alerts, sent)
	}
}

// TestConsole: with UI set, the console's API serves the alerts of a
// replay from the stream, and the daemon's stats with the last reload
// report and samples for the plots; Shutdown ends its event streams.
func TestConsole(t *testing.T) {
	rulesFile := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(rulesFile, []byte(everyPacket), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	r := start(t, func(c *daemon.Config) {
		c.Rules, c.UI, c.StatsInterval = []string{rulesFile}, addr, 50*time.Millisecond
	})
	url := "http://" + addr
	events, err := http.Get(url + "/api/alerts/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer events.Body.Close()
	sent := replayOnce(t, r.listen, telnet)
	var page struct{ Alerts []json.RawMessage }
	var stats struct {
		Stats  daemon.Stats
		Series []struct{ Packets uint64 }
	}
	getJSON := func(path string, v any) {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	if !eventually(10*time.Second, func() bool {
		getJSON("/api/alerts?limit=5000", &page)
		getJSON("/api/stats", &stats)
		n := len(stats.Series)
		return len(page.Alerts) == sent && n > 0 && stats.Series[n-1].Packets == uint64(sent)
	}) {
		t.Fatalf("console: %d alerts, stats %+v; want %d alerts and samples up to %d packets", len(page.Alerts), stats, sent, sent)
	}
	if st := stats.Stats; st.Reload != nil || len(st.Rules) != 1 || st.Rules[0].Matches != uint64(sent) {
		t.Errorf("stats: reload %+v, rules %+v; want no reload yet, sid 9100001 with %d matches", st.Reload, st.Rules, sent)
	}
	r.reload <- syscall.SIGHUP
	if !eventually(10*time.Second, func() bool {
		getJSON("/api/stats", &stats)
		return stats.Stats.Reload != nil
	}) || !stats.Stats.Reload.OK || stats.Stats.Reload.Rules != 1 {
		t.Errorf("after a reload: %+v, want its report", stats.Stats.Reload)
	}
	r.stop(t)
	if n, err := io.Copy(io.Discard, events.Body); n == 0 || err != nil {
		t.Errorf("event stream: %d bytes, then %v; want the alerts, then its end at shutdown", n, err)
	}
}

// TestLog: the daemon logs its start and, on Shutdown, its final
// counters, as text or as JSON lines.
func TestLog(t *testing.T) {
	for _, asJSON := range []bool{false, true} {
		r := start(t, func(c *daemon.Config) { c.LogJSON = asJSON })
		sent := replayOnce(t, r.listen, telnet)
		r.stop(t)
		log := r.log.String()
		want := []string{`msg="vigil running" listen=` + r.listen + ` rules=`, fmt.Sprintf(`msg="engine stopped" packets=%d alerts=3 drops=0`, sent)}
		if asJSON {
			want = []string{`"msg":"vigil running","listen":"` + r.listen + `","rules":`, fmt.Sprintf(`"msg":"engine stopped","packets":%d,"alerts":3,"drops":0`, sent)}
		}
		for _, w := range want {
			if !strings.Contains(log, w) {
				t.Errorf("json=%v: the log lacks %s:\n%s", asJSON, w, log)
			}
		}
	}
}

// TestShutdownEndsServe: Shutdown while Serve runs makes Serve return and
// closes the sensor listener; Serve after Shutdown returns at once.
func TestShutdownEndsServe(t *testing.T) {
	r := start(t, nil)
	if !eventually(10*time.Second, func() bool { return strings.Contains(r.log.String(), "vigil running") }) {
		t.Fatal("Serve did not start")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.d.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-r.served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve still runs after Shutdown")
	}
	if c, err := net.Dial("tcp", r.listen); err == nil {
		c.Close()
		t.Error("the sensor listener still accepts after Shutdown")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.d.Serve(context.Background(), l, nil); err != nil {
		t.Errorf("Serve after Shutdown: %v", err)
	}
	if c, err := net.Dial("tcp", l.Addr().String()); err == nil {
		c.Close()
		t.Error("Serve after Shutdown left its listener open")
	}
	r.d = nil
}

// TestNewErrors: New reports rule errors as a rules.ErrorList and a bad
// setting by name, and leaves nothing running.
func TestNewErrors(t *testing.T) {
	broken := filepath.Join(t.TempDir(), "broken.yaml")
	if err := os.WriteFile(broken, []byte(everyPacket+"    bogus: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	natsListen := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	for _, tc := range []struct {
		edit func(*daemon.Config)
		want string
	}{
		{func(c *daemon.Config) { c.Rules = []string{broken} }, "broken.yaml:7:5: "},
		{func(c *daemon.Config) { c.TZ = "Mars/Olympus" }, `time zone "Mars/Olympus"`},
		{func(c *daemon.Config) { c.Overload = "shed" }, "overload"},
		{func(c *daemon.Config) { c.Allow = []string{"10.0.0.300"} }, "allow: "},
		{func(c *daemon.Config) { c.Respond.Deny = []string{"x"} }, "respond.deny: "},
		{func(c *daemon.Config) { c.Sensors = []daemon.Sensor{{Address: "lab"}} }, "sensors: address"},
		{func(c *daemon.Config) { c.Metrics = "127.0.0.1:bad" }, "--metrics: "},
		{func(c *daemon.Config) { c.DataDir = "/proc/nope" }, "--data-dir: "},
		{func(c *daemon.Config) { c.JetStream, c.StreamMaxBytes, c.NATSMaxStore = true, 1<<30, 1<<20 }, "--stream-max-bytes (1073741824; 0 or less: no limit) must fit the embedded server's --nats-max-store (1048576)"},
		{func(c *daemon.Config) { c.UI = "0.0.0.0:0" }, "--ui: 0.0.0.0:0 is not a loopback address: set a token (--ui-token)"},
		{func(c *daemon.Config) { c.Role = "relay" }, `--role "relay": want "all", "ingest" or "evaluate"`},
		{func(c *daemon.Config) { c.Role = "ingest" }, "--role ingest needs --jetstream"},
		{func(c *daemon.Config) { c.Role, c.JetStream = "evaluate", true }, "--role evaluate needs --nats"},
	} {
		cfg := daemon.Config{NATSListen: natsListen, DataDir: t.TempDir(), Log: io.Discard}
		tc.edit(&cfg)
		d, err := daemon.New(cfg)
		if d != nil || err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New: %v, want an error with %q", err, tc.want)
		}
		if tc.want == "broken.yaml:7:5: " && !errors.Is(err, rules.ErrInvalid) {
			t.Errorf("rule errors: %T, want a rules.ErrorList", err)
		}
		// What was started (the embedded server, for the metrics case)
		// is stopped: its port is free again.
		l, err := net.Listen("tcp", natsListen)
		if err != nil {
			t.Fatalf("after a failed New: %v", err)
		}
		l.Close()
	}
}

// TestNATSPortTaken: when another server holds the embedded server's
// address, New fails at once with a message naming the address and the
// flags that change it.
func TestNATSPortTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	start := time.Now()
	d, err := daemon.New(daemon.Config{NATSListen: l.Addr().String(), DataDir: t.TempDir(), Log: io.Discard})
	if d != nil || err == nil {
		t.Fatal("New started with its NATS address taken")
	}
	for _, want := range []string{l.Addr().String(), "--nats-listen", "--nats "} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("New took %v to fail", took)
	}
}

// TestLoadConfig: a file overrides the defaults it names and keeps the
// others, its keys spelled as the flags or in snake_case; an unknown key
// is an error naming the file, line and column.
func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "vigil.yaml")
	if err := os.WriteFile(path, []byte("listen: 127.0.0.1:6000\njetstream: false\nrespond:\n  rate: 5\n  per_flow_interval: 2s\nsensors:\n  - {address: 10.0.0.7, name: lab, tz: Europe/Berlin}\n"+
		"sensor-idle-timeout: 45s\nsensor_record_timeout: 2m\nsensor-write-timeout: -1s\n"+
		"reassembly: {depth: 4096, memcap: 8388608}\ndefrag: {memcap: 1048576, timeout: 30s, max-fragments: 64}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := daemon.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	want := daemon.DefaultConfig()
	want.Listen, want.JetStream, want.Respond.Rate, want.Respond.PerFlowInterval = "127.0.0.1:6000", false, 5, 2*time.Second
	want.Sensors = []daemon.Sensor{{Address: "10.0.0.7", Name: "lab", TZ: "Europe/Berlin"}}
	want.SensorIdleTimeout, want.SensorRecordTimeout, want.SensorWriteTimeout = 45*time.Second, 2*time.Minute, -time.Second
	want.Reassembly = daemon.Reassembly{Depth: 4096, Memcap: 8 << 20}
	want.Defrag = daemon.Defrag{Memcap: 1 << 20, Timeout: 30 * time.Second, MaxFragments: 64}
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("LoadConfig:\n got %+v\nwant %+v", got, want)
	}
	if def, err := daemon.LoadConfig(""); err != nil || fmt.Sprintf("%+v", def) != fmt.Sprintf("%+v", daemon.DefaultConfig()) {
		t.Errorf("LoadConfig(\"\") = %+v, %v; want the defaults", def, err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("listen: 127.0.0.1:0\nrespond:\n  dry_runn: true\nlisten_typo: 1\nmax-sensor: 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = daemon.LoadConfig(bad)
	for _, want := range []string{"bad.yaml:3:3: unknown key \"dry_runn\" (did you mean \"dry-run\"?)\n", "bad.yaml:4:1: unknown key \"listen_typo\"\n",
		"bad.yaml:5:1: unknown key \"max-sensor\" (did you mean \"max-sensors\"?)"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("unknown key: %v, want an error holding %q", err, want)
		}
	}
	if err := os.WriteFile(bad, []byte("listen: 127.0.0.1:0\nmax-sensors: many\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := daemon.LoadConfig(bad); err == nil || !strings.HasPrefix(err.Error(), bad+":2: cannot unmarshal !!str `many` into int") {
		t.Errorf("a value of the wrong type: %v, want file:line: and the reason", err)
	}
}

// TestSettings: every flag of `vigil run` is a Config field named by its
// YAML key, and setting it from text reaches the field; a list's first
// Set replaces the file's list, later ones append.
func TestSettings(t *testing.T) {
	cfg := daemon.DefaultConfig()
	cfg.Rules = []string{"from-file.yaml"}
	values := map[string]string{
		"nats-listen": "127.0.0.1:0", "jetstream": "false", "stream-max-age": "1h",
		"stream-max-bytes": "1024", "max-sensors": "3", "max-sensors-per-address": "2", "dry-run": "true", "rules": "a.yaml",
	}
	settings := map[string]bool{}
	for _, s := range cfg.Settings() {
		settings[s.Name] = true
		if v, ok := values[s.Name]; ok {
			if err := s.Value.Set(v); err != nil {
				t.Fatalf("%s: %v", s.Name, err)
			}
		}
		if s.Name == "rules" {
			s.Value.Set("b.yaml")
		}
	}
	for name := range values {
		if !settings[name] {
			t.Errorf("no setting %s", name)
		}
	}
	if settings["sensors"] || settings["respond"] || settings["rate"] {
		t.Errorf("file-only keys became settings: %v", settings)
	}
	if cfg.NATSListen != "127.0.0.1:0" || cfg.JetStream || cfg.StreamMaxAge != time.Hour || cfg.StreamMaxBytes != 1024 ||
		cfg.MaxSensors != 3 || cfg.MaxSensorsPerAddress != 2 || !cfg.Respond.DryRun || strings.Join(cfg.Rules, ",") != "a.yaml,b.yaml" {
		t.Errorf("settings did not reach the config: %+v", cfg)
	}
}

// TestEveLogRotation: alerts go to NATS and to the EVE file; after
// logrotate's rename and a SIGHUP, the next alerts go to a new file at the
// path, and the renamed one is closed at the last alert before it.
func TestEveLogRotation(t *testing.T) {
	dir := t.TempDir()
	rulesFile := filepath.Join(dir, "every.yaml")
	if err := os.WriteFile(rulesFile, []byte(everyPacket), 0o644); err != nil {
		t.Fatal(err)
	}
	eve := filepath.Join(dir, "eve.json")
	r := start(t, func(c *daemon.Config) { c.Rules, c.EveLog = []string{rulesFile}, eve })
	lines := func(path string) int {
		data, _ := os.ReadFile(path)
		return bytes.Count(data, []byte("\n"))
	}
	sent := replayOnce(t, r.listen, telnet)
	if !eventually(10*time.Second, func() bool { return lines(eve) == sent }) {
		t.Fatalf("eve.json has %d lines for %d packets", lines(eve), sent)
	}
	if err := os.Rename(eve, eve+".1"); err != nil {
		t.Fatal(err)
	}
	r.reload <- syscall.SIGHUP
	if !eventually(10*time.Second, func() bool { _, err := os.Stat(eve); return err == nil }) {
		t.Fatal("no new eve.json after SIGHUP")
	}
	sent2 := replayOnce(t, r.listen, telnet)
	if !eventually(10*time.Second, func() bool { return lines(eve) == sent2 }) {
		t.Errorf("the new eve.json has %d lines for %d packets", lines(eve), sent2)
	}
	if n := lines(eve + ".1"); n != sent {
		t.Errorf("the rotated file has %d lines, want %d", n, sent)
	}
}

// TestDataDirLock: a second daemon on the data folder of a running one is
// refused with an error naming the folder and --data-dir, before it starts
// anything; once the first is shut down, the folder is free again.
func TestDataDirLock(t *testing.T) {
	dir := t.TempDir()
	r := start(t, func(c *daemon.Config) { c.DataDir = dir })
	second := daemon.Config{NATSListen: fmt.Sprintf("127.0.0.1:%d", freePort(t)), DataDir: dir, Log: io.Discard}
	_, err := daemon.New(second)
	if err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "--data-dir") {
		t.Fatalf("a second daemon on %s: %v, want an error naming the folder and --data-dir", dir, err)
	}
	r.stop(t)
	d, err := daemon.New(second)
	if err != nil {
		t.Fatalf("after the first stopped: %v", err)
	}
	if err := d.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestWatch: vigil alerts' Watch prints the stored alerts of the subject
// it is given, then the new ones; a bad severity word is refused before
// connecting.
func TestWatch(t *testing.T) {
	dir := t.TempDir()
	rulesFile := filepath.Join(dir, "every.yaml")
	if err := os.WriteFile(rulesFile, []byte(everyPacket), 0o644); err != nil {
		t.Fatal(err)
	}
	r := start(t, func(c *daemon.Config) { c.Rules = []string{rulesFile} })
	sent := replayOnce(t, r.listen, telnet)
	out := &lockedBuf{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- daemon.Watch(ctx, daemon.WatchConfig{URL: r.natsURL, Subject: "vigil.alert.*.info.>", History: alerts.History{All: true}, Out: out, Log: io.Discard})
	}()
	lines := func() int { return strings.Count(out.String(), "\n") }
	if !eventually(10*time.Second, func() bool { return lines() == sent }) {
		t.Fatalf("%d stored alerts printed, want %d", lines(), sent)
	}
	replayOnce(t, r.listen, telnet)
	if !eventually(10*time.Second, func() bool { return lines() == 2*sent }) {
		t.Errorf("%d alerts printed after a second replay, want %d", lines(), 2*sent)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "[info] 9100001:1 Every IP packet ") {
		t.Errorf("not readable lines: %.200s", out.String())
	}
	err := daemon.Watch(context.Background(), daemon.WatchConfig{URL: r.natsURL, Severity: "hgih"})
	if err == nil || !strings.Contains(err.Error(), `unknown severity "hgih" (valid: critical, high, medium, low, info)`) {
		t.Errorf("a bad severity: %v", err)
	}
}

// TestNATSUnreachable: a NATS server that is not there does not stop the
// daemon (alerts wait), but the log says so, naming the URL without its
// password and the flag.
func TestNATSUnreachable(t *testing.T) {
	url := fmt.Sprintf("nats://vigil:secret@127.0.0.1:%d", freePort(t))
	r := start(t, func(c *daemon.Config) { c.NATS = url })
	if !eventually(10*time.Second, func() bool { return strings.Contains(r.log.String(), "vigil running") }) {
		t.Fatal("the daemon did not start")
	}
	log := r.log.String()
	for _, want := range []string{"NATS not reachable", "--nats", "127.0.0.1", "(not connected)"} {
		if !strings.Contains(log, want) {
			t.Errorf("log does not say %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "secret") {
		t.Errorf("log shows the NATS password:\n%s", log)
	}
}

// TestRoles runs `vigil run --role ingest` (with the embedded NATS
// server) and `--role evaluate` as two daemons: a capture replayed to
// the ingest daemon is evaluated by the other, whose alerts reach the
// alert subject, and each role's counters are in its stats and metrics.
func TestRoles(t *testing.T) {
	rulesFile := filepath.Join(t.TempDir(), "every.yaml")
	if err := os.WriteFile(rulesFile, []byte(everyPacket), 0o644); err != nil {
		t.Fatal(err)
	}
	ingest := start(t, func(c *daemon.Config) { c.Role, c.Rules = daemon.RoleIngest, []string{rulesFile} })
	metrics := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	ev, err := daemon.New(daemon.Config{Role: daemon.RoleEvaluate, NATS: ingest.natsURL, JetStream: true, DataDir: t.TempDir(),
		Rules: []string{rulesFile}, Metrics: metrics, Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- ev.Serve(ctx, nil, nil) }()
	defer func() {
		cancel()
		<-served
		ctx, c2 := context.WithTimeout(context.Background(), 30*time.Second)
		defer c2()
		if err := ev.Shutdown(ctx); err != nil {
			t.Errorf("evaluator Shutdown: %v", err)
		}
	}()
	alertsCh := subscribe(t, ingest.natsURL, "vigil.alert.>")
	if !eventually(10*time.Second, func() bool { return len(ev.Stats().Evaluator.Partitions) == cluster.DefaultPartitions }) {
		t.Fatalf("the evaluator owns %d partitions", len(ev.Stats().Evaluator.Partitions))
	}
	n := replayOnce(t, ingest.listen, "../testdata/captures/sv-http-testmyids.ncf")
	if !eventually(30*time.Second, func() bool { return ev.Stats().Evaluator.Packets == uint64(n) && len(alertsCh) == n }) {
		t.Fatalf("evaluated %d packets, %d alerts; want %d of each", ev.Stats().Evaluator.Packets, len(alertsCh), n)
	}
	if in := ingest.d.Stats().Ingest; in == nil || in.Packets != uint64(n) || ingest.d.Stats().Engine.Packets != 0 {
		t.Errorf("ingest stats %+v, engine %+v: want %d packets published, none evaluated", in, ingest.d.Stats().Engine, n)
	}
	body := scrape(t, metrics)
	for _, want := range []string{"vigil_cluster_partitions_owned 16", fmt.Sprintf("vigil_packets_total %d", n), `vigil_cluster_partition_lag{partition="0"}`} {
		if !strings.Contains(body, want) {
			t.Errorf("evaluator metrics lack %q", want)
		}
	}
}

// scrape returns the body of addr's /metrics.
func scrape(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
