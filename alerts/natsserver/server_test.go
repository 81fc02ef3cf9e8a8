package natsserver

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// startJS starts a server with cfg (on a free loopback port) and returns
// it and a JetStream client of it; both end with the test.
func startJS(t *testing.T, cfg ServerConfig) (*server.Server, jetstream.JetStream) {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	s, err := StartServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return s, js
}

func TestStartServerJetStreamFileStore(t *testing.T) {
	dir := t.TempDir()
	_, js := startJS(t, ServerConfig{DataDir: dir})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}, Storage: jetstream.FileStorage}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "t.x", []byte("hello")); err != nil {
		t.Fatal(err)
	}
	var files int
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, _ error) error {
		if d != nil && !d.IsDir() {
			files++
		}
		return nil
	})
	if files == 0 {
		t.Errorf("no JetStream files under the data dir")
	}
}

func TestStartServerBadListen(t *testing.T) {
	for _, listen := range []string{"nohost", "127.0.0.1:x", "127.0.0.1:70000"} {
		if s, err := StartServer(ServerConfig{Listen: listen, DataDir: t.TempDir()}); err == nil {
			s.Shutdown()
			t.Errorf("StartServer(%q) succeeded", listen)
		}
	}
}

// TestStartServerLimits: JetStream's memory and store limits are set, by
// default and as given, and a stream asking for more store than allowed
// is refused.
func TestStartServerLimits(t *testing.T) {
	s, _ := startJS(t, ServerConfig{DataDir: t.TempDir()})
	if c := s.JetStreamConfig(); c == nil || c.MaxMemory != DefaultMaxMemory || c.MaxStore != DefaultMaxStore {
		t.Errorf("default limits %+v, want %d and %d", c, DefaultMaxMemory, DefaultMaxStore)
	}
	_, js := startJS(t, ServerConfig{DataDir: t.TempDir(), MaxStore: 1 << 20})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "BIG", Subjects: []string{"big"}, Storage: jetstream.FileStorage, MaxBytes: 2 << 20}); err == nil {
		t.Error("a 2 MiB stream was created in a 1 MiB store")
	}
}
