package main

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// runConfig is everything `vigil run` can be told, from a YAML file
// (--config) and flags; a flag given on the command line wins.
type runConfig struct {
	Listen     string   `yaml:"listen"`      // CommView sensor address
	Rules      []string `yaml:"rules"`       // rule files and folders; empty = built-in set
	NATS       string   `yaml:"nats"`        // "embedded" or nats:// URL(s), comma-separated
	NATSListen string   `yaml:"nats_listen"` // embedded server address
	DataDir    string   `yaml:"data_dir"`    // JetStream store and alert spool
	Metrics    string   `yaml:"metrics"`     // Prometheus /metrics address; empty = off
	Prefix     string   `yaml:"subject_prefix"`
	JetStream  bool     `yaml:"jetstream"` // publish with JetStream acks (default true)

	NATSUser     string `yaml:"nats_user"`
	NATSPassword string `yaml:"nats_password"`
	NATSToken    string `yaml:"nats_token"`
	NATSCreds    string `yaml:"nats_creds"`
	NATSCA       string `yaml:"nats_ca"`
	NATSCert     string `yaml:"nats_cert"`
	NATSKey      string `yaml:"nats_key"`

	Workers       int           `yaml:"workers"`
	Overload      string        `yaml:"overload"` // block | drop
	Allow         []string      `yaml:"allow"`    // sensor address allow-list (CIDRs or addresses)
	MaxSensors    int           `yaml:"max_sensors"`
	TZ            string        `yaml:"tz"` // default zone of NCF timestamps
	Sensors       []sensorEntry `yaml:"sensors"`
	StatsInterval time.Duration `yaml:"stats_interval"`

	Respond respondConfig `yaml:"respond"`
	LogJSON bool          `yaml:"log_json"`
}

// sensorEntry names a sensor and its time zone by address.
type sensorEntry struct {
	Address string `yaml:"address"`
	Name    string `yaml:"name"`
	TZ      string `yaml:"tz"`
}

// respondConfig bounds active responses.
type respondConfig struct {
	DryRun          bool          `yaml:"dry_run"`
	Rate            float64       `yaml:"rate"`              // responses per second, all flows
	PerFlowInterval time.Duration `yaml:"per_flow_interval"` // minimum gap per flow
	Allow           []string      `yaml:"allow"`             // addresses that may be reset; empty = all
	Deny            []string      `yaml:"deny"`              // addresses never reset
}

func defaultRunConfig() runConfig {
	return runConfig{
		Listen:        "127.0.0.1:5555",
		NATS:          "embedded",
		NATSListen:    "127.0.0.1:4222",
		DataDir:       "vigil-data",
		Prefix:        "vigil.alert",
		JetStream:     true,
		Overload:      "block",
		MaxSensors:    64,
		TZ:            "UTC",
		StatsInterval: 10 * time.Second,
		Respond:       respondConfig{Rate: 100, PerFlowInterval: time.Second},
	}
}

// loadRunConfig reads --config (if given) and then the flags over it.
func loadRunConfig(fs *flag.FlagSet, args []string) (*runConfig, error) {
	cfg := defaultRunConfig()
	if path := configPath(args); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		dec := yaml.NewDecoder(strings.NewReader(string(data)))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
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
	fs.StringVar(&cfg.TZ, "tz", cfg.TZ, "time zone of NCF timestamps (IANA name) for sensors not configured otherwise")
	fs.DurationVar(&cfg.StatsInterval, "stats-interval", cfg.StatsInterval, "how often stats are published on vigil.stats")
	fs.BoolVar(&cfg.Respond.DryRun, "dry-run", cfg.Respond.DryRun, "count the responses reset rules would send, but never send them (alerts stay \"allowed\")")
	fs.BoolVar(&cfg.LogJSON, "log-json", cfg.LogJSON, "log as JSON lines")
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	cfg.Rules, cfg.Allow = rulesFlag, allowFlag
	return &cfg, nil
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

// parsePrefixes parses addresses and CIDRs.
func parsePrefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR", s)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
