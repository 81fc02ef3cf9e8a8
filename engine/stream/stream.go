package stream

// Defaults for the zero fields of a Config, after Suricata's
// stream.reassembly.depth and stream.memcap.
const (
	DefaultDepth  = 1 << 20  // bytes per direction
	DefaultMemcap = 64 << 20 // bytes per engine; the engine splits it among its workers
	DefaultWindow = 255      // bytes of earlier data in a view
	// MaxWindow is the largest Window accepted; larger values are clamped.
	MaxWindow = 4096
	// MaxAhead is how far, in bytes of sequence space, a segment may
	// start past the next expected byte (or end before it) and still be
	// taken: the largest TCP window (RFC 7323, 2^30). Farther segments
	// are out of window.
	MaxAhead = 1 << 30
)

// Buffer size classes: 64 bytes to 64 KiB, powers of two.
const (
	minShift = 6
	maxShift = 16
	maxBuf   = 1 << maxShift
)

// Config sets the limits of a Reassembler. A zero field means its default.
type Config struct {
	// Depth is how many bytes of each direction are reassembled (default
	// 1 MiB); later data is not looked at.
	Depth int
	// Memcap bounds the bytes held in buffers (queued out-of-order
	// segments and view tails) by one Reassembler (default 64 MiB; the
	// engine gives each worker its share).
	Memcap int
	// Window is how many bytes delivered before a segment its view
	// repeats at most (default 255, at most MaxWindow), so that a
	// literal of up to Window+1 bytes split over segments is seen;
	// SetWindow lowers it to what the rules need.
	Window int
}

// Stats are a Reassembler's counters. All count segments except Bytes
// and MemUsed.
type Stats struct {
	Segments     uint64 `json:"segments"`      // TCP segments with data taken in
	Bytes        uint64 `json:"bytes"`         // bytes delivered in order
	Midstream    uint64 `json:"midstream"`     // directions picked up without a SYN
	OutOfOrder   uint64 `json:"out_of_order"`  // segments queued ahead of a hole
	Retransmits  uint64 `json:"retransmits"`   // segments (or parts) resent with the same data
	Overlaps     uint64 `json:"overlaps"`      // segments resending bytes with different data (first wins)
	Gaps         uint64 `json:"gaps"`          // holes skipped
	OutOfWindow  uint64 `json:"out_of_window"` // segments dropped for lying too far from the next byte
	AfterEnd     uint64 `json:"after_end"`     // segments with data past a FIN or after a RST
	DepthReached uint64 `json:"depth_reached"` // directions that reached Depth
	MemcapDrops  uint64 `json:"memcap_drops"`  // buffers refused by Memcap
	MemUsed      int    `json:"mem_used"`      // bytes held in buffers now
}

// Add adds o's counters to s, for totals over several Reassemblers.
func (s *Stats) Add(o Stats) {
	s.Segments += o.Segments
	s.Bytes += o.Bytes
	s.Midstream += o.Midstream
	s.OutOfOrder += o.OutOfOrder
	s.Retransmits += o.Retransmits
	s.Overlaps += o.Overlaps
	s.Gaps += o.Gaps
	s.OutOfWindow += o.OutOfWindow
	s.AfterEnd += o.AfterEnd
	s.DepthReached += o.DepthReached
	s.MemcapDrops += o.MemcapDrops
	s.MemUsed += o.MemUsed
}

// Segment is what the Reassembler needs of one TCP segment.
type Segment struct {
	Seq, Ack           uint32 // raw sequence and acknowledgment numbers
	SYN, FIN, RST, ACK bool
	Window             uint16 // the window field, unscaled
	Time               int64  // packet time, nanoseconds since the Unix epoch
	// Len is the payload length the IP header gives (tcp.len); Data may
	// be shorter, in a truncated capture. The larger of the two counts.
	Len  int
	Data []byte // the payload; not kept after Add returns
}

// View is what a segment made of its direction: the stream data it made
// available, Data, which ends with the New bytes this segment delivered in
// order after up to Window bytes delivered before them, its Analysis and
// its relative sequence numbers. Data aliases the Reassembler and is
// valid until its next call; New is 0 when the segment delivered nothing.
type View struct {
	Data []byte
	New  int
	// Whole is true when the New bytes are the segment's data, all of
	// it, delivered in order: Data then ends with Segment.Data.
	Whole    bool
	Analysis Analysis
	// Seq and Ack are the segment's sequence and acknowledgment numbers
	// relative to the initial sequence numbers of their directions, as
	// Wireshark shows tcp.seq and tcp.ack (packet-tcp.c, relative
	// sequence numbers): a direction's base is its SYN's sequence number,
	// or one less than the first sequence number seen in it, or one less
	// than the first acknowledgment of it seen on a segment with ACK set.
	// Ack is the raw number on a segment without ACK.
	Seq, Ack uint32
}

// seg is a queued out-of-order piece.
type seg struct {
	seq uint32
	buf []byte
}

// Half-connection flags.
const (
	started uint8 = 1 << iota
	finSeen
	ended
	depthDone
	acked // ack holds the peer's latest acknowledgment
)

// half is one direction of a connection.
type half struct {
	next      uint32 // next expected sequence number
	fin       uint32 // sequence number of the FIN, when finSeen
	ack       uint32 // the highest acknowledgment of this direction's data by the peer
	flags     uint8
	delivered int
	ooo       []seg  // queued pieces, by sequence, not overlapping
	tail      []byte // the last Window bytes delivered
	fr        framer // application messages
}

type conn struct {
	id    uint64
	h     [2]half
	seq   seqConn
	heads requests // the client's HTTP requests not yet answered
}

// Reassembler reassembles the TCP connections of one worker. Connections
// are named by the caller's slot (a small index, reused) and id (unique
// over time): a slot seen with a new id starts afresh.
type Reassembler struct {
	depth, memcap int
	maxWindow     int // Config.Window
	window        int // the window in force (SetWindow)
	conns         []conn
	free          [maxShift - minShift + 1][][]byte
	alloc         int // bytes of buffers made and not dropped, free or held
	view          []byte
	base          int    // start of this call's new bytes in view
	whole         bool   // this call delivered its segment's data whole, in order
	cur           *half  // the direction the last Add delivered to, nil if none
	last          *half  // the direction of the last Add's segment
	curConn       *conn  // its connection
	in            []byte // its new bytes not yet framed (NextMessage)
	peek          [appPeek]byte
	stats         Stats
}

// New returns a Reassembler with cfg's limits.
func New(cfg Config) *Reassembler {
	if cfg.Depth <= 0 {
		cfg.Depth = DefaultDepth
	}
	if cfg.Memcap <= 0 {
		cfg.Memcap = DefaultMemcap
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	cfg.Window = min(cfg.Window, MaxWindow)
	return &Reassembler{depth: cfg.Depth, memcap: cfg.Memcap, maxWindow: cfg.Window, window: cfg.Window}
}

// SetWindow sets how many earlier bytes views repeat from now on: n, at
// most Config.Window (0: none, and no tails are kept). The engine sets
// what its rule set needs, the longest literal searched in the stream
// less one. Tails kept so far are as long as the window was then.
func (r *Reassembler) SetWindow(n int) { r.window = max(0, min(n, r.maxWindow)) }

// Stats returns the counters so far.
func (r *Reassembler) Stats() Stats { return r.stats }

// seqLT reports a < b in sequence space (RFC 9293, 3.4).
func seqLT(a, b uint32) bool { return int32(a-b) < 0 }

// Add takes segment s of connection (slot, id), sent toward the server
// (the flow's responder) when toServer, and returns the view of the
// direction s belongs to. slot must be small (it indexes a slice) and id
// nonzero.
func (r *Reassembler) Add(slot int, id uint64, toServer bool, s *Segment) View {
	r.cur, r.in = nil, nil
	c := r.conn(slot, id)
	d := 1
	if toServer {
		d = 0
	}
	r.last = &c.h[d]
	a := c.seq.analyze(d, s)
	r.curConn = c
	v := r.add(&c.h[d], &c.h[1-d], s)
	v.Analysis = a
	v.Seq, v.Ack = c.seq.relative(d, s)
	return v
}

// add takes segment s into direction h, whose peer is peer.
func (r *Reassembler) add(h, peer *half, s *Segment) View {
	if s.ACK && peer.flags&started != 0 && (peer.flags&acked == 0 || seqLT(peer.ack, s.Ack)) {
		peer.ack = s.Ack
		peer.flags |= acked
	}
	if s.RST {
		r.end(h)
		r.end(peer)
		return View{}
	}
	seq := s.Seq
	if s.SYN {
		seq++ // data on a SYN starts after it
		if h.flags&started == 0 {
			h.next = seq
			h.flags |= started
		}
	}
	if len(s.Data) > 0 {
		r.stats.Segments++
	}
	if h.flags&ended != 0 {
		if len(s.Data) > 0 {
			r.stats.AfterEnd++
		}
		return View{}
	}
	if h.flags&started == 0 {
		if len(s.Data) == 0 {
			return View{}
		}
		h.next = seq
		h.flags |= started
		r.stats.Midstream++
	}
	r.view, r.base, r.whole = r.view[:0], 0, false
	if len(s.Data) > 0 && h.flags&depthDone == 0 {
		r.view = append(r.view, h.tail[max(0, len(h.tail)-r.window):]...)
		r.base = len(r.view)
		r.data(h, seq, s.Data)
		if h.flags&depthDone != 0 {
			r.releaseData(h)
		}
	} else if len(h.ooo) > 0 { // a bare ACK or FIN after a lost segment
		r.skipGap(h)
		r.drain(h)
	}
	if s.FIN && h.flags&finSeen == 0 {
		h.fin = seq + uint32(len(s.Data))
		h.flags |= finSeen
	}
	if h.flags&finSeen != 0 && !seqLT(h.next, h.fin) {
		r.end(h)
	}
	n := len(r.view) - r.base
	if n == 0 {
		return View{}
	}
	r.keepTail(h)
	r.cur, r.in = h, r.view[len(r.view)-n:]
	return View{Data: r.view, New: n, Whole: r.whole}
}

// data takes the payload b starting at sequence number seq.
func (r *Reassembler) data(h *half, seq uint32, b []byte) {
	size, end := len(b), seq+uint32(len(b))
	if int32(seq-h.next) > MaxAhead || int32(h.next-end) > MaxAhead {
		r.stats.OutOfWindow++
		return
	}
	if h.flags&finSeen != 0 && seqLT(h.fin, end) {
		r.stats.AfterEnd++
		if !seqLT(seq, h.fin) {
			return
		}
		b = b[:h.fin-seq]
		end = h.fin
	}
	if !seqLT(h.next, end) { // wholly before the next byte: resent
		r.compareOld(h, seq, b)
		return
	}
	if seqLT(seq, h.next) { // starts with resent bytes
		k := h.next - seq
		r.compareOld(h, seq, b[:k])
		b, seq = b[k:], h.next
	}
	if seq == h.next && len(h.ooo) == 0 {
		r.whole = len(b) == size && len(b) <= r.depth-h.delivered
		r.deliver(h, b)
		return
	}
	if seq != h.next {
		r.stats.OutOfOrder++
	}
	r.queue(h, seq, b)
	r.skipGap(h)
	r.drain(h)
}

// skipGap skips the hole before h's first queued piece when the peer has
// acknowledged past it: the sensor never saw those bytes and they will
// not come. Delivery resumes at the piece, with a view of its own.
func (r *Reassembler) skipGap(h *half) {
	if len(h.ooo) == 0 || h.ooo[0].seq == h.next || h.flags&acked == 0 || !seqLT(h.next, h.ack) {
		return
	}
	r.stats.Gaps++
	r.gapFramer(&h.fr, h.ooo[0].seq-h.next)
	h.next = h.ooo[0].seq
	h.tail = h.tail[:0]
	r.view, r.base = r.view[:0], 0
}

// compareOld counts b, bytes at seq before h.next, as a retransmission or,
// where they differ from the bytes delivered (as far as the tail still
// holds them), an overlap.
func (r *Reassembler) compareOld(h *half, seq uint32, b []byte) {
	tailStart := h.next - uint32(len(h.tail))
	lo, hi := seq, seq+uint32(len(b))
	if seqLT(lo, tailStart) {
		lo = tailStart
	}
	if seqLT(lo, hi) && string(b[lo-seq:hi-seq]) != string(h.tail[lo-tailStart:hi-tailStart]) {
		r.stats.Overlaps++
		return
	}
	r.stats.Retransmits++
}

// queue stores the parts of b (at seq) that no queued piece covers yet;
// bytes that one does cover are compared with it (first wins).
func (r *Reassembler) queue(h *half, seq uint32, b []byte) {
	i := 0
	differ, same := false, false
	for len(b) > 0 {
		for i < len(h.ooo) && !seqLT(seq, h.ooo[i].seq+uint32(len(h.ooo[i].buf))) {
			i++ // pieces wholly before seq
		}
		n := len(b)
		if i < len(h.ooo) {
			q := &h.ooo[i]
			if !seqLT(seq, q.seq) { // seq inside q: compare the overlap
				k := int(seq - q.seq)
				m := min(n, len(q.buf)-k)
				if string(b[:m]) != string(q.buf[k:k+m]) {
					differ = true
				} else {
					same = true
				}
				b, seq = b[m:], seq+uint32(m)
				continue
			}
			n = min(n, int(q.seq-seq)) // up to the next piece
		}
		n = min(n, maxBuf)
		buf, ok := r.get(n)
		if !ok {
			return
		}
		buf = append(buf, b[:n]...)
		h.ooo = append(h.ooo, seg{})
		copy(h.ooo[i+1:], h.ooo[i:])
		h.ooo[i] = seg{seq: seq, buf: buf}
		i++
		b, seq = b[n:], seq+uint32(n)
	}
	switch {
	case differ:
		r.stats.Overlaps++
	case same:
		r.stats.Retransmits++
	}
}

// drain delivers the queued pieces that are now in order.
func (r *Reassembler) drain(h *half) {
	n := 0
	for n < len(h.ooo) && h.flags&depthDone == 0 {
		q := h.ooo[n]
		if seqLT(h.next, q.seq) {
			break
		}
		if k := int(h.next - q.seq); k < len(q.buf) {
			r.deliver(h, q.buf[k:])
		}
		r.put(q.buf)
		n++
	}
	if n > 0 {
		rest := copy(h.ooo, h.ooo[n:])
		clear(h.ooo[rest:])
		h.ooo = h.ooo[:rest]
	}
}

// deliver appends in-order bytes to the view, up to the depth.
func (r *Reassembler) deliver(h *half, b []byte) {
	if left := r.depth - h.delivered; len(b) >= left {
		b = b[:left]
		h.flags |= depthDone // Add frees the queue
		r.stats.DepthReached++
	}
	h.next += uint32(len(b))
	h.delivered += len(b)
	r.stats.Bytes += uint64(len(b))
	r.view = append(r.view, b...)
}

// keepTail copies the last Window bytes of the view into h's tail.
func (r *Reassembler) keepTail(h *half) {
	if h.flags&(depthDone|ended) != 0 || r.window == 0 && cap(h.tail) == 0 {
		return
	}
	if cap(h.tail) < r.window {
		buf, ok := r.get(r.window)
		if !ok {
			return
		}
		if cap(h.tail) > 0 {
			r.put(h.tail)
		}
		h.tail = buf
	}
	h.tail = append(h.tail[:0], r.view[max(0, len(r.view)-r.window):]...)
}

// end ends direction h and frees its queue; a message it was framing
// may still complete with the data delivered along with the end.
func (r *Reassembler) end(h *half) {
	if h.flags&ended == 0 {
		h.flags |= ended
		r.releaseData(h)
	}
}

// release returns all of h's buffers to the free lists.
func (r *Reassembler) release(h *half) {
	r.releaseData(h)
	r.resetFramer(&h.fr)
}

// releaseData returns h's queued pieces and tail to the free lists.
func (r *Reassembler) releaseData(h *half) {
	for i := range h.ooo {
		r.put(h.ooo[i].buf)
	}
	clear(h.ooo)
	h.ooo = h.ooo[:0]
	if cap(h.tail) > 0 {
		r.put(h.tail)
		h.tail = nil
	}
}

// conn returns the connection in slot, started afresh if id is new there.
func (r *Reassembler) conn(slot int, id uint64) *conn {
	if slot >= len(r.conns) {
		r.conns = append(r.conns, make([]conn, slot+1-len(r.conns))...)
		r.conns = r.conns[:cap(r.conns)]
	}
	c := &r.conns[slot]
	if c.id != id {
		r.reset(c)
		c.id = id
	}
	return c
}

// reset frees c's buffers and clears its state, keeping the capacity of
// its queues.
func (r *Reassembler) reset(c *conn) {
	for i := range c.h {
		h := &c.h[i]
		r.release(h)
		*h = half{ooo: h.ooo}
	}
	*c = conn{h: c.h}
}

// Forget frees the state of connection (slot, id), if held. The engine
// calls it when its flow table removes the flow.
func (r *Reassembler) Forget(slot int, id uint64) {
	if slot < len(r.conns) && r.conns[slot].id == id {
		r.reset(&r.conns[slot])
	}
}

// get returns an empty buffer with room for n bytes (n <= maxBuf), false
// when Memcap would be exceeded (counted).
func (r *Reassembler) get(n int) ([]byte, bool) {
	c := 0
	for 1<<(c+minShift) < n {
		c++
	}
	size := 1 << (c + minShift)
	if l := r.free[c]; len(l) > 0 {
		b := l[len(l)-1]
		r.free[c] = l[:len(l)-1]
		r.stats.MemUsed += size
		return b[:0], true
	}
	if r.alloc+size > r.memcap {
		// Drop the free buffers of the other sizes, so that free and
		// held buffers together stay under Memcap.
		for i := range r.free {
			for _, b := range r.free[i] {
				r.alloc -= cap(b)
			}
			clear(r.free[i])
			r.free[i] = r.free[i][:0]
		}
		if r.alloc+size > r.memcap {
			r.stats.MemcapDrops++
			return nil, false
		}
	}
	r.alloc += size
	r.stats.MemUsed += size
	return make([]byte, 0, size), true
}

// put returns a buffer from get to its free list.
func (r *Reassembler) put(b []byte) {
	c := 0
	for 1<<(c+minShift) < cap(b) {
		c++
	}
	r.stats.MemUsed -= cap(b)
	r.free[c] = append(r.free[c], b)
}
