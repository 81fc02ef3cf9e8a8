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
// does over its sensor cap, makes Run retry, then fail after GiveUpAfter
// rather than report success.
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
	st, err := Run(context.Background(), Config{Addr: l.Addr().String(), Files: []string{"../../testdata/captures/sv-telnet.pcap"},
		Linger: 100 * time.Millisecond, Retry: 20 * time.Millisecond, GiveUpAfter: 300 * time.Millisecond})
	if !errors.Is(err, ErrGaveUp) {
		t.Fatalf("a refused replay: %v, want ErrGaveUp", err)
	}
	if st.Connections < 2 {
		t.Errorf("%d connections, want retries", st.Connections)
	}
}

// TestRunChecksFirst: an address without a port and a capture that cannot
// be read are errors before any connection.
func TestRunChecksFirst(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan struct{}, 1)
	go func() {
		if c, err := l.Accept(); err == nil {
			accepted <- struct{}{}
			c.Close()
		}
	}()
	missing := filepath.Join(t.TempDir(), "nope.pcap")
	for _, cfg := range []Config{
		{Addr: "localhost", Files: []string{"../../testdata/captures/sv-telnet.pcap"}},
		{Addr: l.Addr().String(), Files: []string{"../../testdata/captures/sv-telnet.pcap", missing}},
	} {
		st, err := Run(context.Background(), cfg)
		if err == nil || st.Attempts != 0 {
			t.Errorf("%+v: %v after %d attempts, want an error before any", cfg, err, st.Attempts)
		}
	}
	select {
	case <-accepted:
		t.Error("Run connected before checking its captures")
	case <-time.After(50 * time.Millisecond):
	}
}

// TestRunResumes: when the receiver goes away mid-stream, Run connects
// again and resumes after the last record the receiver's TCP
// acknowledged: paced so that nothing is in flight, the second connection
// starts with the record after the last one the first connection read,
// and the two together hold the capture once.
func TestRunResumes(t *testing.T) {
	const file, total, first = "../../testdata/captures/sv-telnet.pcap", 92, 30
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan []ncf.Record, 2)
	go func() {
		for conn := 0; conn < 2; conn++ {
			c, err := l.Accept()
			if err != nil {
				return
			}
			rd := ncf.NewReader(c, ncf.ReaderConfig{})
			var recs []ncf.Record
			for conn > 0 || len(recs) < first {
				rec, err := rd.Next()
				if err != nil {
					break
				}
				rec.Data = bytes.Clone(rec.Data)
				recs = append(recs, *rec)
			}
			c.Close() // the first time: Vigil goes away
			got <- recs
		}
	}()
	st, err := Run(context.Background(), Config{Addr: l.Addr().String(), Files: []string{file}, Rate: 400,
		Retry: 50 * time.Millisecond, Linger: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	one, two := <-got, <-got
	if len(one) != first || st.Records != total || st.Connections != 2 {
		t.Fatalf("first connection read %d records, Run counted %d over %d connections; want %d, %d over 2", len(one), st.Records, st.Connections, first, total)
	}
	r, err := capture.Open(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for i := range total {
		want, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		var rec ncf.Record
		switch {
		case i < first:
			rec = one[i]
		case i-first < len(two):
			rec = two[i-first]
		default:
			t.Fatalf("record %d never arrived (second connection: %d records)", i+1, len(two))
		}
		if !bytes.Equal(rec.Data, want.Data) {
			t.Fatalf("record %d is not the capture's record %d", i+1, i+1)
		}
	}
	if len(two) != total-first {
		t.Errorf("second connection: %d records, want %d", len(two), total-first)
	}
}
