package main

import (
	"context"

	"github.com/nats-io/nats.go"

	"github.com/vigil-ids/vigil/alerts"
	"github.com/vigil-ids/vigil/daemon"
)

func cmdAlerts(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "alerts", "[flags]",
		"Prints alerts as readable lines (or as their JSON with --json) until\ninterrupted: with --all, --since or --last, first those stored in the\nJetStream stream "+alerts.StreamName+", then every new one.")
	cfg := daemon.WatchConfig{Out: env.stdout, Log: env.stderr}
	fs.StringVar(&cfg.URL, "nats", nats.DefaultURL, "NATS server URL")
	fs.StringVar(&cfg.Prefix, "subject-prefix", alerts.DefaultPrefix, "alert subject prefix")
	fs.StringVar(&cfg.Sensor, "sensor", "", "only this sensor")
	fs.StringVar(&cfg.Severity, "severity", "", "only this severity (critical, high, medium, low, info)")
	fs.IntVar(&cfg.SID, "sid", 0, "only this rule")
	fs.StringVar(&cfg.Subject, "subject", "", "read this NATS subject (wildcards allowed) instead of the one --sensor, --severity and --sid select")
	fs.BoolVar(&cfg.JSON, "json", false, "print the alert JSON, one per line")
	fs.BoolVar(&cfg.History.All, "all", false, "first print every stored alert")
	fs.StringVar(&cfg.Since, "since", "", "first print the stored alerts since this long ago (90m) or this RFC 3339 time")
	fs.IntVar(&cfg.History.Last, "last", 0, "first print the last N stored alerts (of those --since gives)")
	if err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	return daemon.Watch(ctx, cfg)
}
