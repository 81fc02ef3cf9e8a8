package respond

import (
	"net/netip"
	"testing"
	"time"

	"github.com/vigil-ids/vigil/rules"
)

// BenchmarkGuardIsOwn is the hot-path cost the engine pays per RST or
// ICMP unreachable it sees.
func BenchmarkGuardIsOwn(b *testing.B) {
	now := time.Unix(1700000000, 0)
	frames, err := Build(fillPacket(frameN(b, "sv-telnet.pcap", 4)), rules.TargetBoth, 0)
	if err != nil {
		b.Fatal(err)
	}
	g := NewGuard(0, 0)
	g.Remember(frames[:1], now)
	miss := frameN(b, "sv-http-rst-malware.pcap", 75)
	b.Run("hit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !g.IsOwn(frames[0].Data, now) {
				b.Fatal("miss")
			}
		}
	})
	b.Run("miss", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if g.IsOwn(miss, now) {
				b.Fatal("hit")
			}
		}
	})
}

func BenchmarkBuild(b *testing.B) {
	for _, bc := range []struct {
		name  string
		frame []byte
	}{
		{"tcp4", frameN(b, "sv-telnet.pcap", 4)},
		{"tcp6", frameN(b, "sv-http-ipv6.pcap", 5)},
		{"udp4", frameN(b, "sv-dns-dhcp-sofacy.pcap", 7)},
	} {
		p := fillPacket(bc.frame)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Build(p, rules.TargetBoth, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkLimiterAllow(b *testing.B) {
	l, err := NewLimiter(Policy{GlobalRate: 1e9, Burst: 1 << 30, PerFlowInterval: time.Nanosecond})
	if err != nil {
		b.Fatal(err)
	}
	src, dst := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	now := time.Unix(1700000000, 0)
	b.ReportAllocs()
	var i uint64
	for b.Loop() {
		i++
		l.Allow(i%1024, src, dst, now.Add(time.Duration(i)*time.Microsecond))
	}
}
