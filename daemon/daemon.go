package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigil-ids/vigil/alerts"
	"github.com/vigil-ids/vigil/alerts/natsserver"
	"github.com/vigil-ids/vigil/cluster"
	"github.com/vigil-ids/vigil/daemon/ui"
	"github.com/vigil-ids/vigil/engine"
	"github.com/vigil-ids/vigil/engine/sensor"
	"github.com/vigil-ids/vigil/ncf"
	"github.com/vigil-ids/vigil/rules/defaults"
)

// Daemon is a running `vigil run`: an engine fed by CommView sensors,
// publishing to NATS. Create it with New, run it with Serve, stop it with
// Shutdown.
type Daemon struct {
	cfg     Config
	log     *slog.Logger
	rules   int            // rules loaded by New
	ns      *server.Server // nil with an external NATS
	nc      *nats.Conn
	pub     *alerts.Publisher
	eve     *alerts.File // nil without Config.EveLog
	eng     *engine.Engine
	sensors *sensor.Server
	ingest  *cluster.Ingest    // --role ingest
	eval    *cluster.Evaluator // --role evaluate
	// stopEval ends the evaluator's Run; evalDone is closed when it has
	// given its partitions up.
	stopEval context.CancelFunc
	evalDone chan struct{}
	metrics  func(context.Context) error // shuts the metrics server down
	ui       *ui.Server                  // nil without Config.UI
	stopUI   func(context.Context) error // shuts the console's server down
	lock     *os.File                    // holds the data folder's lock

	mu          sync.Mutex
	cancelServe context.CancelFunc // ends a running Serve
	lastReload  *ReloadEvent       // the report of the last reload
	closed      bool               // Shutdown was called
}

// New loads the rules, checks cfg, and starts everything but the sensor
// listener: the embedded NATS server (cfg.NATS "embedded"), the NATS
// connection, the alert publisher, the engine and the metrics endpoint.
// Rule errors come back as the rules.ErrorList of defaults.Load; on any
// error what was started is stopped again.
func New(cfg Config) (_ *Daemon, err error) {
	cfg = cfg.withDefaults()
	var handler slog.Handler = slog.NewTextHandler(cfg.Log, nil)
	if cfg.LogJSON {
		handler = slog.NewJSONHandler(cfg.Log, nil)
	}
	d := &Daemon{cfg: cfg, log: slog.New(handler)}
	if err := checkRole(cfg); err != nil {
		return nil, err
	}
	defer func() {
		// d, not the named result: a failed start returns nil, and what
		// was started so far must still be stopped.
		if err != nil {
			d.Shutdown(context.Background())
		}
	}()
	set, err := defaults.Load(cfg.DefaultRules, cfg.Rules...)
	if err != nil {
		return nil, err
	}
	d.rules = len(set.Rules)
	zone, err := ncf.LoadZone(cfg.TZ)
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
		return nil, fmt.Errorf("daemon: --data-dir: %w", err)
	}
	if d.lock, err = lockDir(cfg.DataDir); err != nil {
		return nil, err
	}
	if err := d.connectNATS(); err != nil {
		return nil, err
	}
	d.pub, err = alerts.NewPublisher(alerts.PublisherConfig{
		Conn: d.nc, Prefix: cfg.Prefix, JetStream: cfg.JetStream,
		DataDir: filepath.Join(cfg.DataDir, "spool"), Logger: d.log,
	})
	if err != nil {
		return nil, err
	}
	sink := alerts.Publishers{d.pub}
	if cfg.EveLog != "" {
		if d.eve, err = alerts.OpenFile(cfg.EveLog); err != nil {
			return nil, fmt.Errorf("daemon: --eve-log: %w", err)
		}
		sink = append(sink, d.eve)
	}
	ec := engine.Config{
		Rules: set, Sink: sink, Workers: cfg.Workers,
		Overload: overload, Logger: d.log, Stateful: stateful,
	}
	df := &ec.Defrag
	df.Memcap, df.Timeout, df.MaxFragments = cfg.Defrag.Memcap, cfg.Defrag.Timeout, cfg.Defrag.MaxFragments
	d.eng, err = engine.New(ec)
	if err != nil {
		return nil, err
	}
	d.eng.Start()
	pipeline, err := d.startRole(overload)
	if err != nil {
		return nil, err
	}
	d.sensors, err = sensor.New(sensor.Config{
		Engine: d.eng, Pipeline: pipeline, Allow: allow, MaxConns: cfg.MaxSensors, MaxConnsPerAddr: cfg.MaxSensorsPerAddress,
		Names: names, Zones: zones, Zone: zone, Logger: d.log,
		IdleTimeout: cfg.SensorIdleTimeout, RecordTimeout: cfg.SensorRecordTimeout, WriteTimeout: cfg.SensorWriteTimeout,
	})
	if err != nil {
		return nil, err
	}
	if cfg.Metrics != "" {
		if d.metrics, err = d.serveMetrics(cfg.Metrics); err != nil {
			return nil, fmt.Errorf("daemon: --metrics: %w", err)
		}
	}
	if cfg.UI != "" {
		if err := d.serveUI(); err != nil {
			return nil, fmt.Errorf("daemon: --ui: %w", err)
		}
	}
	return d, nil
}

// checkRole checks that the settings fit Config.Role.
func checkRole(cfg Config) error {
	switch cfg.Role {
	case RoleAll:
		return nil
	case RoleIngest, RoleEvaluate:
	default:
		return fmt.Errorf("daemon: --role %q: want %q, %q or %q", cfg.Role, RoleAll, RoleIngest, RoleEvaluate)
	}
	if !cfg.JetStream {
		return fmt.Errorf("daemon: --role %s needs --jetstream (packets and alert de-duplication go through JetStream)", cfg.Role)
	}
	if cfg.Role == RoleEvaluate && (cfg.NATS == "" || cfg.NATS == "embedded") {
		return fmt.Errorf("daemon: --role evaluate needs --nats: the URL(s) of the cluster the ingest process publishes to")
	}
	return nil
}

// Roles of a process (Config.Role).
const (
	RoleAll      = "all"
	RoleIngest   = "ingest"
	RoleEvaluate = "evaluate"
)

// startRole starts the cluster part of Config.Role: for ingest, the
// pipeline the sensors feed (nil: the engine); for evaluate, the
// evaluator, at once.
func (d *Daemon) startRole(overload engine.Overload) (sensor.Pipeline, error) {
	if d.cfg.Role != RoleAll && !connected(d.nc, natsWait) {
		return nil, fmt.Errorf("daemon: --role %s: NATS at %s not reachable within %v (set --nats)", d.cfg.Role, d.natsURL(), natsWait)
	}
	switch d.cfg.Role {
	case RoleIngest:
		in, err := cluster.NewIngest(cluster.IngestConfig{Conn: d.nc, Partitions: d.cfg.Partitions, Overload: overload, Logger: d.log})
		if err != nil {
			return nil, err
		}
		d.ingest = in
		return in, nil
	case RoleEvaluate:
		ev, err := cluster.NewEvaluator(cluster.EvaluatorConfig{Conn: d.nc, Engine: d.eng, Partitions: d.cfg.Partitions, ClaimTTL: d.cfg.ClaimTTL, Logger: d.log,
			Pending: func() uint64 { return d.pub.Stats().Pending }})
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithCancel(context.Background())
		d.eval, d.stopEval, d.evalDone = ev, cancel, make(chan struct{})
		go func() {
			defer close(d.evalDone)
			ev.Run(ctx)
		}()
	}
	return nil, nil
}

// natsWait bounds the wait for NATS of the cluster roles at start.
const natsWait = 10 * time.Second

// connected waits up to timeout for nc to be connected.
func connected(nc *nats.Conn, timeout time.Duration) bool {
	for deadline := time.Now().Add(timeout); !nc.IsConnected(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

// serveUI serves the web console on Config.UI, reading the alert stream
// on the daemon's NATS connection.
func (d *Daemon) serveUI() error {
	l, err := ui.Listen(d.cfg.UI, d.cfg.UIToken)
	if err != nil {
		return err
	}
	js, err := jetstream.New(d.nc)
	if err != nil {
		l.Close()
		return err
	}
	d.ui = ui.New(ui.Config{JetStream: js, Prefix: d.cfg.Prefix, Token: d.cfg.UIToken, Stats: func() ui.Stats { return d.Stats() }})
	d.stopUI = d.serveHTTP("console", l, "/", d.ui)
	return nil
}

// connectNATS starts the embedded server if asked, then connects.
func (d *Daemon) connectNATS() error {
	cfg := d.cfg
	url := cfg.NATS
	if url == "" || url == "embedded" {
		if cfg.NATSMaxStore > 0 && cfg.JetStream && (cfg.StreamMaxBytes <= 0 || cfg.StreamMaxBytes > cfg.NATSMaxStore) {
			return fmt.Errorf("the alert stream's --stream-max-bytes (%d; 0 or less: no limit) must fit the embedded server's --nats-max-store (%d)", cfg.StreamMaxBytes, cfg.NATSMaxStore)
		}
		ns, err := natsserver.StartServer(natsserver.ServerConfig{Listen: cfg.NATSListen, DataDir: filepath.Join(cfg.DataDir, "jetstream"),
			MaxMemory: cfg.NATSMaxMemory, MaxStore: cfg.NATSMaxStore})
		if err != nil {
			return fmt.Errorf("embedded NATS server: %w (give it another address with --nats-listen, or use the running server with --nats nats://HOST:PORT)", err)
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
		return fmt.Errorf("connecting to NATS at %s: %w", redactURLs(url), err)
	}
	d.nc = nc
	if !nc.IsConnected() {
		// Not an error: the daemon runs, as CommView's sensors expect,
		// and alerts wait until the server is reachable.
		d.log.Warn("NATS not reachable; retrying, alerts wait in memory and in the spill folder meanwhile (set --nats)",
			"url", redactURLs(url), "spill", filepath.Join(cfg.DataDir, "spool"))
	}
	if cfg.JetStream && nc.IsConnected() {
		d.ensureStream(nc)
	}
	return nil
}

// natsURL is what the daemon is connected to, or, while it is not, the
// servers it tries, for the log.
func (d *Daemon) natsURL() string {
	if u := d.nc.ConnectedUrlRedacted(); u != "" {
		return u
	}
	return redactURLs(strings.Join(d.nc.Servers(), ",")) + " (not connected)"
}

// redactURLs returns a comma-separated list of NATS URLs with their
// passwords replaced by xxxxx.
func redactURLs(list string) string {
	parts := strings.Split(list, ",")
	for i, p := range parts {
		if u, err := neturl.Parse(strings.TrimSpace(p)); err == nil {
			parts[i] = u.Redacted()
		}
	}
	return strings.Join(parts, ",")
}

// ensureStream creates or updates the alert stream. Failure is only
// logged: the publisher buffers alerts until the stream takes them.
func (d *Daemon) ensureStream(nc *nats.Conn) {
	js, err := jetstream.New(nc)
	if err == nil {
		err = alerts.EnsureStream(js, alerts.StreamName, alerts.StreamSubjects(d.cfg.Prefix),
			alerts.Retention{MaxAge: d.cfg.StreamMaxAge, MaxBytes: d.cfg.StreamMaxBytes})
	}
	if err != nil {
		d.log.Warn("could not ensure the alert stream", "stream", alerts.StreamName, "err", err)
	}
}

// Serve accepts CommView sensors on l and feeds their packets to the
// engine until ctx ends or Shutdown is called; meanwhile it publishes
// stats every Config.StatsInterval and, for each value received on reload
// (SIGHUP for `vigil run`; nil never reloads), reloads the rules (see
// ReloadEvent) and reopens the EVE log file. It closes l; a nil l (for
// --role evaluate) serves no sensors. It returns nil once it stops (at once after
// Shutdown), or the error that stopped the sensor listener; either way
// the caller then calls Shutdown. Call it once.
func (d *Daemon) Serve(ctx context.Context, l net.Listener, reload <-chan os.Signal) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		l.Close()
		return nil
	}
	d.cancelServe = cancel
	d.mu.Unlock()
	served := make(chan error, 1)
	listen := "none (evaluate)"
	if l != nil {
		go func() { served <- d.sensors.Serve(ctx, l) }()
		listen = l.Addr().String()
	} else {
		// No listener (--role evaluate): the sensors' part ends with ctx.
		go func() { <-ctx.Done(); served <- nil }()
	}
	d.log.Info("vigil running", "listen", listen, "rules", d.rules, "nats", d.natsURL(), "workers", d.eng.Workers(), "overload", d.cfg.Overload, "role", d.cfg.Role, "version", Version())
	tick := time.NewTicker(d.cfg.StatsInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			d.log.Info("shutting down")
			return <-served
		case err := <-served:
			if ctx.Err() != nil {
				d.log.Info("shutting down")
			}
			return err
		case <-reload:
			d.reload()
		case <-tick.C:
			d.publishStats()
		}
	}
}

// Shutdown ends a running Serve and drains in order: the sensors (their
// packets are evaluated), the engine, the metrics endpoint, the console
// (its event streams end), the alerts
// (delivered, or spooled to disk for the next start), the NATS connection
// and the embedded server. ctx bounds the waits; the errors of every step
// are joined. Calls after the first do nothing.
func (d *Daemon) Shutdown(ctx context.Context) error {
	d.mu.Lock()
	closed := d.closed
	d.closed = true
	if d.cancelServe != nil {
		d.cancelServe()
	}
	d.mu.Unlock()
	if closed {
		return nil
	}
	var errs []error
	if d.sensors != nil {
		errs = append(errs, d.sensors.Shutdown(ctx))
	}
	if d.ingest != nil {
		errs = append(errs, d.ingest.Close(ctx))
	}
	if d.stopEval != nil {
		d.stopEval()
		select {
		case <-d.evalDone:
		case <-ctx.Done():
			errs = append(errs, ctx.Err())
		}
	}
	if d.eng != nil {
		errs = append(errs, d.eng.Stop(ctx))
		st := d.eng.Stats()
		d.log.Info("engine stopped", "packets", st.Packets, "alerts", st.Alerts, "drops", st.Drops)
	}
	if d.metrics != nil {
		errs = append(errs, d.metrics(ctx))
	}
	if d.stopUI != nil {
		errs = append(errs, d.stopUI(ctx))
	}
	if d.eve != nil {
		errs = append(errs, d.eve.Close())
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
	if d.lock != nil {
		errs = append(errs, d.lock.Close()) // releases the lock
	}
	return errors.Join(errs...)
}

// LockFile is the file in the data folder that a running Daemon holds an
// exclusive flock(2) on, so two daemons never share one folder (its
// JetStream store and spool).
const LockFile = "vigil.lock"

// lockDir takes the data folder's lock, or fails naming the folder and
// the --data-dir flag when another process holds it.
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("daemon: the data folder %s is in use by another vigil run (it holds %s); give each daemon its own --data-dir", dir, path)
		}
		return nil, fmt.Errorf("daemon: locking %s: %w", path, err)
	}
	return f, nil
}

// ShutdownTimeout bounds the drain of Run after its context ends.
const ShutdownTimeout = 30 * time.Second

// Run is `vigil run`: New, then Serve on a listener on cfg.Listen until ctx
// ends, then Shutdown within ShutdownTimeout. reload is Serve's. A
// listener that cannot be opened is an error naming the address and the
// --listen flag.
func Run(ctx context.Context, cfg Config, reload <-chan os.Signal) error {
	d, err := New(cfg)
	if err != nil {
		return err
	}
	var l net.Listener
	if cfg.Role != RoleEvaluate {
		l, err = net.Listen("tcp", cfg.Listen)
	}
	if err != nil {
		err = fmt.Errorf("daemon: cannot listen for sensors on %s (set --listen): %w", cfg.Listen, err)
	} else {
		err = d.Serve(ctx, l, reload)
	}
	stop, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	return errors.Join(err, d.Shutdown(stop))
}
