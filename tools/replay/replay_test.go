package replay

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

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
