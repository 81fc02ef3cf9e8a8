package engine

import (
	"unsafe"

	"github.com/vigil-ids/vigil/engine/flow"
	"github.com/vigil-ids/vigil/engine/stream"
	"github.com/vigil-ids/vigil/rules/field"
)

// workerStream is a worker's TCP reassembler.
type workerStream struct {
	r *stream.Reassembler
}

// newWorkerStream makes a worker's reassembler: cfg's Memcap is the
// engine's, shared evenly among its workers.
func newWorkerStream(cfg stream.Config, workers int) *workerStream {
	if cfg.Memcap <= 0 {
		cfg.Memcap = stream.DefaultMemcap
	}
	cfg.Memcap = max(cfg.Memcap/workers, 1)
	return &workerStream{r: stream.New(cfg)}
}

// forget frees the stream state of a flow the flow table removed.
func (ws *workerStream) forget(id uint64) { ws.r.Forget(flow.Slot(id), id) }

// add feeds p, a packet of flow id (0: none), to the reassembler when it
// is a TCP segment, and fills its relative sequence numbers (tcp.seq,
// tcp.ack, tcp.nxtseq), its sequence analysis (tcp.analysis.*) and,
// when it made stream data available, its stream view
// (tcp.reassembled.*, Meta.Stream).
func (ws *workerStream) add(p *field.Packet, id uint64) {
	if !p.TCP.Present || id == 0 {
		return
	}
	fl := p.TCP.Flags
	s := stream.Segment{Seq: uint32(p.TCP.SeqRaw), Ack: uint32(p.TCP.AckRaw), SYN: fl.SYN, FIN: fl.FIN, RST: fl.Reset, ACK: fl.Ack,
		Window: uint16(p.TCP.Window), Time: p.Frame.Time.UnixNano()}
	// The payload is in the frame, or in a reassembled IP datagram.
	if p.Payload != "" {
		s.Data = unsafe.Slice(unsafe.StringData(p.Payload), len(p.Payload))
	}
	// The segment's length on the wire, as Wireshark takes it: the IP
	// length's, within the frame's length (a capture may be truncated; an
	// IP length may claim more than the frame holds).
	s.Len = min(p.TCP.Len, len(s.Data)+max(0, p.Frame.Len-len(p.Meta.Raw)))
	v := ws.r.Add(flow.Slot(id), id, p.Flow.ToServer, &s)
	p.TCP.Analysis = field.TCPAnalysis{
		Retransmission: v.Analysis&stream.Retransmission != 0,
		OutOfOrder:     v.Analysis&stream.OutOfOrder != 0,
		LostSegment:    v.Analysis&stream.LostSegment != 0,
	}
	// Sequence numbers relative to the directions' bases, as Wireshark
	// shows them, and the length on the wire (an IP length past the
	// frame's end does not count, as in Wireshark).
	p.TCP.Len = s.Len
	p.TCP.Seq, p.TCP.Ack = int(v.Seq), int(v.Ack)
	p.TCP.NxtSeq = int(v.Seq + uint32(s.Len))
	if fl.SYN || fl.FIN {
		p.TCP.NxtSeq = int(uint32(p.TCP.NxtSeq) + 1)
	}
	if v.New == 0 {
		return
	}
	data := unsafe.String(&v.Data[0], len(v.Data))
	p.TCP.Reassembled = field.TCPReassembled{Data: data, NewLength: v.New}
	p.Meta.Stream, p.Meta.StreamTail = data, v.Whole
}
