package ui_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigil-ids/vigil/alerts"
	"github.com/vigil-ids/vigil/alerts/natsserver"
	"github.com/vigil-ids/vigil/daemon/ui"
)

// fakeStats stands for the daemon's snapshot.
type fakeStats struct {
	Packets, Alerts uint64
}

func (f fakeStats) Counters() (uint64, uint64) { return f.Packets, f.Alerts }

// stream starts an embedded NATS server with the alert stream and
// returns a JetStream context on it.
func stream(t *testing.T) jetstream.JetStream {
	t.Helper()
	s, err := natsserver.StartServer(natsserver.ServerConfig{Listen: "127.0.0.1:0", DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := alerts.EnsureStream(js, alerts.StreamName, alerts.StreamSubjects(""), alerts.DefaultRetention); err != nil {
		t.Fatal(err)
	}
	return js
}

// alert i: sensor s0..s2 by i%3; severity high for even i, else low; sid
// 1000+i%4; source 10.0.0.(i%5); signature "sig i".
func alert(i int) *alerts.Alert {
	sev, word := 1, "high"
	if i%2 == 1 {
		sev, word = 3, "low"
	}
	return &alerts.Alert{
		Timestamp: time.Date(2026, 11, 25, 10, 0, 0, i*1000, time.UTC), Sensor: fmt.Sprintf("s%d", i%3),
		PcapCnt: i + 1, SrcIP: fmt.Sprintf("10.0.0.%d", i%5), SrcPort: 1234, DestIP: "192.168.1.1", DestPort: 80, Proto: "TCP",
		Action: alerts.ActionAllowed, GID: 1, SID: 1000 + i%4, Rev: 1, Signature: fmt.Sprintf("sig %d", i),
		Severity: sev, SeverityWord: word, ID: fmt.Sprintf("id-%d", i),
	}
}

// publish stores alert(from..to-1) in the alert stream.
func publish(t *testing.T, js jetstream.JetStream, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		a := alert(i)
		if _, err := js.Publish(context.Background(), alerts.Subject("", a.Sensor, a.SeverityWord, a.SID), a.AppendJSON(nil)); err != nil {
			t.Error(err)
			return
		}
	}
}

// page is the body of GET /api/alerts.
type page struct {
	Alerts []struct {
		Seq uint64
		EVE struct {
			PcapCnt int `json:"pcap_cnt"`
		}
	}
	Next, Last uint64
}

// cnts lists the pcap_cnt of a page's alerts: alert i has i+1.
func (p page) cnts() []int {
	var out []int
	for _, a := range p.Alerts {
		out = append(out, a.EVE.PcapCnt)
	}
	return out
}

func get(t *testing.T, c *http.Client, url string, hdr ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestAlertsAPI: GET /api/alerts pages the stream newest first and
// filters by severity, sensor, sid, address and text; bad parameters are
// 400 naming the problem.
func TestAlertsAPI(t *testing.T) {
	js := stream(t)
	publish(t, js, 0, 60)
	srv := httptest.NewServer(ui.New(ui.Config{JetStream: js, Stats: func() ui.Stats { return fakeStats{} }}))
	defer srv.Close()
	query := func(q string) page {
		t.Helper()
		code, body := get(t, srv.Client(), srv.URL+"/api/alerts?"+q)
		if code != 200 {
			t.Fatalf("%s: %d %s", q, code, body)
		}
		var p page
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			t.Fatalf("%s: %v in %s", q, err, body)
		}
		return p
	}
	p := query("limit=5")
	if want := []int{60, 59, 58, 57, 56}; !slices.Equal(p.cnts(), want) || p.Last != 60 || p.Next != 56 {
		t.Errorf("limit=5: %v next %d last %d, want %v next 56 last 60", p.cnts(), p.Next, p.Last, want)
	}
	if p := query("limit=5&before=3"); !slices.Equal(p.cnts(), []int{2, 1}) || p.Next != 0 {
		t.Errorf("before=3: %v next %d, want [2 1] next 0", p.cnts(), p.Next)
	}
	if p := query(""); len(p.Alerts) != 60 {
		t.Errorf("default page: %d alerts, want 60", len(p.Alerts))
	}
	for _, tc := range []struct {
		q    string
		want []int // pcap_cnt = i+1
	}{
		{"severity=low&limit=3", []int{60, 58, 56}},
		{"sensor=s1&limit=3", []int{59, 56, 53}},
		{"sid=1002&limit=3", []int{59, 55, 51}},
		{"addr=10.0.0.4&limit=3", []int{60, 55, 50}},
		{"addr=10.0.0.2/31&limit=3", []int{59, 58, 54}},
		{"addr=192.168.1.0/24&limit=2", []int{60, 59}},
		{"q=SIG+1&limit=4", []int{20, 19, 18, 17}}, // "sig 1", "sig 10".."sig 19"
		{"severity=high&sensor=s0&sid=1000&limit=3", []int{49, 37, 25}},
		{"sensor=nobody", nil},
	} {
		if got := query(tc.q).cnts(); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.q, got, tc.want)
		}
	}
	for q, want := range map[string]string{
		"severity=hgih":   `unknown severity "hgih"`,
		"sid=x":           `sid "x" is not a rule id`,
		"addr=nowhere":    `addr "nowhere" is neither an address nor a CIDR`,
		"limit=0":         "limit 0 is not within 1..5000",
		"since=yesterday": "neither a duration",
		"before=-1":       "invalid syntax",
	} {
		if code, body := get(t, srv.Client(), srv.URL+"/api/alerts?"+q); code != 400 || !strings.Contains(body, want) {
			t.Errorf("%s: %d %q, want 400 with %q", q, code, body, want)
		}
	}
	if p := query("since=1h"); len(p.Alerts) != 60 {
		t.Errorf("since=1h: %d alerts, want 60", len(p.Alerts))
	}
	time.Sleep(50 * time.Millisecond)
	mid := time.Now().UTC().Format(time.RFC3339Nano)
	time.Sleep(50 * time.Millisecond)
	publish(t, js, 60, 63)
	if p := query("since=" + mid); !slices.Equal(p.cnts(), []int{63, 62, 61}) {
		t.Errorf("since %s: %v, want [63 62 61]", mid, p.cnts())
	}
}

// TestStreamAPI: GET /api/alerts/stream sends, as server-sent events, the
// alerts of its filters stored after its sequence, then new ones, each
// with its sequence as the event id; Last-Event-ID wins over after.
func TestStreamAPI(t *testing.T) {
	js := stream(t)
	publish(t, js, 0, 10)
	srv := httptest.NewServer(ui.New(ui.Config{JetStream: js, Stats: func() ui.Stats { return fakeStats{} }}))
	defer srv.Close()
	// events reads the stream until n alerts came, and returns them as
	// "SEQ:PCAP_CNT" and the number of alerts of each event; with more it
	// publishes alerts 10..13 once the stream is open.
	events := func(query string, n int, more bool, hdr ...string) (got []string, sizes []int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/alerts/stream?"+query, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
			t.Fatalf("Content-Type %q", ct)
		}
		if more {
			published := make(chan struct{})
			go func() {
				publish(t, js, 10, 14)
				close(published)
			}()
			defer func() { <-published }()
		}
		sc := bufio.NewScanner(resp.Body)
		for len(got) < n && sc.Scan() {
			id, ok := strings.CutPrefix(sc.Text(), "id: ")
			if !ok {
				continue
			}
			sc.Scan()
			var items []struct {
				Seq uint64
				EVE struct {
					PcapCnt int `json:"pcap_cnt"`
				}
			}
			if err := json.Unmarshal([]byte(strings.TrimPrefix(sc.Text(), "data: ")), &items); err != nil || len(items) == 0 {
				t.Fatalf("event data %q: %v", sc.Text(), err)
			}
			if last := items[len(items)-1].Seq; id != fmt.Sprint(last) {
				t.Errorf("event id %s, its last alert has sequence %d", id, last)
			}
			for _, it := range items {
				got = append(got, fmt.Sprintf("%d:%d", it.Seq, it.EVE.PcapCnt))
			}
			sizes = append(sizes, len(items))
		}
		return got, sizes
	}
	// Alert i is sequence i+1, pcap_cnt i+1; 10..13 come while reading,
	// at sequences 11..14, then again at 15..18, and so on.
	if got, _ := events("after=7&severity=high", 3, true); !slices.Equal(got, []string{"9:9", "11:11", "13:13"}) {
		t.Errorf("after=7 severity=high: %v, want [9:9 11:11 13:13]", got)
	}
	if got, _ := events("after=1&addr=10.0.0.3", 2, true, "Last-Event-ID", "12"); !slices.Equal(got, []string{"14:14", "18:14"}) {
		t.Errorf("Last-Event-ID 12: %v, want [14:14 18:14]", got)
	}
	// Of a backlog, newest=N sends the last N.
	if got, _ := events("after=0&newest=3", 3, false); !slices.Equal(got, []string{"16:12", "17:13", "18:14"}) {
		t.Errorf("after=0 newest=3: %v, want [16:12 17:13 18:14]", got)
	}
	// The stored alerts come in one event.
	if got, sizes := events("after=0", 18, false); got[17] != "18:14" || sizes[0] != 18 {
		t.Errorf("after=0: %v in events of %v, want the 18 stored alerts in one event", got, sizes)
	}
}

// TestStatsAPI: GET /api/stats serves the snapshot and the samples taken.
func TestStatsAPI(t *testing.T) {
	s := ui.New(ui.Config{Stats: func() ui.Stats { return fakeStats{Packets: 7, Alerts: 3} }})
	s.Sample(fakeStats{Packets: 100, Alerts: 1})
	s.Sample(fakeStats{Packets: 250, Alerts: 4})
	srv := httptest.NewServer(s)
	defer srv.Close()
	code, body := get(t, srv.Client(), srv.URL+"/api/stats")
	var got struct {
		Stats  fakeStats
		Series []ui.Sample
	}
	if err := json.Unmarshal([]byte(body), &got); code != 200 || err != nil {
		t.Fatalf("%d %s: %v", code, body, err)
	}
	if got.Stats != (fakeStats{7, 3}) || len(got.Series) != 2 || got.Series[1].Packets != 250 || got.Series[1].Alerts != 4 ||
		time.Since(time.Unix(got.Series[0].Time, 0)) > time.Minute {
		t.Errorf("stats: %s", body)
	}
	for path, want := range map[string]string{"/": "<title>Vigil</title>", "/app.js": "EventSource", "/style.css": "body"} {
		if code, body := get(t, srv.Client(), srv.URL+path); code != 200 || !strings.Contains(body, want) {
			t.Errorf("%s: %d, want 200 with %q", path, code, want)
		}
	}
}

// TestToken: bound elsewhere than loopback the console needs a token;
// with one, the page and the API refuse a request without it (401), and
// take it as a Bearer header, or from a ?token= login that sets a cookie.
func TestToken(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0"} {
		if l, err := ui.Listen(addr, ""); err == nil || !strings.Contains(err.Error(), "--ui-token") {
			if l != nil {
				l.Close()
			}
			t.Errorf("Listen(%q) without a token: %v, want an error naming --ui-token", addr, err)
		}
		l, err := ui.Listen(addr, "s3cret")
		if err != nil {
			t.Fatalf("Listen(%q) with a token: %v", addr, err)
		}
		l.Close()
	}
	l, err := ui.Listen("127.0.0.1:0", "")
	if err != nil {
		t.Fatalf("loopback without a token: %v", err)
	}
	l.Close()

	js := stream(t)
	srv := httptest.NewServer(ui.New(ui.Config{JetStream: js, Token: "s3cret", Stats: func() ui.Stats { return fakeStats{} }}))
	defer srv.Close()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/", "/app.js", "/api/alerts", "/api/alerts/stream", "/api/stats", "/?token=wrong"} {
		if code, _ := get(t, noRedirect, srv.URL+path); code != 401 {
			t.Errorf("%s without the token: %d, want 401", path, code)
		}
		if code, _ := get(t, noRedirect, srv.URL+path, "Authorization", "Bearer wrong"); code != 401 {
			t.Errorf("%s with a wrong token: %d, want 401", path, code)
		}
	}
	if code, body := get(t, noRedirect, srv.URL+"/api/stats", "Authorization", "Bearer s3cret"); code != 200 {
		t.Errorf("/api/stats with the Bearer token: %d %s", code, body)
	}
	resp, err := noRedirect.Get(srv.URL + "/?token=s3cret&x=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookies := resp.Cookies()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/?x=1" || len(cookies) != 1 || !cookies[0].HttpOnly {
		t.Fatalf("login: %d to %q, cookies %v", resp.StatusCode, resp.Header.Get("Location"), cookies)
	}
	// The login stays on this server.
	req, _ := http.NewRequest("GET", srv.URL+"/?token=s3cret", nil)
	req.URL.Path = "//elsewhere.example/"
	if resp, err = noRedirect.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); loc != "/elsewhere.example/" {
		t.Errorf("login at //elsewhere.example/ sends to %q, want /elsewhere.example/", loc)
	}
	c := cookies[0]
	if code, body := get(t, noRedirect, srv.URL+"/", "Cookie", c.Name+"="+c.Value); code != 200 || !strings.Contains(body, "<title>Vigil") {
		t.Errorf("page with the login cookie: %d", code)
	}
	if code, _ := get(t, noRedirect, srv.URL+"/", "Cookie", c.Name+"=wrong"); code != 401 {
		t.Errorf("page with a wrong cookie: %d, want 401", code)
	}
}
