package engine

import (
	"fmt"
	"hash/maphash"
	"net/netip"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	"github.com/vigil-ids/vigil/engine/threshold"
	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/rules/field"
)

// ruleStatefulParts are the parts of a rule set the stateful stage needs,
// prepared once per load.
type ruleStatefulParts struct {
	thresholds map[int]threshold.Spec
	distinct   map[int]*vm.Program
	suppress   []suppression
}

type suppression struct {
	sid   int
	track string
	net   netip.Prefix
}

func prepareStateful(set *rules.Set) (ruleStatefulParts, error) {
	parts := ruleStatefulParts{thresholds: map[int]threshold.Spec{}, distinct: map[int]*vm.Program{}}
	for _, r := range set.Rules {
		t := r.Threshold
		if t == nil {
			continue
		}
		parts.thresholds[r.SID] = threshold.Spec{Type: t.Type, Track: t.Track, Count: t.Count, Seconds: t.Seconds, Distinct: t.Distinct}
		if t.Distinct != "" {
			prog, err := expr.Compile(t.Distinct, expr.Env(field.Packet{}))
			if err != nil {
				return parts, fmt.Errorf("engine: sid %d: distinct %q: %w", r.SID, t.Distinct, err)
			}
			parts.distinct[r.SID] = prog
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

// distinctValue is the 64-bit form of the rule's distinct field on p.
func (w *worker) distinctValue(rs *ruleState, sid int, p *field.Packet) uint64 {
	v, err := w.vm.Run(rs.distinct[sid], p)
	if err != nil {
		return 0
	}
	switch x := v.(type) {
	case int:
		return uint64(x)
	case bool:
		if x {
			return 1
		}
		return 0
	case string:
		return maphash.String(distinctSeed, x)
	case float64:
		return uint64(x)
	}
	return maphash.String(distinctSeed, fmt.Sprint(v))
}
