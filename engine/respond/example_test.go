package respond_test

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/vigil-ids/vigil/engine/respond"
	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/rules/field"
)

// respondTo shows the order of calls for one packet that matched a rule
// with a reset action: caps first, then the frames, then the Guard.
func respondTo(p *field.Packet, flowKey uint64, l *respond.Limiter, g *respond.Guard, send func([]byte) bool) {
	now := p.Frame.Time
	if ok, _ := l.Allow(flowKey, p.Meta.Src, p.Meta.Dst, now); !ok {
		return // counted as suppressed, by reason
	}
	frames, err := respond.Build(p, rules.TargetBoth, 0)
	if err != nil {
		l.RecordSuppressed("not-answerable")
		return
	}
	g.Remember(frames, now) // before sending: the mirror may be quick
	for _, f := range frames {
		if send(f.Data) {
			l.RecordSent(1)
		} else {
			l.RecordFailed(1)
		}
	}
}

func Example() {
	l, err := respond.NewLimiter(respond.Policy{Deny: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
	if err != nil {
		panic(err)
	}
	g := respond.NewGuard(0, 0)
	var p field.Packet
	p.Reset()
	p.Frame.Time = time.Unix(1700000000, 0)
	p.Meta.Src, p.Meta.Dst = netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("198.51.100.2")
	respondTo(&p, 1, l, g, func([]byte) bool { return true })
	fmt.Println(l.Stats().Suppressed)
	// Output: map[deny-list:1]
}
