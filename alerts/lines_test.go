package alerts

import (
	"errors"
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
