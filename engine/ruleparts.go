package engine

import (
	"hash/maphash"
	"math"

	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/rules/field"
)

// suppressed reports whether a global suppression entry drops sid on p.
func (rs *ruleState) suppressed(sid int, p *field.Packet) bool {
	for _, s := range rs.set.Suppress {
		if s.SID != sid {
			continue
		}
		switch s.Track {
		case rules.SuppressAll:
			return true
		case rules.SuppressBySrc:
			if s.Net.Contains(p.Meta.Src) {
				return true
			}
		case rules.SuppressByDst:
			if s.Net.Contains(p.Meta.Dst) {
				return true
			}
		case rules.SuppressByEither:
			if s.Net.Contains(p.Meta.Src) || s.Net.Contains(p.Meta.Dst) {
				return true
			}
		}
	}
	return false
}

var distinctSeed = maphash.MakeSeed()

// distinctValue is the 64-bit form of a distinct field's value on p.
func distinctValue(slot field.Slot, p *field.Packet) uint64 {
	switch slot.Kind {
	case field.KindInt:
		return uint64(slot.Int(p))
	case field.KindBool:
		if slot.Bool(p) {
			return 1
		}
		return 0
	case field.KindFloat:
		return math.Float64bits(slot.Float(p))
	}
	return maphash.String(distinctSeed, slot.String(p))
}
