package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/vigil-ids/vigil/daemon"
)

// natsLog gathers the NATS messages delivered to the test process.
type natsLog struct {
	mu      sync.Mutex
	reloads []daemon.ReloadEvent
	stats   []daemon.Stats
	maxCnt  map[int]int // sid -> highest pcap_cnt seen
	count   map[int]int // sid -> alerts seen
}

func (l *natsLog) snapshot(sid int) (count, maxCnt int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.count[sid], l.maxCnt[sid]
}

func (l *natsLog) reload(i int) (daemon.ReloadEvent, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i < len(l.reloads) {
		return l.reloads[i], true
	}
	return daemon.ReloadEvent{}, false
}

func (l *natsLog) lastStats() (daemon.Stats, time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.stats) == 0 {
		return daemon.Stats{}, time.Time{}, false
	}
	s := l.stats[len(l.stats)-1]
	return s, s.Time, true
}

func subscribeAll(t *testing.T, natsURL string) *natsLog {
	t.Helper()
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	l := &natsLog{maxCnt: map[int]int{}, count: map[int]int{}}
	var alert struct {
		PcapCnt int `json:"pcap_cnt"`
		Alert   struct {
			SID int `json:"signature_id"`
		} `json:"alert"`
	}
	_, err = nc.Subscribe(">", func(m *nats.Msg) {
		l.mu.Lock()
		defer l.mu.Unlock()
		switch {
		case m.Subject == daemon.ReloadSubject:
			var ev daemon.ReloadEvent
			if err := json.Unmarshal(m.Data, &ev); err != nil {
				t.Errorf("reload event %s: %v", m.Data, err)
			}
			l.reloads = append(l.reloads, ev)
		case m.Subject == daemon.StatsSubject:
			var st daemon.Stats
			if err := json.Unmarshal(m.Data, &st); err != nil {
				t.Errorf("stats %s: %v", m.Data, err)
			}
			l.stats = append(l.stats, st)
		case strings.HasPrefix(m.Subject, "vigil.alert."):
			if err := json.Unmarshal(m.Data, &alert); err != nil {
				t.Errorf("alert %s: %v", m.Data, err)
			}
			l.count[alert.Alert.SID]++
			l.maxCnt[alert.Alert.SID] = max(l.maxCnt[alert.Alert.SID], alert.PcapCnt)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return l
}

var stoppedRE = regexp.MustCompile(`msg="engine stopped" packets=(\d+) alerts=(\d+) drops=(\d+)`)

// TestReloadDuringReplay: SIGHUP while a sensor streams at a high rate. A
// broken rule file is refused with its file:line:col errors and the old
// rules keep alerting; a valid changed file is then taken; no packet is lost.
func TestReloadDuringReplay(t *testing.T) {
	dir := t.TempDir()
	rulesFile := writeFile(t, dir, "rules.yaml", everyPacket)
	capFile := captures + "sv-vnc-ttl128.pcap"
	perCopy := len(offlineHits(t, []string{"--rules", rulesFile}, capFile))
	d, listen, natsURL := startRun(t, "--rules", rulesFile, "--stats-interval", "300ms")
	log := subscribeAll(t, natsURL)

	const copies = 8
	args := []string{"replay", "--to", listen, "--rate", "4000", "--linger", "200ms"}
	for range copies {
		args = append(args, capFile)
	}
	began := time.Now()
	rep := vigil(t, args...)
	if !eventually(10*time.Second, func() bool { n, _ := log.snapshot(9100001); return n > 500 }) {
		t.Fatal("no alerts from the first rule set")
	}

	// A broken file: an unknown key on line 7.
	writeFile(t, dir, "rules.yaml", everyPacket+"    bogus: 1\n")
	d.signal(syscall.SIGHUP)
	var ev daemon.ReloadEvent
	if !eventually(10*time.Second, func() (ok bool) { ev, ok = log.reload(0); return ok }) {
		t.Fatal("no vigil.event.reload message after SIGHUP")
	}
	if ev.OK || len(ev.Errors) == 0 {
		t.Fatalf("broken rule file: reload event %+v, want ok=false with errors", ev)
	}
	posRE := regexp.MustCompile(`rules\.yaml:\d+:\d+: `)
	if !posRE.MatchString(ev.Errors[0]) {
		t.Errorf("reload event error %q has no file:line:col", ev.Errors[0])
	}
	d.waitStderr(posRE, 5*time.Second)
	_, atRefusal := log.snapshot(9100001)
	if !eventually(10*time.Second, func() bool { _, c := log.snapshot(9100001); return c > atRefusal+1000 }) {
		t.Fatalf("the old rules stopped alerting after the refused reload (last pcap_cnt %d)", atRefusal)
	}
	_, after := log.snapshot(9100001)
	t.Logf("refused at %.1f s: pcap_cnt %d; old rule still alerting at pcap_cnt %d", time.Since(began).Seconds(), atRefusal, after)

	// A valid, changed file: 9100001 goes, 9100002 comes.
	writeFile(t, dir, "rules.yaml", strings.ReplaceAll(everyPacket, "9100001", "9100002"))
	d.signal(syscall.SIGHUP)
	if !eventually(10*time.Second, func() (ok bool) { ev, ok = log.reload(1); return ok }) {
		t.Fatal("no vigil.event.reload message after the second SIGHUP")
	}
	if !ev.OK || fmt.Sprint(ev.Added) != "[9100002]" || fmt.Sprint(ev.Removed) != "[9100001]" || len(ev.Errors) != 0 {
		t.Errorf("valid rule file: reload event %+v, want ok=true added [9100002] removed [9100001]", ev)
	}
	if !eventually(10*time.Second, func() bool { n, _ := log.snapshot(9100002); return n > 0 }) {
		t.Fatal("no alert from the reloaded rules")
	}
	t.Logf("accepted at %.1f s", time.Since(began).Seconds())

	if code := rep.wait(60 * time.Second); code != 0 {
		t.Fatalf("replay exited %d:\n%s", code, rep.stderr.String())
	}
	sent := recordsSent(t, rep.stderr.String())
	elapsed := time.Since(began)
	// A stats message taken after the sensor finished counts every packet.
	ended := time.Now()
	var st daemon.Stats
	if !eventually(10*time.Second, func() bool {
		s, at, ok := log.lastStats()
		st = s
		return ok && at.After(ended) && s.Engine.Packets == uint64(sent)
	}) {
		t.Errorf("vigil.stats counts %d packets, the replay sent %d", st.Engine.Packets, sent)
	}
	if st.Engine.Drops != 0 {
		t.Errorf("vigil.stats counts %d drops", st.Engine.Drops)
	}
	d.stop(30 * time.Second)
	m := stoppedRE.FindStringSubmatch(d.stderr.String())
	if m == nil {
		t.Fatal("the daemon did not log its final counters")
	}
	if m[1] != fmt.Sprint(sent) || m[3] != "0" {
		t.Errorf("daemon evaluated %s packets with %s drops; the replay sent %d", m[1], m[3], sent)
	}
	// Every IP packet alerted once, under the old or the new rules.
	n1, _ := log.snapshot(9100001)
	n2, _ := log.snapshot(9100002)
	if n1+n2 != copies*perCopy || m[2] != fmt.Sprint(copies*perCopy) {
		t.Errorf("alerts: %d + %d received, daemon counted %s; want %d (%d per copy)", n1, n2, m[2], copies*perCopy, perCopy)
	}
	t.Logf("%d records in %.1f s (%.0f/s); alerts %d (old rules) + %d (new rules)", sent, elapsed.Seconds(), float64(sent)/elapsed.Seconds(), n1, n2)
}
