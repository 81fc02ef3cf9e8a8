package alerts

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// fillStream stores testAlert(0..n-1) in the alert stream, in order, and
// returns the time between the first n/2 and the rest.
func fillStream(t *testing.T, js jetstream.JetStream, n int) time.Time {
	t.Helper()
	ctx := context.Background()
	var mid time.Time
	for i := range n {
		if i == n/2 {
			time.Sleep(20 * time.Millisecond)
			mid = time.Now()
			time.Sleep(20 * time.Millisecond)
		}
		a := testAlert(i)
		if _, err := js.Publish(ctx, Subject("", a.Sensor, a.SeverityWord, a.SID), a.AppendJSON(nil)); err != nil {
			t.Fatal(err)
		}
	}
	return mid
}

// seqs lists the sequences of a page.
func seqs(p Page) []uint64 {
	var out []uint64
	for _, s := range p.Alerts {
		out = append(out, s.Seq)
	}
	return out
}

// span returns the sequences from hi down to lo, step step.
func span(hi, lo, step uint64) []uint64 {
	var out []uint64
	for s := hi; s >= lo && s <= hi; s -= step {
		out = append(out, s)
	}
	return out
}

// TestNewest: pages of the stream come newest first, each starting where
// the last one's Next said, across the reading windows; a subject, keep
// and since narrow them; Last is the stream's end.
func TestNewest(t *testing.T) {
	s := startEmbedded(t, "127.0.0.1:0", t.TempDir())
	defer s.Shutdown()
	js := ensureStream(t, connect(t, s.ClientURL()))
	const n = 2000
	mid := fillStream(t, js, n)
	ctx := context.Background()
	all := FilterSubject("", "", "", 0)

	var got []uint64
	before := uint64(0)
	for range 5 {
		p, err := Newest(ctx, js, all, before, time.Time{}, 700, nil)
		if err != nil {
			t.Fatal(err)
		}
		if p.Last != n {
			t.Fatalf("Last = %d, want %d", p.Last, n)
		}
		got = append(got, seqs(p)...)
		if before = p.Next; before == 0 {
			break
		}
	}
	if want := span(n, 1, 1); !slices.Equal(got, want) {
		t.Errorf("paging the whole stream gave %d sequences, %v ... want %d from %d down to 1", len(got), got[:min(5, len(got))], len(want), n)
	}

	// testAlert(i) has sensor sensors[i%3] and is stored as sequence i+1.
	lab := FilterSubject("", "lab", "", 0)
	p, err := Newest(ctx, js, lab, 0, time.Time{}, 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := span(2000, 1973, 3); !slices.Equal(seqs(p), want) || p.Next != 1973 {
		t.Errorf("sensor lab: %v next %d, want %v next 1973", seqs(p), p.Next, want)
	}
	keep := func(s Stored) bool { return s.Seq%10 == 0 }
	p, err = Newest(ctx, js, all, 1000, time.Time{}, 3, keep)
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint64{990, 980, 970}; !slices.Equal(seqs(p), want) {
		t.Errorf("keep every tenth before 1000: %v, want %v", seqs(p), want)
	}
	p, err = Newest(ctx, js, all, 0, mid, n, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := span(n, n/2+1, 1); !slices.Equal(seqs(p), want) || p.Next != 0 {
		t.Errorf("since the middle: %d alerts from %v, next %d; want %d, next 0", len(p.Alerts), seqs(p)[:1], p.Next, len(want))
	}
	if p.Alerts[0].Subject != Subject("", testAlert(n-1).Sensor, testAlert(n-1).SeverityWord, testAlert(n-1).SID) {
		t.Errorf("subject %q", p.Alerts[0].Subject)
	}
}

// TestTail: Tail delivers what was stored after a sequence, then new
// alerts, under its subject only, and returns nil when its context ends.
func TestTail(t *testing.T) {
	s := startEmbedded(t, "127.0.0.1:0", t.TempDir())
	defer s.Shutdown()
	js := ensureStream(t, connect(t, s.ClientURL()))
	fillStream(t, js, 30)
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan uint64, 100)
	done := make(chan error, 1)
	go func() {
		done <- Tail(ctx, js, FilterSubject("", "lab", "", 0), 20, func(s Stored) error {
			got <- s.Seq
			return nil
		})
	}()
	for _, want := range []uint64{23, 26, 29} {
		if seq := <-got; seq != want {
			t.Fatalf("got sequence %d, want %d", seq, want)
		}
	}
	a := testAlert(1) // sensor lab
	if _, err := js.Publish(ctx, Subject("", "other", a.SeverityWord, a.SID), a.AppendJSON(nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, Subject("", a.Sensor, a.SeverityWord, a.SID), a.AppendJSON(nil)); err != nil {
		t.Fatal(err)
	}
	select {
	case seq := <-got:
		if seq != 32 {
			t.Errorf("new alert: sequence %d, want 32", seq)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the new alert never came")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Tail: %v", err)
	}
}
