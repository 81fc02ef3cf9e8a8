package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browser starts headless Chromium for the test, or skips the test when
// it is not installed.
func browser(t *testing.T) context.Context {
	t.Helper()
	chrome, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (apt-get install chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.WindowSize(1600, 1000), chromedp.UserDataDir(t.TempDir()))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	return ctx
}

// js evaluates a JavaScript expression in the page.
func js[T any](t *testing.T, ctx context.Context, expr string, opts ...chromedp.EvaluateOption) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, opts...))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// waitJS polls a boolean expression every 10 ms until it holds, and
// returns how long that took, or fails the test after timeout.
func waitJS(t *testing.T, ctx context.Context, expr string, timeout time.Duration) time.Duration {
	t.Helper()
	began := time.Now()
	for !js[bool](t, ctx, expr) {
		if time.Since(began) > timeout {
			t.Fatalf("%s did not hold within %v", expr, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(began)
}

// getJSON decodes the JSON answer to GET url into v.
func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

const shownCount = `Number(document.getElementById("count").textContent)`

// TestConsoleInBrowser: `vigil run --ui` in headless Chromium. The alerts
// of a replayed capture appear on the page within 2 s, as many as `vigil
// test` prints for it; a severity and a text filter narrow the list to
// exactly the alerts they select; a click shows an alert's EVE JSON. A
// screenshot of the page is left in the test's temporary folder.
func TestConsoleInBrowser(t *testing.T) {
	ctx := browser(t)
	capture := captures + "zeek-ftp-bruteforce.pcap"
	lines := strings.Split(strings.TrimSpace(offlineJSON(t, nil, capture)), "\n")
	want := parseAlerts(t, strings.Join(lines, "\n")+"\n")
	if len(want) < 10 {
		t.Fatalf("vigil test gives %d alerts for %s; the test needs more", len(want), capture)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	d, listen, _ := startRun(t, "--ui", addr, "--stats-interval", "1s")
	if err := chromedp.Do(ctx, chromedp.Navigate("http://"+addr+"/")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `document.getElementById("live").textContent === "live"`, 10*time.Second)

	replayOnce(t, listen, capture)
	took := waitJS(t, ctx, fmt.Sprintf("%s === %d", shownCount, len(want)), 2*time.Second)
	time.Sleep(300 * time.Millisecond) // room for extra, wrong rows
	if n := js[int](t, ctx, shownCount); n != len(want) {
		t.Fatalf("the page shows %d alerts, vigil test printed %d", n, len(want))
	}
	t.Logf("%d alerts on the page %v after the replay ended", len(want), took.Round(time.Millisecond))
	sigs := js[[]string](t, ctx, `[...document.querySelectorAll("#alerts tr td:nth-child(5)")].map((td) => td.textContent)`)
	if len(sigs) != len(want) {
		t.Errorf("%d rows, want %d", len(sigs), len(want))
	}

	// Severity: the rows are exactly the alerts of that severity word.
	medium := 0
	for _, a := range want {
		if a.SeverityWord == "medium" {
			medium++
		}
	}
	js[bool](t, ctx, `(() => { const s = document.querySelector("select[name=severity]"); s.value = "medium"; s.dispatchEvent(new Event("input", {bubbles: true})); return true })()`)
	waitJS(t, ctx, fmt.Sprintf(`%s === %d && [...document.querySelectorAll("#alerts tr td:nth-child(2)")].every((td) => td.textContent === "medium")`, shownCount, medium), 5*time.Second)
	if medium == len(want) || medium == 0 {
		t.Errorf("%d of %d alerts are medium: the filter narrows nothing", medium, len(want))
	}

	// Text, typed: the rows are the medium alerts whose JSON holds it.
	const text = "Password"
	matching := 0
	for i, l := range lines {
		if want[i].SeverityWord == "medium" && strings.Contains(strings.ToLower(l), strings.ToLower(text)) {
			matching++
		}
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("input[name=q]"), text)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, fmt.Sprintf("%s === %d", shownCount, matching), 5*time.Second)
	if matching == medium || matching == 0 {
		t.Errorf("%d of %d medium alerts hold %q: the filter narrows nothing", matching, medium, text)
	}

	// A click shows the row's alert as EVE JSON.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#alerts tr:nth-child(2)")), chromedp.WaitVisible(chromedp.ID("eve"))); err != nil {
		t.Fatal(err)
	}
	var eve struct {
		PcapCnt int `json:"pcap_cnt"`
		Alert   struct {
			SID int `json:"signature_id"`
		}
	}
	if err := json.Unmarshal([]byte(js[string](t, ctx, `document.getElementById("eve").textContent`)), &eve); err != nil {
		t.Fatalf("the EVE JSON shown: %v", err)
	}
	sid := js[string](t, ctx, `document.querySelector("#alerts tr:nth-child(2) td:nth-child(4)").textContent`)
	found := false
	for _, a := range want {
		found = found || a.SID == eve.Alert.SID && a.PcapCnt == eve.PcapCnt
	}
	if !found || fmt.Sprint(eve.Alert.SID) != sid {
		t.Errorf("clicked the row of sid %s; the JSON shown is sid %d, packet %d (an alert of vigil test: %v)", sid, eve.Alert.SID, eve.PcapCnt, found)
	}

	waitJS(t, ctx, `document.querySelectorAll("#rules tr").length > 0 && document.querySelectorAll("#alertrate polyline").length > 0`, 10*time.Second)
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(t.TempDir(), "console.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", shot)
	d.stop(30 * time.Second)
}

// loadRules alert on every IP packet (info) and on SSH (high).
const loadRules = `rules:
  - sid: 9200001
    name: IP packet
    severity: info
    condition: ip || ipv6
  - sid: 9200002
    name: SSH packet
    severity: high
    condition: tcp.port == 22
`

// TestConsoleLoad measures the console over a stream of many alerts: set
// VIGIL_UI_LOAD to the number of packets of a generated capture replayed
// into a daemon whose rules alert on every one (and again on SSH). It
// logs the page's load time (navigation until the first 500 rows are
// drawn) and how long a few actions take, and fails when the page loads in
// 1 s or more.
func TestConsoleLoad(t *testing.T) {
	packets := os.Getenv("VIGIL_UI_LOAD")
	if packets == "" {
		t.Skip("set VIGIL_UI_LOAD=100000 to measure the console over that many alerts")
	}
	ctx := browser(t)
	dir := t.TempDir()
	capture := filepath.Join(dir, "load.ncf")
	if code := vigil(t, "gen", "--packets", packets, capture).wait(5 * time.Minute); code != 0 {
		t.Fatalf("vigil gen exited %d", code)
	}
	rules := writeFile(t, dir, "load.yaml", loadRules)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	d, listen, _ := startRun(t, "--rules", rules, "--ui", addr, "--stats-interval", "1s")
	url := "http://" + addr + "/"
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `document.getElementById("live").textContent === "live"`, 10*time.Second)
	// While the alerts stream in, the page answers an evaluation every
	// 50 ms: its latencies tell how responsive the page stays.
	want := len(offlineHits(t, []string{"--rules", rules}, capture))
	began := time.Now()
	rep := vigil(t, "replay", "--to", listen, "--linger", "200ms", capture)
	// The stream is watched apart, so the page is sampled evenly.
	var stored atomic.Int64
	go func() {
		for stored.Load() < int64(want) && time.Since(began) < 10*time.Minute {
			var p struct{ Last int64 }
			if resp, err := http.Get(url + "api/alerts?limit=1"); err == nil {
				json.NewDecoder(resp.Body).Decode(&p)
				resp.Body.Close()
				stored.Store(p.Last)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	var lat []time.Duration
	for stored.Load() < int64(want) {
		if time.Since(began) > 10*time.Minute {
			t.Fatalf("the stream holds %d of %d alerts after 10 min", stored.Load(), want)
		}
		start := time.Now()
		js[bool](t, ctx, `document.getElementById("count") !== null`)
		lat = append(lat, time.Since(start))
		time.Sleep(50 * time.Millisecond)
	}
	if code := rep.wait(time.Minute); code != 0 {
		t.Fatalf("replay exited %d", code)
	}
	storedIn := time.Since(began)
	waitJS(t, ctx, fmt.Sprintf("%s === %d", shownCount, min(want, 2000)), 30*time.Second)
	slices.Sort(lat)
	t.Logf("%s packets replayed, %d alerts stored in %v, on the live page (2000 rows kept) after %v; meanwhile the page answered %d evaluations, median %v, 99th percentile %v, slowest %v",
		packets, want, storedIn.Round(time.Millisecond), time.Since(began).Round(time.Millisecond), len(lat), lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1])
	for _, q := range []string{"limit=500", "limit=500&before=50000", "limit=500&sid=9200002", "limit=500&q=ssh+packet", "limit=500&q=no+such+text"} {
		start := time.Now()
		var p struct{ Alerts []json.RawMessage }
		getJSON(t, url+"api/alerts?"+q, &p)
		t.Logf("GET /api/alerts?%s: %d alerts in %v", q, len(p.Alerts), time.Since(start).Round(time.Millisecond))
	}

	var loads []time.Duration
	for range 5 {
		start := time.Now()
		if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
			t.Fatal(err)
		}
		waitJS(t, ctx, shownCount+" === 500", 10*time.Second)
		loads = append(loads, time.Since(start))
	}
	slices.Sort(loads)
	t.Logf("page load (navigation until 500 rows are drawn), 5 runs: %v", loads)
	if loads[2] >= time.Second {
		t.Errorf("median page load %v, want under 1 s", loads[2])
	}
	measure := func(what, action, until string) {
		t.Helper()
		start := time.Now()
		js[any](t, ctx, action)
		waitJS(t, ctx, until, 30*time.Second)
		t.Logf("%s: %v", what, time.Since(start).Round(time.Millisecond))
	}
	filter := func(name, value string) string {
		return fmt.Sprintf(`(() => { const f = document.getElementById("filters"); f.reset(); f.elements[%q].value = %q; f.requestSubmit(); return 0 })()`, name, value)
	}
	measure("older page (500 more rows)", `document.getElementById("older").click()`, shownCount+" === 1000")
	measure("filter sid 9200002 (by subject)", filter("sid", "9200002"), `document.querySelector("#alerts tr td:nth-child(4)")?.textContent === "9200002" && `+shownCount+` === 500`)
	measure("filter text \"ssh packet\" (read and matched)", filter("q", "ssh packet"), `document.querySelector("#alerts tr td:nth-child(5)")?.textContent === "SSH packet" && `+shownCount+` === 500`)
	measure("filter text matching nothing (the whole stream read)", filter("q", "no such text"), shownCount+` === 0 && document.getElementById("live").textContent === "live"`)
	measure("back to all alerts", filter("q", ""), shownCount+` === 500 && document.getElementById("live").textContent === "live"`)
	measure("click a row to its EVE JSON", `document.querySelector("#alerts tr:nth-child(7)").click()`, `document.getElementById("eve").textContent.includes("signature_id")`)
	d.stop(60 * time.Second)
}
