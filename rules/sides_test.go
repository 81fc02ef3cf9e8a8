package rules

import "testing"

// TestSides checks either-side names in conditions and the Wireshark
// semantics of display filters, on a TCP SYN from 10.0.0.5:51000 to
// 192.168.1.9:23.
func TestSides(t *testing.T) {
	for _, c := range []struct {
		kind, src string
		want      bool
	}{
		{"condition", "tcp.port == 23", true},
		{"condition", "tcp.port == 51000", true},
		{"condition", "23 == tcp.port", true},
		{"condition", "tcp.port == 80", false},
		{"condition", "tcp.port != 23", false},
		{"condition", "tcp.port != 80", true},
		{"condition", "tcp.port in [80, 23]", true},
		{"condition", "udp.port == 0", true}, // an absent layer's fields are zero in conditions
		{"condition", `ip.addr == "192.168.1.9"`, true},
		{"condition", `cidr(ip.addr, "10.0.0.0/8")`, true},
		{"condition", `cidr(ip.addr, "172.16.0.0/12")`, false},
		{"condition", `eth.addr contains "ff"`, false},
		{"wireshark", "tcp.port == 23", true},
		{"wireshark", "tcp.port != 23", false},
		{"wireshark", "tcp.port !== 23", true},
		{"wireshark", "tcp.port === 23", false},
		{"wireshark", "udp.port == 0", false}, // a Wireshark comparison on an absent field is false
		{"wireshark", "udp.port != 53", false},
		{"wireshark", "not udp.port == 53", true},
		{"wireshark", "ip.addr == 10.0.0.0/8 and ip.dst != 10.0.0.0/8", true},
		{"wireshark", "tcp.flags.syn == 1 and tcp.flags.ack == 0 and tcp.dstport in {21..23}", true},
		{"wireshark", `frame contains "PASSWD" and frame matches "passwd in"`, true},
		{"wireshark", `frame matches "(?-i)passwd"`, false},
		{"wireshark", "ip.ttl < 10", false},
		{"wireshark", "icmp.type == 0", false},
	} {
		set, err := Parse("t.yaml", []byte("rules:\n  - sid: 1\n    name: t\n    "+c.kind+": '"+c.src+"'\n"))
		if err != nil {
			t.Errorf("%s %s: %v", c.kind, c.src, err)
			continue
		}
		var ev Evaluator
		if got, err := ev.Eval(set.Rules[0], telnetSYN()); err != nil || got != c.want {
			t.Errorf("%s %s: %v %v, want %v", c.kind, c.src, got, err, c.want)
		}
	}
}
