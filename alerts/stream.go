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
// resend later than this window after the first send can be stored twice.
// Ten minutes covers reconnects and restarts; longer costs server memory
// (one entry per message in the window).
const DuplicateWindow = 10 * time.Minute

// StreamSubjects returns the subjects of the alert stream for a prefix
// (DefaultPrefix when empty): every subject below it, "<prefix>.>".
func StreamSubjects(prefix string) []string {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return []string{prefix + ".>"}
}

// EnsureStream creates the stream name over subjects, or updates it if it
// exists, with file storage and a DuplicateWindow de-duplication window.
// Existing messages are kept. It waits at most 10 s for the server.
func EnsureStream(js jetstream.JetStream, name string, subjects []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:       name,
		Subjects:   subjects,
		Storage:    jetstream.FileStorage,
		Duplicates: DuplicateWindow,
	})
	if err != nil {
		return fmt.Errorf("alerts: ensure stream %s: %w", name, err)
	}
	return nil
}
