package defrag

import (
	"testing"
	"time"

	"github.com/vigil-ids/vigil/rules/field"
)

// FuzzDefrag feeds a Defragmenter with small caps two streams: raw, one
// packet as captured, and ops, 5 bytes per fragment that a generator turns
// into valid-looking IPv4 and IPv6 fragments of a few datagrams (version,
// far offsets and id; offset; length; flags and fill; time step), so overlaps,
// duplicates, holes, timeouts and evictions all occur. No panic; memory
// stays under the cap; a datagram is never longer than MaxPayload;
// counters stay consistent.
func FuzzDefrag(f *testing.F) {
	f.Add(frag4(1, 6, 0, true, payload(8)), []byte{0x01, 0, 2, 0x81, 0, 0x01, 2, 2, 0x00, 0})
	f.Add(frag6(1, 17, 8, false, payload(8), protoHopByHop), []byte{0x82, 1, 4, 0x80, 1, 0x82, 0, 1, 0x81, 1})
	f.Add([]byte{0x60, 0, 0, 0, 0, 8, 44, 64}, []byte{0x03, 0, 200, 0x80, 255, 0x03, 25, 200, 0x00, 0})
	f.Fuzz(func(t *testing.T, raw, ops []byte) {
		var c Counters
		cfg := Config{MaxFragments: 16, Memcap: 64 << 10, Timeout: time.Second}
		d := New(cfg, &c)
		now := t0
		check := func(dg Datagram, ok bool) {
			if ok && (len(dg.Payload) == 0 || len(dg.Payload) > MaxPayload) {
				t.Fatalf("datagram of %d bytes", len(dg.Payload))
			}
			if d.mem > cfg.Memcap {
				t.Fatalf("%d bytes held, cap %d", d.mem, cfg.Memcap)
			}
		}
		check(d.Add(raw, field.VLANKey{}, now))
		for ; len(ops) >= 5; ops = ops[5:] {
			id, off, n, flags, step := ops[0], int(ops[1])*8, int(ops[2])+1, ops[3], ops[4]
			if id&0x40 != 0 { // far offsets, up to the size limit
				off *= 32
			}
			more := flags&0x80 != 0
			data := make([]byte, n)
			for i := range data {
				data[i] = flags & 0x7f
			}
			var pkt []byte
			if id&0x80 != 0 {
				pkt = frag6(uint32(id&3), 17, off, more, data, protoDstOpts)
			} else {
				pkt = frag4(uint16(id&3), 17, off, more, data)
			}
			now = now.Add(time.Duration(step) * 10 * time.Millisecond)
			check(d.Add(pkt, field.VLANKey{}, now))
		}
		s := c.Stats()
		if s.Reassembled > s.Fragments || s.Invalid > s.Fragments || s.Overlaps > s.Fragments {
			t.Fatalf("inconsistent stats %+v", s)
		}
	})
}
