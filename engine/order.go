package engine

import (
	"math"
	"net/netip"
	"sync"
	"time"

	"github.com/vigil-ids/vigil/alerts"
	"github.com/vigil-ids/vigil/engine/respond"
	"github.com/vigil-ids/vigil/engine/threshold"
	"github.com/vigil-ids/vigil/rules"
)

// Matches become alerts in packet order.
//
// Workers evaluate the flows of one source in parallel, so a source's
// matches reach the stateful stage out of packet order. Thresholds and
// de-duplication tracked across flows (by_src, by_dst, ...) depend on that
// order, so each source holds its matches back until every packet before
// them has been evaluated, and then releases them in packet order. A
// capture tested offline with one worker and the same packets streamed
// live to many workers thus give the same alerts, in the same order.

// match is a rule match waiting for its turn. The worker fills it with all
// it needs from the packet, which is gone by release time.
type match struct {
	frame   int // packet number in its source
	pos     int // rule position, orders matches of one packet
	rule    *rules.Rule
	counter *ruleCounter
	alert   *alerts.Alert
	// json is the alert's AppendJSON output when the worker encoded it
	// (the sink is an alerts.EncodedPublisher, and the rule has no
	// reset, threshold or dedup), nil otherwise.
	json []byte
	at   time.Time

	// Threshold and dedup keys and the distinct value, for a rule with a
	// threshold or dedup.
	thKey    threshold.Key
	distinct uint64
	ddKey    threshold.Key

	// Response, for reset rules: frames built from the packet, or why not.
	frames   []respond.Frame
	buildErr error
	flowKey  uint64
	src, dst netip.Addr
}

// order is a source's reorder buffer.
type order struct {
	mu sync.Mutex
	// open holds the batches opened and not yet passed by the
	// watermark, in the order they were opened, which is the order of
	// their first packets: a ring of len(open) slots from head, n used.
	open    []openBatch
	head, n int
	// seq numbers the batches opened; open[head] is batch base.
	seq, base uint64
	ready     matchHeap
	latest    time.Time // time of the last packet of the batches evaluated
}

// openBatch is a batch in order.open.
type openBatch struct {
	first int       // its first packet's number
	at    time.Time // and time
	done  bool      // evaluated (or dropped)
}

// opened registers batch b, whose first packet (number b.first) was
// captured at at.
func (o *order) opened(b *batch, at time.Time) {
	o.mu.Lock()
	if o.n == len(o.open) { // full: a larger ring, oldest first
		grown := make([]openBatch, max(2*len(o.open), 16))
		for i := range o.n {
			grown[i] = o.open[(o.head+i)%len(o.open)]
		}
		o.open, o.head = grown, 0
	}
	o.open[(o.head+o.n)%len(o.open)] = openBatch{first: b.first, at: at}
	o.n++
	b.seq = o.seq
	o.seq++
	o.mu.Unlock()
}

// completed takes the matches of an evaluated (or dropped) batch and
// releases, in packet order, every match no unevaluated packet precedes.
func (o *order) completed(e *Engine, b *batch) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.open[(o.head+int(b.seq-o.base))%len(o.open)].done = true
	for o.n > 0 && o.open[o.head].done {
		o.head = (o.head + 1) % len(o.open)
		o.n--
		o.base++
	}
	for i := range b.matches {
		o.ready.push(&b.matches[i])
	}
	clear(b.matches)
	b.matches = b.matches[:0]
	if b.count > 0 && b.last.After(o.latest) {
		o.latest = b.last
	}
	// The oldest batch still open holds the first packet not evaluated.
	watermark, now := math.MaxInt, o.latest
	if o.n > 0 {
		watermark, now = o.open[o.head].first, o.open[o.head].at
	}
	var m match
	for len(o.ready) > 0 && o.ready[0].frame < watermark {
		o.ready.pop(&m)
		e.release(&m, b.src)
	}
	// Every packet before the watermark is evaluated and its matches
	// released: de-duplication windows may end up to its time.
	e.shared.tick(e, now)
}

// matchHeap orders matches by packet, then rule position: a binary
// min-heap kept by value (container/heap would box each match).
type matchHeap []match

func (h matchHeap) less(i, j int) bool {
	if h[i].frame != h[j].frame {
		return h[i].frame < h[j].frame
	}
	return h[i].pos < h[j].pos
}

// push adds m.
func (h *matchHeap) push(m *match) {
	*h = append(*h, *m)
	q := *h
	for i := len(q) - 1; i > 0; {
		parent := (i - 1) / 2
		if !q.less(i, parent) {
			break
		}
		q[i], q[parent] = q[parent], q[i]
		i = parent
	}
}

// pop removes the least match into m.
func (h *matchHeap) pop(m *match) {
	q := *h
	n := len(q) - 1
	*m = q[0]
	q[0] = q[n]
	q[n] = match{}
	q = q[:n]
	for i := 0; ; {
		least, l, r := i, 2*i+1, 2*i+2
		if l < n && q.less(l, least) {
			least = l
		}
		if r < n && q.less(r, least) {
			least = r
		}
		if least == i {
			break
		}
		q[i], q[least] = q[least], q[i]
		i = least
	}
	*h = q
}
