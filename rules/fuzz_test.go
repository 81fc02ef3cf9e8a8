package rules

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/vigil-ids/vigil/rules/dfilter"
	"github.com/vigil-ids/vigil/rules/field"
)

// FuzzParse feeds arbitrary bytes to Parse: it must never panic, must
// return either a Set or an ErrorList, and every compiled rule must
// evaluate without panicking.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/lint/*.yaml")
	more, _ := filepath.Glob("testdata/lint/*/*.y*ml")
	for _, name := range append(files, more...) {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(evalHeader + "rules:\n  - sid: 7\n    name: t\n    condition: admin_syn && frame contains hex(\"00 11\")\n    message: \"{{src_ip}}\"\n"))
	f.Add([]byte(rule1(">\n      tcp &&\n      tcp.dstprt == 1")))
	f.Add([]byte("macros:\n  a: &x b\n  b: *x\n"))
	f.Add([]byte(rule1(`"byte_at(payload, 1) == 1 && u32(frame, 0) > 0"`) + "    exceptions:\n      - {field: ip.src, values: [\"10.0.0.0/8\"]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := Parse("f.yaml", data)
		if (set == nil) == (err == nil) {
			t.Fatalf("set %v and error %v", set, err)
		}
		if err != nil {
			if _, ok := err.(ErrorList); !ok {
				t.Fatalf("error %T", err)
			}
			return
		}
		var ev Evaluator
		p := &field.Packet{}
		p.Reset()
		q := telnetSYN()
		for _, r := range set.Rules {
			for _, pkt := range []*field.Packet{p, q} {
				got, err := ev.Eval(r, pkt)
				if vm, vmErr := ev.evalVM(r, pkt); r.fast != nil && (vm != got || vmErr != nil || err != nil) {
					t.Fatalf("%s: closures %v, VM %v, %v", r.Condition, got, vm, vmErr)
				}
			}
			if r.Message != nil {
				_ = r.Message.Render(p)
			}
		}
	})
}

// FuzzCondition compiles arbitrary conditions and, when one compiles,
// checks that the closure path and the VM agree on packets built from the
// fuzzed values.
func FuzzCondition(f *testing.F) {
	for _, c := range []string{
		"tcp.flags.syn && !tcp.flags.ack && tcp.dstport in admin_ports",
		`payload contains "ab" || frame matches "x.y"`,
		`cidr(ip.src, "10.0.0.0/8") && icontains(http.host, "EX")`,
		`byte_at(payload, 2) == 1 && u16(payload, 0) > 256 || u32(frame, 1) < 0`,
		`payload[1:-1] startsWith "b" && len(payload) >= 3`,
		`any(bad_domains, lower(dns.qry.name) endsWith "." + #)`,
		`urldecode(payload) == b64decode(http.host) + "x"`,
		`tcp.flags.syn == 1 && ncf.rate > 1.5 && tcp.dstport - 1 == 22`,
		`vlan.id == 300 || mpls.label in [16, 17] && vlan.id != tcp.dstport || vlan.id + 1 > 7`,
	} {
		f.Add(c, "ab\x01\x02cd", "10.1.2.3", 23, true)
	}
	f.Fuzz(func(t *testing.T, cond, payload, addr string, port int, syn bool) {
		src := evalHeader + "rules:\n  - sid: 7\n    name: t\n    condition: " + strconv.Quote(cond) + "\n"
		set, err := Parse("f.yaml", []byte(src))
		if err != nil {
			return
		}
		r := set.Rules[0]
		if r.fast == nil {
			return
		}
		p := telnetSYN()
		p.Payload, p.Frame.Bytes = payload, payload+"frame"
		p.IP.Src, p.SrcIP, p.HTTP.Host, p.DNS.Qry.Name = addr, addr, addr, addr
		p.TCP.DstPort, p.TCP.Flags.SYN = port, syn
		p.VLAN.Present, p.VLAN.ID = true, port // two 802.1Q tags: port, then 300
		p.VLAN.IDs.Add(port)
		p.VLAN.IDs.Add(300)
		var ev Evaluator
		got, _ := ev.Eval(r, p)
		vm, err := ev.evalVM(r, p)
		if err != nil || vm != got {
			t.Fatalf("%s: closures %v, VM %v, %v", cond, got, vm, err)
		}
	})
}

// FuzzParseFilter checks that every display filter dfilter translates
// compiles, and that the rule evaluates without error on a packet.
func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		"tcp.port in {22, 23} && ip.addr == 10.0.0.0/8", `frame[-4:] == 00:00:00:00 or http.host ~ "x"`,
		"vlan.id !== 1 xor len(frame) > 60", `tcp.payload contains "GET" && !(eth.addr == ff:ff:ff:ff:ff:ff)`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, filter string) {
		if _, err := dfilter.Translate(filter); err != nil {
			return
		}
		set, err := ParseFilter(filter)
		if err != nil {
			t.Fatalf("%q translates but does not compile: %v", filter, err)
		}
		var ev Evaluator
		if _, err := ev.Eval(set.Rules[0], telnetSYN()); err != nil {
			t.Fatalf("%q: %v", filter, err)
		}
	})
}
