package main

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/vigil-ids/vigil/alerts"
	"github.com/vigil-ids/vigil/rules"
)

func cmdAlerts(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "alerts", "[flags]",
		"Prints alerts as readable lines (or as their JSON with --json) until\ninterrupted: with --all, --since or --last, first those stored in the\nJetStream stream "+alerts.StreamName+", then every new one.")
	url := fs.String("nats", nats.DefaultURL, "NATS server URL")
	prefix := fs.String("subject-prefix", alerts.DefaultPrefix, "alert subject prefix")
	sensor := fs.String("sensor", "", "only this sensor")
	severity := fs.String("severity", "", "only this severity (critical, high, medium, low, info)")
	sid := fs.Int("sid", 0, "only this rule")
	cfg := alerts.FollowConfig{Out: env.stdout, Log: env.stderr}
	fs.BoolVar(&cfg.JSON, "json", false, "print the alert JSON, one per line")
	fs.BoolVar(&cfg.History.All, "all", false, "first print every stored alert")
	since := fs.String("since", "", "first print the stored alerts since this long ago (90m) or this RFC 3339 time")
	fs.IntVar(&cfg.History.Last, "last", 0, "first print the last N stored alerts (of those --since gives)")
	if err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	if *severity != "" {
		if err := rules.CheckSeverity(*severity); err != nil {
			return fmt.Errorf("--severity: %w", err)
		}
	}
	if *since != "" {
		t, err := alerts.ParseSince(*since, time.Now())
		if err != nil {
			return fmt.Errorf("--since: %w", err)
		}
		cfg.History.Since = t
	}
	nc, err := nats.Connect(*url, nats.MaxReconnects(-1))
	if err != nil {
		return fmt.Errorf("connecting to NATS at %s (set --nats): %w", *url, err)
	}
	defer nc.Close()
	cfg.Subject = alerts.FilterSubject(*prefix, *sensor, *severity, *sid)
	return alerts.Follow(ctx, nc, cfg)
}
