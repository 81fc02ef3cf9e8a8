package respond

import (
	"errors"
	"hash/maphash"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"
)

var (
	hostA = netip.MustParseAddr("10.0.0.1")
	hostB = netip.MustParseAddr("192.0.2.7")
	hostC = netip.MustParseAddr("2001:db8::1")
	hostD = netip.MustParseAddr("198.51.100.9")
)

func TestLimiterTable(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	type call struct {
		flow     uint64
		src, dst netip.Addr
		at       time.Duration
		reason   string // "" means allowed
	}
	cases := []struct {
		name  string
		pol   Policy
		calls []call
	}{
		{"per-flow interval", Policy{PerFlowInterval: time.Second, GlobalRate: 1000, Burst: 100}, []call{
			{1, hostA, hostB, 0, ""},
			{1, hostA, hostB, 500 * time.Millisecond, ReasonFlow},
			{2, hostA, hostB, 600 * time.Millisecond, ""},
			{1, hostA, hostB, 999 * time.Millisecond, ReasonFlow},
			{1, hostA, hostB, time.Second, ""},
			{1, hostA, hostB, 1500 * time.Millisecond, ReasonFlow},
			// out of order by less than the interval: still held
			{1, hostA, hostB, 200 * time.Millisecond, ReasonFlow},
			{1, hostA, hostB, 2 * time.Second, ""},
		}},
		{"global rate refills with packet time", Policy{PerFlowInterval: time.Nanosecond, GlobalRate: 2, Burst: 2}, []call{
			{1, hostA, hostB, 0, ""},
			{2, hostA, hostB, 0, ""},
			{3, hostA, hostB, 0, ReasonRate},
			{4, hostA, hostB, 100 * time.Millisecond, ReasonRate},
			{5, hostA, hostB, 500 * time.Millisecond, ""}, // 0.5 s x 2/s = 1 token
			{6, hostA, hostB, 500 * time.Millisecond, ReasonRate},
			{7, hostA, hostB, 100 * time.Millisecond, ReasonRate}, // time going back adds nothing
			{8, hostA, hostB, 10 * time.Second, ""},
			{9, hostA, hostB, 10 * time.Second, ""}, // capped at Burst
			{10, hostA, hostB, 10 * time.Second, ReasonRate},
		}},
		{"deny list wins", Policy{Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, Deny: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("2001:db8::/32")}}, []call{
			{1, hostA, hostB, 0, ReasonDeny},
			{2, hostB, hostA, 0, ReasonDeny},
			{3, hostC, hostA, 0, ReasonDeny},
			{4, hostA, hostD, 0, ""},
			{5, hostD, hostA, 0, ""},
			{6, hostD, netip.MustParseAddr("203.0.113.1"), 0, ReasonNotAllow},
			{7, netip.MustParseAddr("::ffff:10.1.2.3"), hostD, 0, ""}, // v4-mapped matches v4 prefix
		}},
		{"empty allow list allows all", Policy{}, []call{
			{1, hostC, hostD, 0, ""},
			{2, hostB, hostA, 0, ""},
		}},
		{"dry run counts against the caps", Policy{DryRun: true, Burst: 1, GlobalRate: 1}, []call{
			{1, hostA, hostB, 0, ReasonDryRun},
			{1, hostA, hostB, 10 * time.Millisecond, ReasonFlow},
			{2, hostA, hostB, 20 * time.Millisecond, ReasonRate},
			{2, hostA, hostB, 2 * time.Second, ReasonDryRun},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, err := NewLimiter(tc.pol)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]uint64{}
			for i, c := range tc.calls {
				ok, reason := l.Allow(c.flow, c.src, c.dst, t0.Add(c.at))
				if ok != (c.reason == "") || reason != c.reason {
					t.Errorf("call %d (flow %d at %v): Allow = %v %q, want reason %q", i, c.flow, c.at, ok, reason, c.reason)
				}
				if c.reason != "" {
					want[c.reason]++
				}
			}
			got := l.Stats().Suppressed
			for r, n := range want {
				if got[r] != n {
					t.Errorf("suppressed[%s] = %d, want %d", r, got[r], n)
				}
			}
		})
	}
}

func TestLimiterCounters(t *testing.T) {
	l, err := NewLimiter(Policy{})
	if err != nil {
		t.Fatal(err)
	}
	l.RecordSent(2)
	l.RecordSent(1)
	l.RecordFailed(1)
	l.RecordFailed(-3)
	l.RecordSuppressed("queue-full")
	s := l.Stats()
	if s.Sent != 3 || s.Failed != 1 || s.Suppressed["queue-full"] != 1 {
		t.Errorf("stats %+v", s)
	}
	s.Suppressed["queue-full"] = 99
	if l.Stats().Suppressed["queue-full"] != 1 {
		t.Error("Stats shares its map with the Limiter")
	}
	p := l.Policy()
	if p.PerFlowInterval != DefaultPerFlowInterval || p.GlobalRate != DefaultGlobalRate || p.Burst != DefaultBurst || p.MaxFlows != DefaultMaxFlows {
		t.Errorf("defaults not applied: %+v", p)
	}
}

func TestNewLimiterRejects(t *testing.T) {
	for _, pol := range []Policy{
		{PerFlowInterval: -1},
		{GlobalRate: -1},
		{Burst: -1},
		{MaxFlows: -1},
		{Allow: []netip.Prefix{{}}},
		{Deny: []netip.Prefix{{}}},
	} {
		if _, err := NewLimiter(pol); !errors.Is(err, ErrPolicy) {
			t.Errorf("NewLimiter(%+v) = %v, want ErrPolicy", pol, err)
		}
	}
}

func TestLimiterEvictsOldestFlow(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	l, err := NewLimiter(Policy{MaxFlows: 2, PerFlowInterval: time.Hour, GlobalRate: 1e6, Burst: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for flow := uint64(1); flow <= 3; flow++ {
		if ok, r := l.Allow(flow, hostA, hostB, t0); !ok {
			t.Fatalf("flow %d: %s", flow, r)
		}
	}
	if len(l.flows) != 2 || l.lru.Len() != 2 {
		t.Fatalf("%d flows kept, cap 2", len(l.flows))
	}
	// Flow 1 was forgotten, flows 2 and 3 are still held.
	if ok, _ := l.Allow(1, hostA, hostB, t0); !ok {
		t.Error("evicted flow 1 still held")
	}
	if ok, _ := l.Allow(3, hostA, hostB, t0); ok {
		t.Error("flow 3 not held")
	}
}

// TestLimiterSynFlood feeds a real SYN flood (200 packets in 0.2 s) as if
// every packet matched a reset rule, and checks the caps hold over packet
// time: with few flows the per-flow interval binds, with one flow per
// packet the global rate does.
func TestLimiterSynFlood(t *testing.T) {
	cases := []struct {
		name  string
		flows int // packets are keyed on source port modulo flows
		want  func(sent, maxByRate int) bool
	}{
		{"4 flows", 4, func(sent, maxByRate int) bool { return sent == 4 }},
		{"one flow per packet", 1 << 20, func(sent, maxByRate int) bool { return sent == maxByRate }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pol := Policy{PerFlowInterval: time.Second, GlobalRate: 50, Burst: 5}
			l, err := NewLimiter(pol)
			if err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(captures + "sv-syn-flood.pcap")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			r, err := pcapgo.NewReader(f)
			if err != nil {
				t.Fatal(err)
			}
			seed := maphash.MakeSeed()
			var first, last time.Time
			sent, total := 0, 0
			lastByFlow := map[uint64]time.Time{}
			for {
				data, ci, err := r.ReadPacketData()
				if err != nil {
					break
				}
				p := fillPacket(data)
				if !p.TCP.Present {
					continue
				}
				total++
				key := maphash.Comparable(seed, p.TCP.SrcPort%tc.flows)
				if first.IsZero() {
					first = ci.Timestamp
				}
				last = ci.Timestamp
				if ok, _ := l.Allow(key, p.Meta.Src, p.Meta.Dst, ci.Timestamp); ok {
					sent++
					if prev, seen := lastByFlow[key]; seen && ci.Timestamp.Sub(prev) < pol.PerFlowInterval {
						t.Errorf("flow %x answered twice within %v", key, ci.Timestamp.Sub(prev))
					}
					lastByFlow[key] = ci.Timestamp
				}
			}
			if total < 100 {
				t.Fatalf("only %d TCP packets read", total)
			}
			maxByRate := pol.Burst + int(last.Sub(first).Seconds()*pol.GlobalRate)
			if sent > maxByRate || !tc.want(sent, maxByRate) {
				t.Errorf("%d of %d answered over %v; global cap %d", sent, total, last.Sub(first), maxByRate)
			}
			s := l.Stats()
			if got := s.Suppressed[ReasonFlow] + s.Suppressed[ReasonRate]; got != uint64(total-sent) {
				t.Errorf("suppressed %d, want %d", got, total-sent)
			}
		})
	}
}
