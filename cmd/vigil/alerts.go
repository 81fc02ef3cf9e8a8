package main

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/vigil-ids/vigil/alerts"
)

func cmdAlerts(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "alerts", "[flags]",
		"Subscribes to the alert subjects and prints each alert as one readable line\n(or as its JSON with --json) until interrupted.")
	url := fs.String("nats", nats.DefaultURL, "NATS server URL")
	prefix := fs.String("subject-prefix", alerts.DefaultPrefix, "alert subject prefix")
	sensor := fs.String("sensor", "", "only this sensor")
	severity := fs.String("severity", "", "only this severity (critical, high, medium, low, info)")
	sid := fs.Int("sid", 0, "only this rule")
	asJSON := fs.Bool("json", false, "print the alert JSON, one per line")
	if err := parse(fs, args, 0, -1); err != nil {
		return err
	}
	nc, err := nats.Connect(*url, nats.MaxReconnects(-1))
	if err != nil {
		return fmt.Errorf("connecting to NATS at %s: %w", *url, err)
	}
	defer nc.Close()
	return alerts.Follow(ctx, nc, alerts.FilterSubject(*prefix, *sensor, *severity, *sid), *asJSON, env.stdout, env.stderr)
}
