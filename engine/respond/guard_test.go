package respond

import (
	"slices"
	"testing"
	"time"

	"github.com/vigil-ids/vigil/rules"
)

// stripTags removes the 802.1Q tags of a frame, as a capturing NIC that
// strips VLAN tags would.
func stripTags(frame []byte, tags int) []byte {
	return append(slices.Clone(frame[:12]), frame[12+4*tags:]...)
}

func TestGuard(t *testing.T) {
	now := time.Unix(1700000000, 0)
	telnet := frameN(t, "sv-telnet.pcap", 4)
	sent, err := Build(fillPacket(telnet), rules.TargetBoth, 1)
	if err != nil {
		t.Fatal(err)
	}
	vlan := withTags(telnet, 0x8100, 7)
	sentVLAN, err := Build(fillPacket(vlan), rules.TargetSource, 0)
	if err != nil {
		t.Fatal(err)
	}
	udp, err := Build(fillPacket(frameN(t, "zeek-ipv6-frag-dns.pcap", 1)), rules.TargetBoth, 0)
	if err != nil {
		t.Fatal(err)
	}
	other, err := Build(fillPacket(frameN(t, "sv-telnet.pcap", 7)), rules.TargetBoth, 0)
	if err != nil {
		t.Fatal(err)
	}

	g := NewGuard(0, 0)
	g.Remember(slices.Concat(sent, sentVLAN, udp), now)

	trimmed := sent[0].Data[:54] // 14 + 20 + 20: without the padding
	padded := append(slices.Clone(sent[1].Data), make([]byte, 40)...)
	cases := []struct {
		name string
		raw  []byte
		at   time.Duration
		want bool
	}{
		{"sent reset", sent[0].Data, time.Second, true},
		{"every sent reset", sent[len(sent)-1].Data, time.Second, true},
		{"sent icmpv6", udp[0].Data, 0, true},
		{"without padding", trimmed, 0, true},
		{"longer padding", padded, 0, true},
		{"vlan tags stripped", stripTags(sentVLAN[0].Data, 1), 0, true},
		{"expired", sent[0].Data, DefaultGuardTTL, false},
		{"reset never sent", other[0].Data, 0, false},
		{"original packet", telnet, 0, false},
		{"one bit differs", flip(sent[0].Data, 14+20+4), 0, false},
		{"truncated", sent[0].Data[:40], 0, false},
		{"not ip", []byte{1, 2, 3}, 0, false},
	}
	for _, tc := range cases {
		if got := g.IsOwn(tc.raw, now.Add(tc.at)); got != tc.want {
			t.Errorf("%s: IsOwn = %v, want %v", tc.name, got, tc.want)
		}
	}
	var zero Guard
	if zero.IsOwn(sent[0].Data, now) {
		t.Error("zero Guard recognises a frame it never saw")
	}
	zero.Remember(sent[:1], now)
	if !zero.IsOwn(sent[0].Data, now) {
		t.Error("zero Guard forgot a frame it remembered")
	}
}

func flip(b []byte, i int) []byte {
	c := slices.Clone(b)
	c[i] ^= 1
	return c
}

func TestGuardEvictsOldest(t *testing.T) {
	now := time.Unix(1700000000, 0)
	frames := readFrames(t, "sv-telnet.pcap")
	var sent []Frame
	for _, raw := range frames {
		fs, err := Build(fillPacket(raw), rules.TargetDest, 0)
		if err == nil {
			sent = append(sent, fs...)
		}
	}
	const size = 4
	if len(sent) < size+2 {
		t.Fatalf("only %d frames built", len(sent))
	}
	g := NewGuard(size, time.Minute)
	for _, f := range sent {
		g.Remember([]Frame{f}, now)
	}
	// Distinct frames only: a retransmission may repeat an earlier reset.
	last := sent[len(sent)-size:]
	for _, f := range last {
		if !g.IsOwn(f.Data, now) {
			t.Errorf("one of the last %d frames forgotten", size)
		}
	}
	for _, f := range sent[:len(sent)-size] {
		if g.IsOwn(f.Data, now) && !slices.ContainsFunc(last, func(l Frame) bool { return slices.Equal(l.Data, f.Data) }) {
			t.Errorf("evicted frame seq %d still recognised", f.Seq)
		}
	}
	if len(g.seen) > size {
		t.Errorf("guard holds %d entries, cap %d", len(g.seen), size)
	}
}

// TestGuardConcurrent remembers and looks up from several goroutines, as
// the writer and the engine workers do (run with -race).
func TestGuardConcurrent(t *testing.T) {
	now := time.Unix(1700000000, 0)
	var sent [][]Frame
	for _, raw := range readFrames(t, "sv-http-testmyids.pcap") {
		if fs, err := Build(fillPacket(raw), rules.TargetBoth, 1); err == nil {
			sent = append(sent, fs)
		}
	}
	g := NewGuard(len(sent)*4, time.Minute)
	done := make(chan bool)
	for _, fs := range sent {
		go func() {
			g.Remember(fs, now)
			ok := true
			for _, f := range fs {
				ok = ok && g.IsOwn(f.Data, now)
			}
			done <- ok
		}()
	}
	for range sent {
		if !<-done {
			t.Error("a goroutine's own frames were not recognised")
		}
	}
}
