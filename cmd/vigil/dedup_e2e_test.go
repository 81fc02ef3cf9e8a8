package main

// Process-level tests of de-duplication (live, on NATS, and offline) and
// of exceptions and global suppression. Expectations are derived from the
// captures with tshark.

import (
	"fmt"
	"net/netip"
	"sort"
	"testing"
	"time"

	"github.com/vigil-ids/vigil/alerts"
)

// dedupWindow is one de-duplication window: its first match and how many
// matches it holds.
type dedupWindow struct {
	frame       int // pcap_cnt of the alerted match
	count       int
	first, last string // alerts.TimeLayout
}

func (w dedupWindow) String() string {
	return fmt.Sprintf("frame %d: %d matches %s..%s", w.frame, w.count, w.first, w.last)
}

// expectedWindows folds matches (frame, time, key) into windows of length
// seconds: a match at or after its key's window start + seconds opens a
// new window.
func expectedWindows(t *testing.T, rows [][]string, seconds int) []dedupWindow {
	t.Helper()
	type open struct {
		idx   int
		start time.Time
	}
	cur := map[string]open{}
	var out []dedupWindow
	for _, r := range rows {
		frame, at, key := atoi(t, r[0]), epoch(t, r[1]), r[2]
		ts := at.Truncate(time.Microsecond).Format(alerts.TimeLayout)
		if o, ok := cur[key]; ok && at.Before(o.start.Add(time.Duration(seconds)*time.Second)) {
			out[o.idx].count++
			out[o.idx].last = ts
			continue
		}
		cur[key] = open{len(out), at}
		out = append(out, dedupWindow{frame: frame, count: 1, first: ts, last: ts})
	}
	return out
}

// windowsOf splits alerts into first alerts (their frames) and summaries
// (as windows).
func windowsOf(list []*alerts.Alert) (firsts []int, sums []dedupWindow) {
	for _, a := range list {
		if a.Summary == nil {
			firsts = append(firsts, a.PcapCnt)
			continue
		}
		sums = append(sums, dedupWindow{frame: a.PcapCnt, count: a.Summary.Count,
			first: a.Summary.FirstSeen.UTC().Format(alerts.TimeLayout), last: a.Summary.LastSeen.UTC().Format(alerts.TimeLayout)})
	}
	sort.Ints(firsts)
	sort.Slice(sums, func(i, j int) bool { return sums[i].frame < sums[j].frame })
	return firsts, sums
}

// checkDedup compares alerts with the windows tshark's matches give: one
// alert per window, one summary per window that folded something, and
// first alerts + Σ(count-1) = matches.
func checkDedup(t *testing.T, what string, list []*alerts.Alert, want []dedupWindow, matches int) {
	t.Helper()
	firsts, sums := windowsOf(list)
	var wantFirsts []int
	var wantSums []dedupWindow
	for _, w := range want {
		wantFirsts = append(wantFirsts, w.frame)
		if w.count > 1 {
			wantSums = append(wantSums, w)
		}
	}
	total := len(firsts)
	for _, s := range sums {
		total += s.count - 1
	}
	if total != matches {
		t.Errorf("%s: %d first alerts + Σ(summary.count-1) = %d, tshark counts %d matches", what, len(firsts), total, matches)
	}
	if fmt.Sprint(firsts) != fmt.Sprint(wantFirsts) {
		t.Errorf("%s: first alerts at frames %v, want %v", what, firsts, wantFirsts)
	}
	if fmt.Sprint(sums) != fmt.Sprint(wantSums) {
		t.Errorf("%s: summaries\n%v\nwant\n%v", what, sums, wantSums)
	}
}

const dedupRule = `rules:
  - sid: 9600001
    name: ICMP echo request
    severity: low
    condition: icmp.type == 8
    dedup: {track: by_src, seconds: 30}
`

// TestDedupAlerts: 75 echo requests over about 75 s of packet time, folded
// by source in 30 s windows, reach a NATS subscriber as one alert per
// window plus a summary per window; the counts add up to the matches
// tshark counts, and vigil test prints the same alerts and summaries.
func TestDedupAlerts(t *testing.T) {
	needTshark(t)
	capFile := captures + "sv-icmpv4-ping.pcap"
	rulesFile := writeFile(t, t.TempDir(), "dedup.yaml", dedupRule)
	rows := tsharkRows(t, capFile, "icmp.type == 8", nil, "frame.number", "frame.time_epoch", "ip.src")
	want := expectedWindows(t, rows, 30)
	if len(want) < 2 {
		t.Fatalf("%d matches give %d windows; the test needs several", len(rows), len(want))
	}
	t.Logf("%d matches, expected windows: %v", len(rows), want)

	off := offlineAlerts(t, "--rules", rulesFile, capFile)
	checkDedup(t, "vigil test", off, want, len(rows))

	d, listen, natsURL := startRun(t, "--rules", rulesFile)
	sub := subscribe(t, natsURL)
	replayOnce(t, listen, capFile)
	// The last window's summary goes out when the daemon stops (end of
	// input); the others as packet time passes their end.
	if !eventually(15*time.Second, func() bool {
		firsts, _ := windowsOf(parseAlerts(t, sub.stdout.String()))
		return len(firsts) >= len(want)
	}) {
		t.Fatalf("subscriber got %d alerts, want at least %d first alerts", len(parseAlerts(t, sub.stdout.String())), len(want))
	}
	d.stop(30 * time.Second)
	eventually(5*time.Second, func() bool { return len(parseAlerts(t, sub.stdout.String())) >= len(off) })
	time.Sleep(200 * time.Millisecond)
	live := parseAlerts(t, sub.stdout.String())
	checkDedup(t, "NATS", live, want, len(rows))
	lf, ls := windowsOf(live)
	of, os := windowsOf(off)
	if fmt.Sprint(lf, ls) != fmt.Sprint(of, os) {
		t.Errorf("NATS alerts differ from vigil test's:\nNATS      %v %v\nvigil test %v %v", lf, ls, of, os)
	}
	t.Logf("NATS: %d alerts (%d first, %d summaries)", len(live), len(lf), len(ls))
	sub.stop(10 * time.Second)
}

// TestExceptionsSuppress: a rule's exceptions (a source CIDR) and global
// suppress entries (by source address, by destination CIDR) remove exactly
// the alerts of the packets they name; a rule without them alerts on every
// packet. Checked against tshark's addresses of each frame.
func TestExceptionsSuppress(t *testing.T) {
	needTshark(t)
	capFile := captures + "zeek-nmap-host-sweep.pcap"
	const (
		exceptNet   = "192.168.1.64/30"
		suppressSrc = "192.168.1.71"
		suppressDst = "192.168.1.0/28"
	)
	rulesFile := writeFile(t, t.TempDir(), "except.yaml", fmt.Sprintf(`rules:
  - sid: 9700001
    name: IPv4 with an exception
    condition: ip
    exceptions:
      - {field: ip.src, values: [%q]}
  - sid: 9700002
    name: IPv4 suppressed by source
    condition: ip
  - sid: 9700003
    name: IPv4 suppressed by destination
    condition: ip
  - sid: 9700004
    name: IPv4 control
    condition: ip
suppress:
  - {sid: 9700002, track: by_src, ip: %s}
  - {sid: 9700003, track: by_dst, ip: %s}
`, exceptNet, suppressSrc, suppressDst))

	rows := tsharkRows(t, capFile, "ip", nil, "frame.number", "ip.src", "ip.dst")
	except := netip.MustParsePrefix(exceptNet)
	supDst := netip.MustParsePrefix(suppressDst)
	supSrc := netip.MustParseAddr(suppressSrc)
	want := map[int][]int{}
	for _, r := range rows {
		n := atoi(t, r[0])
		src, err1 := netip.ParseAddr(r[1])
		dst, err2 := netip.ParseAddr(r[2])
		if err1 != nil || err2 != nil {
			t.Fatalf("tshark addresses of frame %d: %q %q", n, r[1], r[2])
		}
		want[9700004] = append(want[9700004], n)
		if !except.Contains(src) {
			want[9700001] = append(want[9700001], n)
		}
		if src != supSrc {
			want[9700002] = append(want[9700002], n)
		}
		if !supDst.Contains(dst) {
			want[9700003] = append(want[9700003], n)
		}
	}
	for sid := 9700001; sid <= 9700003; sid++ {
		if len(want[sid]) == 0 || len(want[sid]) == len(rows) {
			t.Fatalf("sid %d: %d of %d frames expected; the capture does not exercise it", sid, len(want[sid]), len(rows))
		}
	}
	got := map[int][]int{}
	for _, a := range offlineAlerts(t, "--rules", rulesFile, capFile) {
		got[a.SID] = append(got[a.SID], a.PcapCnt)
	}
	for sid := 9700001; sid <= 9700004; sid++ {
		sort.Ints(got[sid])
		if fmt.Sprint(got[sid]) != fmt.Sprint(want[sid]) {
			t.Errorf("sid %d alerts on frames\n%v\nwant\n%v", sid, got[sid], want[sid])
		}
		t.Logf("sid %d: %d of %d IPv4 frames alerted", sid, len(got[sid]), len(rows))
	}
}
