package engine

import (
	"fmt"
	"hash/maphash"
	"math"
	"net/netip"

	"github.com/vigil-ids/vigil/engine/threshold"
	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/rules/field"
)

// ruleStatefulParts are the parts of a rule set the stateful stage needs,
// prepared once per load.
type ruleStatefulParts struct {
	thresholds map[int]threshold.Spec
	distinct   map[int]field.Slot
	suppress   []suppression
}

type suppression struct {
	sid   int
	track string
	net   netip.Prefix
}

func prepareStateful(set *rules.Set) (ruleStatefulParts, error) {
	parts := ruleStatefulParts{thresholds: map[int]threshold.Spec{}, distinct: map[int]field.Slot{}}
	for _, r := range set.Rules {
		t := r.Threshold
		if t == nil {
			continue
		}
		parts.thresholds[r.SID] = threshold.Spec{Type: t.Type, Track: t.Track, Count: t.Count, Seconds: t.Seconds, Distinct: t.Distinct}
		if t.Distinct != "" {
			slot, ok := field.Lookup(t.Distinct)
			if !ok { // the rules package refuses such a set
				return parts, fmt.Errorf("engine: sid %d: distinct %q is not a countable field", r.SID, t.Distinct)
			}
			parts.distinct[r.SID] = slot
		}
	}
	for _, s := range set.Suppress {
		sp := suppression{sid: s.SID, track: s.Track}
		if s.Track != "" {
			pfx, err := netip.ParsePrefix(s.Net)
			if err != nil {
				a, aerr := netip.ParseAddr(s.Net)
				if aerr != nil {
					return parts, fmt.Errorf("engine: suppress sid %d: %q: %w", s.SID, s.Net, err)
				}
				pfx = netip.PrefixFrom(a, a.BitLen())
			}
			sp.net = pfx.Masked()
		}
		parts.suppress = append(parts.suppress, sp)
	}
	return parts, nil
}

// suppressed reports whether a global suppression entry drops sid on p.
func (rs *ruleState) suppressed(sid int, p *field.Packet) bool {
	for _, s := range rs.suppress {
		if s.sid != sid {
			continue
		}
		src, dst := s.net.Contains(p.Meta.Src), s.net.Contains(p.Meta.Dst)
		switch s.track {
		case "":
			return true
		case "by_src":
			if src {
				return true
			}
		case "by_dst":
			if dst {
				return true
			}
		default: // by_either
			if src || dst {
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
