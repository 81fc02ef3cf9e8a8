package daemon

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/vigil-ids/vigil/alerts"
	"github.com/vigil-ids/vigil/rules"
)

// WatchConfig configures Watch, `vigil alerts`.
type WatchConfig struct {
	URL    string // NATS server URL(s)
	Prefix string // alert subject prefix (default alerts.DefaultPrefix)
	// Sensor, Severity (a severity word) and SID select alerts; empty
	// and 0 select all. Subject, when set, is used as it is instead.
	Sensor, Severity, Subject string
	SID                       int
	// Since is a duration back from now or an RFC 3339 time
	// (alerts.ParseSince): the stored alerts since then come first.
	Since string
	// History says which stored alerts come first; Since sets its Since.
	History alerts.History
	JSON    bool      // the alerts' JSON instead of readable lines
	Out     io.Writer // the alerts
	Log     io.Writer // what alerts.Follow logs
}

// Watch checks cfg (the severity word, SID, Since and History.Last) before connecting, then
// connects to NATS and prints alerts with alerts.Follow until ctx ends.
// A connection that fails names the URL and the --nats flag.
func Watch(ctx context.Context, cfg WatchConfig) error {
	if cfg.Severity != "" {
		if err := rules.CheckSeverity(cfg.Severity); err != nil {
			return fmt.Errorf("--severity: %w", err)
		}
	}
	if cfg.SID < 0 {
		return fmt.Errorf("--sid: %d is not a sid (0 for every rule)", cfg.SID)
	}
	if cfg.History.Last < 0 {
		return fmt.Errorf("--last: %d is not a number of alerts", cfg.History.Last)
	}
	if cfg.Since != "" {
		t, err := alerts.ParseSince(cfg.Since, time.Now())
		if err != nil {
			return fmt.Errorf("--since: %w", err)
		}
		cfg.History.Since = t
	}
	nc, err := nats.Connect(cfg.URL, nats.MaxReconnects(-1))
	if err != nil {
		return fmt.Errorf("connecting to NATS at %s (set --nats): %w", cfg.URL, err)
	}
	defer nc.Close()
	if cfg.Subject == "" {
		cfg.Subject = alerts.FilterSubject(cfg.Prefix, cfg.Sensor, cfg.Severity, cfg.SID)
	}
	return alerts.Follow(ctx, nc, alerts.FollowConfig{
		Subject: cfg.Subject,
		History: cfg.History, JSON: cfg.JSON, Out: cfg.Out, Log: cfg.Log,
	})
}

// Version describes this build: Vigil's module version
// (runtime/debug.ReadBuildInfo; "(devel)" for a build from a working
// tree), Go's version and alerts.SchemaVersion.
func Version() string {
	v := "(unknown)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		v = bi.Main.Version
	}
	return fmt.Sprintf("vigil %s, %s, alert schema_version %d", v, runtime.Version(), alerts.SchemaVersion)
}
