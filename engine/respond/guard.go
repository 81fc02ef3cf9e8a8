package respond

import (
	"encoding/binary"
	"hash/maphash"
	"sync"
	"time"
)

// Guard defaults.
const (
	// DefaultGuardSize is how many sent frames a Guard remembers.
	DefaultGuardSize = 4096
	// DefaultGuardTTL is how long a Guard remembers a sent frame.
	DefaultGuardTTL = 5 * time.Second
)

// Guard recognises frames Vigil injected when the sensor mirrors them back,
// so they are neither evaluated nor answered again.
//
// It remembers a hash of each sent frame's IP datagram (from the IP header
// to the end the IP header declares), not of the whole frame: a mirrored
// copy may come back padded differently or with its VLAN tags stripped by
// the capturing NIC, while the datagram is unchanged on the segment it was
// injected into. A hash cannot be forged by a third party short of
// replaying a frame Vigil sent moments ago, which Vigil would have to
// ignore anyway.
//
// A marker in the frame (say a fixed IPv4 ID) was rejected: anyone can
// forge it, and an attacker's resets carrying it would escape every rule;
// IPv6 has no ID field to carry it. IPv4 IDs are therefore derived from
// the frame (see Build) and mean nothing.
//
// Entries expire after the TTL; the oldest is evicted when the Guard is
// full. Both methods take the same clock (packet time). A Guard is safe
// for concurrent use; the zero value is ready to use with the defaults.
type Guard struct {
	mu   sync.Mutex
	size int
	ttl  time.Duration
	seed maphash.Seed
	seen map[uint64]guardEntry
	ring []uint64 // hashes in insertion order, a circle of size entries
	next int
}

type guardEntry struct {
	expires int64 // unix ns
	slot    int
}

// NewGuard returns a Guard remembering up to size frames for ttl; zero or
// negative values mean DefaultGuardSize and DefaultGuardTTL.
func NewGuard(size int, ttl time.Duration) *Guard {
	g := &Guard{size: size, ttl: ttl}
	g.init()
	return g
}

func (g *Guard) init() {
	if g.seen != nil {
		return
	}
	if g.size <= 0 {
		g.size = DefaultGuardSize
	}
	if g.ttl <= 0 {
		g.ttl = DefaultGuardTTL
	}
	g.seed = maphash.MakeSeed()
	g.seen = make(map[uint64]guardEntry, g.size)
	g.ring = make([]uint64, 0, g.size)
}

// Remember records frames sent at now.
func (g *Guard) Remember(frames []Frame, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.init()
	exp := now.Add(g.ttl).UnixNano()
	for _, f := range frames {
		dg, ok := datagram(f.Data)
		if !ok {
			continue
		}
		h := maphash.Bytes(g.seed, dg)
		slot := g.next
		if len(g.ring) < g.size {
			g.ring = append(g.ring, h)
		} else {
			old := g.ring[slot]
			if e, ok := g.seen[old]; ok && e.slot == slot {
				delete(g.seen, old)
			}
			g.ring[slot] = h
		}
		g.next = (slot + 1) % g.size
		g.seen[h] = guardEntry{expires: exp, slot: slot}
	}
}

// IsOwn reports whether raw, an Ethernet frame seen at now, is one that
// Remember recorded less than the TTL before. It does not allocate and
// does not keep raw.
func (g *Guard) IsOwn(raw []byte, now time.Time) bool {
	dg, ok := datagram(raw)
	if !ok {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.seen == nil {
		return false
	}
	e, ok := g.seen[maphash.Bytes(g.seed, dg)]
	return ok && now.UnixNano() < e.expires
}

// datagram returns the IP datagram of an Ethernet frame, from the IP
// header to the end its header declares (so without padding or trailer).
func datagram(raw []byte) ([]byte, bool) {
	l3, et, ok := l3Offset(raw)
	if !ok {
		return nil, false
	}
	var n int
	switch et {
	case 0x0800:
		if len(raw) < l3+20 {
			return nil, false
		}
		n = int(binary.BigEndian.Uint16(raw[l3+2:]))
	case 0x86dd:
		if len(raw) < l3+40 {
			return nil, false
		}
		n = 40 + int(binary.BigEndian.Uint16(raw[l3+4:]))
	default:
		return nil, false
	}
	if n < 20 || len(raw) < l3+n {
		return nil, false
	}
	return raw[l3 : l3+n], true
}
