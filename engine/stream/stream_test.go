package stream

import (
	"runtime"
	"testing"
)

// step is one segment of a table test and what its view must hold.
type step struct {
	toServer bool
	seq, ack uint32
	flags    string // S F R A
	data     string
	view     string // the view's data
	new      int    // its new bytes
}

func segment(s step) *Segment {
	g := &Segment{Seq: s.seq, Ack: s.ack, Data: []byte(s.data)}
	for _, f := range s.flags {
		switch f {
		case 'S':
			g.SYN = true
		case 'F':
			g.FIN = true
		case 'R':
			g.RST = true
		case 'A':
			g.ACK = true
		}
	}
	return g
}

func TestReassemble(t *testing.T) {
	const isn = 1000 // client data starts at 1001
	syn := step{toServer: true, seq: isn, flags: "S"}
	tests := []struct {
		name  string
		cfg   Config
		steps []step
		want  Stats
	}{
		{"in order", Config{}, []step{syn,
			{toServer: true, seq: 1001, data: "GET /ad", view: "GET /ad", new: 7},
			{toServer: true, seq: 1008, data: "min/", view: "GET /admin/", new: 4},
		}, Stats{Segments: 2, Bytes: 11}},
		{"out of order", Config{}, []step{syn,
			{toServer: true, seq: 1005, data: "EFGH"},
			{toServer: true, seq: 1009, data: "IJ"},
			{toServer: true, seq: 1001, data: "ABCD", view: "ABCDEFGHIJ", new: 10},
		}, Stats{Segments: 3, Bytes: 10, OutOfOrder: 2}},
		{"retransmission", Config{}, []step{syn,
			{toServer: true, seq: 1001, data: "ABCD", view: "ABCD", new: 4},
			{toServer: true, seq: 1001, data: "ABCD"},
			{toServer: true, seq: 1003, data: "CDEF", view: "ABCDEF", new: 2},
		}, Stats{Segments: 3, Bytes: 6, Retransmits: 2}},
		{"overlap with different data, first wins", Config{}, []step{syn,
			{toServer: true, seq: 1001, data: "ABCD", view: "ABCD", new: 4},
			{toServer: true, seq: 1003, data: "XYEF", view: "ABCDEF", new: 2},
		}, Stats{Segments: 2, Bytes: 6, Overlaps: 1}},
		{"queued overlap with different data", Config{}, []step{syn,
			{toServer: true, seq: 1005, data: "EFGH"},
			{toServer: true, seq: 1003, data: "CDXY"},
			{toServer: true, seq: 1001, data: "AB", view: "ABCDEFGH", new: 8},
		}, Stats{Segments: 3, Bytes: 8, OutOfOrder: 2, Overlaps: 1}},
		{"gap skipped once the peer acknowledges past it", Config{}, []step{syn,
			{toServer: true, seq: 1001, data: "ABCD", view: "ABCD", new: 4},
			{toServer: false, seq: 5000, ack: 1013, flags: "A"},
			{toServer: true, seq: 1009, data: "IJKL", view: "IJKL", new: 4},
			{toServer: true, seq: 1013, data: "MN", view: "IJKLMN", new: 2},
		}, Stats{Segments: 3, Bytes: 10, OutOfOrder: 1, Gaps: 1}},
		{"gap skipped at a bare ACK", Config{}, []step{syn,
			{toServer: true, seq: 1001, data: "AB", view: "AB", new: 2},
			{toServer: true, seq: 1005, data: "EF"},
			{toServer: false, seq: 5000, ack: 1007, flags: "A"},
			{toServer: true, seq: 1007, flags: "A", view: "EF", new: 2},
		}, Stats{Segments: 2, Bytes: 4, OutOfOrder: 1, Gaps: 1}},
		{"depth", Config{Depth: 6}, []step{syn,
			{toServer: true, seq: 1001, data: "ABCD", view: "ABCD", new: 4},
			{toServer: true, seq: 1005, data: "EFGH", view: "ABCDEF", new: 2},
			{toServer: true, seq: 1009, data: "IJ"},
		}, Stats{Segments: 3, Bytes: 6, DepthReached: 1}},
		{"memcap", Config{Memcap: 64}, []step{syn,
			{toServer: true, seq: 1001, data: "AB", view: "AB", new: 2}, // the tail takes the 64 bytes
			{toServer: true, seq: 1009, data: "IJ"},
		}, Stats{Segments: 2, Bytes: 2, OutOfOrder: 1, MemcapDrops: 1, MemUsed: 64}},
		{"midstream", Config{}, []step{
			{toServer: true, seq: 7, flags: "A", data: "ON", view: "ON", new: 2},
			{toServer: true, seq: 9, flags: "A", data: "E", view: "ONE", new: 1},
		}, Stats{Segments: 2, Bytes: 3, Midstream: 1}},
		{"window", Config{Window: 2}, []step{syn,
			{toServer: true, seq: 1001, data: "ABCD", view: "ABCD", new: 4},
			{toServer: true, seq: 1005, data: "EF", view: "CDEF", new: 2},
		}, Stats{Segments: 2, Bytes: 6}},
		{"FIN ends the direction", Config{}, []step{syn,
			{toServer: true, seq: 1001, flags: "F", data: "AB", view: "AB", new: 2},
			{toServer: true, seq: 1003, data: "CD"},
		}, Stats{Segments: 2, Bytes: 2, AfterEnd: 1}},
		{"data past a FIN", Config{}, []step{syn,
			{toServer: true, seq: 1005, flags: "F"},
			{toServer: true, seq: 1001, data: "ABCDEF", view: "ABCD", new: 4},
		}, Stats{Segments: 1, Bytes: 4, AfterEnd: 1}},
		{"RST ends both directions and frees the queue", Config{}, []step{syn,
			{toServer: true, seq: 1005, data: "EFGH"},
			{toServer: false, seq: 77, flags: "R"},
			{toServer: true, seq: 1001, data: "ABCD"},
		}, Stats{Segments: 2, OutOfOrder: 1, AfterEnd: 1}},
		{"out of window", Config{}, []step{syn,
			{toServer: true, seq: 1001 + MaxAhead + 1, data: "X"},
			{toServer: true, seq: 1001, data: "A", view: "A", new: 1},
		}, Stats{Segments: 2, Bytes: 1, OutOfWindow: 1}},
		{"sequence numbers wrap", Config{}, []step{
			{toServer: true, seq: 0xfffffffe, flags: "S"},
			{toServer: true, seq: 1, data: "CD"},
			{toServer: true, seq: 0xffffffff, data: "AB", view: "ABCD", new: 4},
		}, Stats{Segments: 2, Bytes: 4, OutOfOrder: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(tt.cfg)
			for i, s := range tt.steps {
				v := r.Add(3, 42, s.toServer, segment(s))
				if string(v.Data) != s.view || v.New != s.new {
					t.Fatalf("step %d: view %q new %d, want %q new %d", i, v.Data, v.New, s.view, s.new)
				}
			}
			got := r.Stats()
			if tt.name != "memcap" {
				got.MemUsed = 0 // tails
			}
			if got != tt.want {
				t.Errorf("stats\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestForget checks that a forgotten or replaced flow frees its buffers.
func TestForget(t *testing.T) {
	r := New(Config{})
	r.Add(0, 1, true, &Segment{Seq: 1, Data: []byte("AB")})
	r.Add(0, 1, true, &Segment{Seq: 10, Data: []byte("XY")})
	r.Add(1, 2, true, &Segment{Seq: 1, Data: []byte("AB")})
	if r.Stats().MemUsed == 0 {
		t.Fatal("nothing held")
	}
	r.Forget(0, 1)
	r.Add(1, 3, true, &Segment{Seq: 1}) // slot 1 reused by a new flow
	if got := r.Stats().MemUsed; got != 0 {
		t.Errorf("MemUsed %d after the flows went", got)
	}
}

// TestTinySegments feeds a stream one byte a segment, in reverse order
// and then in order: every byte is delivered once, a literal split over
// them is seen.
func TestTinySegments(t *testing.T) {
	const text = "the keyword EVIL split into one-byte segments"
	r := New(Config{})
	r.Add(0, 1, true, &Segment{Seq: 99, SYN: true})
	for i := len(text) - 1; i > 0; i-- {
		if v := r.Add(0, 1, true, &Segment{Seq: uint32(100 + i), Data: []byte{text[i]}}); v.New != 0 {
			t.Fatalf("byte %d delivered before byte 0", i)
		}
	}
	v := r.Add(0, 1, true, &Segment{Seq: 100, Data: []byte{text[0]}})
	if string(v.Data) != text {
		t.Fatalf("view %q", v.Data)
	}
	r2 := New(Config{})
	seen := 0
	for i := range len(text) {
		v := r2.Add(0, 1, true, &Segment{Seq: uint32(100 + i), Data: []byte{text[i]}})
		if v.New != 1 {
			t.Fatalf("byte %d: %d new", i, v.New)
		}
		if d := string(v.Data); len(d) >= 4 && d[len(d)-4:] == "EVIL" {
			seen++
		}
	}
	if seen != 1 {
		t.Errorf("EVIL completed %d times", seen)
	}
}

// TestSynFlood opens a million connections in 65536 slots (a flow table's
// worth) with a SYN and one out-of-order byte each: memory stays under
// the cap, every refusal is counted, nothing panics.
func TestSynFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("a million flows")
	}
	const memcap = 1 << 20
	r := New(Config{Memcap: memcap})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range 1 << 20 {
		slot, id := i&0xffff, uint64(i+1)
		r.Add(slot, id, true, &Segment{Seq: uint32(i), SYN: true})
		r.Add(slot, id, true, &Segment{Seq: uint32(i) + 5, Data: []byte("x")})
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	s := r.Stats()
	if s.MemUsed > memcap || r.alloc > memcap {
		t.Errorf("held %d, made %d bytes of buffers, cap %d", s.MemUsed, r.alloc, memcap)
	}
	if s.OutOfOrder != 1<<20 || s.MemcapDrops == 0 {
		t.Errorf("stats %+v", s)
	}
	// Flow state is a fixed struct per slot; buffers are under the cap.
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 32<<20 {
		t.Errorf("heap grew by %d bytes", grew)
	}
}

// TestAddAllocs checks that steady-state reassembly allocates nothing.
func TestAddAllocs(t *testing.T) {
	r := New(Config{})
	data := make([]byte, 1400)
	var seq uint32
	add := func() {
		r.Add(0, 1, true, &Segment{Seq: seq + 1400, Data: data}) // out of order
		r.Add(0, 1, true, &Segment{Seq: seq, Data: data})
		seq += 2800
	}
	add()
	if n := testing.AllocsPerRun(100, add); n != 0 {
		t.Errorf("%v allocations per run", n)
	}
}

// TestRelative checks the relative sequence numbers of the views against
// those tshark shows: from the SYNs, and picked up mid-stream.
func TestRelative(t *testing.T) {
	for _, c := range []struct {
		name     string
		steps    []step
		seq, ack []uint32 // per step
	}{
		{"handshake", []step{
			{toServer: true, seq: 1000, ack: 77, flags: "S"}, // no ACK: the ack is raw
			{seq: 5000, ack: 1001, flags: "SA"},
			{toServer: true, seq: 1001, ack: 5001, flags: "A", data: "GET /"},
			{seq: 5001, ack: 1006, flags: "A", data: "HTTP/1.1 200"},
			{toServer: true, seq: 1006, ack: 5013, flags: "FA"},
		}, []uint32{0, 0, 1, 1, 6}, []uint32{77, 1, 1, 6, 13}},
		{"mid-stream", []step{
			{seq: 90, ack: 4000, flags: "A", data: "abc"}, // bases: 89 and 3999
			{toServer: true, seq: 4000, ack: 93, flags: "A"},
			{toServer: true, seq: 4000, ack: 7, data: "x"},
			{seq: 93, ack: 4001, flags: "A"},
		}, []uint32{1, 1, 1, 4}, []uint32{1, 4, 7, 2}},
		{"port reuse: a new SYN starts over", []step{
			{toServer: true, seq: 1000, flags: "S"},
			{toServer: true, seq: 1001, ack: 9, flags: "A"},
			{toServer: true, seq: 3000, flags: "S"},
			{seq: 8000, ack: 3001, flags: "SA"},
		}, []uint32{0, 1, 0, 0}, []uint32{0, 1, 0, 1}},
	} {
		r := New(Config{})
		for i, s := range c.steps {
			v := r.Add(0, 1, s.toServer, segment(s))
			if v.Seq != c.seq[i] || v.Ack != c.ack[i] {
				t.Errorf("%s, segment %d: seq %d ack %d, want %d %d", c.name, i+1, v.Seq, v.Ack, c.seq[i], c.ack[i])
			}
		}
	}
}

// TestDissected checks which directions' data an application layer takes
// (not Wireshark's data.data): those framed as a known protocol, until a
// gap loses the framing.
func TestDissected(t *testing.T) {
	r := New(Config{})
	add := func(s step, sport, dport int) bool {
		r.Add(0, 1, s.toServer, segment(s))
		for {
			if _, ok := r.NextMessage(sport, dport); !ok {
				break
			}
		}
		return r.Dissected()
	}
	if add(step{toServer: true, seq: 1000, flags: "S"}, 40000, 8080) {
		t.Error("a SYN: dissected")
	}
	if !add(step{toServer: true, seq: 1001, data: "GET / HTTP/1.1\r\nHost: a\r\n\r\n"}, 40000, 8080) {
		t.Error("an HTTP request: not dissected")
	}
	if !add(step{toServer: true, seq: 1028, data: "GET /x HTT"}, 40000, 8080) {
		t.Error("the start of the next request: not dissected")
	}
	// a segment lost, acknowledged by the peer: the framing is lost
	r.Add(0, 1, false, segment(step{seq: 5000, ack: 2000, flags: "A"}))
	if add(step{toServer: true, seq: 2000, data: "\x00\x01binary"}, 40000, 8080) {
		t.Error("data past a gap: dissected")
	}
	r2 := New(Config{})
	r2.Add(0, 1, true, segment(step{toServer: true, seq: 1, data: "\x00\x01\x02\x03\x04\x05"}))
	if r2.NextMessage(40000, 9999); r2.Dissected() {
		t.Error("an unknown protocol: dissected")
	}
}

// TestViewWhole: View.Whole says the view ends with the segment's data,
// delivered whole and in order, and only then.
func TestViewWhole(t *testing.T) {
	r := New(Config{Depth: 20})
	add := func(seq uint32, data string) View {
		return r.Add(0, 1, true, &Segment{Seq: seq, Data: []byte(data)})
	}
	r.Add(0, 1, true, &Segment{Seq: 0, SYN: true})
	for _, c := range []struct {
		seq   uint32
		data  string
		whole bool
	}{
		{1, "abcd", true},   // in order
		{3, "cdef", false},  // starts with resent bytes: only ef is new
		{11, "klmn", false}, // out of order: queued
		{7, "ghij", false},  // fills the hole: ghij and the queued klmn
		{15, "opq", true},   // in order
		{18, "rstu", false}, // cut at the depth (20 bytes)
		{22, "vw", false},   // past the depth
	} {
		v := add(c.seq, c.data)
		if v.Whole != c.whole {
			t.Errorf("segment %q at %d: Whole %v, want %v (view %q, %d new)", c.data, c.seq, v.Whole, c.whole, v.Data, v.New)
		}
	}
}
