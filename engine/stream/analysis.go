package stream

import "math"

// Analysis holds the sequence-analysis events of a segment, with
// Wireshark's meanings (packet-tcp.c, tcp_analyze_sequence_number; the
// Wireshark User's Guide, "TCP Analysis"). They look at the segments as
// captured, whatever the reassembly made of them: Wireshark's "next
// sequence number" of a direction is the highest sequence number seen in
// it (the end of the farthest segment, a SYN or FIN counting one), not the
// next byte in order.
type Analysis uint8

const (
	// Retransmission (tcp.analysis.retransmission): a segment with data,
	// or a SYN or FIN, that starts before the next sequence number and is
	// not out of order (nor a keep-alive), or whose data the peer has
	// already acknowledged (Wireshark's spurious retransmission), or that
	// resends what at least two duplicate ACKs asked for within 20 ms
	// (fast retransmission).
	Retransmission Analysis = 1 << iota
	// OutOfOrder (tcp.analysis.out_of_order): a segment that starts
	// before the next sequence number, does not end exactly there, and
	// came less than the connection's first round-trip time (SYN to the
	// handshake's ACK; 3 ms when unknown) after the segment that set it.
	OutOfOrder
	// LostSegment (tcp.analysis.lost_segment, "previous segment not
	// captured"): a segment, not a RST, that starts past the next
	// sequence number.
	LostSegment
)

// Marks of a direction: of its last segment, which the analysis reads
// at the next, and hasBase, kept.
const (
	keepAlive   uint8 = 1 << iota // 0 or 1 byte one before the next sequence number
	windowProbe                   // zero-window probe
	windowSeen                    // window holds a segment's window
	hasBase                       // base is known
)

// Thresholds of the analysis, in nanoseconds.
const (
	defaultOutOfOrder = 3e6  // out-of-order window without a first RTT
	fastRetransmit    = 20e6 // fast retransmission after a duplicate ACK
)

// seqConn is Wireshark's sequence analysis state of a connection.
type seqConn struct {
	dir      [2]seqInfo // by direction
	synTime  int64      // packet time of the latest SYN without ACK, 0 if none
	firstRTT int64      // from synTime to the first pure ACK after it, 0 if unknown
}

// seqInfo is Wireshark's sequence analysis state of one direction.
type seqInfo struct {
	nextTime int64  // packet time of the segment that set next
	ackTime  int64  // packet time of the direction's last segment
	base     uint32 // the initial sequence number, as far as known (hasBase)
	next     uint32 // highest sequence number seen, plus one; 0: none yet
	lastAck  uint32 // the ack field of the direction's last segment
	window   uint16 // the last segment's window (windowSeen)
	dupAcks  uint8  // duplicate ACKs since lastAck changed (at most 255)
	marks    uint8
}

// analyze runs Wireshark's sequence analysis on s, a segment sent in
// direction d.
func (c *seqConn) analyze(d int, s *Segment) Analysis {
	fwd, rev := &c.dir[d], &c.dir[1-d]
	seq, ack, t := s.Seq, s.Ack, s.Time
	if s.SYN && !s.ACK && fwd.marks&hasBase != 0 && seq != fwd.base {
		// A SYN with a new initial sequence number: Wireshark starts a
		// new conversation ("port numbers reused").
		*c = seqConn{}
	}
	if fwd.marks&hasBase == 0 {
		fwd.base = seq - 1
		if s.SYN {
			fwd.base = seq
		}
		fwd.marks |= hasBase
	}
	if rev.marks&hasBase == 0 && s.ACK {
		rev.base = ack - 1
		rev.marks |= hasBase
	}
	seglen := uint32(max(s.Len, len(s.Data)))
	synFin := s.SYN || s.FIN
	plain := !synFin && !s.RST
	var a Analysis
	var marks uint8
	if seglen == 1 && seq == fwd.next && rev.marks&windowSeen != 0 && rev.window == 0 {
		marks |= windowProbe
	} else {
		if fwd.next != 0 && seqLT(fwd.next, seq) && !s.RST {
			a |= LostSegment
		}
		if seglen <= 1 && seq == fwd.next-1 && plain {
			marks |= keepAlive
		}
		// A duplicate ACK repeats the direction's last sequence number,
		// ACK and nonzero window without data; one that answers the
		// peer's keep-alive is a keep-alive ACK instead.
		if seglen == 0 && plain && s.Window != 0 && fwd.marks&windowSeen != 0 && s.Window == fwd.window &&
			seq == fwd.next && ack == fwd.lastAck && rev.marks&keepAlive == 0 {
			fwd.dupAcks = min(fwd.dupAcks+1, 255)
		}
	}
	if ack != fwd.lastAck {
		fwd.dupAcks = 0
	}
	next := seq + seglen // the sequence number after the segment; a SYN or FIN counts one
	if synFin {
		next++
	}
	if (seglen > 0 || synFin) && marks&keepAlive == 0 {
		behind := fwd.next != 0 && seqLT(seq, fwd.next) && (seglen <= 1 || seq != fwd.next-1)
		switch {
		case seglen > 0 && rev.lastAck != 0 && !seqLT(rev.lastAck, seq+seglen): // spurious
			a |= Retransmission
		case behind && rev.dupAcks >= 2 && rev.lastAck == seq && since(t, rev.ackTime) < fastRetransmit: // fast
			a |= Retransmission
		case behind && since(t, fwd.nextTime) < c.outOfOrderWindow() && fwd.next != next:
			a |= OutOfOrder
		case behind:
			a |= Retransmission
		}
	}
	if (fwd.next == 0 || seqLT(fwd.next, next)) && marks&windowProbe == 0 {
		fwd.next, fwd.nextTime = next, t
	}
	fwd.window = s.Window
	fwd.lastAck, fwd.ackTime = ack, t
	fwd.marks = fwd.marks&hasBase | marks | windowSeen
	// The first RTT: from the latest SYN to the first pure ACK after it.
	switch {
	case s.SYN && !s.ACK:
		c.synTime = t
	case !s.SYN && s.ACK && c.synTime != 0 && c.firstRTT == 0:
		c.firstRTT = t - c.synTime
	}
	return a
}

// relative returns the sequence and acknowledgment numbers of s, a
// segment of direction d that analyze has seen, relative to the bases of
// d and of its peer (the acknowledgment only when s has ACK set and the
// peer's base is known, raw otherwise).
func (c *seqConn) relative(d int, s *Segment) (seq, ack uint32) {
	fwd, rev := &c.dir[d], &c.dir[1-d]
	seq, ack = s.Seq-fwd.base, s.Ack
	if s.ACK && rev.marks&hasBase != 0 {
		ack -= rev.base
	}
	return seq, ack
}

// outOfOrderWindow is how soon after the segment that set the next
// sequence number one behind it is out of order rather than resent.
func (c *seqConn) outOfOrderWindow() int64 {
	if c.firstRTT == 0 {
		return defaultOutOfOrder
	}
	return c.firstRTT
}

// since returns t-from, or the largest value when t is earlier (Wireshark
// takes the difference unsigned).
func since(t, from int64) int64 {
	if t < from {
		return math.MaxInt64
	}
	return t - from
}
