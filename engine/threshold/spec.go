package threshold

import (
	"fmt"
	"net/netip"

	"github.com/vigil-ids/vigil/rules/field"
)

// MaxDistinct is the largest Count a Spec with Distinct may have: a
// Tracker remembers at most Count distinct values per key and window.
const MaxDistinct = 1024

// Spec is a rule's threshold as written in the rule file. The engine
// converts the rules package's copy of this struct.
type Spec struct {
	// Type is "limit" (alert on the first Count matches of each window),
	// "threshold" (alert on every Count-th match within the window) or
	// "both" (alert once per window, on the Count-th match).
	Type string
	// Track names what is counted apart: "by_src", "by_dst", "by_both"
	// (the address pair, in either direction), "by_flow" or "by_rule".
	Track string
	// Count is the number of matches (or distinct values), at least 1.
	Count int
	// Seconds is the window length, at least 1. A window starts at the
	// first match counted in it and ends Seconds later.
	Seconds int
	// Distinct, when not empty, names a field whose distinct values are
	// counted instead of matches (e.g. "tcp.dstport"); the engine passes
	// the value's 64-bit form to Tracker.Allow. Count is then at most
	// MaxDistinct.
	Distinct string
}

// Validate reports the first problem of s, wrapping ErrSpec.
func (s *Spec) Validate() error {
	if typeOf(s.Type) == typeInvalid {
		return fmt.Errorf("%w: type %q (want limit, threshold or both)", ErrSpec, s.Type)
	}
	if TrackOf(s.Track) == TrackInvalid {
		return fmt.Errorf("%w: track %q (want by_src, by_dst, by_both, by_flow or by_rule)", ErrSpec, s.Track)
	}
	if s.Count < 1 {
		return fmt.Errorf("%w: count %d (want at least 1)", ErrSpec, s.Count)
	}
	if s.Seconds < 1 {
		return fmt.Errorf("%w: seconds %d (want at least 1)", ErrSpec, s.Seconds)
	}
	if s.Distinct != "" && s.Count > MaxDistinct {
		return fmt.Errorf("%w: count %d with distinct (at most %d)", ErrSpec, s.Count, MaxDistinct)
	}
	return nil
}

type kind uint8

const (
	typeInvalid kind = iota
	typeLimit
	typeThreshold
	typeBoth
)

func typeOf(s string) kind {
	switch s {
	case "limit":
		return typeLimit
	case "threshold":
		return typeThreshold
	case "both":
		return typeBoth
	}
	return typeInvalid
}

// Track is what a threshold counts apart.
type Track uint8

// Tracks, as named in Spec.Track.
const (
	TrackInvalid Track = iota
	TrackSrc
	TrackDst
	TrackBoth
	TrackFlow
	TrackRule
)

// TrackOf parses a Spec.Track name; it returns TrackInvalid for an
// unknown name.
func TrackOf(s string) Track {
	switch s {
	case "by_src":
		return TrackSrc
	case "by_dst":
		return TrackDst
	case "by_both":
		return TrackBoth
	case "by_flow":
		return TrackFlow
	case "by_rule":
		return TrackRule
	}
	return TrackInvalid
}

// Key is what one threshold or de-duplication counter is kept for,
// together with the rule's sid. It is comparable and holds no reference
// to the packet.
type Key struct {
	Track Track
	// A is the source (by_src), the destination (by_dst) or the smaller
	// address of the pair (by_both); B is the larger address for by_both.
	A, B netip.Addr
	// Flow is the flow ID for by_flow.
	Flow uint64
}

// KeyFor builds p's key for the named track (see Spec.Track); flowID is
// the flow table's ID of p's flow, used by by_flow. An unknown track
// gives the by_rule key. It does not allocate.
func KeyFor(track string, p *field.Packet, flowID uint64) Key {
	t := TrackOf(track)
	switch t {
	case TrackSrc:
		return Key{Track: t, A: p.Meta.Src}
	case TrackDst:
		return Key{Track: t, A: p.Meta.Dst}
	case TrackBoth:
		a, b := p.Meta.Src, p.Meta.Dst
		if b.Less(a) {
			a, b = b, a
		}
		return Key{Track: t, A: a, B: b}
	case TrackFlow:
		return Key{Track: t, Flow: flowID}
	}
	return Key{Track: TrackRule}
}
