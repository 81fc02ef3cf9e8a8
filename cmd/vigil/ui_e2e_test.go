package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
func js[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
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
