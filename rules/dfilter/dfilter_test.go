package dfilter

import (
	"errors"
	"testing"
)

// TestTranslate checks the condition each kind of filter becomes.
func TestTranslate(t *testing.T) {
	for _, c := range []struct{ filter, want string }{
		// an absent field compares false: the layer guards the test
		{"ip.ttl < 10", "(ip && ip.ttl < 10)"},
		{"tcp.flags.syn==1 && tcp.flags.ack==0", "((tcp && tcp.flags.syn == true) && (tcp && tcp.flags.ack == false))"},
		{"not ip or tcp", "(!(ip) || tcp)"},
		{"ip and tcp or udp", "((ip && tcp) || udp)"},
		{"ip || tcp && udp", "(ip || (tcp && udp))"},
		{"ip xor tcp", "(ip != tcp)"},
		{"http.host", `(http && http.host != "")`},
		// either-side fields: any side for ==, both for != (4.0's all_ne)
		{"ip.addr == 10.0.0.1", `(ip && (ip.src == "10.0.0.1" || ip.dst == "10.0.0.1"))`},
		{"ip.addr != 10.0.0.1", `(ip && (ip.src != "10.0.0.1" && ip.dst != "10.0.0.1"))`},
		{"udp.port === 53", "(udp && (udp.srcport == 53 && udp.dstport == 53))"},
		{"tcp.port !== 80", "(tcp && (tcp.srcport != 80 || tcp.dstport != 80))"},
		{"eth.addr eq FF-FF-FF-FF-FF-FF", `(eth && (eth.src == "ff:ff:ff:ff:ff:ff" || eth.dst == "ff:ff:ff:ff:ff:ff"))`},
		// a field with several values: == any, != none (the rules compiler rewrites), === all, !== some
		{"vlan.id == 200", "(vlan && vlan.id == 200)"},
		{"vlan.id != 200", "(vlan && vlan.id != 200)"},
		{"vlan.id === 200", "(vlan && !(vlan.id < 200 || vlan.id > 200))"},
		{"vlan.id !== 200", "(vlan && (vlan.id < 200 || vlan.id > 200))"},
		// sets, ranges, prefixes
		{"tcp.dstport in {22, 23, 3389}", "(tcp && tcp.dstport in [22, 23, 3389])"},
		{"tcp.dstport in {22 23 1000..2000}", "(tcp && (tcp.dstport in [22, 23] || (tcp.dstport >= 1000 && tcp.dstport <= 2000)))"},
		{"frame.len in {60 .. 70}", "(frame.len >= 60 && frame.len <= 70)"},
		{"ip.src==10.1.2.3/8", `(ip && cidr(ip.src, "10.0.0.0/8"))`},
		{"ip.dst != 10.0.0.0/8", `(ip && !cidr(ip.dst, "10.0.0.0/8"))`},
		{"ipv6.src == 2001:DB8:0::1", `(ipv6 && ipv6.src == "2001:db8::1")`},
		{"ip.src in {10.0.0.0/8, 1.2.3.4}", `(ip && (ip.src in ["1.2.3.4"] || cidr(ip.src, "10.0.0.0/8")))`},
		// bytes, strings, slices
		{`frame contains "passwd"`, `(frame && frame.bytes contains "passwd")`},
		{"tcp.payload contains 47.45.54", `((tcp && payload != "") && payload contains "GET")`},
		{"udp.payload[0] == 0xff", `((udp && payload != "") && (byte_at(payload, 0) >= 0 && payload startsWith hex("ff")))`},
		{"data.data[2-3] == 0a0d", `((data && data.data != "") && (byte_at(data.data, 3) >= 0 && data.data[2:] startsWith hex("0a0d")))`},
		{"frame[:2] == aa:bb", `(frame && (byte_at(frame.bytes, 1) >= 0 && frame.bytes startsWith hex("aabb")))`},
		// a slice equal to a literal of its length is a prefix, which the prefilter indexes; otherwise it stays a slice
		{"frame[2:3] == aa:bb", `(frame && (byte_at(frame.bytes, 4) >= 0 && frame.bytes[2:5] == hex("aabb")))`},
		{`tcp.payload[0:4] != "GET "`, `((tcp && payload != "") && (byte_at(payload, 3) >= 0 && payload[0:4] != "GET "))`},
		{"frame[10:] contains 00", `(frame && (byte_at(frame.bytes, 10) >= 0 && frame.bytes[10:] contains hex("00")))`},
		{"frame[-4:2] == 01:02", `(frame && (byte_at(frame.bytes[-4:], 3) >= 0 && frame.bytes[-4:-2] == hex("0102")))`},
		{"frame[-4:] == 01:02:03:04", `(frame && (byte_at(frame.bytes[-4:], 3) >= 0 && frame.bytes[-4:] == hex("01020304")))`},
		{`http.request.method == "\x48\105AD\""`, `(http.request && http.request.method != "") && http.request.method == "HEAD\""`},
		{`http.request.uri matches r"\.php$"`, `((http.request && http.request.uri != "") && http.request.uri matches "(?i)\\.php$")`},
		{`http.user_agent ~ "curl"`, `((http && http.user_agent != "") && http.user_agent matches "(?i)curl")`},
		{`lower(http.host) contains "example"`, `((http && http.host != "") && lower(http.host) contains "example")`},
		{"len(frame) == 54", "(frame && frame.cap_len == 54)"},
		{"len(http.host) > 0x10", `((http && http.host != "") && len(http.host) > 16)`},
		// numbers and fields
		{"ip.ttl == 0100 || ip.ttl == 0b1 || frame.len > 'A'", "(((ip && ip.ttl == 64) || (ip && ip.ttl == 1)) || frame.len > 65)"},
		{"tcp.flags & 0x12", "(tcp && bitand(tcp.flags.raw, 18) != 0)"},
		{"tcp.flags & 0x12 == 0x12", "(tcp && bitand(tcp.flags.raw, 18) == 18)"},
		{"tcp.flags & 0x02 != 0", "(tcp && bitand(tcp.flags.raw, 2) != 0)"},
		{"tcp.srcport > tcp.dstport", "(tcp && tcp.srcport > tcp.dstport)"},
		{"ncf.rate >= 5.5", "ncf.rate >= 5.5"},
		// a slice of a MAC address is a slice of its text, compared with text written the same way
		{"eth.src[0:3] == 00:11:2A", `(eth && eth.src[0:8] == "00:11:2a")`},
		{"eth.addr[-1] != 0x01", `(eth && (eth.src[15:17] != "01" && eth.dst[15:17] != "01"))`},
		{"eth.dst[2-3] >= eth.src[4:]", "(eth && eth.dst[6:11] >= eth.src[12:17])"},
		{`eth.src[0:3] contains "\x11"`, `(eth && eth.src[0:8] contains "11")`},
		{"len(eth.dst) == 6", "(eth && 6 == 6)"},
	} {
		got, err := Translate(c.filter)
		if err != nil {
			t.Errorf("%s: %v", c.filter, err)
			continue
		}
		if got != c.want && "("+c.want+")" != got {
			t.Errorf("%s:\n got %s\nwant %s", c.filter, got, c.want)
		}
	}
}

// TestErrors checks that a bad filter is refused at the right column.
func TestErrors(t *testing.T) {
	for _, c := range []struct {
		filter string
		want   string
		field  string
	}{
		{"tcp.dstprt == 80", `1:1: unknown field "tcp.dstprt"`, "tcp.dstprt"},
		{"tcp.port == tcp.dstprt", `1:13: unknown field "tcp.dstprt"`, "tcp.dstprt"},
		{"ip.src == 10.0.0.300", "1:11: 10.0.0.300 is not an IPv4 address", ""},
		{"ip.src == fe80::1", "1:11: fe80::1 is not an IPv4 address", ""},
		{"ip.src > 10.0.0.1", "1:8: > cannot be used on ip.src, which is an IPv4 address", ""},
		{"ip.src == 10.0.0.0/8 or\n  tcp.port == x", "2:15: x is not an integer", ""},
		{`http.host matches "a(?=b)"`, "1:19: pattern not supported (Go regexp syntax): error parsing regexp: invalid or unsupported Perl syntax: `(?=`", ""},
		{"tcp contains 00", "1:5: the bytes of tcp are not available (frame's, tcp.payload and udp.payload are)", ""},
		{"tcp.port in {80", "1:16: unexpected end of filter", ""},
		{"tcp.port == 80)", `1:15: unexpected ")"`, ""},
		{"tcp.port == {80}", "1:13: arithmetic is not supported", ""},
		{`http.host == "abc`, "1:14: unterminated string", ""},
		{"frame[1,3] == 00", "1:6: slices joined with commas are not supported", ""},
		{"frame[x] == 00", "1:6: bad slice [x]: [i:j], [i-j], [i], [:j] or [i:]", ""},
		{"80 == tcp.port", "1:1: a test starts with a field, not 80", ""},
		{"count(vlan.id) == 2", "1:1: function count is not supported (len, lower and upper are)", ""},
		{"vlan.id == mpls.label", "1:9: a field that occurs several times is compared with values, not with another field", ""},
		{"ip.ttl € 1", `1:8: unexpected '€'`, ""},
		{"ip.ttl / 2 == 32", "1:8: arithmetic (+ - * / %) is not supported", ""},
		{"tcp.srcport+1 == 81", "1:12: arithmetic (+ - * / %) is not supported", ""},
		{"tcp.srcport - tcp.dstport > 0", "1:13: arithmetic (+ - * / %) is not supported", ""},
		{"tcp.srcport == ${tcp.dstport}", "1:16: field references ${...} are not supported (they read the packet selected in Wireshark, which a rule has not)", ""},
		{"ip.src#2 == 10.0.0.1", "1:7: the layer operator # is not supported", ""},
		{"max(tcp.srcport, tcp.dstport) > 0", "1:1: function max is not supported (len, lower and upper are)", ""},
		{"eth.src == aa:bb:cc", "1:12: aa:bb:cc is not a MAC address", ""},
		{"eth.src[4:3] == 00", "1:8: [4:3] is not inside the 6 bytes of eth.src", ""},
		{`eth.src[0:3] matches "a"`, "1:14: matches cannot be used on eth.src, which is bytes", ""},
		{"ip.src[0:2] == 0a:00", "1:7: only strings, bytes and MAC addresses can be sliced, and ip.src is an IPv4 address", ""},
	} {
		_, err := Translate(c.filter)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%q: error %v, want %s", c.filter, err, c.want)
			continue
		}
		if e.Error() != c.want || e.Field != c.field {
			t.Errorf("%q: %s (field %q), want %s (field %q)", c.filter, e, e.Field, c.want, c.field)
		}
	}
}
