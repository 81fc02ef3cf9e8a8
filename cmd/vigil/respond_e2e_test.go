package main

// Process-level tests of active responses: vigil run answers reset rules on
// the sensor's own connection, recognises its own frames mirrored back, and
// holds a flood to the caps. Expectations come from the captures through
// tshark, not from Vigil.

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/nats-io/nats.go"

	"github.com/vigil-ids/vigil/alerts"
	"github.com/vigil-ids/vigil/capture"
	"github.com/vigil-ids/vigil/daemon"
	"github.com/vigil-ids/vigil/ncf"
)

// needTshark skips the test when tshark is not installed.
func needTshark(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark is not installed")
	}
}

// tsharkRows runs tshark over file with the display filter and returns one
// row of the fields per matching frame.
func tsharkRows(t *testing.T, file, filter string, opts []string, fields ...string) [][]string {
	t.Helper()
	args := []string{"-n", "-r", file}
	for _, o := range opts {
		args = append(args, "-o", o)
	}
	if filter != "" {
		args = append(args, "-Y", filter)
	}
	args = append(args, "-T", "fields", "-E", "separator=/t", "-E", "occurrence=f")
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	cmd := exec.Command("tshark", args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark %v: %v\n%s", args, err, stderr.String())
	}
	var rows [][]string
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if line == "" {
			continue
		}
		rows = append(rows, strings.Split(line, "\t"))
	}
	return rows
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		t.Fatalf("tshark printed %q where a number was expected", s)
	}
	return n
}

func atou32(t *testing.T, s string) uint32 {
	t.Helper()
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 32)
	if err != nil {
		t.Fatalf("tshark printed %q where a 32-bit number was expected", s)
	}
	return uint32(n)
}

// tsharkBool reads a boolean field as tshark prints it (1/0 or True/False).
func tsharkBool(s string) bool { return s == "1" || strings.EqualFold(s, "true") }

// epoch parses frame.time_epoch ("943755158.387203000") without float
// rounding.
func epoch(t *testing.T, s string) time.Time {
	t.Helper()
	sec, frac, _ := strings.Cut(s, ".")
	frac = (frac + "000000000")[:9]
	secs, err1 := strconv.ParseInt(sec, 10, 64)
	nanos, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("tshark printed %q as frame.time_epoch", s)
	}
	return time.Unix(secs, nanos).UTC()
}

// tcpPkt is a TCP segment of a capture as tshark dissects it.
type tcpPkt struct {
	src, dst     string
	sport, dport int
	seq, ack     uint32
	plen         uint32
	syn, fin     bool
}

// tcpPackets returns the TCP segments of a capture by frame number, with
// absolute sequence numbers.
func tcpPackets(t *testing.T, file string) map[int]tcpPkt {
	t.Helper()
	rows := tsharkRows(t, file, "tcp", []string{"tcp.relative_sequence_numbers:FALSE"},
		"frame.number", "ip.src", "ip.dst", "tcp.srcport", "tcp.dstport", "tcp.seq_raw", "tcp.ack_raw", "tcp.len", "tcp.flags.syn", "tcp.flags.fin")
	out := make(map[int]tcpPkt, len(rows))
	for _, r := range rows {
		out[atoi(t, r[0])] = tcpPkt{
			src: r[1], dst: r[2], sport: atoi(t, r[3]), dport: atoi(t, r[4]),
			seq: atou32(t, r[5]), ack: atou32(t, r[6]), plen: atou32(t, r[7]),
			syn: tsharkBool(r[8]), fin: tsharkBool(r[9]),
		}
	}
	return out
}

// rstFrame is an injected TCP reset as it should appear on the wire.
type rstFrame struct {
	src, dst     string
	sport, dport int
	seq, ack     uint32
}

func (f rstFrame) String() string {
	return fmt.Sprintf("%s:%d>%s:%d seq=%d ack=%d", f.src, f.sport, f.dst, f.dport, f.seq, f.ack)
}

// passiveTapReset is the reset a passive tap sends in direction dir
// ("to_source" or "to_dest") in answer to p: toward the receiver seq =
// p.seq + payload (+1 SYN, +1 FIN) and ack = p.ack; toward the sender
// seq = p.ack and ack = p.seq + payload (+1 SYN, +1 FIN).
func passiveTapReset(t *testing.T, p tcpPkt, dir string) rstFrame {
	t.Helper()
	next := p.seq + p.plen
	if p.syn {
		next++
	}
	if p.fin {
		next++
	}
	switch dir {
	case "to_dest":
		return rstFrame{src: p.src, dst: p.dst, sport: p.sport, dport: p.dport, seq: next, ack: p.ack}
	case "to_source":
		return rstFrame{src: p.dst, dst: p.src, sport: p.dport, dport: p.sport, seq: p.ack, ack: next}
	}
	t.Fatalf("unknown injection direction %q", dir)
	return rstFrame{}
}

// savedResets dissects the frames saved by vigil replay --save-injected and
// checks that each is a TCP RST with good IP and TCP checksums.
func savedResets(t *testing.T, file string) []rstFrame {
	t.Helper()
	rows := tsharkRows(t, file, "", []string{"tcp.relative_sequence_numbers:FALSE", "tcp.check_checksum:TRUE", "ip.check_checksum:TRUE"},
		"frame.number", "ip.src", "ip.dst", "tcp.srcport", "tcp.dstport", "tcp.seq_raw", "tcp.ack_raw", "tcp.flags.reset", "tcp.checksum.status", "ip.checksum.status")
	var out []rstFrame
	for _, r := range rows {
		if !tsharkBool(r[7]) {
			t.Errorf("saved frame %s is not a TCP reset: %v", r[0], r)
		}
		// Wireshark's checksum status: 0 bad, 1 good, 2 unverified.
		if r[8] != "1" || r[9] != "1" {
			t.Errorf("saved frame %s: TCP checksum status %q, IP checksum status %q, want 1 (good)", r[0], r[8], r[9])
		}
		out = append(out, rstFrame{src: r[1], dst: r[2], sport: atoi(t, r[3]), dport: atoi(t, r[4]), seq: atou32(t, r[5]), ack: atou32(t, r[6])})
	}
	return out
}

func sortResets(list []rstFrame) []rstFrame {
	out := append([]rstFrame(nil), list...)
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

var receivedRE = regexp.MustCompile(`(\d+) frames received for injection`)

// replaySave runs vigil replay to completion, saving the frames that come
// back, and returns how many frames it reported received.
func replaySave(t *testing.T, listen, saveTo, capFile string) int {
	t.Helper()
	rep := vigil(t, "replay", "--to", listen, "--linger", "1s", "--save-injected", saveTo, capFile)
	if code := rep.wait(60 * time.Second); code != 0 {
		t.Fatalf("replay of %s exited %d:\n%s", capFile, code, rep.stderr.String())
	}
	m := receivedRE.FindStringSubmatch(rep.stderr.String())
	if m == nil {
		t.Fatalf("replay did not report the frames it received:\n%s", rep.stderr.String())
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// subscribe starts vigil alerts --json on natsURL and waits until it listens.
func subscribe(t *testing.T, natsURL string) *proc {
	t.Helper()
	sub := vigil(t, "alerts", "--nats", natsURL, "--json")
	sub.waitStderr(regexp.MustCompile(`listening on`), 10*time.Second)
	return sub
}

// waitAlerts waits until the subscriber printed at least n alerts, then a
// little longer for wrong extra ones, and returns them all.
func waitAlerts(t *testing.T, sub *proc, n int) []*alerts.Alert {
	t.Helper()
	var got []*alerts.Alert
	if !eventually(15*time.Second, func() bool {
		got = parseAlerts(t, sub.stdout.String())
		return len(got) >= n
	}) {
		t.Fatalf("subscriber got %d of %d alerts", len(got), n)
	}
	time.Sleep(300 * time.Millisecond)
	return parseAlerts(t, sub.stdout.String())
}

// offlineAlerts runs vigil test over files and returns the alerts.
func offlineAlerts(t *testing.T, args ...string) []*alerts.Alert {
	t.Helper()
	cmd := exec.Command(vigilBin, append([]string{"test", "--quiet"}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("vigil test %v: %v\n%s", args, err, stderr.String())
	}
	return parseAlerts(t, string(out))
}

// statsWatch keeps the last vigil.stats message of a daemon.
type statsWatch struct {
	mu   sync.Mutex
	last *daemonStats
	n    int
}

// daemonStats is the part of vigil.stats these tests read.
type daemonStats struct {
	Engine struct {
		Packets   uint64 `json:"packets"`
		Alerts    uint64 `json:"alerts"`
		OwnFrames uint64 `json:"own_frames_ignored"`
		Responses struct {
			Sent       uint64            `json:"sent"`
			Failed     uint64            `json:"failed"`
			Suppressed map[string]uint64 `json:"suppressed"`
		} `json:"responses"`
	} `json:"engine"`
}

func watchStats(t *testing.T, natsURL string) *statsWatch {
	t.Helper()
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	w := &statsWatch{}
	_, err = nc.Subscribe(daemon.StatsSubject, func(m *nats.Msg) {
		var s daemonStats
		if err := json.Unmarshal(m.Data, &s); err != nil {
			return
		}
		w.mu.Lock()
		w.last = &s
		w.n++
		w.mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return w
}

// until waits for a stats message that satisfies cond and returns it.
func (w *statsWatch) until(t *testing.T, timeout time.Duration, cond func(*daemonStats) bool) *daemonStats {
	t.Helper()
	var last *daemonStats
	if eventually(timeout, func() bool {
		w.mu.Lock()
		last = w.last
		w.mu.Unlock()
		return last != nil && cond(last)
	}) {
		return last
	}
	t.Fatalf("no vigil.stats message met the condition within %s; last: %+v", timeout, last)
	return nil
}

// resetRule is a rule file with one reset rule and, optionally, a rule that
// alerts on every TCP reset.
func resetRule(t *testing.T, dir, condition string, withRSTRule bool) string {
	t.Helper()
	s := fmt.Sprintf(`rules:
  - sid: 9500001
    name: reset on match
    condition: %q
    actions: [reset]
`, condition)
	if withRSTRule {
		s += `  - sid: 9500002
    name: TCP reset seen
    severity: info
    condition: tcp.flags.reset
`
	}
	return writeFile(t, dir, "reset.yaml", s)
}

// expectedResets derives, from the capture itself, the frames the blocked
// alerts announce, and checks each announced seq/ack against the
// passive-tap rule.
func expectedResets(t *testing.T, capFile string, list []*alerts.Alert) (want []rstFrame, blocked int) {
	t.Helper()
	pkts := tcpPackets(t, capFile)
	for _, a := range list {
		if a.Action != alerts.ActionBlocked {
			if len(a.Injected) > 0 {
				t.Errorf("alert at frame %d says %q but lists %d injected frames", a.PcapCnt, a.Action, len(a.Injected))
			}
			continue
		}
		blocked++
		if len(a.Injected) == 0 {
			t.Errorf("alert at frame %d says blocked but lists no injected frame", a.PcapCnt)
		}
		p, ok := pkts[a.PcapCnt]
		if !ok {
			t.Fatalf("alert at frame %d: tshark sees no TCP segment there", a.PcapCnt)
		}
		for _, in := range a.Injected {
			f := passiveTapReset(t, p, in.Direction)
			if in.Type != "tcp-rst" || in.Seq != f.seq || in.Ack != f.ack {
				t.Errorf("alert at frame %d announces %s %s seq=%d ack=%d; the passive-tap rule gives seq=%d ack=%d",
					a.PcapCnt, in.Direction, in.Type, in.Seq, in.Ack, f.seq, f.ack)
			}
			want = append(want, f)
		}
	}
	return want, blocked
}

// TestLiveReset: a reset rule answers a replayed telnet and HTTP session on
// the sensor's own connection; the replay receives exactly the frames the
// blocked alerts announce, each one the passive-tap reset tshark derives
// from the triggering packet, with good checksums; the alerts on NATS say
// "blocked".
func TestLiveReset(t *testing.T) {
	needTshark(t)
	for _, tc := range []struct {
		name, capture, condition string
	}{
		{"telnet", "sv-telnet.pcap", "tcp.dstport == 23 && tcp.len > 0"},
		{"http", "sv-http-testmyids.pcap", "http.request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			rulesFile := resetRule(t, dir, tc.condition, false)
			capFile := captures + tc.capture
			offlineList := offlineAlerts(t, "--rules", rulesFile, capFile)
			if len(offlineList) == 0 {
				t.Fatalf("the rule raises no alert on %s", tc.capture)
			}
			d, listen, natsURL := startRun(t, "--rules", rulesFile)
			sub := subscribe(t, natsURL)
			saved := filepath.Join(dir, "injected.pcap")
			received := replaySave(t, listen, saved, capFile)
			list := waitAlerts(t, sub, len(offlineList))
			if len(list) != len(offlineList) {
				t.Errorf("subscriber got %d alerts, vigil test gives %d", len(list), len(offlineList))
			}
			if n := len(sensorsConnected(d.stderr.String())); n != 1 {
				t.Errorf("the daemon logged %d sensor connections, want the replay's one", n)
			}
			want, blocked := expectedResets(t, capFile, list)
			if blocked == 0 {
				t.Fatalf("no alert says blocked: %v", hitsOf(list))
			}
			got := savedResets(t, saved)
			if received != len(want) || len(got) != len(want) {
				t.Errorf("replay received %d frames and saved %d; the blocked alerts announce %d", received, len(got), len(want))
			}
			gs, ws := sortResets(got), sortResets(want)
			for i := range min(len(gs), len(ws)) {
				if gs[i] != ws[i] {
					t.Errorf("saved frames differ from the expected ones:\n got %v\nwant %v", gs, ws)
					break
				}
			}
			t.Logf("%s: %d alerts, %d blocked, %d frames received back", tc.capture, len(list), blocked, received)
			sub.stop(10 * time.Second)
			d.stop(30 * time.Second)
		})
	}
}

// readFrames reads every record of a capture, copying the data.
func readFrames(t *testing.T, path string) []ncf.Record {
	t.Helper()
	r, err := capture.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []ncf.Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		c := *rec
		c.Data = append([]byte(nil), rec.Data...)
		out = append(out, c)
	}
}

// tcpSeqOf returns the TCP sequence number of an Ethernet frame.
func tcpSeqOf(t *testing.T, frame []byte) uint32 {
	t.Helper()
	pk := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default)
	tcp, ok := pk.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if !ok {
		t.Fatalf("injected frame is not TCP: %x", frame)
	}
	return tcp.Seq
}

// mirrorCapture writes a capture holding the original records and, right
// after each triggering packet, the frames Vigil injected for it, stamped
// 1 ms later (or half-way to the next packet when that is sooner). It
// returns, for each record of the new capture, the original frame number
// (0 for a mirrored frame).
func mirrorCapture(t *testing.T, out string, orig, injected []ncf.Record, list []*alerts.Alert) []int {
	t.Helper()
	var blockedAlerts []*alerts.Alert
	for _, a := range list {
		if a.Action == alerts.ActionBlocked {
			blockedAlerts = append(blockedAlerts, a)
		}
	}
	sort.Slice(blockedAlerts, func(i, j int) bool { return blockedAlerts[i].PcapCnt < blockedAlerts[j].PcapCnt })
	after := map[int][]ncf.Record{}
	next := 0
	for _, a := range blockedAlerts {
		for _, in := range a.Injected {
			if next >= len(injected) {
				t.Fatalf("the first run saved %d frames, fewer than its alerts announce", len(injected))
			}
			rec := injected[next]
			next++
			if seq := tcpSeqOf(t, rec.Data); seq != in.Seq {
				t.Fatalf("saved frame %d has seq %d; alert at frame %d announces %d (frames out of order?)", next, seq, a.PcapCnt, in.Seq)
			}
			after[a.PcapCnt] = append(after[a.PcapCnt], rec)
		}
	}
	if next != len(injected) {
		t.Fatalf("the first run saved %d frames, its alerts announce %d", len(injected), next)
	}
	w, err := capture.Create(out, nil)
	if err != nil {
		t.Fatal(err)
	}
	var origOf []int
	for i := range orig {
		rec := orig[i]
		if err := w.Write(&rec); err != nil {
			t.Fatal(err)
		}
		origOf = append(origOf, i+1)
		delay := time.Millisecond
		if i+1 < len(orig) {
			if gap := orig[i+1].Time.Sub(rec.Time); gap < 2*delay {
				delay = gap / 2
			}
		}
		for _, m := range after[i+1] {
			m.Time = rec.Time.Add(delay)
			m.Medium = ncf.Ethernet
			m.Direction = ncf.Out
			if err := w.Write(&m); err != nil {
				t.Fatal(err)
			}
			origOf = append(origOf, 0)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return origOf
}

// TestOwnFramesMirrored: a capture holding, right after each triggering
// packet, the resets Vigil sent for it (as CommView mirrors its own
// injections) gets exactly the same answers as the plain capture: the
// mirrored resets are neither answered nor evaluated (a rule on
// tcp.flags.reset does not fire on them) and are counted as own frames.
func TestOwnFramesMirrored(t *testing.T) {
	needTshark(t)
	dir := t.TempDir()
	capFile := captures + "sv-telnet.pcap"
	rulesFile := resetRule(t, dir, "tcp.dstport == 23 && tcp.len > 0", true)

	// First run: the frames Vigil injects for the plain capture.
	d1, listen1, nats1 := startRun(t, "--rules", rulesFile)
	sub1 := subscribe(t, nats1)
	first := filepath.Join(dir, "first.pcap")
	received1 := replaySave(t, listen1, first, capFile)
	want := len(offlineAlerts(t, "--rules", rulesFile, capFile))
	list1 := waitAlerts(t, sub1, want)
	sub1.stop(10 * time.Second)
	d1.stop(30 * time.Second)
	injected := readFrames(t, first)
	if received1 == 0 || len(injected) != received1 {
		t.Fatalf("first run: %d frames received, %d saved; the test needs some", received1, len(injected))
	}
	rstInCapture := tsharkRows(t, capFile, "tcp.flags.reset == 1", nil, "frame.number")

	mirrored := filepath.Join(dir, "mirrored.pcap")
	origOf := mirrorCapture(t, mirrored, readFrames(t, capFile), injected, list1)

	// Second run, fresh daemon: the same answers, nothing more.
	d2, listen2, nats2 := startRun(t, "--rules", rulesFile, "--stats-interval", "200ms")
	stats := watchStats(t, nats2)
	sub2 := subscribe(t, nats2)
	second := filepath.Join(dir, "second.pcap")
	received2 := replaySave(t, listen2, second, mirrored)
	list2 := waitAlerts(t, sub2, len(list1))
	st := stats.until(t, 10*time.Second, func(s *daemonStats) bool { return s.Engine.Packets == uint64(len(origOf)) })

	if received2 != received1 {
		t.Errorf("the mirrored capture got %d frames back, the plain one %d", received2, received1)
	}
	if a, b := sortResets(savedResets(t, first)), sortResets(savedResets(t, second)); fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("frames sent differ:\nplain    %v\nmirrored %v", a, b)
	}
	if st.Engine.OwnFrames != uint64(len(injected)) {
		t.Errorf("engine.own_frames_ignored = %d, want the %d mirrored frames", st.Engine.OwnFrames, len(injected))
	}
	if st.Engine.Responses.Sent != uint64(received1) {
		t.Errorf("engine.responses.sent = %d, want %d", st.Engine.Responses.Sent, received1)
	}
	// Alerts map back to the original frames: none on a mirrored frame,
	// the same sid@frame multiset as the plain run.
	var mapped []hit
	for _, a := range list2 {
		if a.PcapCnt < 1 || a.PcapCnt > len(origOf) {
			t.Fatalf("alert on frame %d of a %d-frame capture", a.PcapCnt, len(origOf))
		}
		o := origOf[a.PcapCnt-1]
		if o == 0 {
			t.Errorf("sid %d fired on mirrored frame %d", a.SID, a.PcapCnt)
			continue
		}
		mapped = append(mapped, hit{a.SID, o})
	}
	if !sameHits(mapped, hitsOf(list1)) {
		t.Errorf("alerts of the mirrored run (mapped to original frames)\n%v\ndiffer from the plain run's\n%v", multiset(mapped), multiset(hitsOf(list1)))
	}
	rstAlerts := 0
	for _, a := range list1 {
		if a.SID == 9500002 {
			rstAlerts++
		}
	}
	if rstAlerts != len(rstInCapture) {
		t.Errorf("the reset rule fired %d times on the plain capture; tshark sees %d resets", rstAlerts, len(rstInCapture))
	}
	t.Logf("plain: %d alerts, %d frames back; mirrored capture: %d records (%d mirrored), %d frames back, own_frames_ignored=%d",
		len(list1), received1, len(origOf), len(injected), received2, st.Engine.OwnFrames)
	sub2.stop(10 * time.Second)
	d2.stop(30 * time.Second)
}

// TestFloodCaps: a reset rule on every SYN of a SYN flood is held to the
// global rate (100/s of packet time, burst 10) and the per-flow interval
// (1 s); under --dry-run nothing is sent and the alerts say "allowed"
// (README: blocked means a response was injected), while the dry-run
// counter shows what would have gone.
func TestFloodCaps(t *testing.T) {
	needTshark(t)
	dir := t.TempDir()
	capFile := captures + "sv-syn-flood.pcap"
	const cond = "tcp.flags.syn && !tcp.flags.ack"
	rulesFile := resetRule(t, dir, cond, false)

	rows := tsharkRows(t, capFile, "tcp.flags.syn == 1 && tcp.flags.ack == 0", nil,
		"frame.time_epoch", "ip.src", "tcp.srcport", "ip.dst", "tcp.dstport")
	if len(rows) < 50 {
		t.Fatalf("only %d SYNs in %s", len(rows), capFile)
	}
	var first, last time.Time
	flows := map[string][]time.Time{}
	for i, r := range rows {
		at := epoch(t, r[0])
		if i == 0 || at.Before(first) {
			first = at
		}
		if at.After(last) {
			last = at
		}
		a, b := r[1]+":"+r[2], r[3]+":"+r[4]
		if a > b {
			a, b = b, a
		}
		flows[a+"-"+b] = append(flows[a+"-"+b], at)
	}
	// Global cap: burst + rate × span. Per-flow cap: responses at least
	// 1 s apart; the greedy count from each flow's first SYN is the most.
	globalCap := int(math.Floor(10 + 100*last.Sub(first).Seconds()))
	flowCap := 0
	for _, ts := range flows {
		sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
		n, prev := 0, time.Time{}
		for _, at := range ts {
			if n == 0 || at.Sub(prev) >= time.Second {
				n++
				prev = at
			}
		}
		flowCap += n
	}
	maxResponses := min(globalCap, flowCap)
	const framesPerResponse = 2 // target both
	t.Logf("%d SYNs over %s in %d flows: at most %d responses (global %d, per flow %d)",
		len(rows), last.Sub(first), len(flows), maxResponses, globalCap, flowCap)

	var sentResponses int
	t.Run("live", func(t *testing.T) {
		d, listen, natsURL := startRun(t, "--rules", rulesFile, "--stats-interval", "200ms")
		stats := watchStats(t, natsURL)
		sub := subscribe(t, natsURL)
		received := replaySave(t, listen, filepath.Join(dir, "flood.pcap"), capFile)
		list := waitAlerts(t, sub, len(rows))
		if len(list) != len(rows) {
			t.Errorf("%d alerts, want one per SYN (%d)", len(list), len(rows))
		}
		for _, a := range list {
			if a.Action == alerts.ActionBlocked {
				sentResponses++
				if len(a.Injected) != framesPerResponse {
					t.Errorf("blocked alert at frame %d lists %d frames, want %d", a.PcapCnt, len(a.Injected), framesPerResponse)
				}
			}
		}
		if received != sentResponses*framesPerResponse {
			t.Errorf("replay received %d frames; %d blocked alerts announce %d", received, sentResponses, sentResponses*framesPerResponse)
		}
		if sentResponses == 0 || sentResponses > maxResponses {
			t.Errorf("%d responses sent, want 1..%d", sentResponses, maxResponses)
		}
		st := stats.until(t, 10*time.Second, func(s *daemonStats) bool { return s.Engine.Packets == uint64(recordsIn(t, capFile)) })
		supp := st.Engine.Responses.Suppressed
		if int(st.Engine.Responses.Sent) != received {
			t.Errorf("engine.responses.sent = %d, replay received %d", st.Engine.Responses.Sent, received)
		}
		if got := sentResponses + int(supp["global-rate"]+supp["flow-interval"]); got != len(rows) {
			t.Errorf("responses sent (%d) + suppressed by caps (%v) = %d, want one decision per SYN (%d)", sentResponses, supp, got, len(rows))
		}
		t.Logf("live: %d frames back, %d responses, suppressed %v", received, sentResponses, supp)
		sub.stop(10 * time.Second)
		d.stop(30 * time.Second)
	})
	t.Run("dry-run", func(t *testing.T) {
		d, listen, natsURL := startRun(t, "--rules", rulesFile, "--stats-interval", "200ms", "--dry-run")
		stats := watchStats(t, natsURL)
		sub := subscribe(t, natsURL)
		received := replaySave(t, listen, filepath.Join(dir, "dry.pcap"), capFile)
		list := waitAlerts(t, sub, len(rows))
		if received != 0 {
			t.Errorf("dry run: replay received %d frames", received)
		}
		if len(list) != len(rows) {
			t.Errorf("dry run: %d alerts, want %d", len(list), len(rows))
		}
		for _, a := range list {
			if a.Action != alerts.ActionAllowed || len(a.Injected) != 0 {
				t.Errorf("dry run: alert at frame %d says %q with %d injected frames; nothing was injected", a.PcapCnt, a.Action, len(a.Injected))
			}
		}
		st := stats.until(t, 10*time.Second, func(s *daemonStats) bool { return s.Engine.Packets == uint64(recordsIn(t, capFile)) })
		if st.Engine.Responses.Sent != 0 {
			t.Errorf("dry run: engine.responses.sent = %d", st.Engine.Responses.Sent)
		}
		if sentResponses > 0 && int(st.Engine.Responses.Suppressed["dry-run"]) != sentResponses {
			t.Errorf("dry run: %d responses counted under dry-run, the live run sent %d", st.Engine.Responses.Suppressed["dry-run"], sentResponses)
		}
		t.Logf("dry run: 0 frames back, suppressed %v", st.Engine.Responses.Suppressed)
		sub.stop(10 * time.Second)
		d.stop(30 * time.Second)
	})
}

// recordsIn counts the frames of a capture with tshark.
func recordsIn(t *testing.T, path string) int {
	t.Helper()
	return len(tsharkRows(t, path, "", nil, "frame.number"))
}
