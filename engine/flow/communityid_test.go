package flow

import (
	"net/netip"
	"testing"

	"github.com/vigil-ids/vigil/rules/field"
)

// TestCommunityIDBaseline checks the reference vectors of the Community
// ID specification (baseline/baseline_deflt.json, seed 0). For ICMP the
// "ports" of the baseline are the type and code of the packet.
func TestCommunityIDBaseline(t *testing.T) {
	cases := []struct {
		proto        int
		src, dst     string
		sport, dport int
		want         string
	}{
		{58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 0, "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="},
		{58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 0, "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="},
		{58, "3ffe:501:1800:2345::2", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0, "1:2ObVBgIn28oZvibYZhZMBgh7WdQ="},
		{58, "3ffe:501:410:0:2c0:dfff:fe47:33e", "3ffe:507:0:1:200:86ff:fe05:80da", 1, 4, "1:hLZd0XGWojozrvxqE0dWB1iM6R0="},
		{58, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:501:0:1001::2", 128, 0, "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg="},
		{58, "3ffe:501:0:1001::2", "3ffe:507:0:1:200:86ff:fe05:80da", 129, 0, "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg="},
		{58, "fe80::200:86ff:fe05:80da", "ff02::2", 133, 0, "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0="},
		{58, "fe80::260:97ff:fe07:69ea", "ff02::1", 134, 0, "1:pkvHqCL88/tg1k4cPigmZXUtL00="},
		{1, "192.168.0.89", "192.168.0.1", 8, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="},
		{1, "192.168.0.1", "192.168.0.89", 0, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="},
		{1, "10.0.0.1", "10.0.0.2", 11, 0, "1:YHxtAirCG//0OzkcVAukqKQN9xM="},
		{6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="},
		{6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943, "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="},
		{132, "192.168.170.8", "192.168.170.56", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="},
		{132, "192.168.170.56", "192.168.170.8", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="},
		{6, "128.232.110.120", "66.35.250.204", 34855, 80, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
		{6, "66.35.250.204", "128.232.110.120", 80, 34855, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
		{17, "192.168.1.52", "8.8.8.8", 54585, 53, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="},
		{17, "8.8.8.8", "192.168.1.52", 53, 54585, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="},
		{46, "10.1.12.1", "10.1.12.2", 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="},
		{46, "10.1.12.2", "10.1.12.1", 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="},
	}
	for _, c := range cases {
		var p field.Packet
		p.Reset()
		p.Meta.Src, p.Meta.Dst = netip.MustParseAddr(c.src), netip.MustParseAddr(c.dst)
		p.Meta.IPProto = c.proto
		switch c.proto {
		case 6, 17:
			p.SrcPort, p.DestPort = c.sport, c.dport
		case 1:
			p.ICMP.Present, p.ICMP.Type, p.ICMP.Code = true, c.sport, c.dport
		case 58:
			p.ICMPv6.Present, p.ICMPv6.Type, p.ICMPv6.Code = true, c.sport, c.dport
		case 132: // SCTP ports come from the header bytes.
			p.Meta.Raw = []byte{byte(c.sport >> 8), byte(c.sport), byte(c.dport >> 8), byte(c.dport), 0, 0, 0, 0}
			p.Meta.L4 = 0
		}
		if got := CommunityID(&p, 0); got != c.want {
			t.Errorf("%d %s %d -> %s %d: %s, want %s", c.proto, c.src, c.sport, c.dst, c.dport, got, c.want)
		}
	}
	var none field.Packet
	none.Reset()
	if got := CommunityID(&none, 0); got != "" {
		t.Errorf("no IP: %q", got)
	}
}

func TestAppendCommunityIDDoesNotAllocate(t *testing.T) {
	p := pkt(6, "10.0.0.1", 1, "10.0.0.2", 2, 0)
	buf := make([]byte, 0, CommunityIDLen)
	if n := testing.AllocsPerRun(100, func() { buf = AppendCommunityID(buf[:0], p, 0) }); n != 0 {
		t.Errorf("AppendCommunityID allocates %v times", n)
	}
	if len(buf) != CommunityIDLen {
		t.Errorf("length %d", len(buf))
	}
}
