package alerts

import "errors"

// Sentinel errors of the package, matched with errors.Is.
var (
	// ErrNotAlert: Decode was given a JSON object whose event_type is not "alert".
	ErrNotAlert = errors.New("alerts: not an alert record")
	// ErrSchemaVersion: Decode was given an alert of a newer schema version.
	ErrSchemaVersion = errors.New("alerts: unsupported schema version")
	// ErrNoConn: NewPublisher was called without a NATS connection.
	ErrNoConn = errors.New("alerts: no NATS connection")
	// ErrCorruptSegment: a spill segment holds a record that fails its
	// length or checksum test; the segment is read up to that record.
	ErrCorruptSegment = errors.New("alerts: corrupt spill segment")
	// ErrClosed: the Publisher is closed.
	ErrClosed = errors.New("alerts: publisher closed")
)
