package alerts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Stored is one message of the alert stream StreamName.
type Stored struct {
	Seq     uint64    // stream sequence, from 1
	Time    time.Time // when the stream stored it
	Subject string
	Data    []byte // the alert's JSON, as published
	// Pending is how many alerts of the reader's subject the stream held
	// after this one when it was read: 0 for the newest.
	Pending uint64
}

// storedOf reads a message the stream delivered.
func storedOf(m jetstream.Msg) (Stored, error) {
	md, err := m.Metadata()
	if err != nil {
		return Stored{}, err
	}
	return Stored{Seq: md.Sequence.Stream, Time: md.Timestamp, Subject: m.Subject(), Data: m.Data(), Pending: md.NumPending}, nil
}

// ordered opens an ordered consumer on the alert stream for subject, from
// where occ's deliver policy says, and returns it with its message
// iterator, which stops when ctx ends.
func ordered(ctx context.Context, js jetstream.JetStream, subject string, occ jetstream.OrderedConsumerConfig) (jetstream.Consumer, jetstream.MessagesContext, error) {
	occ.FilterSubjects = []string{subject}
	cons, err := js.OrderedConsumer(ctx, StreamName, occ)
	if err != nil {
		return nil, nil, fmt.Errorf("alerts: reading stream %s: %w", StreamName, err)
	}
	it, err := cons.Messages()
	if err != nil {
		return nil, nil, err
	}
	go func() {
		<-ctx.Done()
		it.Stop()
	}()
	return cons, it, nil
}

// Tail calls fn with every alert of subject stored after sequence after,
// in stream order, then with each new one as it is stored, until ctx ends
// (it then returns nil) or fn returns an error (returned).
func Tail(ctx context.Context, js jetstream.JetStream, subject string, after uint64, fn func(Stored) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	_, it, err := ordered(ctx, js, subject, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: after + 1,
	})
	if err != nil {
		return err
	}
	return eachMsg(ctx, it, func(m jetstream.Msg) error {
		s, err := storedOf(m)
		if err == nil {
			err = fn(s)
		}
		return err
	})
}

// eachMsg calls fn with every message of it until ctx ends or it is
// stopped (it then returns nil), or it or fn fails (that error).
func eachMsg(ctx context.Context, it jetstream.MessagesContext, fn func(jetstream.Msg) error) error {
	for {
		m, err := it.Next()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return nil
			}
			return err
		}
		if err := fn(m); err != nil {
			return err
		}
	}
}

// Page is a page of Newest.
type Page struct {
	Alerts []Stored // newest first
	// Next is the Before of the next (older) page; 0 when the stream
	// holds no older alert the query could return.
	Next uint64
	// Last is the stream's last sequence when the page was read: Tail
	// from it follows the page without a gap or a repeat.
	Last uint64
}

// Newest returns up to limit alerts of subject stored before sequence
// before (0: the whole stream) and at or after since (zero: any time),
// newest first, that keep accepts (nil keeps all). It reads the stream
// backwards in windows of sequences (limit, then each twice the last), so
// a page costs about the messages of subject it passes over, not the
// stream's size.
func Newest(ctx context.Context, js jetstream.JetStream, subject string, before uint64, since time.Time, limit int, keep func(Stored) bool) (Page, error) {
	str, err := js.Stream(ctx, StreamName)
	if err != nil {
		return Page{}, fmt.Errorf("alerts: reading stream %s: %w", StreamName, err)
	}
	state := str.CachedInfo().State
	first := max(state.FirstSeq, 1)
	page := Page{Last: state.LastSeq}
	end := state.LastSeq // the window is [start, end]
	if before > 0 {
		end = min(end, before-1)
	}
	window := uint64(max(limit, 256))
	for end >= first {
		start := max(first, end-min(end, window-1))
		batch, err := readWindow(ctx, js, subject, start, end)
		if err != nil {
			return Page{}, err
		}
		for i := len(batch) - 1; i >= 0; i-- {
			s := batch[i]
			if s.Time.Before(since) {
				return page, nil
			}
			if keep != nil && !keep(s) {
				continue
			}
			if page.Alerts = append(page.Alerts, s); len(page.Alerts) == limit {
				if s.Seq > first {
					page.Next = s.Seq
				}
				return page, nil
			}
		}
		end, window = start-1, min(2*window, 1<<16)
	}
	return page, nil
}

// readWindow returns the alerts of subject stored from sequence start to
// end, in order.
func readWindow(ctx context.Context, js jetstream.JetStream, subject string, start, end uint64) ([]Stored, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cons, it, err := ordered(ctx, js, subject, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: start,
	})
	if err != nil {
		return nil, err
	}
	if cons.CachedInfo().NumPending == 0 {
		return nil, nil
	}
	var out []Stored
	for {
		m, err := it.Next()
		if err != nil {
			return nil, err
		}
		s, err := storedOf(m)
		if err != nil {
			return nil, err
		}
		if s.Seq > end {
			return out, nil
		}
		if out = append(out, s); s.Seq == end || s.Pending == 0 {
			return out, nil
		}
	}
}
