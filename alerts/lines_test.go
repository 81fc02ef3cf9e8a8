package alerts

import (
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
)

// TestLineWriter: every alert becomes one line, byte for byte AppendJSON,
// from concurrent callers; nothing is torn.
func TestLineWriter(t *testing.T) {
	var b strings.Builder
	lw := NewLineWriter(&b)
	a := sampleAlert()
	want := string(a.AppendJSON(nil))
	const n = 2000 // more than the 64 KiB buffer holds
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range n / 4 {
				lw.Publish(a)
			}
		})
	}
	wg.Wait()
	if err := lw.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	if len(lines) != n+1 || lines[n] != "" {
		t.Fatalf("%d lines, want %d and a final newline", len(lines)-1, n)
	}
	for i, l := range lines[:n] {
		if l != want {
			t.Fatalf("line %d:\n got %s\nwant %s", i, l, want)
		}
	}
}

// failWriter fails every write.
type failWriter struct{}

var errWrite = errors.New("disk full")

func (failWriter) Write([]byte) (int, error) { return 0, errWrite }

// TestLineWriterError: a failed write is reported by Flush.
func TestLineWriterError(t *testing.T) {
	lw := NewLineWriter(failWriter{})
	lw.Publish(sampleAlert())
	if err := lw.Flush(); !errors.Is(err, errWrite) {
		t.Fatalf("Flush: %v, want %v", err, errWrite)
	}
}

// publishOnly is a member of Publishers without PublishEncoded.
type publishOnly struct{ lw *LineWriter }

func (p publishOnly) Publish(a *Alert) { p.lw.Publish(a) }

// TestPublishEncoded: an alert handed over already encoded becomes the
// same line as one Publish encodes, through a LineWriter, a File and
// Publishers, whose members without PublishEncoded get Publish.
func TestPublishEncoded(t *testing.T) {
	a := sampleAlert()
	want := string(a.AppendJSON(nil)) + "\n"
	var direct, member, plain strings.Builder
	lw, lwMember, lwPlain := NewLineWriter(&direct), NewLineWriter(&member), NewLineWriter(&plain)
	path := t.TempDir() + "/eve.json"
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data := a.AppendJSON(nil)
	lw.PublishEncoded(a, data)
	Publishers{lwMember, f, publishOnly{lwPlain}}.PublishEncoded(a, data)
	if string(data) != want[:len(want)-1] {
		t.Fatal("PublishEncoded changed data")
	}
	for _, l := range []*LineWriter{lw, lwMember, lwPlain} {
		if err := l.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	fromFile, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]string{"LineWriter": direct.String(), "Publishers member": member.String(),
		"File": string(fromFile), "member without PublishEncoded": plain.String()} {
		if got != want {
			t.Errorf("%s wrote\n%q\nwant\n%q", name, got, want)
		}
	}
}
