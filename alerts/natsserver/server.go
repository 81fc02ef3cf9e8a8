// Package natsserver runs the NATS server embedded in Vigil: one node with
// JetStream on file storage, so alerts survive restarts of the process.
//
// It imports nothing of Vigil.
package natsserver

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// DefaultListen is the client address of the embedded server when none is
// configured: loopback only.
const DefaultListen = "127.0.0.1:4222"

// Default JetStream limits of the embedded server: the alert stream is
// file-stored and capped at 1 GiB by default (alerts.DefaultRetention),
// so the store leaves room for four times that; memory storage is not
// used by Vigil.
const (
	DefaultMaxMemory = 256 << 20
	DefaultMaxStore  = 4 << 30
)

// readyTimeout bounds the wait for the server to accept connections.
const readyTimeout = 10 * time.Second

// ErrNotReady: the server did not accept connections within readyTimeout.
var ErrNotReady = errors.New("natsserver: server not ready for connections")

// ServerConfig configures StartServer. The zero value listens on
// DefaultListen and keeps the JetStream store in a temporary folder chosen
// by the server.
type ServerConfig struct {
	// Listen is the client address, host:port. Port 0 picks a free port
	// (read it back with s.ClientURL() or s.Addr()).
	Listen string
	// DataDir is the JetStream store folder (file storage). Empty lets the
	// server choose a folder under the system temporary directory.
	DataDir string
	// MaxMemory and MaxStore cap, in bytes, the memory and the disk
	// JetStream may use for streams (0: DefaultMaxMemory,
	// DefaultMaxStore). A stream that would need more is refused, and a
	// full store refuses new messages.
	MaxMemory, MaxStore int64
	// Log sends the server's own log lines to stderr; off by default.
	Log bool
	// Debug adds debug lines to that log.
	Debug bool
	// Cluster, when its Listen is set, makes the server a node of a NATS
	// cluster (JetStream clustered, RAFT over the routes).
	Cluster Cluster
}

// Cluster is a node's part in a NATS cluster.
type Cluster struct {
	// Name is the cluster's name, the same on every node.
	Name string
	// Node is this server's name, unique in the cluster.
	Node string
	// Listen is the route address, host:port (port 0: a free port).
	Listen string
	// Routes are the other nodes' route URLs, nats://host:port.
	Routes []string
}

// StartServer starts an embedded NATS server with JetStream enabled and
// waits until it accepts connections. The caller owns the server and stops
// it with s.Shutdown(); s.WaitForShutdown() waits for that. The server
// installs no signal handlers.
func StartServer(cfg ServerConfig) (*server.Server, error) {
	listen := cfg.Listen
	if listen == "" {
		listen = DefaultListen
	}
	host, portText, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("natsserver: listen address %q: %w", listen, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("natsserver: listen port %q: invalid", portText)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	} else if l, err := net.Listen("tcp", listen); err != nil {
		// The server would only log this and never become ready: say it
		// now, naming the address (often another NATS server holds it).
		return nil, fmt.Errorf("natsserver: cannot listen on %s: %w", listen, err)
	} else {
		l.Close()
	}
	opts := &server.Options{
		ServerName:         "vigil",
		Host:               host,
		Port:               port,
		JetStream:          true,
		StoreDir:           cfg.DataDir,
		JetStreamMaxMemory: cmp.Or(cfg.MaxMemory, DefaultMaxMemory),
		JetStreamMaxStore:  cmp.Or(cfg.MaxStore, DefaultMaxStore),
		NoLog:              !cfg.Log,
		NoSigs:             true,
		Debug:              cfg.Debug,
	}
	if c := cfg.Cluster; c.Listen != "" {
		if err := cluster(opts, c); err != nil {
			return nil, err
		}
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("natsserver: %w", err)
	}
	if cfg.Log {
		s.ConfigureLogger()
	}
	go s.Start()
	if !s.ReadyForConnections(readyTimeout) {
		s.Shutdown()
		return nil, ErrNotReady
	}
	return s, nil
}

// cluster sets opts for node c of a cluster.
func cluster(opts *server.Options, c Cluster) error {
	host, portText, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return fmt.Errorf("natsserver: route address %q: %w", c.Listen, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > 65535 {
		return fmt.Errorf("natsserver: route port %q: invalid", portText)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	opts.ServerName = c.Node
	opts.Cluster = server.ClusterOpts{Name: c.Name, Host: host, Port: port}
	opts.Routes = server.RoutesFromStr(strings.Join(c.Routes, ","))
	return nil
}
