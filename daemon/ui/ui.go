// Package ui is the web console of `vigil run --ui ADDR`: one page, its
// HTML, CSS and JavaScript embedded from static/ (no build step, nothing
// fetched from elsewhere), and the JSON API the page reads:
//
//	GET /                   the page
//	GET /api/alerts         stored alerts, newest first, a page at a time (alerts.Newest)
//	GET /api/alerts/stream  the alerts stored after a sequence, then new ones, as server-sent events (alerts.Tail)
//	GET /api/stats          the daemon's stats snapshot and the counters of the last hour
//
// Alerts are read from the JetStream stream alerts.StreamName. With a
// token set, every request must carry it (see Server.ServeHTTP); Listen
// refuses an address other than loopback without one.
//
// The package imports alerts and rules; the daemon wires it.
package ui

import (
	"context"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigil-ids/vigil/alerts"
)

//go:embed static
var static embed.FS

// Stats is the daemon's stats snapshot, served as its JSON encoding;
// Counters gives its cumulative packets evaluated and alerts raised.
type Stats interface {
	Counters() (packets, alerts uint64)
}

// Config configures a Server.
type Config struct {
	// JetStream reads the alert stream.
	JetStream jetstream.JetStream
	// Prefix is the alert subject prefix (alerts.DefaultPrefix when
	// empty).
	Prefix string
	// Token, when set, is required on every request.
	Token string
	// Stats returns the daemon's stats snapshot now.
	Stats func() Stats
}

// Server serves the console. Create it with New.
type Server struct {
	cfg Config
	mux *http.ServeMux

	mu     sync.Mutex
	series []Sample // the last Window, oldest first
}

// Window is how far back Server keeps samples.
const Window = time.Hour

// Sample is a point of the plots: the counters of a stats snapshot.
type Sample struct {
	Time    int64  `json:"t"`       // Unix seconds
	Packets uint64 `json:"packets"` // packets evaluated since the daemon started
	Alerts  uint64 `json:"alerts"`  // alerts raised since the daemon started
}

// Default and largest page of GET /api/alerts.
const (
	DefaultLimit = 500
	MaxLimit     = 5000
)

// New returns the console's Server.
func New(cfg Config) *Server {
	s := &Server{cfg: cfg, mux: http.NewServeMux()}
	page, _ := fs.Sub(static, "static")
	s.mux.Handle("GET /", http.FileServerFS(page))
	s.mux.HandleFunc("GET /api/alerts", s.alerts)
	s.mux.HandleFunc("GET /api/alerts/stream", s.stream)
	s.mux.HandleFunc("GET /api/stats", s.stats)
	return s
}

// Listen listens on addr (host:port) for the console. An address other
// than loopback, the unspecified one ("0.0.0.0:8080", ":8080") included,
// is refused unless token is set.
func Listen(addr, token string) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if ip := l.Addr().(*net.TCPAddr).IP; token == "" && !ip.IsLoopback() {
		l.Close()
		return nil, fmt.Errorf("%s is not a loopback address: set a token (--ui-token) to serve the console there", addr)
	}
	return l, nil
}

// Sample records the counters of st, now, and forgets those older than
// Window.
func (s *Server) Sample(st Stats) {
	packets, alerts := st.Counters()
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	cut := now.Add(-Window).Unix()
	for len(s.series) > 0 && s.series[0].Time < cut {
		s.series = s.series[1:]
	}
	s.series = append(s.series, Sample{Time: now.Unix(), Packets: packets, Alerts: alerts})
}

// cookie is the cookie a ?token= login sets.
const cookie = "vigil_ui_token"

// ServeHTTP serves the page and the API. With a token set, a request
// carries it as "Authorization: Bearer TOKEN", as the cookie a login sets,
// or as ?token=TOKEN, which logs in: the cookie is set and the browser
// sent to the same URL without it. Any other request gets 401.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Token == "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	bearer, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	c, _ := r.Cookie(cookie)
	q := r.URL.Query()
	switch {
	case s.token(bearer) || c != nil && s.token(c.Value):
		s.mux.ServeHTTP(w, r)
	case s.token(q.Get("token")):
		http.SetCookie(w, &http.Cookie{Name: cookie, Value: s.cfg.Token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		q.Del("token")
		u := url.URL{Path: "/" + strings.TrimLeft(r.URL.Path, "/"), RawQuery: q.Encode()} // never "//host"
		http.Redirect(w, r, u.String(), http.StatusSeeOther)
	default:
		w.Header().Set("WWW-Authenticate", `Bearer realm="vigil"`)
		http.Error(w, "unauthorized: open the console as /?token=TOKEN, or send Authorization: Bearer TOKEN", http.StatusUnauthorized)
	}
}

// token reports whether t is the token, in constant time.
func (s *Server) token(t string) bool {
	return t != "" && subtle.ConstantTimeCompare([]byte(t), []byte(s.cfg.Token)) == 1
}

// item is an alert as the API gives it.
type item struct {
	Seq  uint64          `json:"seq"`  // stream sequence
	Time time.Time       `json:"time"` // when the stream stored it
	EVE  json.RawMessage `json:"eve"`  // the alert's EVE JSON
}

func itemOf(st alerts.Stored) item { return item{st.Seq, st.Time, st.Data} }

// alerts serves GET /api/alerts: {"alerts": [item...], "next": SEQ, "last": SEQ}
// (see alerts.Page), for the filters of parseFilter and before (a
// sequence: the page ends before it), since (a duration back or an RFC
// 3339 time, of the stream's store time) and limit (DefaultLimit, at most
// MaxLimit).
func (s *Server) alerts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, err := parseFilter(q)
	var before uint64
	var since time.Time
	limit := DefaultLimit
	if err == nil && q.Get("before") != "" {
		before, err = strconv.ParseUint(q.Get("before"), 10, 64)
	}
	if err == nil && q.Get("since") != "" {
		since, err = alerts.ParseSince(q.Get("since"), time.Now())
	}
	if err == nil && q.Get("limit") != "" {
		if limit, err = strconv.Atoi(q.Get("limit")); err == nil && (limit < 1 || limit > MaxLimit) {
			err = fmt.Errorf("limit %d is not within 1..%d", limit, MaxLimit)
		}
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	page, err := alerts.Newest(r.Context(), s.cfg.JetStream, f.subject(s.cfg.Prefix), before, since, limit, f.keep)
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	out := struct {
		Alerts []item `json:"alerts"`
		Next   uint64 `json:"next"`
		Last   uint64 `json:"last"`
	}{Alerts: []item{}, Next: page.Next, Last: page.Last}
	for _, st := range page.Alerts {
		out.Alerts = append(out.Alerts, itemOf(st))
	}
	writeJSON(w, out)
}

// batch is the most alerts one event of the stream carries.
const batch = 256

// stream serves GET /api/alerts/stream: the alerts of the filters of
// parseFilter stored after sequence after (or the Last-Event-ID header
// an EventSource sends when it reconnects; without either, from the end
// of the stream), then new ones, as server-sent events: "id: SEQ" (the
// last alert's) and "data: [ITEM...]", the alerts read at once, up to
// batch, in stream order. With newest=N, of a backlog only the alerts
// with fewer than N of the subject after them are sent: a page that keeps
// N rows needs no more.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, err := parseFilter(q)
	after := q.Get("after")
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		after = id
	}
	var seq, newest uint64
	if err == nil && after != "" {
		seq, err = strconv.ParseUint(after, 10, 64)
	}
	if err == nil && q.Get("newest") != "" {
		newest, err = strconv.ParseUint(q.Get("newest"), 10, 64)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if after == "" {
		str, err := s.cfg.JetStream.Stream(r.Context(), alerts.StreamName)
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		seq = str.CachedInfo().State.LastSeq
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	rc := http.NewResponseController(w)
	if err := rc.Flush(); err != nil {
		return
	}
	var items []item
	err = alerts.Tail(r.Context(), s.cfg.JetStream, f.subject(s.cfg.Prefix), seq, func(st alerts.Stored) error {
		if (newest == 0 || st.Pending < newest) && f.keep(st) {
			items = append(items, itemOf(st))
		}
		if len(items) == 0 || st.Pending > 0 && len(items) < batch {
			return nil
		}
		data, err := json.Marshal(items)
		if err == nil {
			_, err = fmt.Fprintf(w, "id: %d\ndata: %s\n\n", items[len(items)-1].Seq, data)
		}
		if err == nil {
			err = rc.Flush()
		}
		items = items[:0]
		return err
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(w, "event: error\ndata: %q\n\n", err.Error())
	}
}

// stats serves GET /api/stats: {"stats": the daemon's snapshot, "series":
// [Sample...] of the last Window, oldest first}.
func (s *Server) stats(w http.ResponseWriter, _ *http.Request) {
	st := s.cfg.Stats()
	s.mu.Lock()
	series := append([]Sample{}, s.series...)
	s.mu.Unlock()
	writeJSON(w, struct {
		Stats  Stats    `json:"stats"`
		Series []Sample `json:"series"`
	}{st, series})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}
