package alerts

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// TestStreamRetention fills a stream bounded to 64 KiB with 1 KB alerts:
// it keeps under the bound by discarding the oldest, and keeps the newest;
// updating the stream with the defaults sets their age and size limits.
func TestStreamRetention(t *testing.T) {
	s := startEmbedded(t, "127.0.0.1:0", t.TempDir())
	js, err := jetstream.New(connect(t, s.ClientURL()))
	if err != nil {
		t.Fatal(err)
	}
	const limit = 64 << 10
	if err := EnsureStream(js, StreamName, StreamSubjects(""), Retention{MaxAge: time.Hour, MaxBytes: limit}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	body := []byte(strings.Repeat("x", 1000))
	const sent = 500
	for i := range sent {
		if _, err := js.Publish(ctx, DefaultPrefix+".lab.high.1", body); err != nil {
			t.Fatalf("alert %d: %v", i, err)
		}
	}
	st, err := js.Stream(ctx, StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Bytes > limit || info.State.Msgs == 0 || info.State.Msgs >= sent || info.State.LastSeq != sent || info.State.FirstSeq == 1 {
		t.Errorf("state %+v: want at most %d bytes, the oldest discarded and the newest kept", info.State, limit)
	}
	if err := EnsureStream(js, StreamName, StreamSubjects(""), DefaultRetention); err != nil {
		t.Fatal(err)
	}
	if info, err = st.Info(ctx); err != nil {
		t.Fatal(err)
	}
	if c := info.Config; c.MaxAge != DefaultRetention.MaxAge || c.MaxBytes != DefaultRetention.MaxBytes || c.Discard != jetstream.DiscardOld {
		t.Errorf("config: max age %v, max bytes %d, discard %v; want the defaults, discarding the oldest", c.MaxAge, c.MaxBytes, c.Discard)
	}
}
