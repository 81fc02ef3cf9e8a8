package engine

import (
	"sync"
	"time"
	"unsafe"

	"github.com/vigil-ids/vigil/decode"
	"github.com/vigil-ids/vigil/ncf"
	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/rules/field"
)

// worker evaluates the packets of the flows hashed to it, in order.
type worker struct {
	// mu is held while a batch is evaluated: by the worker's goroutine
	// for a queued batch, by a synchronous Source for the batch it has
	// open.
	mu    sync.Mutex
	e     *Engine
	id    int
	in    chan *batch
	dec   *decode.Decoder
	ev    rules.Evaluator
	pkt   field.Packet
	state *statefulWorker
	cands []int
}

// streamDecoder is a worker's decoder: TCP application layers come from
// the stream, not the segment, and address text is written only for the
// packets whose fields a rule reads (evaluate).
func streamDecoder() *decode.Decoder {
	d := decode.New()
	d.StreamApp = true
	d.DeferText = true
	return d
}

func newWorker(e *Engine, id int) *worker {
	return &worker{
		e:     e,
		id:    id,
		in:    make(chan *batch, e.cfg.QueueBatches),
		dec:   streamDecoder(),
		state: newStatefulWorker(e.cfg.Stateful, id, e.cfg.Workers),
	}
}

func (w *worker) run() {
	for b := range w.in {
		w.mu.Lock()
		rs := w.begin()
		for i := range b.items {
			w.process(rs, b, &b.items[i])
		}
		w.finish(b)
		w.mu.Unlock()
	}
}

// begin starts a batch: it returns the rule set in force and sets the
// stream window the set needs.
func (w *worker) begin() *ruleState {
	rs := w.e.state.Load()
	w.state.stream.r.SetWindow(rs.window)
	return rs
}

// finish ends batch b, evaluated: it brings the counters up to date,
// releases b's matches (Source.ord) and frees b.
func (w *worker) finish(b *batch) {
	w.state.publish()
	w.e.packets.Add(uint64(b.count))
	w.e.bytes.Add(b.bytes)
	counts := w.dec.TakeCounts()
	w.e.encaps.add(&counts)
	src := b.src
	src.ord.completed(w.e, b)
	putBatch(b)
	src.inflight.Done()
}

// process decodes one packet of batch b and runs the rules on it; matches
// are queued on b.
func (w *worker) process(rs *ruleState, b *batch, it *item) {
	src := b.src
	p := &w.pkt
	link := LinkOf(it.hdr.Medium)
	p.Frame.Len = it.hdr.WireLen // where an IP packet ends at the latest (decode.Decode)
	var err error
	if fr := &it.frag; fr.frag {
		err = w.dec.DecodeFragment(p, link, it.data, int(fr.proto), fr.payload)
	} else if err = decodeRecord(w.dec, p, &it.hdr, it.data); len(w.e.workers) == 1 && decode.Fragmented(p) {
		// One worker: the source left reassembly to it (Source.Push).
		fr := src.reassemble(p, it.data, it.hdr.Time)
		err = w.dec.DecodeFragment(p, link, it.data, int(fr.proto), fr.payload)
	}
	if err != nil {
		w.e.decodeErrs.Add(1)
	}
	fillFrame(p, &it.hdr, it.number, src.cfg.Name)
	if w.isOwnFrame(p) {
		w.e.ownFrames.Add(1)
		return
	}
	w.state.track(p, src.id)
	ws := w.state.stream
	if !p.TCP.Present {
		setData(p, p.UDP.Present && decode.TCPAppKind(nil, p.UDP.SrcPort, p.UDP.DstPort) == decode.AppDNS)
		w.evaluate(rs, b, p, false)
		return
	}
	// A TCP segment: its application fields are those of the messages
	// it completes in its direction's stream, one evaluation each (the
	// decoder leaves them out: StreamApp). A segment without a flow has
	// no stream: its own payload is its message.
	sport, dport := p.TCP.SrcPort, p.TCP.DstPort
	if w.state.flowID == 0 {
		pl := unsafe.Slice(unsafe.StringData(p.Payload), len(p.Payload))
		setData(p, decode.TCPAppKind(pl, sport, dport) != decode.AppNone)
		w.dec.DecodeTCPApp(p, pl, sport, dport)
		w.evaluate(rs, b, p, false)
		return
	}
	n := 0
	for {
		msg, ok := ws.r.NextMessage(sport, dport)
		if !ok {
			break
		}
		w.dec.DecodeTCPApp(p, msg, sport, dport)
		setData(p, true)
		w.evaluate(rs, b, p, n > 0)
		n++
	}
	if n == 0 {
		w.dec.DecodeTCPApp(p, nil, sport, dport)
		setData(p, ws.r.Dissected())
		w.evaluate(rs, b, p, false)
	}
}

// setData fills data.data, the payload no dissector took (Wireshark's
// data protocol), from p's payload, unless dissected says an application
// layer took it.
func setData(p *field.Packet, dissected bool) {
	if p.Payload == "" || dissected {
		p.Data = field.Data{}
		return
	}
	p.Data = field.Data{Present: true, Data: p.Payload, Len: len(p.Payload)}
}

// evaluate runs the candidate rules on p and queues their matches on b;
// appOnly limits them to the rules that read an application layer (for a
// segment's second and later application messages).
func (w *worker) evaluate(rs *ruleState, b *batch, p *field.Packet, appOnly bool) {
	if app := appProto(p); app != "" {
		w.state.flows.SetApp(w.state.flowID, app) // for the alerts on the flow's later packets
	}
	counters := rs.counter[w.id]
	if rs.text { // the prefilter may look for literals in address text
		w.dec.AddressText(p)
	}
	w.cands = rs.index[w.id].Candidates(p, w.cands[:0])
	if len(w.cands) > 0 { // the rules, and their alerts, may read it
		w.dec.AddressText(p)
	}
	for _, i := range w.cands {
		if appOnly && !rs.app[i] {
			continue
		}
		r := rs.active[i]
		c := &counters[i]
		var ok bool
		var err error
		if c.evals.Add(1)%timeSample == 0 {
			start := time.Now()
			ok, err = w.ev.Eval(r, p)
			c.nanos.Add(timeSample * uint64(time.Since(start)))
		} else {
			ok, err = w.ev.Eval(r, p)
		}
		if err != nil {
			c.errors.Add(1)
			w.e.ruleErrs.Add(1)
			w.e.logRuleError(r, p, err)
			continue
		}
		if !ok {
			continue
		}
		c.matches.Add(1)
		w.onMatch(r, i, rs, p, b, c)
	}
}

// timeSample: one evaluation in timeSample is timed, and counts for all of
// them, so per-rule cost stays on without a clock read per evaluation.
const timeSample = 16

// fillFrame sets the fields that come from the record header, not the bytes.
func fillFrame(p *field.Packet, h *ncf.Header, number int, sensor string) {
	p.Frame.Time = h.Time
	p.Frame.Number = number
	p.Frame.Len = h.WireLen
	p.Sensor = sensor
	n := &p.NCF
	n.Medium = h.Medium.String()
	n.Decrypted, n.Broken, n.Compressed = h.Decrypted, h.Broken, h.Compressed
	if h.Medium == ncf.WiFi {
		n.SignalPct = int(h.SignalPercent)
		n.SignalDBm = -int(h.SignalDBm)
		n.NoiseDBm = -int(h.NoiseDBm)
		n.Channel = int(h.Channel)
		n.Rate = h.RateMbps()
		n.Band = int(h.Band)
		n.Direction = ""
	} else {
		n.Direction = h.Direction.String()
		n.SignalPct, n.SignalDBm, n.NoiseDBm, n.Channel, n.Rate, n.Band = 0, 0, 0, 0, 0, 0
	}
}

// logRuleError logs a rule's run-time error, at most once per rule per
// minute of packet time, so a broken rule cannot flood the log.
func (e *Engine) logRuleError(r *rules.Rule, p *field.Packet, err error) {
	if !e.shared.shouldLog(r.SID, p.Frame.Time) {
		return
	}
	e.log.Warn("rule failed at run time", "sid", r.SID, "rule", r.Pos.String(), "sensor", p.Sensor, "frame", p.Frame.Number, "err", err)
}
