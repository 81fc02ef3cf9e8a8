package capture

import (
	"bytes"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/vigil-ids/vigil/ncf"
)

// TestInjectFile: frames injected from several goroutines come back from
// the file as outgoing Ethernet records with their times and bytes, in
// every format.
func TestInjectFile(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 123456000, time.UTC)
	frame := bytes.Repeat([]byte{0xab}, 60)
	for _, name := range []string{"out.pcap", "out.pcapng", "out.ncf"} {
		path := filepath.Join(t.TempDir(), name)
		f, err := CreateInjectFile(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Go(func() {
				if !f.Inject(frame, at.Add(time.Duration(i)*time.Second)) {
					t.Errorf("%s: Inject failed", name)
				}
			})
		}
		wg.Wait()
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		r, err := Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := readFrames(t, r)
		r.Close()
		if len(got) != 4 {
			t.Fatalf("%s: %d records, want 4", name, len(got))
		}
		seen := map[time.Time]bool{}
		for _, g := range got {
			seen[g.t] = true
			if !bytes.Equal(g.data, frame) || g.rec.Medium != ncf.Ethernet {
				t.Errorf("%s: record %x medium %v, want the frame on Ethernet", name, g.data, g.rec.Medium)
			}
			if name == "out.ncf" && g.rec.Direction != ncf.Out {
				t.Errorf("%s: direction %v, want out", name, g.rec.Direction)
			}
		}
		if len(seen) != 4 || !seen[at] {
			t.Errorf("%s: times %v, want the 4 injection times", name, seen)
		}
	}
}

// TestInjectFileError: a frame the format cannot hold is refused and the
// error comes back from Close.
func TestInjectFileError(t *testing.T) {
	f, err := CreateInjectFile(filepath.Join(t.TempDir(), "out.ncf"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if f.Inject(make([]byte, ncf.MaxDataLen+1), time.Now()) {
		t.Error("an oversized frame was reported written")
	}
	if f.Inject([]byte{1, 2, 3}, time.Now()) != true {
		t.Error("a later good frame was refused")
	}
	if err := f.Close(); err == nil {
		t.Error("Close did not report the failed write")
	}
}
