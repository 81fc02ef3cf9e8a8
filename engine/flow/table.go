package flow

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"time"

	"github.com/vigil-ids/vigil/rules/field"
)

// Defaults for the zero fields of a Config.
const (
	DefaultMaxFlows  = 65536
	DefaultTCPIdle   = 600 * time.Second
	DefaultTCPClosed = 10 * time.Second
	DefaultUDPIdle   = 120 * time.Second
	DefaultOtherIdle = 60 * time.Second

	// MaxMaxFlows is the largest MaxFlows a Table accepts; larger values
	// are clamped to it.
	MaxMaxFlows = 1 << 24
)

// Config sets the limits of a Table. A zero field means its default.
type Config struct {
	// MaxFlows bounds the number of flows held at once (default 65536).
	// When the table is full, the flow closest to its idle timeout is
	// evicted to make room (counted in Stats.Evicted).
	MaxFlows int
	// TCPIdle is the idle timeout of a TCP flow that is not closed
	// (default 600 s).
	TCPIdle time.Duration
	// TCPClosed is the idle timeout of a TCP flow after FIN both ways or
	// RST (default 10 s).
	TCPClosed time.Duration
	// UDPIdle is the idle timeout of a UDP flow (default 120 s).
	UDPIdle time.Duration
	// OtherIdle is the idle timeout of any other IP flow, ICMP included
	// (default 60 s).
	OtherIdle time.Duration
	// Shard is placed in the top 8 bits of every flow ID, so that tables
	// of different workers hand out different IDs.
	Shard uint8
}

// Stats are a Table's counters.
type Stats struct {
	Active  int    // flows held now
	Created uint64 // flows created
	Evicted uint64 // flows removed to make room in a full table
	Expired uint64 // flows removed after their idle timeout, or ended by a new SYN on a closed TCP flow
}

// Flow states.
const (
	stateNew uint8 = iota
	stateEstablished
	stateClosed
)

var stateNames = [...]string{"new", "established", "closed"}

// Timeout classes: each has its own LRU list, so that the head of a list
// is always the flow of that class that expires first.
const (
	classTCP = iota
	classTCPClosed
	classUDP
	classOther
	numClasses
)

// TCP handshake and teardown observations.
const (
	tcpSyn    uint8 = 1 << iota // SYN from the client
	tcpSynAck                   // SYN-ACK from the server
	tcpDataC                    // payload from the client
	tcpDataS                    // payload from the server
	tcpFinC                     // FIN from the client
	tcpFinS                     // FIN from the server
)

// expirePerCall bounds the idle flows expired per class by one Update.
const expirePerCall = 2

// key identifies a flow independently of direction: lo is the smaller
// {address, port} endpoint.
type key struct {
	lo, hi         [16]byte
	loPort, hiPort uint16
	vlan           uint16
	proto          uint8
	sensor         uint32
}

type entry struct {
	key         key
	hash        uint64
	id          uint64
	first, last int64 // packet time, Unix nanoseconds
	pkts, bytes [2]uint64
	bits        uint64
	gen         uint32
	prev, next  int32
	clientLo    bool // the client is key.lo
	used        bool
	state       uint8
	tcp         uint8
	class       uint8
}

type list struct{ head, tail int32 }

// Table is a bounded flow table. It is owned by one worker and is not
// safe for concurrent use. Its memory is bounded by Config.MaxFlows: the
// index is allocated once by NewTable, flow entries grow with the number
// of flows held at once up to MaxFlows and are then reused, so Update
// does not allocate in steady state.
type Table struct {
	maxFlows int
	shard    uint64
	timeouts [numClasses]int64
	entries  []entry
	free     []int32
	index    []int32 // open addressing, linear probing; -1 is empty
	mask     uint64
	lists    [numClasses]list
	seed     uint64
	now      int64 // latest packet time seen, Unix nanoseconds
	stats    Stats
}

// NewTable returns an empty table with cfg's limits.
func NewTable(cfg Config) *Table {
	if cfg.MaxFlows <= 0 {
		cfg.MaxFlows = DefaultMaxFlows
	}
	if cfg.MaxFlows > MaxMaxFlows {
		cfg.MaxFlows = MaxMaxFlows
	}
	def := func(d, v time.Duration) int64 {
		if d <= 0 {
			return int64(v)
		}
		return int64(d)
	}
	t := &Table{
		maxFlows: cfg.MaxFlows,
		shard:    uint64(cfg.Shard) << 56,
		seed:     rand.Uint64(),
	}
	t.timeouts[classTCP] = def(cfg.TCPIdle, DefaultTCPIdle)
	t.timeouts[classTCPClosed] = def(cfg.TCPClosed, DefaultTCPClosed)
	t.timeouts[classUDP] = def(cfg.UDPIdle, DefaultUDPIdle)
	t.timeouts[classOther] = def(cfg.OtherIdle, DefaultOtherIdle)
	n := 16
	for n < 2*cfg.MaxFlows {
		n <<= 1
	}
	t.index = make([]int32, n)
	for i := range t.index {
		t.index[i] = -1
	}
	t.mask = uint64(n - 1)
	t.entries = make([]entry, 0, min(cfg.MaxFlows, 1024))
	for c := range t.lists {
		t.lists[c] = list{-1, -1}
	}
	return t
}

// Len returns the number of flows held.
func (t *Table) Len() int { return t.stats.Active }

// Stats returns the table's counters.
func (t *Table) Stats() Stats { return t.stats }

// Update accounts p to its flow, creating the flow if needed, and fills
// p.Flow. It returns the flow's ID: nonzero, the same for every packet of
// the flow while the flow is held, and never the ID of the flow that
// previously used the same slot. A packet without IP addresses belongs to
// no flow: Update clears p.Flow and returns 0.
//
// The key is (sensor, outer VLAN id, IP protocol, the {address, port}
// pair) in either direction; ports are p.SrcPort and p.DestPort (0 for
// protocols other than TCP and UDP, and for non-first fragments, which
// therefore make a flow of their own). The client is the side that sent
// the flow's first packet, except that a flow first seen with a SYN-ACK
// takes the SYN-ACK's receiver as its client. p.Flow counts this packet;
// bytes are p.Frame.Len, the frame length on the wire.
//
// TCP state: "new", "established" after the three-way handshake (SYN,
// SYN-ACK, ACK) or once both sides have sent payload, "closed" after a
// RST or a FIN from each side. A SYN without ACK on a closed flow ends it
// and starts a new flow (a new ID). Other protocols are "established"
// once both sides have sent a packet.
//
// Time is p.Frame.Time (a zero time counts as the latest time seen).
// Each call also expires a few flows idle past their timeout; call
// Expire to expire all of them at once.
func (t *Table) Update(p *field.Packet, sensor uint32) uint64 {
	p.Flow = field.Flow{}
	if !p.Meta.Src.IsValid() || !p.Meta.Dst.IsValid() {
		return 0
	}
	ts := t.now
	if !p.Frame.Time.IsZero() {
		ts = p.Frame.Time.UnixNano()
		if ts > t.now {
			t.now = ts
		}
	}
	t.expire(t.now, expirePerCall)

	var k key
	a, b := p.Meta.Src.As16(), p.Meta.Dst.As16()
	sp, dp := uint16(p.SrcPort), uint16(p.DestPort)
	c := bytes.Compare(a[:], b[:])
	fromLo := c < 0 || (c == 0 && sp <= dp)
	if fromLo {
		k.lo, k.hi, k.loPort, k.hiPort = a, b, sp, dp
	} else {
		k.lo, k.hi, k.loPort, k.hiPort = b, a, dp, sp
	}
	k.vlan = uint16(p.VLAN.ID)
	k.proto = uint8(p.Meta.IPProto)
	k.sensor = sensor
	h := t.hashKey(&k)

	isTCP := p.Meta.IPProto == 6 && p.TCP.Present
	fl := p.TCP.Flags
	idx := t.find(h, &k)
	if idx >= 0 && isTCP && fl.SYN && !fl.Ack && t.entries[idx].state == stateClosed {
		t.remove(idx)
		t.stats.Expired++
		idx = -1
	}
	if idx < 0 {
		idx = t.create(h, &k, ts)
		e := &t.entries[idx]
		e.clientLo = fromLo
		if isTCP && fl.SYN && fl.Ack {
			e.clientLo = !fromLo
		}
	}
	e := &t.entries[idx]
	toServer := fromLo == e.clientLo
	d := 1
	if toServer {
		d = 0
	}
	e.pkts[d]++
	if p.Frame.Len > 0 {
		e.bytes[d] += uint64(p.Frame.Len)
	}
	if ts > e.last {
		e.last = ts
	}
	if isTCP {
		t.tcpState(e, p, toServer)
	} else if e.state == stateNew && e.pkts[0] > 0 && e.pkts[1] > 0 {
		e.state = stateEstablished
	}
	t.unlink(idx)
	e.class = classOf(e.key.proto, e.state)
	t.pushBack(idx)

	age := ts - e.first
	if age < 0 {
		age = 0
	}
	p.Flow = field.Flow{
		Present:       true,
		ToServer:      toServer,
		ToClient:      !toServer,
		PktsToServer:  int(e.pkts[0]),
		PktsToClient:  int(e.pkts[1]),
		BytesToServer: int(e.bytes[0]),
		BytesToClient: int(e.bytes[1]),
		Age:           float64(age) / 1e9,
		State:         stateNames[e.state],
		Established:   e.state == stateEstablished,
		Bits:          int(e.bits),
	}
	return e.id
}

func (t *Table) tcpState(e *entry, p *field.Packet, toServer bool) {
	fl := p.TCP.Flags
	if e.state == stateClosed {
		return
	}
	if fl.Reset {
		e.state = stateClosed
		return
	}
	if fl.SYN && !fl.Ack && toServer {
		e.tcp |= tcpSyn
	}
	if fl.SYN && fl.Ack && !toServer {
		e.tcp |= tcpSynAck
	}
	if e.state == stateNew && fl.Ack && !fl.SYN && toServer && e.tcp&tcpSynAck != 0 {
		e.state = stateEstablished
	}
	if p.TCP.Len > 0 {
		if toServer {
			e.tcp |= tcpDataC
		} else {
			e.tcp |= tcpDataS
		}
		if e.state == stateNew && e.tcp&(tcpDataC|tcpDataS) == tcpDataC|tcpDataS {
			e.state = stateEstablished
		}
	}
	if fl.FIN {
		if toServer {
			e.tcp |= tcpFinC
		} else {
			e.tcp |= tcpFinS
		}
		if e.tcp&(tcpFinC|tcpFinS) == tcpFinC|tcpFinS {
			e.state = stateClosed
		}
	}
}

func classOf(proto, state uint8) uint8 {
	switch {
	case proto == 6 && state == stateClosed:
		return classTCPClosed
	case proto == 6:
		return classTCP
	case proto == 17:
		return classUDP
	}
	return classOther
}

// Expire removes every flow idle past its timeout at packet time now and
// returns how many it removed. Update already expires a few flows per
// call; Expire is for a worker that goes quiet or for the end of a run.
func (t *Table) Expire(now time.Time) int {
	ns := now.UnixNano()
	if ns > t.now {
		t.now = ns
	}
	return t.expire(ns, -1)
}

// expire removes up to limit idle flows per class (all if limit < 0).
func (t *Table) expire(now int64, limit int) int {
	n := 0
	for c := range t.lists {
		for i := 0; limit < 0 || i < limit; i++ {
			h := t.lists[c].head
			if h < 0 || now-t.entries[h].last <= t.timeouts[c] {
				break
			}
			t.remove(h)
			t.stats.Expired++
			n++
		}
	}
	return n
}

// SetBits changes the flowbits of flow id: set bits are set, then unset
// bits cleared, then toggle bits flipped. The engine calls it after a
// rule with flowbits actions matched. It reports false when the flow is
// no longer held (expired or evicted), in which case nothing changes.
// Bit numbers are assigned by the rule compiler (at most 64 names).
func (t *Table) SetBits(id uint64, set, unset, toggle uint64) bool {
	e := t.byID(id)
	if e == nil {
		return false
	}
	e.bits = (e.bits|set)&^unset ^ toggle
	return true
}

// Bits returns the flowbits of flow id, and false when the flow is no
// longer held. A new flow has no bits set.
func (t *Table) Bits(id uint64) (uint64, bool) {
	e := t.byID(id)
	if e == nil {
		return 0, false
	}
	return e.bits, true
}

func (t *Table) byID(id uint64) *entry {
	i := int(uint32(id)) - 1
	if i < 0 || i >= len(t.entries) {
		return nil
	}
	e := &t.entries[i]
	if !e.used || e.id != id {
		return nil
	}
	return e
}

func (t *Table) hashKey(k *key) uint64 {
	h := step(t.seed, binary.LittleEndian.Uint64(k.lo[:8]))
	h = step(h, binary.LittleEndian.Uint64(k.lo[8:]))
	h = step(h, binary.LittleEndian.Uint64(k.hi[:8]))
	h = step(h, binary.LittleEndian.Uint64(k.hi[8:]))
	h = step(h, uint64(k.loPort)|uint64(k.hiPort)<<16|uint64(k.vlan)<<32|uint64(k.proto)<<48)
	h = step(h, uint64(k.sensor))
	return mix(h)
}

func (t *Table) find(h uint64, k *key) int32 {
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		x := t.index[i]
		if x < 0 {
			return -1
		}
		if e := &t.entries[x]; e.hash == h && e.key == *k {
			return x
		}
	}
}

// create makes a new flow, evicting one first if the table is full.
func (t *Table) create(h uint64, k *key, ts int64) int32 {
	if t.stats.Active >= t.maxFlows {
		t.evict()
	}
	var idx int32
	if n := len(t.free); n > 0 {
		idx = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		if len(t.entries) == cap(t.entries) {
			grown := make([]entry, len(t.entries), min(2*cap(t.entries), t.maxFlows))
			copy(grown, t.entries)
			t.entries = grown
		}
		t.entries = t.entries[:len(t.entries)+1]
		idx = int32(len(t.entries) - 1)
	}
	e := &t.entries[idx]
	gen := e.gen + 1
	if gen > 0xffffff {
		gen = 1
	}
	*e = entry{
		key: *k, hash: h, gen: gen, first: ts, last: ts, used: true,
		id:   t.shard | uint64(gen)<<32 | uint64(idx+1),
		prev: -1, next: -1,
	}
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		if t.index[i] < 0 {
			t.index[i] = idx
			break
		}
	}
	t.stats.Active++
	t.stats.Created++
	return idx
}

// evict removes the flow closest to its idle timeout.
func (t *Table) evict() {
	victim := int32(-1)
	var best int64
	for c := range t.lists {
		h := t.lists[c].head
		if h < 0 {
			continue
		}
		if d := t.entries[h].last + t.timeouts[c]; victim < 0 || d < best {
			victim, best = h, d
		}
	}
	if victim >= 0 {
		t.remove(victim)
		t.stats.Evicted++
	}
}

// remove deletes flow idx from its list and the index and frees it.
func (t *Table) remove(idx int32) {
	t.unlink(idx)
	e := &t.entries[idx]
	i := e.hash & t.mask
	for t.index[i] != idx {
		i = (i + 1) & t.mask
	}
	// Backward-shift deletion keeps every probe chain unbroken.
	j := i
	for {
		j = (j + 1) & t.mask
		x := t.index[j]
		if x < 0 {
			break
		}
		home := t.entries[x].hash & t.mask
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			t.index[i] = x
			i = j
		}
	}
	t.index[i] = -1
	e.used = false
	e.bits = 0
	t.free = append(t.free, idx)
	t.stats.Active--
}

func (t *Table) unlink(idx int32) {
	e := &t.entries[idx]
	l := &t.lists[e.class]
	if e.prev >= 0 {
		t.entries[e.prev].next = e.next
	} else if l.head == idx {
		l.head = e.next
	}
	if e.next >= 0 {
		t.entries[e.next].prev = e.prev
	} else if l.tail == idx {
		l.tail = e.prev
	}
	e.prev, e.next = -1, -1
}

func (t *Table) pushBack(idx int32) {
	e := &t.entries[idx]
	l := &t.lists[e.class]
	e.prev, e.next = l.tail, -1
	if l.tail >= 0 {
		t.entries[l.tail].next = idx
	} else {
		l.head = idx
	}
	l.tail = idx
}
