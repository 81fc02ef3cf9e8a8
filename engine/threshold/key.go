package threshold

import (
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
