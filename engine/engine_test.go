package engine

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vigil-ids/vigil/alerts"
	"github.com/vigil-ids/vigil/capture"
	"github.com/vigil-ids/vigil/engine/respond"
	"github.com/vigil-ids/vigil/ncf"
	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/rules/field"
)

const capDir = "../testdata/captures/"

// collectSink keeps every alert.
type collectSink struct {
	mu   sync.Mutex
	list []*alerts.Alert
}

func (s *collectSink) Publish(a *alerts.Alert) {
	s.mu.Lock()
	s.list = append(s.list, a)
	s.mu.Unlock()
}

// keys returns "sid/pcap_cnt" of every non-summary alert, sorted.
func (s *collectSink) keys() []string {
	var out []string
	for _, a := range s.list {
		if a.Summary == nil {
			out = append(out, fmt.Sprintf("%d/%d", a.SID, a.PcapCnt))
		}
	}
	slices.Sort(out)
	return out
}

// ordered returns "sensor sid/pcap_cnt" of every alert in emission order.
func (s *collectSink) ordered() []string {
	var out []string
	for _, a := range s.list {
		out = append(out, fmt.Sprintf("%s %d/%d", a.Sensor, a.SID, a.PcapCnt))
	}
	return out
}

func mustParse(t testing.TB, src string) *rules.Set {
	t.Helper()
	set, err := rules.Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// runCaptures runs set over the captures with n workers.
func runCaptures(t testing.TB, set *rules.Set, workers int, inj Injector, files ...string) (*collectSink, *Engine) {
	t.Helper()
	sink := &collectSink{}
	e, err := New(Config{Rules: set, Sink: sink, Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	e.Start()
	for _, f := range files {
		if _, err := e.RunFile(context.Background(), capDir+f, nil, inj, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	return sink, e
}

const mixedRules = `
lists:
  admin_ports: [21, 22, 23, 3389]
macros:
  syn_only: tcp.flags.syn && !tcp.flags.ack
rules:
  - sid: 1
    name: syn to admin port
    condition: syn_only && tcp.dstport in admin_ports
  - sid: 2
    name: testmyids
    condition: payload contains "uid=0(root)"
  - sid: 3
    name: ftp pass
    condition: ftp.request.command == "PASS"
  - sid: 4
    name: icmp echo
    severity: low
    condition: icmp.type == 8
  - sid: 5
    name: per source syn threshold
    condition: syn_only
    threshold: {type: both, track: by_src, count: 5, seconds: 60}
`

var mixedCaptures = []string{"sv-telnet.pcap", "sv-http-testmyids.pcap", "zeek-ftp-bruteforce.pcap", "sv-icmpv4-ping.pcap", "sv-syn-flood.pcap"}

// TestWorkersAgree checks that the flow-pinned worker pool gives the same
// alerts, in the same order, as one worker: matches are released in packet
// order, so thresholds tracked across flows (by_src here) see the packets
// in capture order whatever worker evaluated them.
func TestWorkersAgree(t *testing.T) {
	set := mustParse(t, mixedRules)
	one, e1 := runCaptures(t, set, 1, nil, mixedCaptures...)
	for range 3 {
		two, e2 := runCaptures(t, set, 2, nil, mixedCaptures...)
		if len(one.list) == 0 {
			t.Fatal("no alerts at all")
		}
		if !slices.Equal(one.ordered(), two.ordered()) {
			t.Fatalf("1 worker: %v\n2 workers: %v", one.ordered(), two.ordered())
		}
		if a, b := e1.Stats().Packets, e2.Stats().Packets; a != b || a == 0 {
			t.Errorf("packets %d vs %d", a, b)
		}
	}
	for _, sid := range []int{1, 2, 3, 4, 5} {
		found := false
		for _, k := range one.keys() {
			if k[:len(fmt.Sprint(sid))+1] == fmt.Sprintf("%d/", sid) {
				found = true
			}
		}
		if !found {
			t.Errorf("sid %d never alerted", sid)
		}
	}
}

// TestRunTimeErrorCounted checks that a condition failing at run time is
// counted for its rule and evaluation goes on.
func TestRunTimeErrorCounted(t *testing.T) {
	set := mustParse(t, `rules:
  - sid: 1
    name: divides by a zero port
    condition: tcp && 100 % udp.dstport == 0
  - sid: 2
    name: any tcp
    condition: tcp
`)
	sink, e := runCaptures(t, set, 1, nil, "sv-telnet.pcap")
	st := e.RuleStats()
	if st[0].Errors == 0 || st[0].Errors != st[0].Evaluations {
		t.Errorf("rule 1: %d errors in %d evaluations", st[0].Errors, st[0].Evaluations)
	}
	if st[1].Matches == 0 || int(st[1].Matches) != len(sink.list) {
		t.Errorf("rule 2: %d matches, %d alerts", st[1].Matches, len(sink.list))
	}
}

// TestFlowbits checks that a rule sees what an earlier packet of the same
// flow set.
func TestFlowbits(t *testing.T) {
	set := mustParse(t, `rules:
  - sid: 1
    name: user sent
    condition: ftp.request.command == "USER"
    flowbits: {set: [ftp_user]}
  - sid: 2
    name: pass after user
    condition: ftp.request.command == "PASS" && isset("ftp_user")
  - sid: 3
    name: pass without user
    condition: ftp.request.command == "PASS" && notset("ftp_user")
`)
	sink, _ := runCaptures(t, set, 2, nil, "zeek-ftp-bruteforce.pcap")
	var user, pass, orphan int
	for _, a := range sink.list {
		switch a.SID {
		case 1:
			user++
		case 2:
			pass++
		case 3:
			orphan++
		}
	}
	if user == 0 || pass == 0 || orphan != 0 {
		t.Errorf("USER %d, PASS after USER %d, PASS without USER %d", user, pass, orphan)
	}
}

// TestDedupSummaries checks that folded alerts are never silent: the first
// alert plus the summaries' counts add up to the matches.
func TestDedupSummaries(t *testing.T) {
	set := mustParse(t, `rules:
  - sid: 1
    name: echo requests
    condition: icmp.type == 8
    dedup: {track: by_src, seconds: 30}
`)
	sink, e := runCaptures(t, set, 2, nil, "sv-icmpv4-ping.pcap")
	matches := int(e.RuleStats()[0].Matches)
	alertsN, summed := 0, 0
	for _, a := range sink.list {
		if a.Summary != nil {
			summed += a.Summary.Count - 1
			if a.Summary.LastSeen.Before(a.Summary.FirstSeen) {
				t.Errorf("summary last %v before first %v", a.Summary.LastSeen, a.Summary.FirstSeen)
			}
		} else {
			alertsN++
		}
	}
	if matches != 75 || alertsN+summed != matches || alertsN >= matches {
		t.Errorf("%d matches, %d alerts, %d folded", matches, alertsN, summed)
	}
	if st := e.Stats().NotAlerted; st.Folded != uint64(summed) || st.Summaries == 0 {
		t.Errorf("stats: %+v, %d folded", st, summed)
	}
}

// frameInjector keeps injected frames.
type frameInjector struct {
	mu     sync.Mutex
	frames [][]byte
	times  []time.Time
}

func (f *frameInjector) Inject(frame []byte, at time.Time) bool {
	f.mu.Lock()
	f.frames = append(f.frames, slices.Clone(frame))
	f.times = append(f.times, at)
	f.mu.Unlock()
	return true
}

// TestResetAndOwnFrames checks that a reset rule injects frames, says
// "blocked", and that its own frames mirrored back are ignored.
func TestResetAndOwnFrames(t *testing.T) {
	set := mustParse(t, `rules:
  - sid: 1
    name: reset telnet
    condition: tcp.dstport == 23 && tcp.len > 0
    actions: [reset]
  - sid: 2
    name: any reset
    condition: tcp.flags.reset
`)
	inj := &frameInjector{}
	sink, e := runCaptures(t, set, 1, inj, "sv-telnet.pcap")
	blocked := 0
	for _, a := range sink.list {
		if a.SID == 1 && a.Action == alerts.ActionBlocked {
			blocked++
			if len(a.Injected) != 2 {
				t.Errorf("alert %d: %d injected frames, want 2", a.PcapCnt, len(a.Injected))
			}
		}
	}
	if blocked == 0 || len(inj.frames) == 0 {
		t.Fatalf("%d blocked alerts, %d frames", blocked, len(inj.frames))
	}
	// The per-flow interval (1 s) holds most matches back.
	if rs := e.Stats().Responses; rs.Suppressed[respond.ReasonFlow] == 0 {
		t.Errorf("no response suppressed by the caps: %+v", rs)
	}

	// Mirror the injected frames back through the same engine: they are
	// recognised and neither evaluated nor answered.
	sink2 := &collectSink{}
	e2, err := New(Config{Rules: set, Sink: sink2, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	e2.shared.guard = e.shared.guard
	e2.Start()
	src := e2.NewSource(SourceConfig{Name: "mirror"})
	for i, f := range inj.frames {
		at := inj.times[i].Add(time.Millisecond) // CommView mirrors at once
		src.Push(&ncf.Record{Header: ncf.Header{Time: at, WireLen: len(f)}, Data: f})
	}
	src.Close()
	e2.Stop(context.Background())
	if got := e2.Stats().OwnFrames; got != uint64(len(inj.frames)) {
		t.Errorf("%d own frames recognised of %d", got, len(inj.frames))
	}
	if len(sink2.list) != 0 {
		t.Errorf("own frames raised %d alerts", len(sink2.list))
	}
}

// TestDropPolicyCounts checks that the drop policy counts what it drops
// and never loses count of a packet.
func TestDropPolicyCounts(t *testing.T) {
	set := mustParse(t, `rules:
  - sid: 1
    name: slow regex
    condition: payload matches "(a|b)*c$"
`)
	sink := &collectSink{}
	e, err := New(Config{Rules: set, Sink: sink, Workers: 1, QueueBatches: 1, Overload: Drop})
	if err != nil {
		t.Fatal(err)
	}
	e.Start()
	r, err := capture.Open(capDir+"zeek-http-bro-org.pcap", nil)
	if err != nil {
		t.Fatal(err)
	}
	src := e.NewSource(SourceConfig{Name: "s"})
	pushed := 0
	for range 5 {
		r2, _ := capture.Open(capDir+"zeek-http-bro-org.pcap", nil)
		for {
			rec, err := r2.Next()
			if err != nil {
				break
			}
			src.Push(rec)
			pushed++
		}
		r2.Close()
	}
	r.Close()
	src.Close()
	e.Stop(context.Background())
	st := e.Stats()
	if st.Packets+st.Drops != uint64(pushed) {
		t.Errorf("evaluated %d + dropped %d != pushed %d", st.Packets, st.Drops, pushed)
	}
	if src.Stats().Drops != st.Drops {
		t.Errorf("source drops %d, engine drops %d", src.Stats().Drops, st.Drops)
	}
}

// TestTruncatedCapture: a capture cut in the middle of a record is read to
// its end; the cut record is counted as skipped, with its number and
// offset, and every complete record before it is evaluated.
func TestTruncatedCapture(t *testing.T) {
	data, err := os.ReadFile(capDir + "sv-telnet.ncf")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cut.ncf")
	if err := os.WriteFile(path, data[:len(data)-10], 0o644); err != nil {
		t.Fatal(err)
	}
	set := mustParse(t, "rules:\n  - {sid: 1, name: any tcp, condition: tcp}\n")
	sink := &collectSink{}
	e, err := New(Config{Rules: set, Sink: sink, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	e.Start()
	st, err := e.RunFile(context.Background(), path, nil, nil, nil)
	e.Stop(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cut := st.SkippedBy["truncated record"]
	if st.Packets != 91 || len(sink.list) != 91 || st.Skipped != 1 || cut.Count != 1 || cut.FirstRecord != 92 || cut.FirstOffset <= 0 {
		t.Errorf("%d packets, %d alerts, skipped %+v; want the 91 complete records and record 92 cut", st.Packets, len(sink.list), st.SkippedBy)
	}
	if es := e.Stats(); es.Skipped != 1 {
		t.Errorf("engine skipped %d", es.Skipped)
	}
}

// TestSuppressed checks each suppression track against the addresses of
// a packet, in both directions.
func TestSuppressed(t *testing.T) {
	rs := newRuleState(mustParse(t, `
rules:
  - {sid: 1, name: a, condition: ip}
  - {sid: 2, name: b, condition: ip}
  - {sid: 3, name: c, condition: ip}
  - {sid: 4, name: d, condition: ip}
  - {sid: 5, name: e, condition: ip}
suppress:
  - {sid: 1}
  - {sid: 2, track: by_src, ip: 10.0.0.0/8}
  - {sid: 3, track: by_dst, ip: 10.1.2.3}
  - {sid: 4, track: by_either, ip: 10.1.0.0/16}
`), 1)
	pkt := func(src, dst string) *field.Packet {
		var p field.Packet
		p.Reset()
		p.Meta.Src, p.Meta.Dst = netip.MustParseAddr(src), netip.MustParseAddr(dst)
		return &p
	}
	out, in := pkt("10.1.2.3", "192.0.2.1"), pkt("192.0.2.1", "10.1.2.3")
	for _, c := range []struct {
		sid     int
		out, in bool
	}{{1, true, true}, {2, true, false}, {3, false, true}, {4, true, true}, {5, false, false}} {
		if got := rs.suppressed(c.sid, out); got != c.out {
			t.Errorf("sid %d from 10.1.2.3: suppressed %v", c.sid, got)
		}
		if got := rs.suppressed(c.sid, in); got != c.in {
			t.Errorf("sid %d to 10.1.2.3: suppressed %v", c.sid, got)
		}
	}
	if rs.suppressed(4, pkt("10.2.0.1", "10.3.0.1")) {
		t.Error("by_either suppressed addresses outside its prefix")
	}
}
