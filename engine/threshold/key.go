package threshold

import (
	"hash/maphash"
	"net/netip"

	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/rules/field"
)

// Key is what one threshold or de-duplication counter is kept for,
// together with the rule's sid. It is comparable and holds no reference
// to the packet.
type Key struct {
	Track rules.Track
	// A is the source (by_src), the destination (by_dst) or the smaller
	// address of the pair (by_both); B is the larger address for by_both.
	A, B netip.Addr
	// Flow is the flow ID for by_flow.
	Flow uint64
}

// KeyFor builds p's key for track; flowID is the flow table's ID of p's
// flow, used by by_flow. A value that is not a track gives the by_rule
// key. It does not allocate.
func KeyFor(track rules.Track, p *field.Packet, flowID uint64) Key {
	switch track {
	case rules.BySrc:
		return Key{Track: track, A: p.Meta.Src}
	case rules.ByDst:
		return Key{Track: track, A: p.Meta.Dst}
	case rules.ByBoth:
		a, b := p.Meta.Src, p.Meta.Dst
		if b.Less(a) {
			a, b = b, a
		}
		return Key{Track: track, A: a, B: b}
	case rules.ByFlow:
		return Key{Track: track, Flow: flowID}
	}
	return Key{Track: rules.ByRule}
}

// tkey is a counter's key in a Tracker or a Deduper.
type tkey struct {
	sid int
	key Key
}

// hash hashes k with seed. Addresses are hashed in their 16-byte form
// without zone (keys that differ only in a zone, or in being IPv4 rather
// than IPv4-mapped IPv6, share a hash, which is allowed), so that the
// hashed value holds no pointer and hashing does not allocate.
func (k tkey) hash(seed maphash.Seed) uint64 {
	return maphash.Comparable(seed, struct {
		sid   int
		flow  uint64
		a, b  [16]byte
		track rules.Track
	}{k.sid, k.key.Flow, k.key.A.As16(), k.key.B.As16(), k.key.Track})
}
