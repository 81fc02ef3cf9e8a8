package alerts

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// FollowConfig configures Follow.
type FollowConfig struct {
	// Subject is the subject alerts are taken from (FilterSubject builds
	// one).
	Subject string
	// History says which stored alerts come before the new ones.
	History History
	// JSON writes every message's data as published, one per line,
	// instead of one FormatText line per alert.
	JSON bool
	// Out receives the alerts; Log "listening on SUBJECT" and the
	// messages that are not alerts.
	Out, Log io.Writer
}

// History says which alerts stored in the JetStream stream StreamName
// Follow prints before the new ones. The zero History prints none and
// needs no JetStream: Follow then subscribes with core NATS.
type History struct {
	All   bool      // every stored alert
	Since time.Time // the alerts stored at or after this time (wins over All)
	// Last keeps, of those (all of them when Since is zero), the last Last
	// (the stream is read through, keeping Last at a time).
	Last int
}

func (h History) none() bool { return !h.All && h.Since.IsZero() && h.Last <= 0 }

// ParseSince reads a --since value at time now: a duration back from now
// ("90m", "24h") or an RFC 3339 time ("2026-11-25T10:00:00Z").
func ParseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("alerts: %q is a negative duration: give how long back (90m)", s)
		}
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("alerts: %q is neither a duration (90m) nor an RFC 3339 time (2026-11-25T10:00:00Z)", s)
	}
	return t, nil
}

// Follow writes the alerts published on cfg.Subject, as cfg says, until
// ctx ends: first the stored ones cfg.History asks for, in stream order,
// then every new one. Once subscribed it writes "listening on SUBJECT" to
// cfg.Log; without JSON a message that does not decode as an alert is
// skipped and its subject and the error go to cfg.Log. It returns nil when
// ctx ends, or the error of subscribing (a History without the stream is
// an error naming it).
func Follow(ctx context.Context, nc *nats.Conn, cfg FollowConfig) error {
	write := func(subject string, data []byte) {
		if cfg.JSON {
			fmt.Fprintf(cfg.Out, "%s\n", data)
			return
		}
		a, err := Decode(data)
		if err != nil {
			fmt.Fprintf(cfg.Log, "%s: %v\n", subject, err)
			return
		}
		fmt.Fprintln(cfg.Out, FormatText(a))
	}
	if !cfg.History.none() {
		return followStream(ctx, nc, cfg, write)
	}
	msgs := make(chan *nats.Msg, 4096)
	sub, err := nc.ChanSubscribe(cfg.Subject, msgs)
	if err != nil {
		return err
	}
	defer sub.Unsubscribe()
	fmt.Fprintf(cfg.Log, "listening on %s\n", cfg.Subject)
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-msgs:
			write(m.Subject, m.Data)
		}
	}
}

// followStream is Follow with a History: an ordered consumer on the
// alert stream, from the first alert the History asks for.
func followStream(ctx context.Context, nc *nats.Conn, cfg FollowConfig, write func(string, []byte)) error {
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	occ := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if h := cfg.History; !h.Since.IsZero() {
		occ.DeliverPolicy, occ.OptStartTime = jetstream.DeliverByStartTimePolicy, &h.Since
	}
	_, it, err := ordered(ctx, js, cfg.Subject, occ)
	if err != nil {
		return err
	}
	fmt.Fprintf(cfg.Log, "listening on %s (stream %s)\n", cfg.Subject, StreamName)
	type held struct {
		subject string
		data    []byte
	}
	var last []held // with Last: the latest alerts until the stored ones are read
	keep := cfg.History.Last > 0
	return eachMsg(ctx, it, func(m jetstream.Msg) error {
		if !keep {
			write(m.Subject(), m.Data())
			return nil
		}
		last = append(last, held{m.Subject(), m.Data()})
		if len(last) > cfg.History.Last {
			last = last[1:]
		}
		if md, err := m.Metadata(); err == nil && md.NumPending == 0 {
			for _, h := range last {
				write(h.subject, h.data)
			}
			keep, last = false, nil
		}
		return nil
	})
}
