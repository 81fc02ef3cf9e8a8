// Package stream reassembles TCP byte streams for one engine worker, so
// that rules see what the endpoints exchanged rather than one segment at a
// time.
//
// The model is RFC 9293's sequence space (section 3.4: sequence numbers
// compare modulo 2^32) and Suricata's stream engine: each direction of a
// connection is reassembled on its own, in sequence order; data is
// delivered once it is in order; a direction is inspected up to a depth
// (stream.reassembly.depth, default 1 MiB) and the segments waiting for a
// hole to fill are bounded by a memory cap (stream.memcap); a connection
// already under way is picked up at the first data segment seen
// (stream.midstream: true).
//
// # Per direction
//
//   - A SYN sets the initial sequence number; its data, if any, starts at
//     ISN+1. Without a SYN, the first data segment starts the direction
//     (mid-stream pickup, counted).
//   - In-order data is delivered at once; out-of-order data is copied into
//     a pooled buffer and delivered when the hole before it fills.
//   - Overlaps keep the first data seen (first-wins, like a Linux or BSD
//     receiver that already queued the bytes). Bytes resent identically
//     count as retransmission; bytes resent differently count as an
//     overlap anomaly.
//   - A hole the sensor will not see filled (a segment lost at the
//     capture, or refused by the memory cap) is skipped at the next
//     segment of its direction (data, a bare ACK or a FIN) once the other
//     direction has acknowledged past it: delivery resumes at the next
//     queued segment (a gap, counted), and the stream view restarts there.
//     Application framing holds across a gap inside a body of known
//     length (that message is not handed out); otherwise it resumes with
//     the next data that starts a message.
//   - A RST ends both directions and frees what they queued; a FIN ends
//     its direction at its sequence number. Data past the end is ignored
//     (counted).
//   - Segments that start more than [MaxAhead] bytes past the next
//     expected byte, or that lie wholly before it by more than that, are
//     out of window: counted and dropped.
//   - Once Depth bytes have been delivered the direction is no longer
//     reassembled (counted once per direction).
//
// # Sequence analysis
//
// Each segment's View also carries its Analysis: Wireshark's
// retransmission, out-of-order and lost-segment events, which follow
// Wireshark's rules (the highest sequence number seen, packet times), not
// the reassembly's: a segment that fills a hole left by a segment never
// captured is a retransmission to Wireshark, and new data to the stream.
//
// # The stream view
//
// For each segment the Reassembler returns a view: the Window bytes of
// the direction delivered just before (fewer at the start of the stream
// or after a gap) followed by the bytes this segment made available in
// order (its own, plus queued segments it unblocked). A literal of up to
// Window+1 bytes that straddles segment boundaries therefore lies inside
// the view of the segment that completes it, and the engine tells rules
// how many bytes at the end are new, so a match can be required to end in
// them and is seen once. The engine sets the window to what its rules
// need (SetWindow): the longest literal they search the stream for, less
// one.
//
// # Memory
//
// Buffers come from per-Reassembler free lists of power-of-two sizes and
// go back there, so steady-state operation allocates nothing. Memory held
// in buffers (queued segments and view tails) never exceeds Memcap; flow
// state itself is a small fixed struct per flow slot of the flow table.
// Forget releases a flow's buffers; the engine calls it when the flow
// table removes a flow.
//
// A Reassembler is owned by one worker and is not safe for concurrent use.
package stream
