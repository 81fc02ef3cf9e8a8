package alerts

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// StreamName is the JetStream stream that holds alerts.
const StreamName = "VIGIL_ALERTS"

// DuplicateWindow is the stream's de-duplication window: a message whose
// Nats-Msg-Id was stored less than this long ago is acknowledged but not
// stored again. The Publisher resends whatever was not acknowledged, and
// alerts spilled to disk before a crash are resent on the next start, so a
// resend later than this window after the first send can be stored twice
// (consumers can drop it by vigil.id). Two minutes (JetStream's default)
// covers reconnects and quick restarts; the window costs server memory,
// about 130 bytes per alert stored in it, so under a flood of 20,000
// alerts/s it holds some 300 MiB, and a 10-minute window five times that.
const DuplicateWindow = 2 * time.Minute

// StreamSubjects returns the subjects of the alert stream for a prefix
// (DefaultPrefix when empty): every subject below it, "<prefix>.>".
func StreamSubjects(prefix string) []string {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return []string{prefix + ".>"}
}

// Retention bounds the alert stream, as JetStream's limits policy does:
// when a limit is reached the oldest alerts are discarded, so the newest
// are always kept (Suricata's eve.json rotation keeps the newest too).
type Retention struct {
	// MaxAge discards alerts older than this (0: no age limit).
	MaxAge time.Duration
	// MaxBytes caps the stream's stored size in bytes (0: no size limit).
	MaxBytes int64
}

// Default retention of the alert stream: a week of alerts, at most 1 GiB.
// At about 800 bytes an alert, 1 GiB holds some 1.3 million alerts.
var DefaultRetention = Retention{MaxAge: 7 * 24 * time.Hour, MaxBytes: 1 << 30}

// EnsureStream creates the stream name over subjects, or updates it if it
// exists, with file storage, a DuplicateWindow de-duplication window and
// the limits of ret (discarding the oldest alerts). Existing messages are
// kept, within the limits. It waits at most 10 s for the server.
func EnsureStream(js jetstream.JetStream, name string, subjects []string, ret Retention) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	maxBytes := ret.MaxBytes
	if maxBytes <= 0 {
		maxBytes = -1 // JetStream's "unlimited"
	}
	_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:       name,
		Subjects:   subjects,
		Storage:    jetstream.FileStorage,
		Duplicates: DuplicateWindow,
		Retention:  jetstream.LimitsPolicy,
		Discard:    jetstream.DiscardOld,
		MaxAge:     max(ret.MaxAge, 0),
		MaxBytes:   maxBytes,
	})
	if err != nil {
		return fmt.Errorf("alerts: ensure stream %s: %w", name, err)
	}
	return nil
}
