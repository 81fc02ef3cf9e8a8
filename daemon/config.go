package daemon

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-ids/vigil/alerts"
	"github.com/vigil-ids/vigil/alerts/natsserver"
	"github.com/vigil-ids/vigil/cluster"
	"github.com/vigil-ids/vigil/engine"
	"github.com/vigil-ids/vigil/engine/respond"
	"github.com/vigil-ids/vigil/engine/sensor"
	"github.com/vigil-ids/vigil/ncf"
)

// Config is everything a Daemon can be told. The YAML keys are those of
// `vigil run --config`; a field with a usage tag is also the `vigil run`
// flag and the VIGIL_<FLAG> environment variable of its key (Settings).
// A zero field the Daemon reads takes the default DefaultConfig gives,
// except JetStream, which is off when false.
type Config struct {
	// Role is "all" (the default, also when empty: one process does
	// everything), "ingest" (hold the sensor connections and publish
	// their packets on the packet stream) or "evaluate" (claim a share of
	// the partitions and evaluate their packets); see package cluster.
	// Both cluster roles need JetStream, and an evaluator needs NATS.
	Role string `yaml:"role" usage:"\"all\" (one process), \"ingest\" (hold the sensors, publish their packets to NATS) or \"evaluate\" (evaluate a share of the published packets)"`
	// Partitions is the number of packet partitions of a cluster
	// (cluster.DefaultPartitions, 16); every process must agree.
	Partitions int `yaml:"partitions" usage:"packet partitions of a cluster (the same in every ingest and evaluate process)"`
	// ClaimTTL is how long an evaluator keeps its partitions without
	// renewing its claims (cluster.EvaluatorConfig.ClaimTTL, 3 s); every
	// evaluator of a cluster must agree.
	ClaimTTL time.Duration `yaml:"claim-ttl" usage:"how long an evaluator's partition claims last unless renewed (the same in every evaluate process)"`
	// Listen is the CommView sensor address (DefaultConfig: 127.0.0.1:5555).
	// The Daemon does not read it: the caller listens on it and hands the
	// listener to Serve.
	Listen string `yaml:"listen" usage:"address to listen on for CommView sensors"`
	// Rules are rule files and folders; empty means the built-in set.
	Rules []string `yaml:"rules" usage:"rule file or folder (repeatable; default: the built-in rule set)"`
	// DefaultRules loads the built-in set as well as Rules, which may then
	// override or disable built-in rules by sid (defaults.Load).
	DefaultRules bool `yaml:"default-rules" usage:"load the built-in rules with --rules (which may override or disable them by sid)"`
	// NATS is "embedded" (the default, also when empty) for an in-process
	// server, or the nats:// URL(s) of a server or cluster, comma-separated.
	NATS string `yaml:"nats" usage:"\"embedded\" for an in-process NATS server, or the URL(s) of a server or cluster"`
	// NATSListen is the embedded server's client address (default
	// 127.0.0.1:4222; port 0 picks a free one).
	NATSListen string `yaml:"nats-listen" usage:"address of the embedded NATS server"`
	// NATSMaxMemory and NATSMaxStore cap the embedded server's JetStream
	// memory and disk, in bytes (natsserver.DefaultMaxMemory, 256 MiB,
	// and DefaultMaxStore, 4 GiB); StreamMaxBytes must fit the store.
	NATSMaxMemory int64 `yaml:"nats-max-memory" usage:"memory the embedded NATS server's JetStream may use, in bytes"`
	NATSMaxStore  int64 `yaml:"nats-max-store" usage:"disk the embedded NATS server's JetStream store may use, in bytes (at least --stream-max-bytes)"`
	// DataDir holds the JetStream store (jetstream/) of the embedded
	// server and the alert spool (spool/); default "vigil-data", created
	// if missing.
	DataDir string `yaml:"data-dir" usage:"folder for the JetStream store and the alert spool"`
	// Metrics is the address of the Prometheus /metrics endpoint; empty
	// means none.
	Metrics string `yaml:"metrics" usage:"serve Prometheus metrics on this address (off when empty)"`
	// UI is the address of the web console (package ui); empty means
	// none. An address other than loopback needs UIToken.
	UI string `yaml:"ui" usage:"serve the web console on this address (off when empty; an address other than loopback needs --ui-token)"`
	// UIToken, when set, is required by every request to the console:
	// as "Authorization: Bearer TOKEN", or from a /?token=TOKEN login.
	UIToken string `yaml:"ui-token" usage:"token the web console requires (Bearer header, or open /?token=TOKEN once)"`
	// Prefix is the NATS subject prefix of alerts (default vigil.alert).
	Prefix string `yaml:"subject-prefix" usage:"NATS subject prefix of alerts"`
	// EveLog, when set, is a file the alerts are also appended to as EVE
	// JSON lines (alerts.File), reopened on each reload (SIGHUP), for
	// logrotate.
	EveLog string `yaml:"eve-log" usage:"also append alerts to this file as EVE JSON lines (reopened on SIGHUP, for logrotate)"`
	// JetStream publishes alerts with JetStream acknowledgements into the
	// VIGIL_ALERTS stream, which is created or updated at every
	// (re)connection; false sends core NATS messages.
	JetStream bool `yaml:"jetstream" usage:"publish through JetStream with acknowledgements"`
	// StreamMaxAge and StreamMaxBytes bound the alert stream: the oldest
	// alerts are discarded past them (defaults alerts.DefaultRetention:
	// 168h and 1 GiB; negative: no limit).
	StreamMaxAge   time.Duration `yaml:"stream-max-age" usage:"discard alerts older than this from the alert stream (negative: no limit)"`
	StreamMaxBytes int64         `yaml:"stream-max-bytes" usage:"discard the oldest alerts past this size of the alert stream, in bytes (negative: no limit)"`

	// NATSUser and NATSPassword, NATSToken, NATSCreds (a credentials
	// file), NATSCA (a CA certificate) and NATSCert with NATSKey (a client
	// certificate) authenticate the NATS connection; each empty one is
	// not used.
	NATSUser     string `yaml:"nats-user" usage:"NATS user"`
	NATSPassword string `yaml:"nats-password" usage:"NATS password"`
	NATSToken    string `yaml:"nats-token" usage:"NATS token"`
	NATSCreds    string `yaml:"nats-creds" usage:"NATS credentials file"`
	NATSCA       string `yaml:"nats-ca" usage:"CA certificate for NATS TLS"`
	NATSCert     string `yaml:"nats-cert" usage:"client certificate for NATS TLS"`
	NATSKey      string `yaml:"nats-key" usage:"client key for NATS TLS"`

	// Workers is the number of evaluation goroutines (default one per CPU).
	Workers int `yaml:"workers" usage:"evaluation goroutines (default: one per CPU)"`
	// Overload is "block" (the default: back-pressure the sensor) or
	// "drop" (drop and count) when the workers fall behind.
	Overload string `yaml:"overload" usage:"when workers fall behind: \"block\" (back-pressure the sensor) or \"drop\" (drop and count)"`
	// Allow lists the sensor addresses or CIDRs that may connect; empty
	// allows any.
	Allow []string `yaml:"allow" usage:"sensor address or CIDR allowed to connect (repeatable; default: any)"`
	// MaxSensors caps concurrent sensor connections (default 64).
	MaxSensors int `yaml:"max-sensors" usage:"maximum concurrent sensor connections"`
	// MaxSensorsPerAddress caps concurrent sensor connections from one
	// IP address (default 8; negative: only MaxSensors applies).
	MaxSensorsPerAddress int `yaml:"max-sensors-per-address" usage:"maximum concurrent sensor connections from one IP address (negative: no cap but --max-sensors)"`
	// SensorIdleTimeout drops a sensor that sends nothing for this long
	// between records (default 2m; negative: never).
	SensorIdleTimeout time.Duration `yaml:"sensor-idle-timeout" usage:"drop a sensor that sends nothing for this long between records (negative: never)"`
	// SensorRecordTimeout drops a sensor whose record is not complete this
	// long after it began (default 30s; negative: never).
	SensorRecordTimeout time.Duration `yaml:"sensor-record-timeout" usage:"drop a sensor whose record is not complete this long after it began (negative: never)"`
	// SensorWriteTimeout drops a sensor that does not take the frames
	// injected into it for this long (default 30s; negative: never).
	SensorWriteTimeout time.Duration `yaml:"sensor-write-timeout" usage:"drop a sensor that does not take injected frames for this long (negative: never)"`
	// TZ is the IANA name of the zone of NCF timestamps for sensors not
	// listed in Sensors with one (default UTC).
	TZ string `yaml:"tz" usage:"time zone of NCF timestamps (IANA name) for sensors not configured otherwise"`
	// Sensors names sensors and their time zones by address.
	Sensors []Sensor `yaml:"sensors"`
	// StatsInterval is how often stats are published on StatsSubject
	// (default 10 s).
	StatsInterval time.Duration `yaml:"stats-interval" usage:"how often stats are published on vigil.stats"`

	// Respond bounds active responses.
	Respond Respond `yaml:"respond"`
	// Reassembly bounds TCP stream reassembly.
	Reassembly Reassembly `yaml:"reassembly"`
	// Defrag bounds IP defragmentation.
	Defrag Defrag `yaml:"defrag"`
	// LogJSON writes the log as JSON lines instead of text.
	LogJSON bool `yaml:"log-json" usage:"log as JSON lines"`
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
	DryRun bool `yaml:"dry-run" usage:"count the responses reset rules would send, but never send them (alerts stay \"allowed\")"`
	// Rate caps responses per second over all flows (default 100).
	Rate float64 `yaml:"rate"`
	// PerFlowInterval is the minimum gap between two responses to one
	// flow (default 1 s).
	PerFlowInterval time.Duration `yaml:"per-flow-interval"`
	// Allow lists the addresses or CIDRs that may be reset; empty allows
	// all.
	Allow []string `yaml:"allow"`
	// Deny lists the addresses or CIDRs never reset; it wins over Allow.
	Deny []string `yaml:"deny"`
}

// Reassembly bounds TCP stream reassembly (engine/stream), after
// Suricata's stream.reassembly.depth and stream.memcap. Zero fields take
// the defaults.
type Reassembly struct {
	// Depth is how many bytes of each direction of a connection are
	// reassembled and inspected (default 1 MiB).
	Depth int `yaml:"depth"`
	// Memcap bounds the bytes of out-of-order segments and stream tails
	// held, over all workers (default 64 MiB).
	Memcap int `yaml:"memcap"`
}

// Defrag bounds IP defragmentation, per sensor (decode/defrag), after
// Suricata's defrag.memcap, defrag.timeout and defrag.max-frags. Zero
// fields take the defaults.
type Defrag struct {
	// Memcap bounds the bytes one sensor's datagrams in reassembly hold
	// (default 32 MiB).
	Memcap int `yaml:"memcap"`
	// Timeout is how long, in packet time, a datagram waits for its
	// missing fragments (default 60 s).
	Timeout time.Duration `yaml:"timeout"`
	// MaxFragments caps the fragments of one datagram (default 256).
	MaxFragments int `yaml:"max-fragments"`
}

// DefaultConfig returns the defaults of every field, JetStream on.
func DefaultConfig() Config {
	return Config{
		Role:                 RoleAll,
		Partitions:           cluster.DefaultPartitions,
		ClaimTTL:             cluster.DefaultClaimTTL,
		Listen:               "127.0.0.1:5555",
		NATS:                 "embedded",
		NATSListen:           natsserver.DefaultListen,
		NATSMaxMemory:        natsserver.DefaultMaxMemory,
		NATSMaxStore:         natsserver.DefaultMaxStore,
		DataDir:              "vigil-data",
		Prefix:               alerts.DefaultPrefix,
		JetStream:            true,
		StreamMaxAge:         alerts.DefaultRetention.MaxAge,
		StreamMaxBytes:       alerts.DefaultRetention.MaxBytes,
		Overload:             "block",
		MaxSensors:           sensor.DefaultMaxConns,
		MaxSensorsPerAddress: sensor.DefaultMaxConnsPerAddr,
		TZ:                   "UTC",
		StatsInterval:        10 * time.Second,
		Respond:              Respond{Rate: respond.DefaultGlobalRate, PerFlowInterval: respond.DefaultPerFlowInterval},

		SensorIdleTimeout:   sensor.DefaultIdleTimeout,
		SensorRecordTimeout: sensor.DefaultRecordTimeout,
		SensorWriteTimeout:  sensor.DefaultWriteTimeout,
	}
}

// LoadConfig returns DefaultConfig overlaid with the YAML file at path, or
// DefaultConfig itself when path is empty. Keys are the flag names
// (nats-listen); the older snake_case spelling (nats_listen) is read as
// well. A key the file should not have is an error naming the file, line
// and column; a value of the wrong type, the file and line.
func LoadConfig(path string) (Config, error) {
	cfg := DefaultConfig()
	if path == "" {
		return cfg, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	if doc.Kind == 0 { // an empty file
		return cfg, nil
	}
	if bad := unknownKeys(&doc, reflect.TypeFor[Config]()); len(bad) > 0 {
		return Config{}, fmt.Errorf("%s:%s", path, strings.Join(bad, "\n"+path+":"))
	}
	normalizeKeys(&doc)
	if err := doc.Decode(&cfg); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) { // "line 3: cannot unmarshal ..." each
			return Config{}, fmt.Errorf("%s:%s", path, strings.ReplaceAll(strings.Join(te.Errors, "\n"+path+":"), "line ", ""))
		}
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// withDefaults fills the zero fields the Daemon reads with the defaults.
func (cfg Config) withDefaults() Config {
	def := DefaultConfig()
	if cfg.Role == "" {
		cfg.Role = def.Role
	}
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

// statefulConfig builds the engine's stateful settings from the config:
// responses and TCP reassembly.
func statefulConfig(cfg Config) (engine.StatefulConfig, error) {
	r := cfg.Respond
	allow, err := parsePrefixes(r.Allow)
	if err != nil {
		return engine.StatefulConfig{}, fmt.Errorf("respond.allow: %w", err)
	}
	deny, err := parsePrefixes(r.Deny)
	if err != nil {
		return engine.StatefulConfig{}, fmt.Errorf("respond.deny: %w", err)
	}
	st := engine.StatefulConfig{Respond: respond.Policy{
		DryRun: r.DryRun, GlobalRate: r.Rate, PerFlowInterval: r.PerFlowInterval,
		Allow: allow, Deny: deny,
	}}
	st.Stream.Depth, st.Stream.Memcap = cfg.Reassembly.Depth, cfg.Reassembly.Memcap
	return st, nil
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
