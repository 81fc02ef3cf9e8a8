package alerts

import (
	"context"
	"fmt"
	"io"

	"github.com/nats-io/nats.go"
)

// Follow subscribes to subject on nc (FilterSubject builds one) and writes
// every alert published there to w until ctx ends: one FormatText line
// each or, with asJSON, every message's data as published, one per line.
// Once subscribed it writes "listening on SUBJECT" to log; without asJSON
// a message that does not decode as an alert is skipped and its subject
// and the error go to log. It returns nil when ctx ends, or the error of
// subscribing.
func Follow(ctx context.Context, nc *nats.Conn, subject string, asJSON bool, w, log io.Writer) error {
	msgs := make(chan *nats.Msg, 4096)
	sub, err := nc.ChanSubscribe(subject, msgs)
	if err != nil {
		return err
	}
	defer sub.Unsubscribe()
	fmt.Fprintf(log, "listening on %s\n", subject)
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-msgs:
			if asJSON {
				fmt.Fprintf(w, "%s\n", m.Data)
				continue
			}
			a, err := Decode(m.Data)
			if err != nil {
				fmt.Fprintf(log, "%s: %v\n", m.Subject, err)
				continue
			}
			fmt.Fprintln(w, FormatText(a))
		}
	}
}
