package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigil-ids/vigil/alerts"
	"github.com/vigil-ids/vigil/alerts/natsserver"
	"github.com/vigil-ids/vigil/engine"
	"github.com/vigil-ids/vigil/engine/respond"
	"github.com/vigil-ids/vigil/engine/sensor"
	"github.com/vigil-ids/vigil/rules"
)

// Subjects of Vigil's operational messages.
const (
	statsSubject  = "vigil.stats"
	reloadSubject = "vigil.event.reload"
)

func cmdRun(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "run", "[flags]",
		"Listens for CommView sensors (CV.EXE mirror:HOST:PORT), evaluates every\npacket against the rules, publishes alerts to NATS and injects responses.\nSIGINT/SIGTERM drain and stop; SIGHUP reloads the rules.")
	cfg, err := loadRunConfig(fs, args)
	if err != nil {
		return err
	}
	var handler slog.Handler = slog.NewTextHandler(env.stderr, nil)
	if cfg.LogJSON {
		handler = slog.NewJSONHandler(env.stderr, nil)
	}
	log := slog.New(handler)
	d, err := startDaemon(ctx, cfg, log)
	if err != nil {
		var list rules.ErrorList
		if errors.As(err, &list) {
			printRuleErrors(env.stderr, list)
			return exitError{1}
		}
		return err
	}
	d.loop(ctx, env.hup)
	return d.stop()
}

// daemon is a running `vigil run`.
type daemon struct {
	cfg     *runConfig
	log     *slog.Logger
	ns      *server.Server // nil with an external NATS
	nc      *nats.Conn
	pub     *alerts.Publisher
	eng     *engine.Engine
	sensors *sensor.Server
	serveCh chan error
	metrics func(context.Context) error
}

func startDaemon(ctx context.Context, cfg *runConfig, log *slog.Logger) (_ *daemon, err error) {
	d := &daemon{cfg: cfg, log: log}
	defer func() {
		// d, not the named result: a failed start returns nil, and what
		// was started so far must still be stopped.
		if err != nil {
			d.stop()
		}
	}()
	set, err := loadRules(cfg.Rules)
	if err != nil {
		return nil, err
	}
	zone, err := loadZone(cfg.TZ)
	if err != nil {
		return nil, err
	}
	overload, err := engine.ParseOverload(cfg.Overload)
	if err != nil {
		return nil, err
	}
	allow, err := parsePrefixes(cfg.Allow)
	if err != nil {
		return nil, fmt.Errorf("allow: %w", err)
	}
	stateful, err := statefulConfig(cfg)
	if err != nil {
		return nil, err
	}
	names, zones, err := sensorTables(cfg.Sensors)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, err
	}
	if err := d.connectNATS(); err != nil {
		return nil, err
	}
	d.pub, err = alerts.NewPublisher(alerts.PublisherConfig{
		Conn: d.nc, Prefix: cfg.Prefix, JetStream: cfg.JetStream,
		DataDir: filepath.Join(cfg.DataDir, "spool"), Logger: log,
	})
	if err != nil {
		return nil, err
	}
	d.eng, err = engine.New(engine.Config{
		Rules: set, Sink: d.pub, Workers: cfg.Workers,
		Overload: overload, Logger: log, Stateful: stateful,
	})
	if err != nil {
		return nil, err
	}
	d.eng.Start()
	d.sensors, err = sensor.New(sensor.Config{
		Engine: d.eng, Allow: allow, MaxConns: cfg.MaxSensors,
		Names: names, Zones: zones, Zone: zone, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, err
	}
	d.serveCh = make(chan error, 1)
	go func() { d.serveCh <- d.sensors.Serve(context.Background(), l) }()
	if cfg.Metrics != "" {
		if d.metrics, err = serveMetrics(cfg.Metrics, d); err != nil {
			return nil, err
		}
	}
	log.Info("vigil running", "listen", l.Addr().String(), "rules", len(set.Rules), "nats", d.nc.ConnectedUrlRedacted(), "workers", d.eng.Workers(), "overload", cfg.Overload)
	return d, nil
}

// connectNATS starts the embedded server if asked, then connects.
func (d *daemon) connectNATS() error {
	cfg := d.cfg
	url := cfg.NATS
	if url == "" || url == "embedded" {
		ns, err := natsserver.StartServer(natsserver.ServerConfig{Listen: cfg.NATSListen, DataDir: filepath.Join(cfg.DataDir, "jetstream")})
		if err != nil {
			return fmt.Errorf("embedded NATS server: %w", err)
		}
		d.ns = ns
		url = ns.ClientURL()
	}
	opts := []nats.Option{
		nats.Name("vigil"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500 * time.Millisecond),
		nats.RetryOnFailedConnect(true),
		// The alert Publisher buffers and spills on its own; nats.go's
		// reconnect buffer would hide messages from its accounting.
		nats.ReconnectBufSize(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { d.log.Warn("NATS disconnected", "err", err) }),
		nats.ReconnectHandler(func(c *nats.Conn) {
			d.log.Info("NATS reconnected", "url", c.ConnectedUrlRedacted())
			if cfg.JetStream {
				d.ensureStream(c)
			}
		}),
	}
	if cfg.NATSUser != "" {
		opts = append(opts, nats.UserInfo(cfg.NATSUser, cfg.NATSPassword))
	}
	if cfg.NATSToken != "" {
		opts = append(opts, nats.Token(cfg.NATSToken))
	}
	if cfg.NATSCreds != "" {
		opts = append(opts, nats.UserCredentials(cfg.NATSCreds))
	}
	if cfg.NATSCA != "" {
		opts = append(opts, nats.RootCAs(cfg.NATSCA))
	}
	if cfg.NATSCert != "" {
		opts = append(opts, nats.ClientCert(cfg.NATSCert, cfg.NATSKey))
	}
	if cfg.JetStream {
		// The stream is made sure of at every (re)connection: a server
		// that was down at start, or came back with an empty store, gets
		// it before the publisher's buffered alerts are resent.
		opts = append(opts, nats.ConnectHandler(d.ensureStream))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return fmt.Errorf("connecting to NATS at %s: %w", url, err)
	}
	d.nc = nc
	if cfg.JetStream && nc.IsConnected() {
		d.ensureStream(nc)
	}
	return nil
}

// ensureStream creates or updates the alert stream. Failure is only
// logged: the publisher buffers alerts until the stream takes them.
func (d *daemon) ensureStream(nc *nats.Conn) {
	js, err := jetstream.New(nc)
	if err == nil {
		err = alerts.EnsureStream(js, alerts.StreamName, alerts.StreamSubjects(d.cfg.Prefix))
	}
	if err != nil {
		d.log.Warn("could not ensure the alert stream", "stream", alerts.StreamName, "err", err)
	}
}

// loop runs until ctx ends, publishing stats and reloading on SIGHUP.
func (d *daemon) loop(ctx context.Context, hup <-chan os.Signal) {
	tick := time.NewTicker(d.cfg.StatsInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			d.log.Info("shutting down")
			return
		case err := <-d.serveCh:
			if err != nil {
				d.log.Error("sensor listener stopped", "err", err)
			}
			return
		case <-hup:
			d.reload()
		case <-tick.C:
			d.publishStats()
		}
	}
}

// reload compiles the rules off the hot path and swaps them in; a set with
// errors is refused and the running one stays.
func (d *daemon) reload() {
	ev := reloadEvent{Time: time.Now().UTC()}
	set, err := loadRules(d.cfg.Rules)
	if err != nil {
		ev.Errors = errorStrings(err)
		d.log.Error("rule reload refused; the previous rules keep running", "errors", len(ev.Errors))
		for _, e := range ev.Errors {
			d.log.Error("rule error", "error", e)
		}
	} else if old, rerr := d.eng.Reload(set); rerr != nil {
		ev.Errors = []string{rerr.Error()}
		d.log.Error("rule reload refused; the previous rules keep running", "err", rerr)
	} else {
		ev.OK = true
		ev.Added, ev.Removed, ev.Changed = diffRules(old, set)
		ev.Rules = len(set.Rules)
		d.log.Info("rules reloaded", "rules", ev.Rules, "added", len(ev.Added), "removed", len(ev.Removed), "changed", len(ev.Changed))
	}
	data, _ := json.Marshal(ev)
	d.pub.PublishEvent(reloadSubject, data)
}

// reloadEvent is published on vigil.event.reload.
type reloadEvent struct {
	Time    time.Time `json:"time"`
	OK      bool      `json:"ok"`
	Rules   int       `json:"rules"`
	Added   []int     `json:"added,omitempty"`
	Removed []int     `json:"removed,omitempty"`
	Changed []int     `json:"changed,omitempty"`
	Errors  []string  `json:"errors,omitempty"`
}

func errorStrings(err error) []string {
	var list rules.ErrorList
	if errors.As(err, &list) {
		out := make([]string, len(list))
		for i, e := range list {
			out[i] = e.Error()
		}
		return out
	}
	return []string{err.Error()}
}

// diffRules lists the sids added, removed and changed (rev, condition or
// name) between two sets.
func diffRules(old, cur *rules.Set) (added, removed, changed []int) {
	for _, r := range cur.Rules {
		o := old.BySID(r.SID)
		switch {
		case o == nil:
			added = append(added, r.SID)
		case o.Rev != r.Rev || o.Condition != r.Condition || o.Name != r.Name || o.Enabled != r.Enabled:
			changed = append(changed, r.SID)
		}
	}
	for _, r := range old.Rules {
		if cur.BySID(r.SID) == nil {
			removed = append(removed, r.SID)
		}
	}
	return added, removed, changed
}

// statsMessage is published on vigil.stats.
type statsMessage struct {
	Time      time.Time             `json:"time"`
	Engine    engine.Stats          `json:"engine"`
	Sensors   sensor.Stats          `json:"sensors"`
	Publisher alerts.PublisherStats `json:"publisher"`
	Rules     []engine.RuleStats    `json:"rules"`
}

func (d *daemon) snapshot() statsMessage {
	return statsMessage{
		Time: time.Now().UTC(), Engine: d.eng.Stats(), Sensors: d.sensors.Stats(),
		Publisher: d.pub.Stats(), Rules: d.eng.RuleStats(),
	}
}

func (d *daemon) publishStats() {
	data, err := json.Marshal(d.snapshot())
	if err != nil {
		d.log.Error("encoding stats", "err", err)
		return
	}
	d.pub.PublishEvent(statsSubject, data)
}

// stop drains in order: sensors (their packets are evaluated), engine,
// alerts (flushed or spooled), NATS.
func (d *daemon) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	if d.sensors != nil {
		errs = append(errs, d.sensors.Shutdown(ctx))
	}
	if d.eng != nil {
		errs = append(errs, d.eng.Stop(ctx))
		st := d.eng.Stats()
		d.log.Info("engine stopped", "packets", st.Packets, "alerts", st.Alerts, "drops", st.Drops)
	}
	if d.metrics != nil {
		errs = append(errs, d.metrics(ctx))
	}
	if d.pub != nil {
		errs = append(errs, d.pub.Close(ctx))
		ps := d.pub.Stats()
		d.log.Info("alerts flushed", "published", ps.Published, "pending", ps.Pending, "dropped", ps.Dropped)
	}
	if d.nc != nil {
		d.nc.Drain()
		d.nc.Close()
	}
	if d.ns != nil {
		d.ns.Shutdown()
		d.ns.WaitForShutdown()
	}
	return errors.Join(errs...)
}

// sensorTables turns the sensors section into name and zone maps.
func sensorTables(list []sensorEntry) (map[netip.Addr]string, map[netip.Addr]*time.Location, error) {
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
			z, err := loadZone(s.TZ)
			if err != nil {
				return nil, nil, fmt.Errorf("sensors: %s: %w", s.Address, err)
			}
			zones[a] = z
		}
	}
	return names, zones, nil
}

// statefulConfig builds the engine's stateful settings from the config.
func statefulConfig(cfg *runConfig) (engine.StatefulConfig, error) {
	allow, err := parsePrefixes(cfg.Respond.Allow)
	if err != nil {
		return engine.StatefulConfig{}, fmt.Errorf("respond.allow: %w", err)
	}
	deny, err := parsePrefixes(cfg.Respond.Deny)
	if err != nil {
		return engine.StatefulConfig{}, fmt.Errorf("respond.deny: %w", err)
	}
	return engine.StatefulConfig{Respond: respond.Policy{
		DryRun: cfg.Respond.DryRun, GlobalRate: cfg.Respond.Rate, PerFlowInterval: cfg.Respond.PerFlowInterval,
		Allow: allow, Deny: deny,
	}}, nil
}
