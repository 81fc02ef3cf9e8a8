package flow

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/vigil-ids/vigil/engine/internal/lru"
	"github.com/vigil-ids/vigil/rules/field"
)

func TestHashSymmetric(t *testing.T) {
	a := pkt(6, "10.0.0.1", 1234, "10.0.0.2", 80, 0)
	b := pkt(6, "10.0.0.2", 80, "10.0.0.1", 1234, 0)
	c := pkt(6, "10.0.0.1", 1235, "10.0.0.2", 80, 0)
	v6a := pkt(17, "2001:db8::1", 53, "2001:db8::2", 5353, 0)
	v6b := pkt(17, "2001:db8::2", 5353, "2001:db8::1", 53, 0)
	if Hash(a) != Hash(b) {
		t.Error("directions hash differently")
	}
	if Hash(v6a) != Hash(v6b) {
		t.Error("IPv6 directions hash differently")
	}
	if Hash(a) == Hash(c) {
		t.Error("different ports hash alike")
	}
	d := pkt(6, "10.0.0.1", 1234, "10.0.0.2", 80, 0)
	d.VLAN.IDs.Add(7)
	if Hash(a) == Hash(d) {
		t.Error("VLAN ignored")
	}
	// QinQ: the same 802.1Q tag under two S-tags is two flows
	e, f := pkt(6, "10.0.0.1", 1234, "10.0.0.2", 80, 0), pkt(6, "10.0.0.1", 1234, "10.0.0.2", 80, 0)
	e.IEEE8021AD.IDs.Add(100)
	e.VLAN.IDs.Add(7)
	f.IEEE8021AD.IDs.Add(200)
	f.VLAN.IDs.Add(7)
	if Hash(e) == Hash(f) || Hash(d) == Hash(e) {
		t.Error("S-tag ignored")
	}
	var none field.Packet
	none.Reset()
	if Hash(&none) != 0 {
		t.Error("packet without IP or Ethernet should hash to 0")
	}
	eth := func(dst, src byte) *field.Packet {
		var p field.Packet
		p.Reset()
		p.Eth.Present = true
		p.Meta.Raw = []byte{dst, dst, dst, dst, dst, dst, src, src, src, src, src, src, 8, 6}
		return &p
	}
	if Hash(eth(1, 2)) != Hash(eth(2, 1)) || Hash(eth(1, 2)) == Hash(eth(1, 3)) {
		t.Error("MAC pair hash not symmetric or not discriminating")
	}
	if n := testing.AllocsPerRun(100, func() { Hash(a) }); n != 0 {
		t.Errorf("Hash allocates %v times", n)
	}
}

// tcpStep is one packet of a hand-written flow: who sends it (c client,
// s server), its TCP flags and payload, and what the table must report.
type tcpStep struct {
	from      byte
	flags     string // S, A, F, R, in any combination
	payload   int
	state     string
	toServer  bool
	pts, ptc  int
	wantNewID bool
}

func tcpPkt(from byte, flags string, payload int, at time.Duration) *field.Packet {
	var p *field.Packet
	if from == 'c' {
		p = pkt(6, "192.0.2.10", 40000, "198.51.100.1", 22, at)
	} else {
		p = pkt(6, "198.51.100.1", 22, "192.0.2.10", 40000, at)
	}
	for _, f := range flags {
		switch f {
		case 'S':
			p.TCP.Flags.SYN = true
		case 'A':
			p.TCP.Flags.Ack = true
		case 'F':
			p.TCP.Flags.FIN = true
		case 'R':
			p.TCP.Flags.Reset = true
		}
	}
	p.TCP.Len = payload
	return p
}

func TestTCPStates(t *testing.T) {
	cases := []struct {
		name  string
		steps []tcpStep
	}{
		{"handshake then FIN both ways", []tcpStep{
			{from: 'c', flags: "S", state: "new", toServer: true, pts: 1},
			{from: 's', flags: "SA", state: "new", pts: 1, ptc: 1},
			{from: 'c', flags: "A", state: "established", toServer: true, pts: 2, ptc: 1},
			{from: 'c', flags: "A", payload: 10, state: "established", toServer: true, pts: 3, ptc: 1},
			{from: 's', flags: "FA", state: "established", pts: 3, ptc: 2},
			{from: 'c', flags: "FA", state: "closed", toServer: true, pts: 4, ptc: 2},
			{from: 's', flags: "A", state: "closed", pts: 4, ptc: 3},
		}},
		{"RST closes", []tcpStep{
			{from: 'c', flags: "S", state: "new", toServer: true, pts: 1},
			{from: 's', flags: "RA", state: "closed", pts: 1, ptc: 1},
		}},
		{"first seen SYN-ACK: receiver is the client", []tcpStep{
			{from: 's', flags: "SA", state: "new", pts: 0, ptc: 1},
			{from: 'c', flags: "A", state: "established", toServer: true, pts: 1, ptc: 1},
		}},
		{"midstream: data both ways", []tcpStep{
			{from: 'c', flags: "A", payload: 5, state: "new", toServer: true, pts: 1},
			{from: 's', flags: "A", state: "new", pts: 1, ptc: 1},
			{from: 's', flags: "A", payload: 7, state: "established", pts: 1, ptc: 2},
		}},
		{"SYN on a closed flow starts a new flow", []tcpStep{
			{from: 'c', flags: "S", state: "new", toServer: true, pts: 1},
			{from: 's', flags: "R", state: "closed", pts: 1, ptc: 1},
			{from: 'c', flags: "S", state: "new", toServer: true, pts: 1, wantNewID: true},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tab := NewTable(Config{})
			var id uint64
			for i, s := range tc.steps {
				p := tcpPkt(s.from, s.flags, s.payload, time.Duration(i)*time.Millisecond)
				got := tab.Update(p, 0)
				if got == 0 {
					t.Fatalf("step %d: id 0", i)
				}
				if i > 0 && (got != id) != s.wantNewID {
					t.Errorf("step %d: id %x after %x, want new id %v", i, got, id, s.wantNewID)
				}
				id = got
				f := p.Flow
				if !f.Present || f.State != s.state || f.ToServer != s.toServer || f.ToClient == s.toServer ||
					f.PktsToServer != s.pts || f.PktsToClient != s.ptc || f.Established != (s.state == "established") {
					t.Errorf("step %d: got %+v, want state %s toServer %v pkts %d/%d", i, f, s.state, s.toServer, s.pts, s.ptc)
				}
				if f.BytesToServer != 60*s.pts || f.BytesToClient != 60*s.ptc {
					t.Errorf("step %d: bytes %d/%d", i, f.BytesToServer, f.BytesToClient)
				}
			}
		})
	}
}

func TestUDPAndKeyParts(t *testing.T) {
	tab := NewTable(Config{})
	q := pkt(17, "10.0.0.1", 5000, "10.0.0.53", 53, 0)
	id := tab.Update(q, 1)
	if q.Flow.State != "new" || !q.Flow.ToServer {
		t.Errorf("query: %+v", q.Flow)
	}
	r := pkt(17, "10.0.0.53", 53, "10.0.0.1", 5000, 1500*time.Millisecond)
	if got := tab.Update(r, 1); got != id {
		t.Fatalf("reply in another flow: %x != %x", got, id)
	}
	if r.Flow.State != "established" || !r.Flow.ToClient || r.Flow.Age != 1.5 {
		t.Errorf("reply: %+v", r.Flow)
	}
	// Another sensor, VLAN or protocol is another flow.
	other := pkt(17, "10.0.0.1", 5000, "10.0.0.53", 53, 0)
	if tab.Update(other, 2) == id {
		t.Error("sensor ignored")
	}
	other = pkt(17, "10.0.0.1", 5000, "10.0.0.53", 53, 0)
	other.VLAN.ID = 3
	other.VLAN.IDs.Add(3)
	vlan3 := tab.Update(other, 1)
	if vlan3 == id {
		t.Error("vlan ignored")
	}
	// QinQ: the same C-tag under another S-tag is another flow.
	other.IEEE8021AD.IDs.Add(100)
	if tab.Update(other, 1) == vlan3 {
		t.Error("802.1ad S-tag ignored")
	}
	other = pkt(6, "10.0.0.1", 5000, "10.0.0.53", 53, 0)
	if tab.Update(other, 1) == id {
		t.Error("protocol ignored")
	}
	if tab.Len() != 5 {
		t.Errorf("Len %d, want 5", tab.Len())
	}
	var noIP field.Packet
	noIP.Reset()
	noIP.Flow.Present = true
	if tab.Update(&noIP, 1) != 0 || noIP.Flow.Present {
		t.Error("a packet without IP got a flow")
	}
}

func TestExpireByPacketTime(t *testing.T) {
	tab := NewTable(Config{UDPIdle: 10 * time.Second, TCPIdle: 100 * time.Second, TCPClosed: 1 * time.Second})
	u := tab.Update(pkt(17, "10.0.0.1", 1, "10.0.0.2", 2, 0), 0)
	tc := tab.Update(tcpPkt('c', "S", 0, 0), 0)
	closed := tab.Update(pkt(6, "10.0.0.7", 1, "10.0.0.8", 2, 0), 0)
	rst := pkt(6, "10.0.0.8", 2, "10.0.0.7", 1, 0)
	rst.TCP.Flags.Reset = true
	tab.Update(rst, 0)
	if tab.Len() != 3 {
		t.Fatalf("Len %d", tab.Len())
	}
	// 5 s later nothing but the closed TCP flow is idle past its timeout.
	if n := tab.Expire(t0.Add(5 * time.Second)); n != 1 {
		t.Errorf("expired %d at 5s, want 1 (closed TCP)", n)
	}
	if _, ok := tab.Bits(closed); ok {
		t.Error("closed flow still held")
	}
	// Packets 11 s in expire the UDP flow on their way (every few calls).
	for range expireEvery {
		tab.Update(pkt(1, "10.9.9.9", 0, "10.9.9.8", 0, 11*time.Second), 0)
	}
	if _, ok := tab.Bits(u); ok {
		t.Error("UDP flow not expired by a later packet")
	}
	if _, ok := tab.Bits(tc); !ok {
		t.Error("TCP flow expired early")
	}
	// The wall clock plays no part: a packet an hour later does it.
	tab.Expire(t0.Add(time.Hour))
	if tab.Len() != 0 {
		t.Errorf("Len %d after an hour of packet time", tab.Len())
	}
	if s := tab.Stats(); s.Expired != 4 || s.Created != 4 || s.Evicted != 0 || s.Active != 0 {
		t.Errorf("stats %+v", s)
	}
}

// TestIdleFlowStartsAnew: a packet of a flow idle past its timeout
// starts a new flow at once, before any expiry pass has removed the old.
func TestIdleFlowStartsAnew(t *testing.T) {
	tab := NewTable(Config{UDPIdle: 10 * time.Second})
	first := tab.Update(pkt(17, "10.0.0.1", 1, "10.0.0.2", 2, 0), 0)
	if id := tab.Update(pkt(17, "10.0.0.2", 2, "10.0.0.1", 1, 10*time.Second), 0); id != first {
		t.Fatalf("a reply at the timeout got flow %x, want %x", id, first)
	}
	p := pkt(17, "10.0.0.1", 1, "10.0.0.2", 2, 21*time.Second)
	if id := tab.Update(p, 0); id == first || id == 0 {
		t.Fatalf("a packet 11 s after the last got flow %x, want a new one", id)
	}
	if p.Flow.PktsToServer != 1 || p.Flow.PktsToClient != 0 || p.Flow.State != "new" {
		t.Errorf("new flow %+v", p.Flow)
	}
	if s := tab.Stats(); s.Created != 2 || s.Expired != 1 || s.Active != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestEvictWhenFullAndIDReuse(t *testing.T) {
	tab := NewTable(Config{MaxFlows: 4})
	ids := map[uint64]bool{}
	var first uint64
	for i := range 10 {
		p := pkt(17, "10.0.0.1", 1000+i, "10.0.0.2", 53, time.Duration(i)*time.Second)
		id := tab.Update(p, 0)
		if ids[id] {
			t.Fatalf("id %x handed out twice", id)
		}
		ids[id] = true
		if i == 0 {
			first = id
		}
		if tab.Len() > 4 {
			t.Fatalf("Len %d > MaxFlows", tab.Len())
		}
	}
	if s := tab.Stats(); s.Evicted != 6 || s.Active != 4 {
		t.Errorf("stats %+v", s)
	}
	// The oldest flows went first: the first flow is gone, the last stays.
	if _, ok := tab.Bits(first); ok {
		t.Error("oldest flow survived")
	}
	p := pkt(17, "10.0.0.1", 1000, "10.0.0.2", 53, 20*time.Second)
	if id := tab.Update(p, 0); id == first {
		t.Error("a recreated flow got its old id")
	}
}

// TestOnRemove checks that every flow removed (evicted, expired) is
// reported once, with its ID, and that slots stay below MaxFlows.
func TestOnRemove(t *testing.T) {
	removed := map[uint64]int{}
	tab := NewTable(Config{MaxFlows: 4, UDPIdle: 5 * time.Second, OnRemove: func(id uint64) { removed[id]++ }})
	var ids []uint64
	for i := range 10 {
		id := tab.Update(pkt(17, "10.0.0.1", 1000+i, "10.0.0.2", 53, time.Duration(i)*time.Second), 0)
		if s := Slot(id); s < 0 || s >= 4 {
			t.Fatalf("slot %d", s)
		}
		ids = append(ids, id)
	}
	tab.Expire(t0.Add(time.Minute))
	if len(removed) != 10 {
		t.Fatalf("%d flows reported removed, want 10", len(removed))
	}
	for _, id := range ids {
		if removed[id] != 1 {
			t.Errorf("flow %x reported %d times", id, removed[id])
		}
	}
}

func TestFlowbits(t *testing.T) {
	tab := NewTable(Config{})
	p := pkt(6, "10.0.0.1", 1, "10.0.0.2", 2, 0)
	id := tab.Update(p, 0)
	if b, ok := tab.Bits(id); !ok || b != 0 {
		t.Fatalf("new flow bits %b %v", b, ok)
	}
	steps := []struct{ set, unset, toggle, want uint64 }{
		{0b0101, 0, 0, 0b0101},
		{0b1000, 0b0001, 0, 0b1100},
		{0, 0, 0b0110, 0b1010},
		{0b0001, 0b0001, 0, 0b1010}, // unset wins over set
	}
	for i, s := range steps {
		if !tab.SetBits(id, s.set, s.unset, s.toggle) {
			t.Fatal("SetBits on a held flow failed")
		}
		if b, _ := tab.Bits(id); b != s.want {
			t.Errorf("step %d: bits %04b, want %04b", i, b, s.want)
		}
	}
	// The reverse direction shares the bits.
	r := pkt(6, "10.0.0.2", 2, "10.0.0.1", 1, time.Second)
	if tab.Update(r, 0) != id {
		t.Fatal("reverse packet in another flow")
	}
	if tab.SetBits(id+1<<32, 1, 0, 0) || tab.SetBits(0, 1, 0, 0) || tab.SetBits(1<<40, 1, 0, 0) {
		t.Error("SetBits accepted a stale or bogus id")
	}
	tab.Expire(t0.Add(24 * time.Hour))
	if tab.SetBits(id, 1, 0, 0) {
		t.Error("SetBits on an expired flow")
	}
	id2 := tab.Update(pkt(6, "10.0.0.1", 1, "10.0.0.2", 2, 25*time.Hour), 0)
	if b, _ := tab.Bits(id2); b != 0 {
		t.Errorf("a new flow inherited bits %b", b)
	}
}

// TestApp: a flow's application protocol is the first one recorded, for
// both directions; a stale or bogus id records and returns nothing, and a
// new flow in the slot starts without one.
func TestApp(t *testing.T) {
	tab := NewTable(Config{})
	id := tab.Update(pkt(6, "10.0.0.1", 1, "10.0.0.2", 80, 0), 0)
	if got := tab.App(id); got != "" {
		t.Fatalf("a new flow has app %q", got)
	}
	tab.SetApp(id, "")
	tab.SetApp(id, "http")
	tab.SetApp(id, "tls")
	if got := tab.App(tab.Update(pkt(6, "10.0.0.2", 80, "10.0.0.1", 1, time.Second), 0)); got != "http" {
		t.Errorf("app %q, want the first one, http", got)
	}
	tab.SetApp(0, "dns")
	tab.SetApp(id+1<<32, "dns")
	if tab.App(0) != "" || tab.App(id+1<<32) != "" {
		t.Error("a stale or bogus id has an app")
	}
	tab.Expire(t0.Add(24 * time.Hour))
	if got := tab.App(id); got != "" {
		t.Errorf("an expired flow has app %q", got)
	}
	id2 := tab.Update(pkt(6, "10.0.0.1", 1, "10.0.0.2", 80, 25*time.Hour), 0)
	if got := tab.App(id2); got != "" {
		t.Errorf("a new flow inherited app %q", got)
	}
}

func TestUpdateDoesNotAllocate(t *testing.T) {
	tab := NewTable(Config{MaxFlows: 1024})
	ps := make([]*field.Packet, 4096)
	for i := range ps {
		ps[i] = pkt(17, "10.0.0.1", i%65536, "10.0.0.2", 53, time.Duration(i)*time.Millisecond)
	}
	for _, p := range ps { // warm up: the table fills and starts evicting
		tab.Update(p, 0)
	}
	i := 0
	n := testing.AllocsPerRun(2000, func() {
		p := ps[i%len(ps)]
		p.Frame.Time = p.Frame.Time.Add(5 * time.Second)
		tab.Update(p, 0)
		i++
	})
	if n != 0 {
		t.Errorf("Update allocates %v times per packet", n)
	}
}

// TestIndexConsistency churns a small table and checks after every
// operation that each held flow is found by its key.
func TestIndexConsistency(t *testing.T) {
	tab := NewTable(Config{MaxFlows: 37, UDPIdle: 50 * time.Millisecond})
	for i := range 20000 {
		port := (i * 7919) % 211
		tab.Update(pkt(17, "10.0.0.1", port, "10.0.0.2", 53, time.Duration(i)*time.Millisecond), 0)
		if i%97 == 0 {
			checkHeld(t, tab, 37)
		}
	}
}

// checkHeld walks every class list of tab: each flow on it must be found
// by its key, and the lists must hold Len flows, at most maxFlows.
func checkHeld(t *testing.T, tab *Table, maxFlows int) {
	t.Helper()
	held := 0
	for c := range numClasses {
		for s := tab.flows.Front(c); s != lru.None; s = tab.flows.Next(s) {
			held++
			k := tab.flows.Key(s)
			if got, ok := tab.flows.Lookup(&k, tab.hashKey(&k)); !ok || got != s {
				t.Fatalf("flow in slot %d not found by its key", s)
			}
		}
	}
	if held != tab.Len() || held > maxFlows {
		t.Fatalf("held %d, Len %d, at most %d", held, tab.Len(), maxFlows)
	}
}

// BenchmarkUpdate measures one packet of an established flow mix: 1,024
// flows, whose entries stay in cache, and a full table of 65,536 taken in
// random order, as on a busy link, where each packet's entry is cold.
func BenchmarkUpdate(b *testing.B) {
	for _, n := range []int{1024, DefaultMaxFlows} {
		b.Run(fmt.Sprintf("flows=%d", n), func(b *testing.B) { benchUpdate(b, n) })
	}
}

func benchUpdate(b *testing.B, n int) {
	tab := NewTable(Config{})
	type ends struct {
		src  netip.Addr
		port int
	}
	flows := make([]ends, n)
	p := pkt(6, "10.1.0.2", 443, "10.1.0.2", 443, 0) // one packet, as a worker has
	for i := range flows {
		flows[i] = ends{netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 10000 + i%50000}
		p.Meta.Src, p.SrcPort = flows[i].src, flows[i].port
		tab.Update(p, 0)
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(n, func(i, j int) { flows[i], flows[j] = flows[j], flows[i] })
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := &flows[i%n]
		p.Meta.Src, p.SrcPort = f.src, f.port
		tab.Update(p, 0)
	}
}

// BenchmarkMillionFlows opens 1,000,000 distinct flows through a table of
// 65536, one packet each, and reports the heap in use and the largest
// table size. With 1 ms between flows the 30 s idle timeout keeps about
// 30000 flows; with 10 µs the table fills and evicts.
func BenchmarkMillionFlows(b *testing.B) {
	for _, gap := range []time.Duration{time.Millisecond, 10 * time.Microsecond} {
		b.Run("gap="+gap.String(), func(b *testing.B) { millionFlows(b, gap) })
	}
}

func millionFlows(b *testing.B, gap time.Duration) {
	const n = 1_000_000
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		tab := NewTable(Config{MaxFlows: 65536, UDPIdle: 30 * time.Second})
		p := pkt(17, "10.0.0.0", 0, "192.0.2.1", 53, 0)
		maxLen := 0
		for i := range n {
			p.Meta.Src = p.Meta.Src.Next()
			p.SrcPort = i & 0xffff
			p.Frame.Time = t0.Add(time.Duration(i) * gap)
			tab.Update(p, 0)
			maxLen = max(maxLen, tab.Len())
		}
		runtime.ReadMemStats(&after)
		if maxLen > 65536 {
			b.Fatalf("Len reached %d", maxLen)
		}
		s := tab.Stats()
		if s.Created != n || s.Expired+s.Evicted+uint64(s.Active) != n {
			b.Fatalf("stats %+v", s)
		}
		b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/(1<<20), "heapMiB")
		b.ReportMetric(float64(maxLen), "maxflows")
		b.ReportMetric(float64(s.Expired), "expired")
		b.ReportMetric(float64(s.Evicted), "evicted")
		runtime.KeepAlive(tab)
	}
}

// TestMillionFlowsBounded opens a million flows faster than they expire:
// the table must stay at MaxFlows, evicting. (The LRU's own tests check
// that its slab never grows past its bound.)
func TestMillionFlowsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("a million packets")
	}
	const n, maxFlows = 1_000_000, 65536
	tab := NewTable(Config{MaxFlows: maxFlows, UDPIdle: 30 * time.Second})
	p := pkt(17, "10.0.0.0", 0, "192.0.2.1", 53, 0)
	for i := range n {
		p.Meta.Src = p.Meta.Src.Next()
		p.SrcPort = i & 0xffff
		p.Frame.Time = t0.Add(time.Duration(i) * 10 * time.Microsecond)
		tab.Update(p, 0)
		if tab.Len() > maxFlows {
			t.Fatalf("packet %d: Len %d", i, tab.Len())
		}
	}
	s := tab.Stats()
	if s.Evicted == 0 || s.Created != n || s.Evicted+s.Expired+uint64(s.Active) != n {
		t.Errorf("stats %+v", s)
	}
	// Packet time moves on: every flow expires.
	tab.Expire(p.Frame.Time.Add(31 * time.Second))
	if tab.Len() != 0 {
		t.Errorf("Len %d after the idle timeout", tab.Len())
	}
}

// TestSensorClocks: a flow's idleness is measured on its own sensor's
// clock. A sensor an hour ahead (or a capture of later traffic run first)
// must not make another sensor's every packet a new flow, nor a sensor
// whose clock steps back lose its flows; a sensor's own idle flows still
// expire.
func TestSensorClocks(t *testing.T) {
	tab := NewTable(Config{})
	ahead := pkt(6, "10.0.0.9", 1000, "10.0.0.8", 80, time.Hour)
	aheadID := tab.Update(ahead, 1)
	var ids []uint64
	for i := range 3 {
		ids = append(ids, tab.Update(pkt(6, "10.0.0.1", 1234, "10.0.0.2", 80, time.Duration(i)*time.Second), 2))
		if got := tab.Update(pkt(6, "10.0.0.9", 1000, "10.0.0.8", 80, time.Hour+time.Duration(i)*time.Second), 1); got != aheadID {
			t.Fatalf("sensor 1's flow ended by sensor 2's clock: %x, then %x", aheadID, got)
		}
	}
	if ids[0] != ids[1] || ids[1] != ids[2] {
		t.Errorf("sensor 2's packets made flows %x: its flow was expired on sensor 1's clock", ids)
	}
	// sensor 1 steps back an hour and carries on
	if got := tab.Update(pkt(6, "10.0.0.9", 1000, "10.0.0.8", 80, 5*time.Second), 1); got != aheadID {
		t.Errorf("a clock step back ended the flow: %x, then %x", aheadID, got)
	}
	// sensor 2 goes on past the TCP idle timeout: its flow expires
	tab.Update(pkt(17, "10.0.0.3", 53, "10.0.0.4", 53, 2*DefaultTCPIdle), 2)
	if got := tab.Update(pkt(6, "10.0.0.1", 1234, "10.0.0.2", 80, 2*DefaultTCPIdle), 2); got == ids[0] {
		t.Error("an idle flow did not expire on its own sensor's clock")
	}
}

// TestEntrySize: a flow's key and entry fill 112 bytes, so that with the
// LRU's 16 bytes of hash and links a flow's node takes two cache lines.
func TestEntrySize(t *testing.T) {
	if k, e := unsafe.Sizeof(key{}), unsafe.Sizeof(entry{}); k+e != 112 {
		t.Errorf("key %d + entry %d bytes, want 112", k, e)
	}
}

// TestAppAndCounterLimits: each flow keeps the first application protocol
// it was given, whichever flows gave others before; a packet counter stops
// at the most 32 bits hold instead of wrapping.
func TestAppAndCounterLimits(t *testing.T) {
	tab := NewTable(Config{})
	a := tab.Update(pkt(6, "10.0.0.1", 1000, "10.0.0.2", 80, 0), 0)
	b := tab.Update(pkt(6, "10.0.0.1", 1001, "10.0.0.2", 443, 0), 0)
	tab.SetApp(b, "tls")
	tab.SetApp(a, "http")
	tab.SetApp(a, "tls")
	tab.SetApp(b, "")
	if tab.App(a) != "http" || tab.App(b) != "tls" || tab.App(a+100) != "" {
		t.Errorf("apps %q %q %q", tab.App(a), tab.App(b), tab.App(a+100))
	}
	tab.byID(a).pkts[0] = math.MaxUint32 - 1
	p := pkt(6, "10.0.0.1", 1000, "10.0.0.2", 80, 0)
	tab.Update(p, 0)
	tab.Update(p, 0)
	if p.Flow.PktsToServer != math.MaxUint32 {
		t.Errorf("packets to server %d, want %d", p.Flow.PktsToServer, uint32(math.MaxUint32))
	}
}
