package engine

import (
	"sync/atomic"

	"github.com/vigil-ids/vigil/decode"
)

// encapCounters sums, per encapsulation, what the workers' decoders
// counted (decode.Decoder.TakeCounts); each worker adds its counts once
// per batch.
type encapCounters [decode.NumEncaps]struct {
	decoded, truncated, malformed, unsupported atomic.Uint64
}

// add adds the counts of one decoder.
func (c *encapCounters) add(n *decode.Counts) {
	for e := range n {
		x, to := &n[e], &c[e]
		for _, f := range [...]struct {
			v  uint64
			to *atomic.Uint64
		}{{x.Decoded, &to.decoded}, {x.Truncated, &to.truncated}, {x.Malformed, &to.malformed}, {x.Unsupported, &to.unsupported}} {
			if f.v != 0 {
				f.to.Add(f.v)
			}
		}
	}
}

// stats returns the counts of the encapsulations met so far, by name.
func (c *encapCounters) stats() map[string]decode.EncapCount {
	out := map[string]decode.EncapCount{}
	for e := range c {
		x := &c[e]
		n := decode.EncapCount{Decoded: x.decoded.Load(), Truncated: x.truncated.Load(), Malformed: x.malformed.Load(), Unsupported: x.unsupported.Load()}
		if n != (decode.EncapCount{}) {
			out[decode.Encap(e).String()] = n
		}
	}
	return out
}
