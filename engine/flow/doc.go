// Package flow tracks network flows for one engine worker: a bounded,
// direction-symmetric flow table keyed by (sensor, VLAN, IP protocol,
// address/port pair), with idle and TCP-close timeouts, per-flow packet
// and byte counters, a small TCP state machine, flowbits and the
// Community ID.
//
// All time is packet time: the capture timestamp in field.Packet.Frame.Time,
// never the wall clock, so an offline run over a capture and a live run over
// the same packets see the same flows and the same expirations.
//
// A Table is owned by one worker goroutine and is not safe for concurrent
// use. Flows are pinned to workers with [Hash], which gives both directions
// of a flow the same value, or [HashPeek], which gives the same from the
// frame's headers alone (decode.PeekFlow).
//
// It belongs to the engine room: of Vigil it imports decode (for
// [HashPeek]), rules/field and engine/internal/lru.
package flow
