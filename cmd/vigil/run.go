package main

import (
	"context"
	"errors"
	"flag"
	"net"
	"strings"
	"time"

	"github.com/vigil-ids/vigil/daemon"
)

func cmdRun(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "run", "[flags]",
		"Listens for CommView sensors (CV.EXE mirror:HOST:PORT), evaluates every\npacket against the rules, publishes alerts to NATS and injects responses.\nSIGINT/SIGTERM drain and stop; SIGHUP reloads the rules.")
	cfg, err := runConfig(fs, args)
	if err != nil {
		return err
	}
	cfg.Log = env.stderr
	d, err := daemon.New(cfg)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", cfg.Listen)
	if err == nil {
		err = d.Serve(ctx, l, env.hup)
	}
	stop, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return errors.Join(err, d.Shutdown(stop))
}

// runConfig reads --config (if given) and then the flags over it.
func runConfig(fs *flag.FlagSet, args []string) (daemon.Config, error) {
	cfg, err := daemon.LoadConfig(configPath(args))
	if err != nil {
		return cfg, err
	}
	fs.String("config", "", "YAML file with any of these settings (flags override it)")
	fs.StringVar(&cfg.Listen, "listen", cfg.Listen, "address to listen on for CommView sensors")
	rulesFlag := pathList(cfg.Rules)
	fs.Var(&rulesFlag, "rules", "rule file or folder (repeatable; default: the built-in rule set)")
	fs.StringVar(&cfg.NATS, "nats", cfg.NATS, `"embedded" for an in-process NATS server, or the URL(s) of a server or cluster`)
	fs.StringVar(&cfg.NATSListen, "nats-listen", cfg.NATSListen, "address of the embedded NATS server")
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "folder for the JetStream store and the alert spool")
	fs.StringVar(&cfg.Metrics, "metrics", cfg.Metrics, "serve Prometheus metrics on this address (off when empty)")
	fs.StringVar(&cfg.Prefix, "subject-prefix", cfg.Prefix, "NATS subject prefix of alerts")
	fs.BoolVar(&cfg.JetStream, "jetstream", cfg.JetStream, "publish through JetStream with acknowledgements")
	fs.StringVar(&cfg.NATSUser, "nats-user", cfg.NATSUser, "NATS user")
	fs.StringVar(&cfg.NATSPassword, "nats-password", cfg.NATSPassword, "NATS password")
	fs.StringVar(&cfg.NATSToken, "nats-token", cfg.NATSToken, "NATS token")
	fs.StringVar(&cfg.NATSCreds, "nats-creds", cfg.NATSCreds, "NATS credentials file")
	fs.StringVar(&cfg.NATSCA, "nats-ca", cfg.NATSCA, "CA certificate for NATS TLS")
	fs.StringVar(&cfg.NATSCert, "nats-cert", cfg.NATSCert, "client certificate for NATS TLS")
	fs.StringVar(&cfg.NATSKey, "nats-key", cfg.NATSKey, "client key for NATS TLS")
	fs.IntVar(&cfg.Workers, "workers", cfg.Workers, "evaluation goroutines (default: one per CPU)")
	fs.StringVar(&cfg.Overload, "overload", cfg.Overload, `when workers fall behind: "block" (back-pressure the sensor) or "drop" (drop and count)`)
	allowFlag := pathList(cfg.Allow)
	fs.Var(&allowFlag, "allow", "sensor address or CIDR allowed to connect (repeatable; default: any)")
	fs.IntVar(&cfg.MaxSensors, "max-sensors", cfg.MaxSensors, "maximum concurrent sensor connections")
	fs.DurationVar(&cfg.SensorIdleTimeout, "sensor-idle-timeout", cfg.SensorIdleTimeout, "drop a sensor that sends nothing for this long between records (negative: never)")
	fs.DurationVar(&cfg.SensorRecordTimeout, "sensor-record-timeout", cfg.SensorRecordTimeout, "drop a sensor whose record is not complete this long after it began (negative: never)")
	fs.DurationVar(&cfg.SensorWriteTimeout, "sensor-write-timeout", cfg.SensorWriteTimeout, "drop a sensor that does not take injected frames for this long (negative: never)")
	fs.StringVar(&cfg.TZ, "tz", cfg.TZ, "time zone of NCF timestamps (IANA name) for sensors not configured otherwise")
	fs.DurationVar(&cfg.StatsInterval, "stats-interval", cfg.StatsInterval, "how often stats are published on vigil.stats")
	fs.BoolVar(&cfg.Respond.DryRun, "dry-run", cfg.Respond.DryRun, "count the responses reset rules would send, but never send them (alerts stay \"allowed\")")
	fs.BoolVar(&cfg.LogJSON, "log-json", cfg.LogJSON, "log as JSON lines")
	if err := parse(fs, args, 0, -1); err != nil {
		return cfg, err
	}
	cfg.Rules, cfg.Allow = rulesFlag, allowFlag
	return cfg, nil
}

// configPath finds --config in args before the flags are defined.
func configPath(args []string) string {
	for i, a := range args {
		for _, p := range []string{"--config", "-config"} {
			if a == p && i+1 < len(args) {
				return args[i+1]
			}
			if v, ok := strings.CutPrefix(a, p+"="); ok {
				return v
			}
		}
	}
	return ""
}
