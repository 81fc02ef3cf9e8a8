package defrag

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"testing"
	"time"

	"github.com/vigil-ids/vigil/rules/field"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// frag4 builds an IPv4 fragment of datagram id carrying data at byte
// offset off (a multiple of 8).
func frag4(id uint16, proto uint8, off int, more bool, data []byte) []byte {
	b := make([]byte, 20+len(data))
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	binary.BigEndian.PutUint16(b[4:], id)
	fo := uint16(off / 8)
	if more {
		fo |= 0x2000
	}
	binary.BigEndian.PutUint16(b[6:], fo)
	b[8], b[9] = 64, proto
	copy(b[12:], []byte{192, 0, 2, 1, 198, 51, 100, 20})
	copy(b[20:], data)
	return b
}

// frag6 builds an IPv6 fragment whose fragment header follows the
// extension headers ext (each given as its next header number and its
// 8-byte-multiple body).
func frag6(id uint32, proto uint8, off int, more bool, data []byte, ext ...uint8) []byte {
	var hdrs []byte
	for range ext {
		hdrs = append(hdrs, 0, 0, 1, 4, 0, 0, 0, 0) // next header set below; PadN option
	}
	b := make([]byte, 40, 40+len(hdrs)+8+len(data))
	b[0] = 0x60
	b[7] = 64
	b[8], b[23] = 0x20, 1
	b[24], b[39] = 0x20, 2
	nh := &b[6]
	b = append(b, hdrs...)
	for i, e := range ext {
		*nh = e
		nh = &b[40+8*i]
	}
	*nh = protoFragment
	fo := uint16(off) &^ 7
	if more {
		fo |= 1
	}
	fh := []byte{proto, 0, byte(fo >> 8), byte(fo), 0, 0, 0, 0}
	binary.BigEndian.PutUint32(fh[4:], id)
	b = append(b, fh...)
	b = append(b, data...)
	binary.BigEndian.PutUint16(b[4:], uint16(len(b)-40))
	return b
}

// payload returns n bytes of a recognisable pattern.
func payload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}

type step struct {
	pkt  []byte
	at   time.Duration // after t0
	done []byte        // the datagram this packet completes, nil for none
}

func TestDefrag(t *testing.T) {
	p := payload(64)
	other := bytes.Repeat([]byte{'X'}, 64)
	for _, tc := range []struct {
		name  string
		cfg   Config
		steps []step
		want  Stats
	}{
		{name: "ipv4 in order", steps: []step{
			{pkt: frag4(1, 17, 0, true, p[:24])},
			{pkt: frag4(1, 17, 24, true, p[24:48])},
			{pkt: frag4(1, 17, 48, false, p[48:]), done: p},
		}, want: Stats{Fragments: 3, Reassembled: 1}},
		{name: "ipv4 reverse order", steps: []step{
			{pkt: frag4(1, 17, 48, false, p[48:])},
			{pkt: frag4(1, 17, 24, true, p[24:48])},
			{pkt: frag4(1, 17, 0, true, p[:24]), done: p},
		}, want: Stats{Fragments: 3, Reassembled: 1}},
		{name: "ipv4 duplicates", steps: []step{
			{pkt: frag4(1, 17, 0, true, p[:32])},
			{pkt: frag4(1, 17, 0, true, p[:32])},
			{pkt: frag4(1, 17, 32, false, p[32:]), done: p},
			{pkt: frag4(1, 17, 32, false, p[32:])}, // a late copy starts a datagram that never completes
		}, want: Stats{Fragments: 4, Reassembled: 1}},
		{name: "ipv4 overlap with the same data", steps: []step{
			{pkt: frag4(1, 17, 0, true, p[:32])},
			{pkt: frag4(1, 17, 16, true, p[16:48])},
			{pkt: frag4(1, 17, 40, false, p[40:]), done: p},
		}, want: Stats{Fragments: 3, Reassembled: 1}},
		{name: "ipv4 overlap, later start yields to earlier data (BSD)", steps: []step{
			{pkt: frag4(1, 17, 0, true, p[:32])},
			{pkt: frag4(1, 17, 8, true, other[8:40])},
			{pkt: frag4(1, 17, 40, false, p[40:]), done: append(append(append([]byte{}, p[:32]...), other[32:40]...), p[40:]...)},
		}, want: Stats{Fragments: 3, Reassembled: 1, Overlaps: 1}},
		{name: "ipv4 overlap, earlier start overwrites (BSD)", steps: []step{
			{pkt: frag4(1, 17, 16, true, p[16:32])},
			{pkt: frag4(1, 17, 8, true, other[8:24])},
			{pkt: frag4(1, 17, 0, true, p[:8])},
			{pkt: frag4(1, 17, 32, false, p[32:]), done: append(append(append([]byte{}, p[:8]...), other[8:24]...), p[24:]...)},
		}, want: Stats{Fragments: 4, Reassembled: 1, Overlaps: 1}},
		{name: "ipv4 overlap, same start keeps the first", steps: []step{
			{pkt: frag4(1, 17, 8, true, p[8:24])},
			{pkt: frag4(1, 17, 8, true, other[8:32])},
			{pkt: frag4(1, 17, 0, true, p[:8])},
			{pkt: frag4(1, 17, 32, false, p[32:]), done: append(append(append([]byte{}, p[:24]...), other[24:32]...), p[32:]...)},
		}, want: Stats{Fragments: 4, Reassembled: 1, Overlaps: 1}},
		{name: "tiny first fragment (RFC 1858)", steps: []step{
			{pkt: frag4(2, 6, 0, true, p[:8])},
			{pkt: frag4(2, 6, 8, false, p[8:40]), done: p[:40]},
		}, want: Stats{Fragments: 2, Reassembled: 1, TinyFirst: 1}},
		{name: "too many fragments", cfg: Config{MaxFragments: 4}, steps: []step{
			{pkt: frag4(3, 17, 0, true, p[:8])},
			{pkt: frag4(3, 17, 8, true, p[8:16])},
			{pkt: frag4(3, 17, 8, true, p[8:16])},
			{pkt: frag4(3, 17, 16, true, p[16:24])},
			{pkt: frag4(3, 17, 24, false, p[24:32])}, // fifth: dropped
			{pkt: frag4(3, 17, 24, false, p[24:32])}, // swallowed
		}, want: Stats{Fragments: 6, TooMany: 1}},
		{name: "oversize", steps: []step{
			{pkt: frag4(4, 17, 0, true, p[:8])},
			{pkt: frag4(4, 17, 65528, false, p[:16])},
		}, want: Stats{Fragments: 2, Oversize: 1}},
		{name: "timeout", steps: []step{
			{pkt: frag4(5, 17, 0, true, p[:32])},
			{pkt: frag4(5, 17, 32, false, p[32:]), at: 61 * time.Second},
			{pkt: frag4(5, 17, 0, true, p[:32]), at: 62 * time.Second, done: p},
		}, want: Stats{Fragments: 3, Reassembled: 1, Timeouts: 1}},
		{name: "within the timeout", steps: []step{
			{pkt: frag4(5, 17, 0, true, p[:32])},
			{pkt: frag4(5, 17, 32, false, p[32:]), at: 60 * time.Second, done: p},
		}, want: Stats{Fragments: 2, Reassembled: 1}},
		{name: "memcap evicts the oldest", cfg: Config{Memcap: 2 * (datagramCost + 512 + 64)}, steps: []step{
			{pkt: frag4(6, 17, 0, true, p[:32])},
			{pkt: frag4(7, 17, 0, true, p[:32])},
			{pkt: frag4(8, 17, 0, true, p[:32])},
			{pkt: frag4(6, 17, 32, false, p[32:])},
			{pkt: frag4(8, 17, 32, false, p[32:]), done: p},
		}, want: Stats{Fragments: 5, Reassembled: 1, Memcap: 2}},
		{name: "memcap refuses a datagram larger than itself", cfg: Config{Memcap: 1024}, steps: []step{
			{pkt: frag4(15, 17, 0, true, p[:32])},
			{pkt: frag4(15, 17, 4096, false, p[:32])},
			{pkt: frag4(15, 17, 32, true, p[32:])}, // swallowed
		}, want: Stats{Fragments: 3, Memcap: 1}},
		{name: "not a multiple of 8", steps: []step{
			{pkt: frag4(9, 17, 0, true, p[:30])},
		}, want: Stats{Fragments: 1, Invalid: 1}},
		{name: "last fragments disagree", steps: []step{
			{pkt: frag4(10, 17, 32, false, p[32:])},
			{pkt: frag4(10, 17, 32, false, p[32:48])},
			{pkt: frag4(10, 17, 0, true, p[:32])},
		}, want: Stats{Fragments: 3, Invalid: 1}},
		{name: "a hole", steps: []step{
			{pkt: frag4(13, 17, 0, true, p[:16])},
			{pkt: frag4(13, 17, 32, false, p[32:])},
			{pkt: frag4(13, 17, 16, true, p[16:32]), done: p},
		}, want: Stats{Fragments: 3, Reassembled: 1}},
		{name: "last fragment ends before earlier data", steps: []step{
			{pkt: frag4(14, 17, 32, true, p[32:48])},
			{pkt: frag4(14, 17, 16, false, p[16:24])},
			{pkt: frag4(14, 17, 0, true, p[:16])},
		}, want: Stats{Fragments: 3, Invalid: 1}},
		{name: "cut by the capture", steps: []step{
			{pkt: frag4(11, 17, 0, true, p[:32])[:40]},
		}, want: Stats{Fragments: 1, Invalid: 1}},
		{name: "not a fragment", steps: []step{
			{pkt: frag4(12, 17, 0, false, p)},
			{pkt: frag6(12, 17, 0, false, p)},
			{pkt: []byte{0x45}},
			{pkt: nil},
		}},
		{name: "ipv6 out of order", steps: []step{
			{pkt: frag6(1, 17, 32, false, p[32:])},
			{pkt: frag6(1, 17, 0, true, p[:32]), done: p},
		}, want: Stats{Fragments: 2, Reassembled: 1}},
		{name: "ipv6 extension headers before the fragment header", steps: []step{
			{pkt: frag6(1, 17, 0, true, p[:32], protoHopByHop, protoDstOpts, protoRouting)},
			{pkt: frag6(1, 17, 32, false, p[32:], protoDstOpts), done: p},
		}, want: Stats{Fragments: 2, Reassembled: 1}},
		{name: "ipv6 exact duplicate", steps: []step{
			{pkt: frag6(1, 17, 0, true, p[:32])},
			{pkt: frag6(1, 17, 0, true, p[:32])},
			{pkt: frag6(1, 17, 32, false, p[32:]), done: p},
		}, want: Stats{Fragments: 3, Reassembled: 1}},
		{name: "ipv6 overlap drops the datagram (RFC 5722)", steps: []step{
			{pkt: frag6(1, 17, 0, true, p[:32])},
			{pkt: frag6(1, 17, 24, true, p[24:40])},
			{pkt: frag6(1, 17, 40, false, p[40:])},
		}, want: Stats{Fragments: 3, Overlaps: 1}},
		{name: "ipv6 tiny first fragment", steps: []step{
			{pkt: frag6(2, 6, 0, true, p[:8])},
			{pkt: frag6(2, 6, 8, false, p[8:40]), done: p[:40]},
		}, want: Stats{Fragments: 2, Reassembled: 1, TinyFirst: 1}},
		{name: "ipv4 and ipv6 with the same id", steps: []step{
			{pkt: frag4(1, 17, 0, true, p[:32])},
			{pkt: frag6(1, 17, 32, false, other[32:])},
			{pkt: frag4(1, 17, 32, false, p[32:]), done: p},
		}, want: Stats{Fragments: 3, Reassembled: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c Counters
			d := New(tc.cfg, &c)
			for i, s := range tc.steps {
				dg, ok := d.Add(s.pkt, field.VLANKey{}, t0.Add(s.at))
				switch {
				case s.done == nil && ok:
					t.Errorf("step %d: completed %q, want nothing", i+1, dg.Payload)
				case s.done != nil && !ok:
					t.Errorf("step %d: completed nothing", i+1)
				case ok && len(s.done) > 0 && !bytes.Equal(dg.Payload, s.done):
					t.Errorf("step %d: datagram\n%q\nwant\n%q", i+1, dg.Payload, s.done)
				}
			}
			if got := c.Stats(); got != tc.want {
				t.Errorf("stats %+v\nwant  %+v", got, tc.want)
			}
		})
	}
}

// TestProto checks the protocol of a reassembled datagram: the IPv4
// protocol, or the first fragment's Next Header.
func TestProto(t *testing.T) {
	d := New(Config{}, new(Counters))
	d.Add(frag6(9, 6, 0, true, payload(24)), field.VLANKey{}, t0)
	dg, ok := d.Add(frag6(9, 17, 24, false, payload(8)), field.VLANKey{}, t0)
	if !ok || dg.Proto != 6 {
		t.Errorf("proto %d (ok %v), want 6 from the first fragment", dg.Proto, ok)
	}
}

// TestNoAllocs checks that a warm Defragmenter reassembles without
// allocating.
func TestNoAllocs(t *testing.T) {
	d := New(Config{}, new(Counters))
	p := payload(1400)
	f1, f2 := frag4(1, 17, 0, true, p[:1024]), frag4(1, 17, 1024, false, p[1024:])
	g1, g2 := frag6(1, 17, 1024, false, p[1024:]), frag6(1, 17, 0, true, p[:1024])
	run := func() {
		d.Add(f1, field.VLANKey{}, t0)
		d.Add(g1, field.VLANKey{}, t0)
		if _, ok := d.Add(f2, field.VLANKey{}, t0); !ok {
			t.Fatal("ipv4 datagram not completed")
		}
		if _, ok := d.Add(g2, field.VLANKey{}, t0); !ok {
			t.Fatal("ipv6 datagram not completed")
		}
	}
	run()
	if n := testing.AllocsPerRun(100, run); n != 0 {
		t.Errorf("%v allocations per datagram pair", n)
	}
}

// heapGrowth returns how much the live heap grew while f ran, after a
// collection on each side.
func heapGrowth(f func()) int64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.GC()
	runtime.ReadMemStats(&after)
	return int64(after.HeapAlloc) - int64(before.HeapAlloc)
}

// TestOverlapFlood sends 100,000 overlapping fragments of one datagram:
// it is dropped for too many fragments, its memory stays small, and the
// rest is swallowed.
func TestOverlapFlood(t *testing.T) {
	var c Counters
	d := New(Config{}, &c)
	pkts := make([][]byte, 0, 64)
	for i := range 64 {
		pkts = append(pkts, frag4(77, 6, (i%16)*8, true, bytes.Repeat([]byte{byte(i)}, 64)))
	}
	grew := heapGrowth(func() {
		for i := range 100000 {
			if _, ok := d.Add(pkts[i%len(pkts)], field.VLANKey{}, t0); ok {
				t.Fatal("an overlap flood completed a datagram")
			}
		}
	})
	s := c.Stats()
	t.Logf("heap grew by %d bytes, %d held; %+v", grew, d.mem, s)
	if s.Fragments != 100000 || s.TooMany != 1 || s.Overlaps == 0 || s.Overlaps > DefaultMaxFragments {
		t.Errorf("stats %+v", s)
	}
	if grew > 1<<20 || d.mem > 1<<20 {
		t.Errorf("heap grew by %d bytes, %d held", grew, d.mem)
	}
}

// TestIncompleteFlood opens many more incomplete datagrams than the
// memory cap holds: the oldest are evicted, every eviction is counted
// and the heap stays under the cap.
func TestIncompleteFlood(t *testing.T) {
	const memcap = 4 << 20
	var c Counters
	d := New(Config{Memcap: memcap}, &c)
	data := payload(1024)
	pkt := frag4(0, 17, 8192, true, data)
	const n = 200000
	grew := heapGrowth(func() {
		for i := range n {
			binary.BigEndian.PutUint16(pkt[4:], uint16(i))
			pkt[12] = byte(i >> 16) // vary the source so no two datagrams collide
			d.Add(pkt, field.VLANKey{}, t0.Add(time.Duration(i)*time.Microsecond))
		}
	})
	s := c.Stats()
	t.Logf("heap grew by %d bytes, %d held, %d pending; %+v", grew, d.mem, len(d.live), s)
	if s.Fragments != n || s.Memcap != n-uint64(len(d.live)) {
		t.Errorf("stats %+v with %d pending, want %d fragments, the rest evicted", s, len(d.live), n)
	}
	if d.mem > memcap {
		t.Errorf("%d bytes held, cap %d", d.mem, memcap)
	}
	if grew > memcap {
		t.Errorf("heap grew by %d bytes, cap %d", grew, memcap)
	}
}

// BenchmarkDefrag reassembles a 1,400-byte IPv4 datagram from two
// fragments; ns/op is per datagram.
func BenchmarkDefrag(b *testing.B) {
	d := New(Config{}, new(Counters))
	p := payload(1400)
	f1, f2 := frag4(1, 17, 0, true, p[:1024]), frag4(1, 17, 1024, false, p[1024:])
	b.SetBytes(int64(len(p)))
	b.ReportAllocs()
	for b.Loop() {
		d.Add(f1, field.VLANKey{}, t0)
		if _, ok := d.Add(f2, field.VLANKey{}, t0); !ok {
			b.Fatal("not completed")
		}
	}
}

// TestVLAN checks that fragments with the same addresses and
// identification in different VLANs are different datagrams, as in
// Suricata: a VLAN's last fragment completes only its own VLAN's datagram.
func TestVLAN(t *testing.T) {
	d := New(Config{}, new(Counters))
	p := payload(16)
	first, last := frag4(7, 17, 0, true, p[:8]), frag4(7, 17, 8, false, p[8:])
	a, b := field.VLANKey{10}, field.VLANKey{100, 10} // C-tag 10, alone and under S-tag 100
	d.Add(first, a, t0)
	if _, ok := d.Add(last, b, t0); ok {
		t.Fatal("a fragment of another VLAN completed the datagram")
	}
	if dg, ok := d.Add(last, a, t0); !ok || string(dg.Payload) != string(p) {
		t.Fatalf("the datagram of VLAN 10 not completed (ok %v)", ok)
	}
	if _, ok := d.Add(first, b, t0); !ok {
		t.Fatal("the datagram of S-tag 100, VLAN 10 not completed")
	}
}
