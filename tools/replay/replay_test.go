package replay

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigil-ids/vigil/capture"
	"github.com/vigil-ids/vigil/ncf"
)

// receiver accepts one connection and counts the NCF records it reads.
func receiver(t *testing.T) (addr string, count <-chan int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	ch := make(chan int, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			ch <- -1
			return
		}
		defer c.Close()
		rd := ncf.NewReader(c, ncf.ReaderConfig{})
		n := 0
		for {
			if _, err := rd.Next(); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Errorf("receiver: %v after %d records", err, n)
				}
				ch <- n
				return
			}
			n++
		}
	}()
	return l.Addr().String(), ch
}

func TestRunSendsEverything(t *testing.T) {
	addr, count := receiver(t)
	st, err := Run(context.Background(), Config{Addr: addr, Files: []string{"../../testdata/captures/sv-telnet.pcap"}, Linger: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if got := <-count; got != st.Records || st.Records != 92 {
		t.Errorf("sent %d records, received %d, want 92", st.Records, got)
	}
}

// TestRunInterruptedWhilePaced: cancelling a slow, paced replay returns at
// once, and every record it counted as sent reached the other side.
func TestRunInterruptedWhilePaced(t *testing.T) {
	addr, count := receiver(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	done := make(chan struct{})
	var st Stats
	var err error
	go func() {
		st, err = Run(ctx, Config{Addr: addr, Files: []string{"../../testdata/captures/sv-telnet.pcap"}, Rate: 20, Linger: 100 * time.Millisecond})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Run kept pacing after its context was cancelled")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run: %v, want context.Canceled", err)
	}
	got := <-count
	if st.Records == 0 || st.Records >= 92 || got != st.Records {
		t.Errorf("counted %d records sent, receiver read %d", st.Records, got)
	}
}

// TestSaveInjected: the frames the other side sends back land in the
// SaveInjected file, in order, as outgoing records.
func TestSaveInjected(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	sent := [][]byte{bytes.Repeat([]byte{1}, 60), bytes.Repeat([]byte{2}, 54)}
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		var out []byte
		for _, f := range sent {
			out, _ = ncf.AppendInjection(out, f)
		}
		c.Write(out)
		io.Copy(io.Discard, c) // until the replay half-closes
	}()
	path := filepath.Join(t.TempDir(), "back.ncf")
	st, err := Run(context.Background(), Config{Addr: l.Addr().String(), Files: []string{"../../testdata/captures/sv-telnet.pcap"}, SaveInjected: path, Linger: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if st.Injected != len(sent) {
		t.Errorf("%d frames received, want %d", st.Injected, len(sent))
	}
	r, err := capture.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for i, want := range sent {
		rec, err := r.Next()
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if !bytes.Equal(rec.Data, want) || rec.Direction != ncf.Out {
			t.Errorf("record %d: %x direction %v, want %x out", i, rec.Data, rec.Direction, want)
		}
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("after the frames: %v, want io.EOF", err)
	}
}

// TestRunRefused: a receiver that closes each connection at once, as Vigil
// does over its sensor cap, makes Run fail rather than report success.
func TestRunRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	_, err = Run(context.Background(), Config{Addr: l.Addr().String(), Files: []string{"../../testdata/captures/sv-telnet.pcap"}, Linger: 100 * time.Millisecond})
	if err == nil {
		t.Fatal("a refused replay reported success")
	}
}
