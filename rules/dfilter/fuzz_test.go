package dfilter

import (
	"errors"
	"testing"

	exprparser "github.com/expr-lang/expr/parser"
)

// FuzzTranslate checks that any filter either translates into a condition
// that expr parses, or is refused with an *Error placed inside the filter.
func FuzzTranslate(f *testing.F) {
	for _, s := range []string{
		"tcp.flags.syn==1 && tcp.flags.ack==0", `dns.qry.name contains "example"`, "ssh.protocol",
		"ip.src==10.0.0.0/8", "tcp.dstport in {22, 23, 3389}", "eth.dst==ff:ff:ff:ff:ff:ff",
		`frame matches "(?-i)HTTP/1\\.[01]"`, "tcp.payload[0:4] == 47:45:54:20", "frame[-4:] == 0.1.2.3",
		"not (ip.addr != 192.168.0.0/16 xor udp.port === 53)", `http.request.method == "\x48\105AD"`,
		"vlan.id !== 200 || len(http.host) > 0x10", "tcp.port in {80 443 1000..2000}", "frame[2-3] == 'a'",
		`lower(http.user_agent) ~ r"\d+"`, "ipv6.addr == fe80::/10 && tcp.flags & 0x12",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, filter string) {
		src, err := Translate(filter)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Line < 1 || e.Col < 1 {
				t.Fatalf("%q: error %v is no *Error with a position", filter, err)
			}
			return
		}
		if _, err := exprparser.Parse(src); err != nil {
			t.Fatalf("%q became %q, which expr cannot parse: %v", filter, src, err)
		}
	})
}
