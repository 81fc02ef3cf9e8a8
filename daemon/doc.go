// Package daemon is `vigil run` as a component: it listens for CommView
// sensors, runs every packet through the engine, publishes alerts to NATS
// (an embedded server or an external one, core or JetStream), injects
// responses, appends alerts to an EVE file, reloads the rules (and
// reopens the EVE file) on request, publishes its stats on vigil.stats,
// serves them as Prometheus metrics and, with Config.UI, serves the web
// console (package ui). Run is the whole of `vigil run`; Config's
// settings are its flags and config keys; Watch is `vigil alerts`.
//
// Lifecycle: New (the data folder is locked, everything but the sensor
// listener is started), Serve on a listener the caller made (until its
// context ends), then Shutdown, which drains in order: sensors, engine,
// metrics, the console, the EVE file, alerts, NATS, and releases the lock.
//
// The package wires the other rooms together and holds no packet logic of
// its own. It may import engine and its subpackages, alerts (and
// alerts/natsserver), rules (and rules/defaults), ncf and its subpackage
// ui; only cmd imports it. It reads no flags and never exits the process;
// the program that runs it owns flags, signals and the exit status.
package daemon
