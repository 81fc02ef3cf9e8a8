package alerts

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"
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
		go func() { done <- Follow(ctx, nc, subject, asJSON, &out, &log) }()
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
