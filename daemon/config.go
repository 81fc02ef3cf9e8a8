package daemon

import (
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-ids/vigil/alerts"
	"github.com/vigil-ids/vigil/alerts/natsserver"
	"github.com/vigil-ids/vigil/engine"
	"github.com/vigil-ids/vigil/engine/respond"
	"github.com/vigil-ids/vigil/engine/sensor"
	"github.com/vigil-ids/vigil/ncf"
)

// Config is everything a Daemon can be told; the YAML keys are those of
// `vigil run --config`. A zero field the Daemon reads takes the default
// DefaultConfig gives, except JetStream, which is off when false.
type Config struct {
	// Listen is the CommView sensor address (DefaultConfig: 127.0.0.1:5555).
	// The Daemon does not read it: the caller listens on it and hands the
	// listener to Serve.
	Listen string `yaml:"listen"`
	// Rules are rule files and folders; empty means the built-in set.
	Rules []string `yaml:"rules"`
	// NATS is "embedded" (the default, also when empty) for an in-process
	// server, or the nats:// URL(s) of a server or cluster, comma-separated.
	NATS string `yaml:"nats"`
	// NATSListen is the embedded server's client address (default
	// 127.0.0.1:4222; port 0 picks a free one).
	NATSListen string `yaml:"nats_listen"`
	// DataDir holds the JetStream store (jetstream/) of the embedded
	// server and the alert spool (spool/); default "vigil-data", created
	// if missing.
	DataDir string `yaml:"data_dir"`
	// Metrics is the address of the Prometheus /metrics endpoint; empty
	// means none.
	Metrics string `yaml:"metrics"`
	// Prefix is the NATS subject prefix of alerts (default vigil.alert).
	Prefix string `yaml:"subject_prefix"`
	// JetStream publishes alerts with JetStream acknowledgements into the
	// VIGIL_ALERTS stream, which is created or updated at every
	// (re)connection; false sends core NATS messages.
	JetStream bool `yaml:"jetstream"`
	// StreamMaxAge and StreamMaxBytes bound the alert stream: the oldest
	// alerts are discarded past them (defaults alerts.DefaultRetention:
	// 168h and 1 GiB; negative: no limit).
	StreamMaxAge   time.Duration `yaml:"stream_max_age"`
	StreamMaxBytes int64         `yaml:"stream_max_bytes"`

	// NATSUser and NATSPassword, NATSToken, NATSCreds (a credentials
	// file), NATSCA (a CA certificate) and NATSCert with NATSKey (a client
	// certificate) authenticate the NATS connection; each empty one is
	// not used.
	NATSUser     string `yaml:"nats_user"`
	NATSPassword string `yaml:"nats_password"`
	NATSToken    string `yaml:"nats_token"`
	NATSCreds    string `yaml:"nats_creds"`
	NATSCA       string `yaml:"nats_ca"`
	NATSCert     string `yaml:"nats_cert"`
	NATSKey      string `yaml:"nats_key"`

	// Workers is the number of evaluation goroutines (default one per CPU).
	Workers int `yaml:"workers"`
	// Overload is "block" (the default: back-pressure the sensor) or
	// "drop" (drop and count) when the workers fall behind.
	Overload string `yaml:"overload"`
	// Allow lists the sensor addresses or CIDRs that may connect; empty
	// allows any.
	Allow []string `yaml:"allow"`
	// MaxSensors caps concurrent sensor connections (default 64).
	MaxSensors int `yaml:"max_sensors"`
	// SensorIdleTimeout drops a sensor that sends nothing for this long
	// between records (default 2m; negative: never).
	SensorIdleTimeout time.Duration `yaml:"sensor_idle_timeout"`
	// SensorRecordTimeout drops a sensor whose record is not complete this
	// long after it began (default 30s; negative: never).
	SensorRecordTimeout time.Duration `yaml:"sensor_record_timeout"`
	// SensorWriteTimeout drops a sensor that does not take the frames
	// injected into it for this long (default 30s; negative: never).
	SensorWriteTimeout time.Duration `yaml:"sensor_write_timeout"`
	// TZ is the IANA name of the zone of NCF timestamps for sensors not
	// listed in Sensors with one (default UTC).
	TZ string `yaml:"tz"`
	// Sensors names sensors and their time zones by address.
	Sensors []Sensor `yaml:"sensors"`
	// StatsInterval is how often stats are published on StatsSubject
	// (default 10 s).
	StatsInterval time.Duration `yaml:"stats_interval"`

	// Respond bounds active responses.
	Respond Respond `yaml:"respond"`
	// LogJSON writes the log as JSON lines instead of text.
	LogJSON bool `yaml:"log_json"`
	// Log receives the log (default os.Stderr).
	Log io.Writer `yaml:"-"`
}

// Sensor names a sensor and the zone of its NCF timestamps by address.
type Sensor struct {
	// Address is the sensor's IP address, as it connects.
	Address string `yaml:"address"`
	// Name replaces the remote address in alerts and stats; empty keeps it.
	Name string `yaml:"name"`
	// TZ is the IANA name of the zone of its timestamps; empty means
	// Config.TZ.
	TZ string `yaml:"tz"`
}

// Respond bounds active responses (see respond.Policy).
type Respond struct {
	// DryRun counts the responses reset rules would send but never sends
	// them; their alerts stay "allowed".
	DryRun bool `yaml:"dry_run"`
	// Rate caps responses per second over all flows (default 100).
	Rate float64 `yaml:"rate"`
	// PerFlowInterval is the minimum gap between two responses to one
	// flow (default 1 s).
	PerFlowInterval time.Duration `yaml:"per_flow_interval"`
	// Allow lists the addresses or CIDRs that may be reset; empty allows
	// all.
	Allow []string `yaml:"allow"`
	// Deny lists the addresses or CIDRs never reset; it wins over Allow.
	Deny []string `yaml:"deny"`
}

// DefaultConfig returns the defaults of every field, JetStream on.
func DefaultConfig() Config {
	return Config{
		Listen:         "127.0.0.1:5555",
		NATS:           "embedded",
		NATSListen:     natsserver.DefaultListen,
		DataDir:        "vigil-data",
		Prefix:         alerts.DefaultPrefix,
		JetStream:      true,
		StreamMaxAge:   alerts.DefaultRetention.MaxAge,
		StreamMaxBytes: alerts.DefaultRetention.MaxBytes,
		Overload:       "block",
		MaxSensors:     sensor.DefaultMaxConns,
		TZ:             "UTC",
		StatsInterval:  10 * time.Second,
		Respond:        Respond{Rate: respond.DefaultGlobalRate, PerFlowInterval: respond.DefaultPerFlowInterval},

		SensorIdleTimeout:   sensor.DefaultIdleTimeout,
		SensorRecordTimeout: sensor.DefaultRecordTimeout,
		SensorWriteTimeout:  sensor.DefaultWriteTimeout,
	}
}

// LoadConfig returns DefaultConfig overlaid with the YAML file at path, or
// DefaultConfig itself when path is empty. A key the file should not have
// is an error that names the file and the line.
func LoadConfig(path string) (Config, error) {
	cfg := DefaultConfig()
	if path == "" {
		return cfg, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// withDefaults fills the zero fields the Daemon reads with the defaults.
func (cfg Config) withDefaults() Config {
	def := DefaultConfig()
	if cfg.DataDir == "" {
		cfg.DataDir = def.DataDir
	}
	if cfg.Prefix == "" {
		cfg.Prefix = def.Prefix
	}
	if cfg.StatsInterval <= 0 {
		cfg.StatsInterval = def.StatsInterval
	}
	if cfg.StreamMaxAge == 0 {
		cfg.StreamMaxAge = def.StreamMaxAge
	}
	if cfg.StreamMaxBytes == 0 {
		cfg.StreamMaxBytes = def.StreamMaxBytes
	}
	if cfg.Log == nil {
		cfg.Log = os.Stderr
	}
	return cfg
}

// sensorTables turns the sensors section into name and zone maps.
func sensorTables(list []Sensor) (map[netip.Addr]string, map[netip.Addr]*time.Location, error) {
	names := map[netip.Addr]string{}
	zones := map[netip.Addr]*time.Location{}
	for _, s := range list {
		a, err := netip.ParseAddr(strings.TrimSpace(s.Address))
		if err != nil {
			return nil, nil, fmt.Errorf("sensors: address %q: %w", s.Address, err)
		}
		if s.Name != "" {
			names[a] = s.Name
		}
		if s.TZ != "" {
			z, err := ncf.LoadZone(s.TZ)
			if err != nil {
				return nil, nil, fmt.Errorf("sensors: %s: %w", s.Address, err)
			}
			zones[a] = z
		}
	}
	return names, zones, nil
}

// statefulConfig builds the engine's stateful settings from the config.
func statefulConfig(cfg Respond) (engine.StatefulConfig, error) {
	allow, err := parsePrefixes(cfg.Allow)
	if err != nil {
		return engine.StatefulConfig{}, fmt.Errorf("respond.allow: %w", err)
	}
	deny, err := parsePrefixes(cfg.Deny)
	if err != nil {
		return engine.StatefulConfig{}, fmt.Errorf("respond.deny: %w", err)
	}
	return engine.StatefulConfig{Respond: respond.Policy{
		DryRun: cfg.DryRun, GlobalRate: cfg.Rate, PerFlowInterval: cfg.PerFlowInterval,
		Allow: allow, Deny: deny,
	}}, nil
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
