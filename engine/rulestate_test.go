package engine

import (
	"strconv"
	"testing"

	"github.com/vigil-ids/vigil/engine/stream"
)

// TestStreamWindow checks the earlier bytes a rule set needs in stream
// views: the longest payload literal less one, all of them for a regex or
// the field written out.
func TestStreamWindow(t *testing.T) {
	for _, c := range []struct {
		cond string
		want int
	}{
		{`tcp.dstport == 1`, 0},
		{`payload contains "EVIL"`, 3},
		{`icontains(payload, "abcdef") && tcp`, 5},
		{`payload contains "ab" || payload contains "abcdefgh"`, 7},
		{`payload matches "E.IL"`, stream.MaxWindow},
		{`tcp.reassembled.data contains "x"`, stream.MaxWindow},
		{`len(payload) > 3 && payload startsWith "GET"`, 0},
		{`http.request.uri contains "/admin/"`, 0},
	} {
		set := mustParse(t, "rules:\n  - sid: 1\n    name: t\n    condition: "+strconv.Quote(c.cond)+"\n")
		if got := newRuleState(set, 1).window; got != c.want {
			t.Errorf("%s: window %d, want %d", c.cond, got, c.want)
		}
	}
}

// TestReadsText checks which rule sets make the workers write address
// text before the prefilter: those with a condition that reads an
// address text field in any form, and no other.
func TestReadsText(t *testing.T) {
	for _, c := range []struct {
		cond string
		want bool
	}{
		{`ip.src == "10.0.0.1"`, true},
		{`src_ip startsWith "192.168."`, true},
		{`eth.dst == "ff:ff:ff:ff:ff:ff"`, true},
		{`arp.src.hw_mac contains "00:11"`, true},
		{`tcp && tunnel.dest_ip == "10.1.1.1"`, true},
		{`ipv6.src endsWith "::1"`, true},
		{`ip["dst"] == "10.0.0.2"`, true},
		{`len(wlan.sa) > 0`, true},
		{`tcp.dstport == 80 && payload contains "x"`, false},
		{`ip.ttl < 5 && ip.proto == 6`, false},
		{`http.request.uri contains "/admin/"`, false},
	} {
		set := mustParse(t, "rules:\n  - sid: 1\n    name: t\n    condition: "+strconv.Quote(c.cond)+"\n")
		if got := newRuleState(set, 1).text; got != c.want {
			t.Errorf("%s: reads address text %v, want %v", c.cond, got, c.want)
		}
	}
}
