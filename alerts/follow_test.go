package alerts

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// syncBuffer is a bytes.Buffer the test reads while Follow writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls until buf holds want.
func waitFor(t *testing.T, buf *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(buf.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("never got %q; have %q", want, buf.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestFollow: Follow prints the alerts under its subject as text lines
// (reporting a message that is no alert), or every message as it came with
// asJSON; it ignores other subjects and returns when its context ends.
func TestFollow(t *testing.T) {
	s := startEmbedded(t, "127.0.0.1:0", t.TempDir())
	defer s.Shutdown()
	nc := connect(t, s.ClientURL())
	a := sampleAlert()
	data := a.AppendJSON(nil)
	subject := FilterSubject(DefaultPrefix, a.Sensor, "", 0)
	for _, asJSON := range []bool{false, true} {
		var out, log syncBuffer
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- Follow(ctx, nc, FollowConfig{Subject: subject, JSON: asJSON, Out: &out, Log: &log}) }()
		waitFor(t, &log, "listening on "+subject+"\n")
		if err := nc.Publish(Subject(DefaultPrefix, "other", a.SeverityWord, a.SID), data); err != nil {
			t.Fatal(err)
		}
		bad := Subject(DefaultPrefix, a.Sensor, a.SeverityWord, a.SID)
		for _, msg := range [][]byte{[]byte("not json"), data} {
			if err := nc.Publish(bad, msg); err != nil {
				t.Fatal(err)
			}
		}
		want := FormatText(a) + "\n"
		if asJSON {
			want = "not json\n" + string(data) + "\n"
		}
		waitFor(t, &out, want)
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Follow: %v", err)
		}
		if out.String() != want {
			t.Errorf("json=%v: printed %q, want only %q", asJSON, out.String(), want)
		}
		if !asJSON && !strings.Contains(log.String(), bad+": ") {
			t.Errorf("the undecodable message was not reported: %q", log.String())
		}
	}
}

// TestFollowHistory: with a History, Follow first prints the stored alerts
// it asks for (all, since a time, the last N, under the subject only),
// then the new ones.
func TestFollowHistory(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    func(mid time.Time) History
		want []int // sids printed before the new alert, 6
	}{
		{"all", func(time.Time) History { return History{All: true} }, []int{1, 2, 3, 4, 5}},
		{"last 2", func(time.Time) History { return History{Last: 2} }, []int{4, 5}},
		{"last 9", func(time.Time) History { return History{Last: 9} }, []int{1, 2, 3, 4, 5}},
		{"since", func(mid time.Time) History { return History{Since: mid} }, []int{5}},
		{"since, last 1", func(mid time.Time) History { return History{Since: mid.Add(-time.Hour), Last: 1} }, []int{5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startEmbedded(t, "127.0.0.1:0", t.TempDir())
			defer s.Shutdown()
			nc := connect(t, s.ClientURL())
			js, err := jetstream.New(nc)
			if err != nil {
				t.Fatal(err)
			}
			if err := EnsureStream(js, StreamName, StreamSubjects(""), DefaultRetention); err != nil {
				t.Fatal(err)
			}
			publish := func(sid int, sensor string) {
				a := sampleAlert()
				a.SID, a.Sensor = sid, sensor
				if _, err := js.Publish(context.Background(), Subject("", a.Sensor, a.SeverityWord, a.SID), a.AppendJSON(nil)); err != nil {
					t.Fatal(err)
				}
			}
			for sid := 1; sid <= 4; sid++ {
				publish(sid, "lab")
				publish(100+sid, "other")
			}
			time.Sleep(20 * time.Millisecond)
			mid := time.Now()
			publish(5, "lab")
			subject := FilterSubject("", "lab", "", 0)
			var out, log syncBuffer
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				done <- Follow(ctx, nc, FollowConfig{Subject: subject, History: tc.h(mid), JSON: true, Out: &out, Log: &log})
			}()
			waitFor(t, &out, `"signature_id":5,`)
			publish(6, "lab")
			waitFor(t, &out, `"signature_id":6,`)
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			var got, want strings.Builder
			for _, m := range regexp.MustCompile(`"signature_id":\d+,`).FindAllString(out.String(), -1) {
				got.WriteString(m)
			}
			for _, sid := range append(tc.want, 6) {
				fmt.Fprintf(&want, `"signature_id":%d,`, sid)
			}
			if got.String() != want.String() {
				t.Errorf("printed %s, want %s", got.String(), want.String())
			}
		})
	}
}
