package engine

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-ids/vigil/decode"
	"github.com/vigil-ids/vigil/decode/defrag"
	"github.com/vigil-ids/vigil/engine/flow"
	"github.com/vigil-ids/vigil/ncf"
	"github.com/vigil-ids/vigil/rules/field"
)

// Injector sends response frames back toward the wire through the sensor
// that captured the packet. at is the time of the packet answered. Inject
// must not block and must not keep frame; it reports whether it took the
// frame: wrote it, or queued it for writing (false: queue full, connection
// gone). An Injector that queues says so (SourceConfig.InjectorQueues) and
// reports what became of the frames it took with Engine.RecordDelivery.
type Injector interface {
	Inject(frame []byte, at time.Time) bool
}

// SourceConfig names a packet source.
type SourceConfig struct {
	// Name is the sensor name carried by alerts (the `sensor` field).
	Name string
	// Filename is set for capture files; alerts carry it as pcap_filename.
	Filename string
	// Injector receives response frames; nil means responses are built,
	// counted and reported but sent nowhere (they count as sent).
	Injector Injector
	// InjectorQueues says the Injector only queues the frames it takes and
	// reports later, with Engine.RecordDelivery, which it wrote. Otherwise
	// a frame Inject takes counts as sent at once.
	InjectorQueues bool
	// Synchronous, on an engine with one worker, has Push evaluate each
	// packet before it returns, on the caller's goroutine: the frame is
	// read where the caller holds it instead of being copied into a
	// batch, and no queue stands between the reader and the rules, so
	// their state stays in cache. Matches are still released a batch
	// at a time, in packet order. While the Source has a batch open it
	// holds the worker: other Sources' batches wait, and Close (or
	// Flush) lets them go. RunFile sets it: a capture file's reader has
	// nothing else to do while a packet is evaluated. With several
	// workers it is ignored.
	Synchronous bool
	// Origin, when its Instance is set, names the packets' producer in
	// alert IDs in place of the engine's instance and the Source's own
	// number: alerts.ID(Origin.Instance, Origin.Source, packet, sid). A
	// cluster evaluator gives the ingest process's, so any evaluator
	// gives an alert the same ID (Nats-Msg-Id) and a re-evaluated packet
	// raises no second alert.
	Origin Origin
}

// Origin is the producer of a Source's packets, as alert IDs name it.
type Origin struct {
	// Instance names the producer's run; Source numbers the packet
	// source within it.
	Instance string
	Source   uint64
}

// Source feeds the records of one sensor connection or capture file into
// the engine, numbering them from 1 (frame.number, pcap_cnt). A Source is
// used by one goroutine; its counters may be read from any.
type Source struct {
	e       *Engine
	cfg     SourceConfig
	id      uint32
	dec     *decode.Decoder
	pkt     field.Packet
	peek    decode.FlowPeek
	defrag  *defrag.Defragmenter
	pending []*batch // per worker
	// sync is SourceConfig.Synchronous in force (one worker); rs is the
	// rule set of its open batch.
	sync bool
	rs   *ruleState
	// inflight counts batches queued to workers and not yet evaluated.
	inflight sync.WaitGroup
	// ord releases the source's matches in packet order.
	ord order

	// number is the number of the last record pushed or skipped;
	// checked the number of the last check for stale batches.
	number, checked int

	packets, bytes, drops, skipped, compressed atomic.Uint64
	// pushed counts the records pushed since the last send, which adds
	// them to packets and bytes: one atomic update per batch, not per
	// record, on the source's serial path.
	pushed struct{ packets, bytes uint64 }
}

// NewSource registers a packet source. Close it when its input ends.
func (e *Engine) NewSource(cfg SourceConfig) *Source {
	e.srcMu.Lock()
	e.srcSeq++
	id := uint32(e.srcSeq)
	e.srcMu.Unlock()
	s := &Source{e: e, cfg: cfg, id: id, dec: decode.New(), defrag: defrag.New(e.cfg.Defrag, &e.defrag),
		pending: make([]*batch, len(e.workers)), sync: cfg.Synchronous && len(e.workers) == 1}
	if !cfg.InjectorQueues {
		s.cfg.Injector = syncInjector{e: e, inj: cfg.Injector}
	}
	if cfg.Origin.Instance == "" {
		s.cfg.Origin = Origin{Instance: e.instance, Source: uint64(id)}
	}
	return s
}

// syncInjector counts a frame its Injector takes as sent. With no
// Injector (an offline run without a file to save to) every frame is what
// would have been sent, and counts as sent. NewSource wraps every
// Injector that does not queue in one, so a Source's Injector is never nil.
type syncInjector struct {
	e   *Engine
	inj Injector
}

func (j syncInjector) Inject(frame []byte, at time.Time) bool {
	if j.inj != nil && !j.inj.Inject(frame, at) {
		return false
	}
	j.e.RecordDelivery(1, 0)
	return true
}

// Name is the sensor name.
func (s *Source) Name() string { return s.cfg.Name }

// SourceStats are one source's counters. Packets and Bytes are brought
// up to date each time a batch goes to a worker, so they may lag by the
// records still in partly filled batches until Flush, Wait or Close
// sends them.
type SourceStats struct {
	// Packets counts the records pushed.
	Packets uint64 `json:"packets"`
	// Bytes counts the bytes of their frames (as stored: captured, or
	// compressed).
	Bytes uint64 `json:"bytes"`
	// Drops counts packets dropped under the Drop overload policy.
	Drops uint64 `json:"drops"`
	// Skipped counts the records of the input that could not be read
	// (Skip).
	Skipped uint64 `json:"skipped"`
	// Compressed counts the records pushed whose body CommView compressed:
	// they are evaluated, but not decoded (see Push).
	Compressed uint64 `json:"compressed"`
}

// Stats returns the source's counters.
func (s *Source) Stats() SourceStats {
	return SourceStats{Packets: s.packets.Load(), Bytes: s.bytes.Load(), Drops: s.drops.Load(),
		Skipped: s.skipped.Load(), Compressed: s.compressed.Load()}
}

// Skip counts a record of the input that could not be read. It takes the
// next packet number, so the records after it keep their numbers in the
// file (frame.number, pcap_cnt), as Wireshark numbers them.
func (s *Source) Skip() {
	s.number++
	s.skipped.Add(1)
	s.e.skipped.Add(1)
}

// Push numbers rec and queues a copy of it for the worker that owns its
// flow; rec may be reused as soon as Push returns. Under the Drop policy a
// full queue drops the batch and counts its packets; under Block, Push
// waits.
//
// A compressed record (ncf.Header.Compressed: CommView's compression is
// undocumented) is counted and evaluated without being decoded: rules see
// no layer, only what its header gives (frame.len is the original length,
// ncf.compressed is true).
//
// IP fragments are reassembled in packet order. With several workers
// Push does it: the fragment that completes a datagram goes, with the
// datagram, to the worker that owns the datagram's flow (ports included).
// With one worker, which sees every packet in order, Push decodes nothing
// and the worker reassembles (worker.process).
func (s *Source) Push(rec *ncf.Record) { s.PushNumbered(rec, s.number+1) }

// PushNumbered is Push for a record whose number (frame.number, pcap_cnt)
// was given by its producer: a cluster evaluator receives a share of a
// sensor's records, numbered by the ingest process. Numbers must grow
// from one call to the next; gaps are the records other Sources take.
func (s *Source) PushNumbered(rec *ncf.Record, number int) {
	s.number = number
	s.pushed.packets++
	s.pushed.bytes += uint64(len(rec.Data))
	if rec.Compressed {
		s.compressed.Add(1)
		s.e.compressed.Add(1)
	}
	if s.sync {
		s.evaluate(rec, number)
		return
	}
	w := 0
	var fr fragInfo
	if n := len(s.pending); n > 1 && !rec.Compressed {
		w = int(s.flowHash(rec, &fr) % uint64(n))
	}
	b := s.pending[w]
	if b == nil {
		b = s.open(w, number, rec.Time)
	}
	b.add(rec, number, fr)
	if b.count == BatchSize || len(b.arena) >= batchArenaFlush {
		s.send(w)
	}
	if number-s.checked >= holdCheck {
		s.checked = number
		s.sendStale(number)
	}
}

// open starts the batch for worker w, its first packet number at.
func (s *Source) open(w, number int, at time.Time) *batch {
	b := getBatch(s)
	s.pending[w] = b
	b.first = number
	s.ord.opened(b, at)
	return b
}

// evaluate is PushNumbered on a synchronous Source: the only worker
// evaluates rec at once, on this goroutine, from where rec lies. The
// Source holds the worker's lock while it has a batch open.
func (s *Source) evaluate(rec *ncf.Record, number int) {
	w := s.e.workers[0]
	b := s.pending[0]
	if b == nil {
		w.mu.Lock()
		b = s.open(0, number, rec.Time)
		s.rs = w.begin()
	}
	it := item{hdr: rec.Header, data: rec.Data, number: number}
	w.process(s.rs, b, &it)
	b.note(&rec.Header, len(rec.Data))
	if b.count == BatchSize {
		s.send(0)
	}
}

// flowHash returns flow.Hash of rec's packet, for the choice of its
// worker. Most frames need only a peek at their headers
// (decode.PeekFlow); the others are decoded, and an IP fragment is
// reassembled, its datagram (if it completes one) recorded in fr.
func (s *Source) flowHash(rec *ncf.Record, fr *fragInfo) uint64 {
	link := LinkOf(rec.Medium)
	if decode.PeekFlow(&s.peek, link, rec.Data) {
		return flow.HashPeek(&s.peek)
	}
	p := &s.pkt
	p.Frame.Len = rec.WireLen
	s.dec.DecodeHeaders(p, link, rec.Data)
	if decode.Fragmented(p) {
		if *fr = s.reassemble(p, rec.Data, rec.Time); fr.payload != nil {
			s.dec.DecodeFragmentHeaders(p, link, rec.Data, int(fr.proto), fr.payload)
		}
	}
	return flow.Hash(p)
}

// fragInfo is what the defragmenter made of a packet.
type fragInfo struct {
	// payload and proto are the datagram the fragment completes; payload
	// is nil when it completes none.
	payload []byte
	proto   uint8
	// frag marks an IP fragment: the worker decodes it with
	// decode.DecodeFragment.
	frag bool
}

// reassemble hands the fragment in frame, captured at, whose headers p
// holds, to the defragmenter. The datagram it may complete is valid until
// the next call. Only one goroutine calls it: the Source's with several
// workers, the worker's with one.
func (s *Source) reassemble(p *field.Packet, frame []byte, at time.Time) fragInfo {
	dg, ok := s.defrag.Add(frame[p.Meta.L3:], p.VLANKey(), at)
	if !ok {
		return fragInfo{frag: true}
	}
	return fragInfo{payload: dg.Payload, proto: uint8(dg.Proto), frag: true}
}

// A partly filled batch holds back the release of every later match of its
// source (matches are released in packet order), so no batch waits for
// more than maxHold later packets before it goes to its worker.
const (
	maxHold   = 1024
	holdCheck = 128
)

// sendStale sends the pending batches that waited too long by the time
// packet number was pushed.
func (s *Source) sendStale(number int) {
	for w, b := range s.pending {
		if b != nil && number-b.first >= maxHold {
			s.send(w)
		}
	}
}

// Flush hands every partly filled batch to its worker. A live reader calls
// it when no more input is buffered, so quiet links still see low latency.
func (s *Source) Flush() {
	for w := range s.pending {
		if s.pending[w] != nil {
			s.send(w)
		}
	}
}

// Wait flushes the source and waits until the workers have evaluated all
// of its packets and its matches have been released to the Sink, so
// responses to them have been handed to the Injector. The Source stays
// usable.
func (s *Source) Wait() {
	s.Flush()
	s.inflight.Wait()
}

// Close is Wait for a source whose input ended: it must not be used
// afterwards.
func (s *Source) Close() { s.Wait() }

func (s *Source) send(w int) {
	s.packets.Add(s.pushed.packets)
	s.bytes.Add(s.pushed.bytes)
	s.pushed.packets, s.pushed.bytes = 0, 0
	b := s.pending[w]
	s.pending[w] = nil
	s.inflight.Add(1)
	if s.sync { // evaluated already
		wk := s.e.workers[w]
		wk.finish(b)
		wk.mu.Unlock()
		return
	}
	q := s.e.workers[w].in
	if s.e.cfg.Overload == Drop {
		select {
		case q <- b:
		default:
			n := uint64(b.count)
			s.drops.Add(n)
			s.e.drops.Add(n)
			s.ord.completed(s.e, b)
			putBatch(b)
			s.inflight.Done()
		}
		return
	}
	q <- b
}

// decodeRecord decodes the frame of a record with header h into p. A
// compressed record is not decoded: p is reset, so it holds no layer.
func decodeRecord(dec *decode.Decoder, p *field.Packet, h *ncf.Header, frame []byte) error {
	if h.Compressed {
		p.Reset()
		return nil
	}
	return dec.Decode(p, LinkOf(h.Medium), frame)
}

// LinkOf maps an NCF medium to the decoder's link type: Wi-Fi, Token
// Ring, Linux cooked (ncf.LinuxSLL, from capture.OpenCooked), and
// Ethernet for every other.
func LinkOf(m ncf.Medium) decode.Link {
	switch m {
	case ncf.WiFi:
		return decode.WiFi
	case ncf.TokenRing:
		return decode.TokenRing
	case ncf.LinuxSLL:
		return decode.LinuxSLL
	}
	return decode.Ethernet
}

// batchArenaFlush sends a batch early once its frame bytes pass this size.
const batchArenaFlush = 256 << 10

// item is one queued record; data and frag.payload point into its
// batch's arena (a synchronous Source's, evaluated at once, point into
// the caller's record).
type item struct {
	hdr    ncf.Header
	data   []byte
	number int
	frag   fragInfo
}

// batch carries up to BatchSize records of one source to one worker, and
// back the matches found in them. A synchronous Source's batches carry
// only the matches (and the counts) of the packets it evaluated.
type batch struct {
	src     *Source
	first   int    // number of the first packet
	seq     uint64 // its number among the source's batches (order.opened)
	items   []item
	arena   []byte
	matches []match
	// count and bytes count its packets and their frame bytes; last is
	// the time of the latest.
	count int
	bytes uint64
	last  time.Time
}

var batchPool = sync.Pool{New: func() any {
	return &batch{items: make([]item, 0, BatchSize), arena: make([]byte, 0, 64<<10)}
}}

func getBatch(s *Source) *batch {
	b := batchPool.Get().(*batch)
	b.src = s
	return b
}

func putBatch(b *batch) {
	b.src = nil
	b.items = b.items[:0]
	b.arena = b.arena[:0]
	b.count, b.bytes, b.last = 0, 0, time.Time{}
	batchPool.Put(b)
}

func (b *batch) add(rec *ncf.Record, number int, fr fragInfo) {
	data := b.keep(rec.Data)
	if fr.payload != nil {
		fr.payload = b.keep(fr.payload)
	}
	b.items = append(b.items, item{hdr: rec.Header, data: data, number: number, frag: fr})
	b.note(&rec.Header, len(rec.Data))
}

// note counts a packet of the batch, with header h and n frame bytes.
func (b *batch) note(h *ncf.Header, n int) {
	b.count++
	b.bytes += uint64(n)
	b.last = h.Time
}

// keep copies p into the arena and returns the copy.
func (b *batch) keep(p []byte) []byte {
	if cap(b.arena)-len(b.arena) < len(p) {
		// Items slice the arena: growing it must not move earlier frames,
		// so a batch whose arena is full gets a fresh, larger one and keeps
		// the old alive through the items that point into it.
		b.arena = make([]byte, 0, max(2*cap(b.arena), len(p)))
	}
	start := len(b.arena)
	b.arena = append(b.arena, p...)
	return b.arena[start:len(b.arena):len(b.arena)]
}
