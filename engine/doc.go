// Package engine runs rules over packets: the path from a packet source (a
// CommView sensor connection or a capture file) through decoding, flow
// tracking and rule evaluation to alerts and active responses.
//
// The pipeline:
//
//	Source.Push ──batches──▶ worker (one goroutine each, chosen by a
//	direction-symmetric flow hash) ──▶ decode ─▶ flow ─▶ TCP stream ─▶
//	prefilter ─▶ rules ──matches──▶ per-source reorder ─▶ thresholds,
//	de-duplication, responses ─▶ Sink
//
// A Source picks a record's worker from a peek at its headers
// (decode.PeekFlow, flow.HashPeek: Ethernet, VLAN tags, IP, ports); the
// records the peek cannot read (fragments, tunnels, other links) have
// their headers decoded for the hash. It reassembles IP fragments
// (decode/defrag) and copies each record,
// with the datagram it completes if any, into a batch bound for the worker
// that owns the record's flow (the datagram's flow for a completing
// fragment), so a flow's packets are evaluated in order on one
// goroutine and per-flow state (flow table, flowbits, reset sequence
// numbers) needs no locks. Batches are recycled: the read → decode →
// evaluate path allocates nothing per packet when no rule matches.
//
// On an engine with one worker, a synchronous Source (RunFile's; see
// SourceConfig.Synchronous) skips the queue: Push evaluates the packet on
// the caller's goroutine, from the caller's buffer, and the batch only
// gathers the matches for release. Nothing runs alongside a file's reader
// that could use the time, and copying every frame, then reading it back
// after the queue has pushed the rules' state out of cache, cost about 7 %
// of a run.
//
// Each worker reassembles the TCP streams of its flows (package stream):
// a segment's stream view (tcp.reassembled.data) holds the data it made
// available in order, which `payload contains` rules also search, and for
// TCP the application fields (http, tls, dns, ftp, ssh) are those of the
// messages the segment completes in its direction: the rules run once per
// message (the second and later ones only for rules that read an
// application layer), on the frame that completes it, as tshark shows it.
// A segment that completes no message runs the rules once without
// application fields. The reassembler also sets each segment's Wireshark
// sequence analysis (tcp.analysis.retransmission, out_of_order,
// lost_segment). Stats.Stream counts what reassembly did.
//
// Each source releases its matches in packet order, once every earlier
// packet has been evaluated, so state kept across flows (thresholds by
// source or destination, de-duplication) sees the same order as a single
// worker would. The worker that finds a match builds its alert and, when
// the Sink is an alerts.EncodedPublisher and the rule has no reset,
// threshold or dedup, writes its EVE JSON too, so the release, serial per
// source, mostly orders and hands bytes to the sink.
//
// Time in the engine is packet time (the capture timestamps), so a capture
// replayed live and the same capture tested offline give the same alerts.
//
// Of Vigil the engine room (this package and its subpackages) imports ncf,
// capture, decode, rules and alerts; offline, daemon and cmd import it. Its
// tests may use tools/gen for traffic.
package engine
