package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigil-ids/vigil/alerts"
)

// smallRules matches SYNs, FINs and big frames: several alerts per capture,
// none stateful.
const smallRules = `rules:
  - sid: 9000001
    rev: 1
    name: TCP SYN
    severity: low
    condition: tcp.flags.syn && !tcp.flags.ack
  - sid: 9000002
    rev: 1
    name: TCP FIN
    severity: info
    condition: tcp.flags.fin
  - sid: 9000003
    rev: 1
    name: Big frame
    severity: high
    condition: frame.len > 1000
`

var connectedRE = regexp.MustCompile(`msg="sensor connected" sensor=(\S+)`)

// sensorsConnected lists the sensor names in the order they connected.
func sensorsConnected(stderr string) []string {
	var out []string
	for _, m := range connectedRE.FindAllStringSubmatch(stderr, -1) {
		out = append(out, m[1])
	}
	return out
}

// streamAlerts reads every message of the alert stream and returns the
// alerts and their Nats-Msg-Id headers.
func streamAlerts(t *testing.T, natsURL string, want int) ([]*alerts.Alert, []string) {
	t.Helper()
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, alerts.StreamName)
	if err != nil {
		t.Fatalf("stream %s: %v", alerts.StreamName, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	total := int(info.State.Msgs)
	cons, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var list []*alerts.Alert
	var ids []string
	for len(list) < total && ctx.Err() == nil {
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			a, err := alerts.Decode(m.Data())
			if err != nil {
				t.Fatalf("stream message on %s: %v", m.Subject(), err)
			}
			list = append(list, a)
			ids = append(ids, m.Headers().Get(nats.MsgIdHdr))
		}
		if err := batch.Error(); err != nil {
			t.Fatal(err)
		}
	}
	if len(list) != total {
		t.Fatalf("read %d of the %d messages of the stream", len(list), total)
	}
	return list, ids
}

// checkIDs checks that every id is set, unique and the alert's own.
func checkIDs(t *testing.T, list []*alerts.Alert, ids []string) {
	t.Helper()
	seen := make(map[string]bool, len(ids))
	for i, id := range ids {
		if id == "" {
			t.Errorf("stream message %d (%s) has no Nats-Msg-Id", i, hit{list[i].SID, list[i].PcapCnt})
			continue
		}
		if seen[id] {
			t.Errorf("Nats-Msg-Id %q stored twice", id)
		}
		seen[id] = true
		if list[i].ID != id {
			t.Errorf("Nats-Msg-Id %q differs from the alert's id %q", id, list[i].ID)
		}
	}
}

// TestEndToEnd: vigil run with its embedded NATS, captures replayed by vigil
// replay, and a vigil alerts subscriber in its own process receive exactly
// what vigil test prints for the same captures and rules; the stream holds
// each alert once.
func TestEndToEnd(t *testing.T) {
	rulesFile := writeFile(t, t.TempDir(), "small.yaml", smallRules)
	for _, tc := range []struct {
		name     string
		rules    []string
		run      []string // more flags of vigil run
		captures []string
	}{
		// Two workers: matches are released in packet order, so the
		// default rules' thresholds tracked across flows (by_src, by_dst)
		// cross their counts on the same packets as in vigil test.
		{"defaults", nil, []string{"--workers", "2"}, []string{"sv-http-testmyids.pcap", "zeek-ftp-bruteforce.pcap", "sv-telnet.pcap"}},
		{"rule-file", []string{"--rules", rulesFile}, nil, []string{"zeek-ftp-bruteforce.pcap", "sv-telnet.pcap", "sv-http-testmyids.ncf"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, listen, natsURL := startRun(t, append(tc.rules, tc.run...)...)
			sub := vigil(t, "alerts", "--nats", natsURL, "--json")
			sub.waitStderr(regexp.MustCompile(`listening on`), 10*time.Second)

			total := 0
			for i, c := range tc.captures {
				want := offlineHits(t, tc.rules, captures+c)
				if len(want) < 1 {
					t.Fatalf("%s gives no alert offline; the test needs some", c)
				}
				total += len(want)
				sent := replayOnce(t, listen, captures+c)
				names := sensorsConnected(d.stderr.String())
				if len(names) != i+1 {
					t.Fatalf("after replay %d the daemon logged %d sensor connections", i+1, len(names))
				}
				sensor := names[i]
				var got []hit
				ok := eventually(15*time.Second, func() bool {
					got = hitsFor(t, sub.stdout.String(), sensor)
					return len(got) >= len(want)
				})
				if !ok {
					t.Fatalf("%s: subscriber got %d of %d alerts", c, len(got), len(want))
				}
				time.Sleep(300 * time.Millisecond) // room for extra, wrong alerts
				got = hitsFor(t, sub.stdout.String(), sensor)
				if !sameHits(got, want) {
					t.Errorf("%s (sensor %s, %d records): subscriber got\n%v\nvigil test printed\n%v", c, sensor, sent, multiset(got), multiset(want))
				}
				t.Logf("%s: %d records, %d alerts, sensor %s", c, sent, len(want), sensor)
			}
			if n := len(parseAlerts(t, sub.stdout.String())); n != total {
				t.Errorf("subscriber got %d alerts in all, want %d", n, total)
			}
			list, ids := streamAlerts(t, natsURL, total)
			if len(list) != total {
				t.Errorf("stream holds %d alerts, want %d", len(list), total)
			}
			checkIDs(t, list, ids)
			sub.stop(10 * time.Second)
			d.stop(30 * time.Second)
		})
	}
}

// hitsFor returns the alerts of one sensor in JSON lines.
func hitsFor(t *testing.T, out, sensor string) []hit {
	var hs []hit
	for _, a := range parseAlerts(t, out) {
		if a.Sensor == sensor {
			hs = append(hs, hit{a.SID, a.PcapCnt})
		}
	}
	return hs
}

// TestThreeSensors: three replays at once and a fourth client that breaks
// mid-record; every alert carries its sensor and packet number, and the
// broken connection disturbs no one.
func TestThreeSensors(t *testing.T) {
	rulesFile := writeFile(t, t.TempDir(), "small.yaml", smallRules)
	rulesArgs := []string{"--rules", rulesFile}
	d, listen, natsURL := startRun(t, rulesArgs...)
	sub := vigil(t, "alerts", "--nats", natsURL, "--json")
	sub.waitStderr(regexp.MustCompile(`listening on`), 10*time.Second)

	caps := []string{"sv-http-testmyids.pcap", "zeek-ftp-bruteforce.pcap", "sv-telnet.pcap"}
	want := map[string][]hit{}
	for _, c := range caps {
		want[c] = offlineHits(t, rulesArgs, captures+c)
	}
	var reps []*proc
	for _, c := range caps {
		reps = append(reps, vigil(t, "replay", "--to", listen, "--rate", "1000", "--linger", "200ms", captures+c))
	}
	// The fourth sensor: one whole record, then half of the next, then
	// close. Its capture raises no alert.
	if n := len(offlineHits(t, rulesArgs, captures+"sv-arp.ncf")); n != 0 {
		t.Fatalf("sv-arp.ncf raises %d alerts offline; the broken sensor needs a quiet capture", n)
	}
	raw := rawBroken(t, listen, captures+"sv-arp.ncf")
	for i, r := range reps {
		if code := r.wait(60 * time.Second); code != 0 {
			t.Fatalf("replay of %s exited %d:\n%s", caps[i], code, r.stderr.String())
		}
	}
	d.waitStderr(regexp.MustCompile(`msg="sensor connection dropped" sensor=`+regexp.QuoteMeta(raw)+` reason=(\S+)`), 10*time.Second)

	total := 0
	for _, w := range want {
		total += len(w)
	}
	var got []*alerts.Alert
	if !eventually(15*time.Second, func() bool {
		got = parseAlerts(t, sub.stdout.String())
		return len(got) >= total
	}) {
		t.Fatalf("subscriber got %d of %d alerts", len(got), total)
	}
	time.Sleep(300 * time.Millisecond)
	got = parseAlerts(t, sub.stdout.String())
	bySensor := map[string][]hit{}
	for _, a := range got {
		bySensor[a.Sensor] = append(bySensor[a.Sensor], hit{a.SID, a.PcapCnt})
	}
	if len(bySensor) != len(caps) {
		t.Errorf("alerts came from %d sensors, want %d: %v", len(bySensor), len(caps), keys(bySensor))
	}
	if _, ok := bySensor[raw]; ok {
		t.Errorf("the broken sensor %s raised alerts: %v", raw, bySensor[raw])
	}
	// Each sensor's alerts must be exactly one capture's, each capture once.
	used := map[string]string{}
	for s, hs := range bySensor {
		if !strings.HasPrefix(s, "127.0.0.1:") {
			t.Errorf("sensor name %q is not the replay's remote address", s)
		}
		matched := ""
		for _, c := range caps {
			if sameHits(hs, want[c]) && used[c] == "" {
				matched = c
				break
			}
		}
		if matched == "" {
			t.Errorf("sensor %s: alerts %v match no capture's alerts", s, multiset(hs))
			continue
		}
		used[matched] = s
	}
	for _, c := range caps {
		if used[c] == "" {
			t.Errorf("no sensor carried the %d alerts of %s", len(want[c]), c)
		} else {
			t.Logf("%s: %d alerts on sensor %s", c, len(want[c]), used[c])
		}
	}
	sub.stop(10 * time.Second)
	d.stop(30 * time.Second)
	if !strings.Contains(d.stderr.String(), "stream ended mid-record") {
		t.Errorf("the daemon did not give the reason of the broken connection")
	}
}

func keys(m map[string][]hit) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// rawBroken connects to the daemon, writes the first record of an NCF file
// and half of the second, closes, and returns its local address (the
// sensor's name).
func rawBroken(t *testing.T, addr, ncfPath string) string {
	t.Helper()
	data, err := os.ReadFile(ncfPath)
	if err != nil {
		t.Fatal(err)
	}
	recLen := func(off int) int {
		if off+24 > len(data) {
			t.Fatalf("%s: no record at %d", ncfPath, off)
		}
		return 24 + (int(data[off]) | int(data[off+1])<<8)
	}
	first := recLen(0)
	second := recLen(first)
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write(data[:first+second/2]); err != nil {
		t.Fatal(err)
	}
	return conn.LocalAddr().String()
}

var _ = fmt.Sprint

// everyPacket raises one alert per IP packet.
const everyPacket = `rules:
  - sid: 9100001
    rev: 1
    name: Every IP packet
    severity: info
    condition: ip || ipv6
`

// startNATSServer runs the nats-server binary with JetStream on port,
// storing in dir, and waits until it is ready.
func startNATSServer(t *testing.T, bin string, port int, dir string) *proc {
	t.Helper()
	p := start(t, bin, "-js", "-sd", dir, "-a", "127.0.0.1", "-p", fmt.Sprint(port))
	p.waitStderr(regexp.MustCompile(`Server is ready`), 20*time.Second)
	return p
}

var flushedRE = regexp.MustCompile(`msg="alerts flushed" published=(\d+) pending=(\d+) dropped=(\d+)`)

// TestNATSOutage: the external NATS server is stopped for 10 s in the middle
// of a replay that yields thousands of alerts; after the restart and a
// graceful stop, the stream holds every alert exactly once.
func TestNATSOutage(t *testing.T) {
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		t.Skip("nats-server is not installed")
	}
	dir := t.TempDir()
	rulesFile := writeFile(t, dir, "every.yaml", everyPacket)
	capFile := captures + "sv-vnc-ttl128.pcap"
	want := offlineHits(t, []string{"--rules", rulesFile}, capFile)
	if len(want) < 1000 {
		t.Fatalf("only %d alerts offline; the test needs thousands", len(want))
	}
	port := freePort(t)
	store := t.TempDir()
	ns := startNATSServer(t, bin, port, store)
	natsURL := fmt.Sprintf("nats://127.0.0.1:%d", port)
	d := vigil(t, "run", "--listen", "127.0.0.1:0", "--nats", natsURL, "--data-dir", t.TempDir(), "--rules", rulesFile)
	listen := d.waitStderr(runningRE, 20*time.Second)[1]

	const rate = 260 // packets/s: the replay lasts about 15 s
	began := time.Now()
	rep := vigil(t, "replay", "--to", listen, "--rate", fmt.Sprint(rate), "--linger", "200ms", capFile)
	time.Sleep(2 * time.Second)
	ns.signal(syscall.SIGTERM)
	if code := ns.wait(15 * time.Second); code != 0 {
		t.Logf("nats-server exited %d on SIGTERM", code)
	}
	down := time.Now()
	time.Sleep(10 * time.Second)
	startNATSServer(t, bin, port, store) // stopped by its cleanup
	t.Logf("NATS down from %.1f s to %.1f s of the replay", down.Sub(began).Seconds(), time.Since(began).Seconds())
	if code := rep.wait(60 * time.Second); code != 0 {
		t.Fatalf("replay exited %d:\n%s", code, rep.stderr.String())
	}
	sent := recordsSent(t, rep.stderr.String())
	t.Logf("replay: %d records in %.1f s", sent, time.Since(began).Seconds())
	stopAt := time.Now()
	d.stop(60 * time.Second)
	t.Logf("daemon drained and stopped in %.1f s", time.Since(stopAt).Seconds())
	if m := flushedRE.FindStringSubmatch(d.stderr.String()); m != nil {
		t.Logf("daemon: published=%s pending=%s dropped=%s", m[1], m[2], m[3])
		if m[2] != "0" || m[3] != "0" {
			t.Errorf("daemon stopped with alerts pending=%s dropped=%s", m[2], m[3])
		}
	} else {
		t.Errorf("the daemon did not log its final publisher counters")
	}
	list, ids := streamAlerts(t, natsURL, len(want))
	t.Logf("stream: %d alerts, vigil test: %d", len(list), len(want))
	if len(list) != len(want) {
		t.Errorf("stream holds %d alerts, vigil test gives %d", len(list), len(want))
	}
	if !sameHits(hitsOf(list), want) {
		t.Errorf("stream alerts differ from vigil test's (as a multiset of sid@pcap_cnt)")
	}
	checkIDs(t, list, ids)
}

// TestNATSLate: the external NATS server starts only after the daemon and
// a replay: the alerts wait in the publisher, the stream is created once
// the server is there, and it ends with every alert.
func TestNATSLate(t *testing.T) {
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		t.Skip("nats-server is not installed")
	}
	capFile := captures + "zeek-ftp-bruteforce.pcap"
	want := offlineHits(t, nil, capFile)
	port := freePort(t)
	natsURL := fmt.Sprintf("nats://127.0.0.1:%d", port)
	d := vigil(t, "run", "--listen", "127.0.0.1:0", "--nats", natsURL, "--data-dir", t.TempDir())
	listen := d.waitStderr(runningRE, 20*time.Second)[1]
	replayOnce(t, listen, capFile)
	startNATSServer(t, bin, port, t.TempDir())
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	full := eventually(30*time.Second, func() bool {
		st, err := js.Stream(context.Background(), alerts.StreamName)
		if err != nil {
			return false
		}
		info, err := st.Info(context.Background())
		return err == nil && int(info.State.Msgs) >= len(want)
	})
	if !full {
		t.Fatalf("the stream never got the %d alerts:\n%s", len(want), tail(d.stderr.String(), 20))
	}
	d.stop(30 * time.Second)
	list, ids := streamAlerts(t, natsURL, len(want))
	if !sameHits(hitsOf(list), want) {
		t.Errorf("stream: %v\nvigil test: %v", multiset(hitsOf(list)), multiset(want))
	}
	checkIDs(t, list, ids)
}
