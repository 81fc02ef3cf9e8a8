package rules

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-ids/vigil/rules/field"
)

const evalHeader = `
lists:
  admin_ports: [22, 23, 3389]
  bad_domains: ["evil.example", "bad.test"]
macros:
  tcp_syn: tcp.flags.syn && !tcp.flags.ack
  to_admin: tcp.dstport in admin_ports
  admin_syn: tcp_syn && to_admin
  uri: lower(urldecode(http.request.uri))
`

// compileOne compiles one condition (with the lists and macros above) and
// an optional extra rule body.
func compileOne(t testing.TB, cond, extra string) *Rule {
	t.Helper()
	src := evalHeader + "rules:\n  - sid: 7\n    name: t\n    condition: " + cond + "\n" + extra
	set, err := Parse("eval.yaml", []byte(src))
	if err != nil {
		t.Fatalf("%s: %v", cond, err)
	}
	return set.Rules[0]
}

// telnetSYN is a TCP SYN from 10.0.0.5:51000 to 192.168.1.9:23.
func telnetSYN() *field.Packet {
	p := &field.Packet{}
	p.Reset()
	p.Frame = field.Frame{Present: true, Len: 60, CapLen: 60, Number: 1, Bytes: "\x00\x11PASSWD in frame"}
	p.Eth = field.Eth{Present: true, Type: 0x0800}
	p.IP = field.IPv4{Present: true, Src: "10.0.0.5", Dst: "192.168.1.9", TTL: 64, Proto: 6}
	p.TCP = field.TCP{Present: true, SrcPort: 51000, DstPort: 23, Flags: field.TCPFlags{SYN: true}}
	p.SrcIP, p.DestIP, p.SrcPort, p.DestPort, p.Proto = "10.0.0.5", "192.168.1.9", 51000, 23, "TCP"
	return p
}

func TestEval(t *testing.T) {
	tlsHello := "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"
	http := func(p *field.Packet) {
		p.TCP.DstPort, p.DestPort = 80, 80
		p.TCP.Flags = field.TCPFlags{Ack: true, Push: true}
		p.HTTP = field.HTTP{Present: true, Host: "WWW.Example.COM",
			Request: field.HTTPRequest{Present: true, Method: "GET", URI: "/a%20b+c?q=%2e%2E%zz"}}
		p.Payload = "GET /a%20b+c HTTP/1.1\r\nAuthorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l\r\n"
		p.HTTP.Authorization = "Basic YWxhZGRpbjpvcGVuc2VzYW1l"
	}
	v6 := func(p *field.Packet) {
		p.IP = field.IPv4{}
		p.IPv6 = field.IPv6{Present: true, Src: "2001:db8::5", Dst: "2001:db8:1::9", HLim: 64, Nxt: 6}
		p.SrcIP, p.DestIP = "2001:db8::5", "2001:db8:1::9"
	}
	cases := []struct {
		cond string
		prep func(*field.Packet)
		want bool
	}{
		// layer presence rewrite
		{"tcp", nil, true},
		{"udp", nil, false},
		{"!udp && tcp && ip && eth && frame", nil, true},
		{"tcp && tcp.dstport == 23", nil, true},
		{"http.request", http, true},
		{"http.request && http.request.method == \"GET\"", http, true},
		{"http.response", http, false},
		{"tcp.present && !dns.present", nil, true},
		// frame as bytes
		{`frame contains "PASSWD"`, nil, true},
		{`frame contains "nope"`, nil, false},
		{`frame matches "P.SSWD"`, nil, true},
		{`frame startsWith "\x00\x11"`, nil, true},
		{`frame endsWith "frame"`, nil, true},
		{`icontains(frame, "passwd in")`, nil, true},
		{`len(frame) == 17`, nil, true},
		{`byte_at(frame, 1) == 0x11`, nil, true},
		{`frame[2:8] == "PASSWD"`, nil, true},
		// Wireshark habits
		{"tcp.flags.syn == 1", nil, true},
		{"tcp.flags.syn == 0", nil, false},
		{"tcp.flags.ack == 0", nil, true},
		{"tcp.flags.ack != 1", nil, true},
		{"1 == tcp.flags.syn", nil, true},
		{"tcp == 1 && udp == 0", nil, true},
		{"tcp_syn == 1", nil, true},
		// lists and macros
		{"tcp.dstport in admin_ports", nil, true},
		{"tcp.srcport in admin_ports", nil, false},
		{"tcp.dstport not in admin_ports", nil, false},
		{"dns.qry.name in bad_domains", func(p *field.Packet) { p.DNS = field.DNS{Present: true, Qry: field.DNSQuery{Name: "bad.test"}} }, true},
		{"tcp_syn", nil, true},
		{"admin_syn && !to_admin == false", nil, true},
		{"admin_syn", http, false},
		{`uri startsWith "/a b" && len(uri) > 3`, http, true}, // a value macro
		// cidr
		{`cidr(ip.src, "10.0.0.0/8")`, nil, true},
		{`cidr(ip.dst, "10.0.0.0/8")`, nil, false},
		{`cidr(ip.src, "10.0.0.5")`, nil, true},
		{`cidr(ip.src, "10.0.0.4/31") && !cidr(ip.src, "10.0.0.6/31")`, nil, true},
		{`cidr(src_ip, "2001:db8::/32") && !cidr(dest_ip, "2001:db8::/48")`, v6, true},
		{`cidr(ipv6.src, "10.0.0.0/8")`, v6, false},
		{`cidr(ip.src, "10.0.0.0/8")`, v6, false}, // ip.src is "" without IPv4
		{`cidr("::ffff:10.1.2.3", "10.0.0.0/8")`, nil, true},
		{`cidr(ip.src, ip.src + "/32")`, nil, true}, // a prefix built at run time
		// hex, icontains, byte_at, u16, u32, b64decode, urldecode
		{`payload startsWith hex("16 03 01")`, func(p *field.Packet) { p.Payload = tlsHello }, true},
		{`payload contains hex("fc0303")`, func(p *field.Packet) { p.Payload = tlsHello }, true},
		{`payload contains hex("fc:03:04")`, func(p *field.Packet) { p.Payload = tlsHello }, false},
		{`hex(payload[0:0] + "4142") == "AB"`, nil, true}, // hex at run time
		{`icontains(http.host, "example.com")`, http, true},
		{`icontains(http.host, "example.org")`, http, false},
		{`byte_at(payload, 0) == 0x16 && byte_at(payload, 1000) == -1 && byte_at(payload, -1) == -1`, func(p *field.Packet) { p.Payload = tlsHello }, true},
		{`u16(payload, 1) == 0x0301 && u16(payload, 10) == -1`, func(p *field.Packet) { p.Payload = tlsHello }, true},
		{`u32(payload, 5) == 0x010001fc && u32(payload, 7) == 0x01fc0303 && u32(payload, 8) == -1`, func(p *field.Packet) { p.Payload = tlsHello }, true},
		{`b64decode(trimPrefix(http.authorization, "Basic ")) == "aladdin:opensesame"`, http, true},
		{`b64decode("!!") == ""`, nil, true},
		{`urldecode(http.request.uri) == "/a b c?q=..%zz"`, http, true},
		// slices, predicates over constant arrays
		{`frame[-5:] == "frame" && frame[100:] == "" && frame[5:2] == "" && frame[:-100] == ""`, nil, true},
		{`payload[1:3] == hex("03 01")`, func(p *field.Packet) { p.Payload = tlsHello }, true},
		{`any(["x.test", ".example.com"], lower(http.host) endsWith #)`, http, true},
		{`any(bad_domains, lower(http.host) endsWith #)`, http, false},
		{`any(["example.com"], lower(http.host) == # || lower(http.host) endsWith "." + #)`, http, true},
		{`http.host + "/" + http.request.method == "WWW.Example.COM/GET"`, http, true},
		{`all(admin_ports, # > 20) && none(admin_ports, # == tcp.srcport)`, nil, true},
		{`all(admin_ports, # > tcp.dstport)`, nil, false},
		{`upper(http.request.method) == "GET" && lower("ÄB") == "äb"`, http, true},
		// expr built-ins stay available
		{`lower(http.host) endsWith "example.com" && len(http.request.method) == 3`, http, true},
		{`any(["x", "GET"], {# == http.request.method})`, http, true},
	}
	var ev Evaluator
	fast := 0
	for _, tc := range cases {
		// written as a double-quoted YAML scalar
		r := compileOne(t, `"`+strings.ReplaceAll(strings.ReplaceAll(tc.cond, `\`, `\\`), `"`, `\"`)+`"`, "")
		p := telnetSYN()
		if tc.prep != nil {
			tc.prep(p)
		}
		got, err := ev.Eval(r, p)
		if err != nil {
			t.Errorf("%s: %v", tc.cond, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s: got %v, want %v (compiled as %s)", tc.cond, got, tc.want, r.Node)
		}
		// the closures and the VM agree
		if vmGot, err := ev.evalVM(r, p); err != nil || vmGot != got {
			t.Errorf("%s: VM gives %v, %v; Eval %v", tc.cond, vmGot, err, got)
		}
		if r.fast != nil {
			fast++
		}
	}
	t.Logf("%d of %d conditions run as closures", fast, len(cases))
}

// TestEvalStreamView checks that payload content tests on TCP also see
// the stream view, where a match must end in the new bytes.
func TestEvalStreamView(t *testing.T) {
	view := func(data string, n int) func(*field.Packet) {
		return func(p *field.Packet) {
			p.Payload = data[len(data)-n:]
			p.TCP.Reassembled = field.TCPReassembled{Data: data, NewLength: n}
		}
	}
	for _, c := range []struct {
		cond string
		prep func(*field.Packet)
		want bool
	}{
		{`payload contains "EVIL"`, view("xxEVIL!", 3), true},  // split: "E" then "VIL!"
		{`payload contains "EVIL"`, view("xxEVIL!", 1), false}, // wholly in earlier bytes: seen before
		{`payload contains "EVIL"`, view("EVIL", 4), true},
		{`icontains(payload, "evil")`, view("xxEVIL!", 3), true},
		{`icontains(payload, "evil")`, view("xxEVIL!", 1), false},
		{`payload matches "E.IL"`, view("xxEVIL!", 3), true},
		{`lower(payload) contains "evil"`, view("xxEVIL!", 3), true},
		{`lower(payload) contains "evil"`, view("xxEVIL!", 1), false},
		{`upper(payload) contains "EVIL"`, view("xxevil!", 3), true},
		{`lower(payload) matches "e.il"`, view("xxEVIL!", 3), true},
		{`payload contains hex("45 56")`, view("xxEV", 1), true},
		{`payload startsWith "VIL"`, view("xxEVIL!", 3), false}, // the packet's own bytes only
		{`len(payload) == 7`, view("xxEVIL!", 3), false},        // the packet's own length
		{`payload[0:1] == "I"`, view("xxEVIL!", 3), true},
	} {
		p := telnetSYN()
		c.prep(p)
		r := compileOne(t, strconv.Quote(c.cond), "")
		var ev Evaluator
		got, err := ev.Eval(r, p)
		if err != nil || got != c.want {
			t.Errorf("%s: %v %v, want %v", c.cond, got, err, c.want)
		}
		if r.fast == nil {
			t.Errorf("%s: not on the fast path", c.cond)
		}
	}
}

func TestFastPathCoverage(t *testing.T) {
	for _, c := range []struct {
		cond string
		fast bool
	}{
		{"tcp.flags.syn && !tcp.flags.ack && tcp.dstport == 23", true},
		{"admin_syn", true},
		{"tcp && frame contains 'x' && payload startsWith 'y'", true},
		{"dns.qry.name in bad_domains || udp.dstport in [53, 5353]", true},
		{"cidr(ip.src, '10.0.0.0/8') && icontains(http.host, 'x') && byte_at(payload, 3) == 1", true},
		{"len(payload) > 3 && ncf.rate >= 5.5 && ip.ttl + 1 > 64", true},
		{"payload matches 'a.c'", true},
		{"tcp.dstport % 2 == 0", false},
		{"payload[0:2] == 'ab' && payload[-3:] != payload[:1]", true},
		{"b64decode(payload) contains 'x' && upper(urldecode(http.host)) == 'X'", true},
		{"any(['a', 'b'], payload endsWith #) && none(admin_ports, # == tcp.srcport)", true},
		{"cidr(ip.src, ip.dst + '/8')", false},
		{"hex(payload) == 'x'", false},
		{"ip.ttl > 1 ? tcp : udp", false},
		{"any(split(payload, ','), # == 'a')", false},
	} {
		r := compileOne(t, `"`+c.cond+`"`, "")
		if (r.fast != nil) != c.fast {
			t.Errorf("%s: fast path %v, want %v", c.cond, r.fast != nil, c.fast)
		}
	}
}

func TestEvalExceptions(t *testing.T) {
	extra := `    exceptions:
      - {field: ip.src, values: ["192.168.0.0/16", "10.0.0.6"]}
      - {field: src_ip, values: ["2001:db8::5"]}
      - {field: tcp.srcport, values: [4444]}
      - {field: http.host, values: [skip.example]}
`
	r := compileOne(t, "tcp", extra)
	cases := []struct {
		name string
		prep func(*field.Packet)
		want bool
	}{
		{"no exception applies", nil, true},
		{"source in a CIDR", func(p *field.Packet) { p.IP.Src, p.SrcIP = "192.168.7.7", "192.168.7.7" }, false},
		{"source is an excepted address", func(p *field.Packet) { p.IP.Src, p.SrcIP = "10.0.0.6", "10.0.0.6" }, false},
		{"neighbour of an excepted address", func(p *field.Packet) { p.IP.Src, p.SrcIP = "10.0.0.7", "10.0.0.7" }, true},
		{"IPv6 source, other text form", func(p *field.Packet) { p.IP = field.IPv4{}; p.SrcIP = "2001:0db8::0005" }, false},
		{"excepted port", func(p *field.Packet) { p.TCP.SrcPort = 4444 }, false},
		{"excepted string", func(p *field.Packet) { p.HTTP.Host = "skip.example" }, false},
		{"condition false", func(p *field.Packet) { p.TCP.Present = false }, false},
	}
	var ev Evaluator
	for _, tc := range cases {
		p := telnetSYN()
		if tc.prep != nil {
			tc.prep(p)
		}
		got, err := ev.Eval(r, p)
		if err != nil || got != tc.want {
			t.Errorf("%s: got %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	if r.Condition != "tcp" {
		t.Errorf("Condition %q, want the condition as written", r.Condition)
	}
}

func TestEvalFlowbits(t *testing.T) {
	src := `rules:
  - sid: 1
    name: sets
    condition: tcp.flags.syn
    flowbits: {set: [login_seen]}
  - sid: 2
    name: tests
    condition: isset("login_seen") && notset("other")
`
	set, err := Parse("fb.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	login, other := set.Flowbits["login_seen"], set.Flowbits["other"]
	if login == other || set.BySID(1).FlowbitsSet != 1<<login {
		t.Fatalf("flowbits %v, set mask %b", set.Flowbits, set.BySID(1).FlowbitsSet)
	}
	var ev Evaluator
	p := telnetSYN()
	for _, c := range []struct {
		bits int
		want bool
	}{
		{0, false},
		{1 << login, true},
		{1<<login | 1<<other, false},
		{1 << other, false},
	} {
		p.Flow.Bits = c.bits
		if got, err := ev.Eval(set.BySID(2), p); err != nil || got != c.want {
			t.Errorf("flow.bits %b: %v, %v; want %v", c.bits, got, err, c.want)
		}
	}
}

func TestEvalRuntimeError(t *testing.T) {
	r := compileOne(t, "tcp.dstport % tcp.srcport == 0", "")
	p := telnetSYN()
	p.TCP.SrcPort = 0
	var ev Evaluator
	got, err := ev.Eval(r, p)
	if err == nil || got {
		t.Fatalf("got %v, %v; want an error", got, err)
	}
	if !errors.Is(err, ErrEval) || !strings.Contains(err.Error(), "sid 7") {
		t.Errorf("error %q does not wrap ErrEval with the sid", err)
	}
	// the evaluator is still usable
	p.TCP.SrcPort = 1
	if got, err := ev.Eval(r, p); err != nil || !got {
		t.Errorf("after an error: %v, %v", got, err)
	}
	r2 := compileOne(t, `payload[5:] == "x"`, "")
	if _, err := ev.Eval(r2, p); err != nil {
		t.Logf("slice beyond the end: %v", err) // either way, no panic
	}
}

func TestTemplate(t *testing.T) {
	r := compileOne(t, "tcp", `    message: "telnet to {{dest_ip}}:{{ dest_port }} from {{src_ip}} syn={{tcp.flags.syn}} host={{lower(http.host)}} {{ncf.rate}}{{frame.number + 1}}"
`)
	p := telnetSYN()
	p.HTTP.Host = "A.Example"
	p.NCF.Rate = 5.5
	got := r.Message.Render(p)
	want := "telnet to 192.168.1.9:23 from 10.0.0.5 syn=true host=a.example 5.52"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !strings.HasPrefix(r.Message.String(), "telnet to {{dest_ip}}") {
		t.Errorf("String() %q", r.Message.String())
	}
	r = compileOne(t, "tcp", "    message: plain text\n")
	if got := r.Message.Render(p); got != "plain text" {
		t.Errorf("plain: %q", got)
	}
	if r = compileOne(t, "tcp", ""); r.Message != nil {
		t.Errorf("no message: %v", r.Message)
	}
	r = compileOne(t, "tcp", "    message: \"{{1 % tcp.window_size_value}}!\"\n")
	if got := r.Message.Render(p); got != "<error>!" {
		t.Errorf("failing placeholder: %q", got)
	}
}

func BenchmarkEval(b *testing.B) {
	payload := strings.Repeat("abcdefghij", 49) + "passwd" + "xxxx"
	cases := []struct{ name, cond string }{
		{"header", "tcp.flags.syn && !tcp.flags.ack && tcp.dstport == 23"},
		{"header_list_macro", "admin_syn"},
		{"payload_contains", `payload contains "passwd"`},
		{"cidr", `cidr(ip.src, "10.0.0.0/8")`},
	}
	for _, c := range cases {
		for _, vm := range []bool{false, true} {
			name := c.name
			if vm {
				name += "/vm"
			}
			b.Run(name, func(b *testing.B) {
				r := compileOne(b, c.cond, "")
				if r.fast == nil {
					b.Fatal("no fast path")
				}
				if vm {
					r.fast = nil
				}
				p := telnetSYN()
				p.Payload = payload
				var ev Evaluator
				b.ReportAllocs()
				for b.Loop() {
					if ok, err := ev.Eval(r, p); !ok || err != nil {
						b.Fatal(ok, err)
					}
				}
			})
		}
	}
}

// TestEvalConcurrent runs one Set from several goroutines, each with its
// own Evaluator, as the engine's workers do (meaningful under -race).
func TestEvalConcurrent(t *testing.T) {
	vmRule := compileOne(t, `"cidr(ip.src, ip.src + '/32') && tcp.dstport % 2 == 1"`, "    message: \"{{src_ip}}\"\n")
	fastRule := compileOne(t, `"cidr(ip.src, '10.0.0.0/8') && tcp.dstport in admin_ports"`, "")
	if vmRule.fast != nil || fastRule.fast == nil {
		t.Fatal("want one rule on each path")
	}
	done := make(chan error)
	for g := 0; g < 4; g++ {
		go func() {
			var ev Evaluator
			p := telnetSYN()
			for i := 0; i < 200; i++ {
				for _, r := range []*Rule{vmRule, fastRule} {
					if ok, err := ev.Eval(r, p); !ok || err != nil {
						done <- errors.New("no match")
						return
					}
				}
				if vmRule.Message.Render(p) != "10.0.0.5" {
					done <- errors.New("render")
					return
				}
			}
			done <- nil
		}()
	}
	for g := 0; g < 4; g++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// BenchmarkLoad compiles the peer rule sets of 1,000 rules (testdata/peer,
// each content form users write): rule loading is part of every `vigil
// test` run.
func BenchmarkLoad(b *testing.B) {
	for _, form := range []string{"icontains", "lower", "regex"} {
		path := filepath.Join("..", "testdata", "peer", form+"-1000.yaml")
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(form, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(path, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
