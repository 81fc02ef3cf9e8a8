package flow

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/vigil-ids/vigil/engine/internal/lru"
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
	// OnRemove, when set, is called with the ID of every flow the table
	// removes (expired, evicted, or ended by a new SYN), so that state
	// kept per flow elsewhere can be freed.
	OnRemove func(id uint64)
}

// Slot returns the table slot of a flow ID: flows held at once by one
// Table have distinct slots, each below its MaxFlows; a later flow may
// reuse a slot (with a new ID).
func Slot(id uint64) int { return int(uint32(id) - 1) }

// Stats are a Table's counters.
type Stats struct {
	Active  int    `json:"active"`  // flows held now
	Created uint64 `json:"created"` // flows created
	Evicted uint64 `json:"evicted"` // flows removed to make room in a full table
	Expired uint64 `json:"expired"` // flows removed after their idle timeout, or ended by a new SYN on a closed TCP flow
}

// Add adds o's counters to s (the engine sums its workers' tables).
func (s *Stats) Add(o Stats) {
	s.Active += o.Active
	s.Created += o.Created
	s.Evicted += o.Evicted
	s.Expired += o.Expired
}

// Flow states.
const (
	stateNew uint8 = iota
	stateEstablished
	stateClosed
)

var stateNames = [...]string{"new", "established", "closed"}

// Timeout classes: each has its own LRU list.
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

// Update expires idle flows on one call in expireEvery, up to
// expirePerCall of each class per call between: the check costs some 250
// instructions, a tenth of a packet's flow and stream work, and most
// calls find nothing to expire. A packet of a flow idle past its timeout
// starts a new flow whether or not the old one was expired yet.
const (
	expireEvery   = 8
	expirePerCall = 2
)

// key identifies a flow independently of direction: lo is the smaller
// {address, port} endpoint.
type key struct {
	lo, hi         [16]byte
	loPort, hiPort uint16
	vlan           field.VLANKey
	proto          uint8
	sensor         uint32
}

// entry is a flow's state: 64 bytes, so that with its key and the LRU's
// links a flow takes two cache lines (lru.node).
type entry struct {
	id          uint64
	first, last int64 // packet time, Unix nanoseconds
	bytes       [2]uint64
	bits        uint64
	pkts        [2]uint32 // stop at the most 32 bits hold, as Suricata's counters do not
	gen         uint32    // kept when the slot is freed: the next flow in it counts on
	app         uint8     // the first application protocol seen (SetApp): its place in Table.apps, plus one
	clientLo    bool      // the client is key.lo
	state       uint8
	tcp         uint8
}

// Table is a bounded flow table. It is owned by one worker and is not
// safe for concurrent use. Its memory is bounded by Config.MaxFlows: flow
// entries grow with the number of flows held at once up to MaxFlows and
// are then reused, so Update does not allocate in steady state.
//
// Flows are kept in an LRU with one list per timeout class, so that the
// front of a list is always the flow of that class that expires first.
// A flow's ID holds its LRU slot.
type Table struct {
	shard    uint64
	timeouts [numClasses]int64
	flows    *lru.LRU[key, entry]
	seed     uint64 // of hashKey
	onRemove func(id uint64)
	// clocks is each sensor's packet time (Unix nanoseconds): the time of
	// its latest packet. Sensors' clocks differ (zones, drift) and may
	// step back, so a flow's idleness is measured on its own sensor's
	// clock, never on another's. The current sensor's is kept in cur and
	// curNow, written back when another sensor's packet comes.
	clocks map[uint32]int64
	cur    uint32
	curNow int64
	hasCur bool
	stats  Stats
	calls  uint32 // Update calls, for expireEvery
	// apps are the application protocols SetApp was given, in order,
	// for entry.app: a handful ("http", "tls", ...), at most maxApps.
	apps []string
}

// maxApps bounds Table.apps; a protocol past it is not recorded.
const maxApps = 255

// maxClocks bounds the sensors whose clock a Table keeps; past it the
// clocks are forgotten (each is learnt again from the sensor's next
// packet; until then its flows are not expired, only evicted).
const maxClocks = 4096

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
		shard:    uint64(cfg.Shard) << 56,
		seed:     rand.Uint64(),
		flows:    lru.New[key, entry](cfg.MaxFlows, numClasses),
		onRemove: cfg.OnRemove,
		clocks:   map[uint32]int64{},
	}
	t.timeouts[classTCP] = def(cfg.TCPIdle, DefaultTCPIdle)
	t.timeouts[classTCPClosed] = def(cfg.TCPClosed, DefaultTCPClosed)
	t.timeouts[classUDP] = def(cfg.UDPIdle, DefaultUDPIdle)
	t.timeouts[classOther] = def(cfg.OtherIdle, DefaultOtherIdle)
	return t
}

// Len returns the number of flows held.
func (t *Table) Len() int { return t.flows.Len() }

// Stats returns the table's counters.
func (t *Table) Stats() Stats {
	t.stats.Active = t.flows.Len()
	return t.stats
}

// Update accounts p to its flow, creating the flow if needed, and fills
// p.Flow. It returns the flow's ID: nonzero, the same for every packet of
// the flow while the flow is held, and never the ID of the flow that
// previously used the same slot. A packet without IP addresses belongs to
// no flow: Update clears p.Flow and returns 0.
//
// The key is (sensor, VLAN ids (field.VLANKey), IP protocol, the {address, port}
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
// Time is p.Frame.Time, on the sensor's clock (a zero time counts as the
// sensor's latest time). A packet of a flow idle past its timeout starts
// a new flow (a new ID). Every few calls Update also expires a few flows
// idle past their timeout, each measured on its own sensor's clock, so
// sensors whose clocks differ, or a sensor whose clock steps back, do not
// expire each other's flows; call Expire to expire all of them at once.
func (t *Table) Update(p *field.Packet, sensor uint32) uint64 {
	p.Flow = field.Flow{}
	if !p.Meta.Src.IsValid() || !p.Meta.Dst.IsValid() {
		return 0
	}
	t.setSensor(sensor)
	if !p.Frame.Time.IsZero() {
		t.curNow = p.Frame.Time.UnixNano()
	}
	ts := t.curNow
	if t.calls++; t.calls%expireEvery == 0 {
		t.expire(expirePerCall*expireEvery, nil)
	}

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
	k.vlan = p.VLANKey()
	k.proto = uint8(p.Meta.IPProto)
	k.sensor = sensor
	h := t.hashKey(&k)

	isTCP := p.Meta.IPProto == 6 && p.TCP.Present
	fl := p.TCP.Flags
	idx, ok := t.flows.Lookup(&k, h)
	if ok {
		e := t.flows.Value(idx)
		if ts-e.last > t.timeouts[classOf(k.proto, e.state)] || isTCP && fl.SYN && !fl.Ack && e.state == stateClosed {
			t.remove(idx)
			t.stats.Expired++
			ok = false
		}
	}
	if !ok {
		idx = t.create(k, h, ts)
		e := t.flows.Value(idx)
		e.clientLo = fromLo
		if isTCP && fl.SYN && fl.Ack {
			e.clientLo = !fromLo
		}
	}
	e := t.flows.Value(idx)
	toServer := fromLo == e.clientLo
	d := 1
	if toServer {
		d = 0
	}
	if e.pkts[d] < math.MaxUint32 {
		e.pkts[d]++
	}
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
	t.flows.MoveToBack(idx, classOf(k.proto, e.state))

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

func classOf(proto, state uint8) int {
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
	return t.expire(-1, &ns)
}

// setSensor makes sensor's clock the current one.
func (t *Table) setSensor(sensor uint32) {
	if t.hasCur && t.cur == sensor {
		return
	}
	t.flush()
	if len(t.clocks) >= maxClocks {
		clear(t.clocks)
	}
	t.cur, t.curNow, t.hasCur = sensor, t.clocks[sensor], true
}

// flush writes the current sensor's clock back to clocks.
func (t *Table) flush() {
	if t.hasCur {
		t.clocks[t.cur] = t.curNow
	}
}

// clock returns sensor's packet time, and false when it is not known.
func (t *Table) clock(sensor uint32) (int64, bool) {
	if t.hasCur && sensor == t.cur {
		return t.curNow, true
	}
	ns, ok := t.clocks[sensor]
	return ns, ok
}

// expire removes up to limit idle flows per class (all if limit < 0), a
// flow's idleness measured at packet time *at, or, when at is nil, on its
// sensor's clock.
func (t *Table) expire(limit int, at *int64) int {
	n := 0
	for c := range numClasses {
		for i := 0; limit < 0 || i < limit; i++ {
			h := t.flows.Front(c)
			if h == lru.None {
				break
			}
			now, ok := t.clock(t.flows.Key(h).sensor)
			if at != nil {
				now, ok = *at, true
			}
			if !ok || now-t.flows.Value(h).last <= t.timeouts[c] {
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

// SetApp records app ("http", "tls", ...) as the application protocol of
// flow id unless the flow has one already: as Suricata's app_proto, a
// flow's protocol is the first one detected on it. An empty app or a flow
// no longer held changes nothing.
func (t *Table) SetApp(id uint64, app string) {
	if e := t.byID(id); e != nil && e.app == 0 && app != "" {
		e.app = t.appNumber(app)
	}
}

// appNumber returns app's place in t.apps plus one, adding it if new; 0
// when t.apps is full.
func (t *Table) appNumber(app string) uint8 {
	if i := slices.Index(t.apps, app); i >= 0 {
		return uint8(i + 1)
	}
	if len(t.apps) == maxApps {
		return 0
	}
	t.apps = append(t.apps, app)
	return uint8(len(t.apps))
}

// App returns the application protocol SetApp recorded for flow id, ""
// when none was or the flow is no longer held.
func (t *Table) App(id uint64) string {
	if e := t.byID(id); e != nil && e.app > 0 {
		return t.apps[e.app-1]
	}
	return ""
}

// byID returns the flow of id, nil when it is no longer held.
func (t *Table) byID(id uint64) *entry {
	s := int32(Slot(id))
	if !t.flows.Held(s) {
		return nil
	}
	if e := t.flows.Value(s); e.id == id {
		return e
	}
	return nil
}

func (t *Table) hashKey(k *key) uint64 {
	h := step(t.seed, binary.LittleEndian.Uint64(k.lo[:8]))
	h = step(h, binary.LittleEndian.Uint64(k.lo[8:]))
	h = step(h, binary.LittleEndian.Uint64(k.hi[:8]))
	h = step(h, binary.LittleEndian.Uint64(k.hi[8:]))
	h = step(h, uint64(k.loPort)|uint64(k.hiPort)<<16|uint64(k.proto)<<32)
	h = step(h, uint64(k.vlan[0])|uint64(k.vlan[1])<<16|uint64(k.vlan[2])<<32)
	h = step(h, uint64(k.sensor))
	return mix(h)
}

// create makes a new flow, evicting one first if the table is full. Its
// ID counts on from the previous ID of the slot: a flow never gets the ID
// of the flow that used the slot before it.
func (t *Table) create(k key, h uint64, ts int64) int32 {
	if t.flows.Full() {
		t.evict()
	}
	idx := t.flows.Insert(&k, h, classOf(k.proto, stateNew))
	e := t.flows.Value(idx)
	gen := e.gen + 1
	if gen > 0xffffff {
		gen = 1
	}
	*e = entry{
		gen: gen, first: ts, last: ts,
		id: t.shard | uint64(gen)<<32 | uint64(idx+1),
	}
	t.stats.Created++
	return idx
}

// evict removes the flow closest to its idle timeout.
func (t *Table) evict() {
	victim := lru.None
	var best int64
	for c := range numClasses {
		h := t.flows.Front(c)
		if h == lru.None {
			continue
		}
		if d := t.flows.Value(h).last + t.timeouts[c]; victim == lru.None || d < best {
			victim, best = h, d
		}
	}
	if victim != lru.None {
		t.remove(victim)
		t.stats.Evicted++
	}
}

// remove removes the flow in slot idx and tells OnRemove.
func (t *Table) remove(idx int32) {
	if t.onRemove != nil {
		t.onRemove(t.flows.Value(idx).id)
	}
	t.flows.Remove(idx)
}
