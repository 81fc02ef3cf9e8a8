package rules

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ids/vigil/rules/field"
)

// rule1 is a one-rule file whose condition starts at line 4, column 16.
func rule1(cond string) string {
	return "rules:\n  - sid: 1\n    name: t\n    condition: " + cond + "\n"
}

func TestCompileErrors(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want []string
	}{
		{"unknown field", rule1(`tcp.dstprt == 23`),
			[]string{`t.yaml:4:16: unknown field "tcp.dstprt" (did you mean "tcp.dstport"?)`}},
		{"unknown field deep in expression", rule1(`tcp && udp.srcprt > 1`),
			[]string{`t.yaml:4:23: unknown field "udp.srcprt" (did you mean "udp.srcport"?)`}},
		{"unknown layer", rule1(`tpc.dstport == 23`),
			[]string{`t.yaml:4:16: unknown field "tpc.dstport" (did you mean "tcp.dstport"?)`}},
		{"a field's name cut short", rule1(`tcp.src == 23`),
			[]string{`t.yaml:4:16: unknown field "tcp.src" (did you mean "tcp.srcport"?)`}},
		{"a field's name cut short, with a typo-near field", rule1(`udp.dst == 53`),
			[]string{`t.yaml:4:16: unknown field "udp.dst" (did you mean "udp.dstport"?)`}},
		{"unknown identifier", rule1(`tpc`),
			[]string{`t.yaml:4:16: unknown identifier "tpc" (did you mean "tcp"?)`}},
		{"unknown function", rule1(`foo(1)`),
			[]string{`t.yaml:4:16: unknown identifier "foo"`}},
		{"type mismatch keeps the operator position", rule1(`tcp.dstport == "x"`),
			[]string{`t.yaml:4:28: invalid operation: == (mismatched types int and string)`}},
		{"double-quoted scalar", rule1(`"tcp.dstport == \"x\""`),
			[]string{`t.yaml:4:29: invalid operation: == (mismatched types int and string)`}},
		{"single-quoted scalar", rule1(`'ip.src == 1'`),
			[]string{`t.yaml:4:24: invalid operation: == (mismatched types string and int)`}},
		{"literal block", rule1("|\n      tcp &&\n        tcp.dstprt == 1"),
			[]string{`t.yaml:6:9: unknown field "tcp.dstprt" (did you mean "tcp.dstport"?)`}},
		{"folded block", rule1(">\n      tcp &&\n      tcp.dstprt == 1"),
			[]string{`t.yaml:6:7: unknown field "tcp.dstprt" (did you mean "tcp.dstport"?)`}},
		{"bool compared with 2", rule1(`tcp.flags.syn == 2`),
			[]string{`t.yaml:4:30: invalid operation: == (mismatched types bool and int)`}},
		{"not a bool", rule1(`tcp.dstport`),
			[]string{`t.yaml:4:16: expected bool, but got int`}},
		{"syntax", rule1(`tcp.dstport ==`),
			[]string{`t.yaml:4:29: unexpected token EOF`}},
		{"bad hex literal", rule1(`payload contains hex("zz")`),
			[]string{`t.yaml:4:37: bad hex string "zz": 'z' is not a hex digit`}},
		{"bad cidr literal", rule1(`cidr(ip.src, "10.0.0.0/33")`),
			[]string{`t.yaml:4:29: bad cidr "10.0.0.0/33"`}},
		{"isset needs a literal", rule1(`isset(payload)`),
			[]string{`t.yaml:4:22: isset needs a flowbit name in quotes`}},
		{"unknown macro", "macros:\n  tcp_syn: tcp.flags.syn\n" + rule1("tcp_synn"),
			[]string{`t.yaml:6:16: unknown identifier "tcp_synn" (did you mean "tcp_syn"?)`}},
		{"macro error reported at the macro and the rule's own error too", "macros:\n  m: tcp.dstprt == 1\n" + rule1("m && tcp.dstprt == 2"),
			[]string{
				`t.yaml:2:6: unknown field "tcp.dstprt" (did you mean "tcp.dstport"?)`,
				`t.yaml:6:21: unknown field "tcp.dstprt" (did you mean "tcp.dstport"?)`,
			}},
		{"macro cycle", "macros:\n  a: b && tcp\n  b: a\n" + rule1("a"),
			[]string{`t.yaml:3:6: macro cycle: b -> a -> b`}},
		{"exponential macros", "macros:\n  m0: tcp && udp\n" + func() string {
			var b strings.Builder
			for i := 1; i <= 30; i++ {
				b.WriteString("  m" + strconv.Itoa(i) + ": m" + strconv.Itoa(i-1) + " && m" + strconv.Itoa(i-1) + "\n")
			}
			return b.String()
		}() + rule1("m30"),
			[]string{`t.yaml:14:15: macro expansion too large (more than 20000 nodes)`}},
		{"list name taken by a field", "lists:\n  tcp: [1]\n" + rule1("true"),
			[]string{`t.yaml:2:3: list name "tcp" is taken by a field, function or keyword`}},
		{"duplicate list", "lists:\n  p: [1]\nmacros:\n  p: tcp\n" + rule1("true"),
			[]string{`t.yaml:4:3: duplicate list or macro name "p" (first defined at t.yaml:2:3)`}},
		{"list of maps", "lists:\n  p: [{a: 1}]\n" + rule1("true"),
			[]string{`t.yaml:2:7: list p: items must be numbers or strings, got a mapping`}},
		{"unknown key", "rules:\n  - sid: 1\n    nmae: t\n    condition: tcp\n",
			[]string{
				`t.yaml:2:5: rule 1 has no name`,
				`t.yaml:3:5: unknown key "nmae" in rule (did you mean "name"?)`,
			}},
		{"unknown top-level key", "rule:\n  - sid: 1\n",
			[]string{`t.yaml:1:1: unknown key "rule" in rule file (did you mean "rules"?)`}},
		{"sid not a number", "rules:\n  - sid: abc\n    name: t\n    condition: tcp\n",
			[]string{`t.yaml:2:10: sid must be an integer, got "abc"`}},
		{"sid zero", "rules:\n  - sid: 0\n    name: t\n    condition: tcp\n",
			[]string{`t.yaml:2:10: sid must be greater than 0, got 0`}},
		{"display filter: unknown field at its column", "rules:\n  - sid: 1\n    name: t\n    wireshark: ip.addr == 10.0.0.1 && tcp.prot == 80\n",
			[]string{`t.yaml:4:39: unknown field "tcp.prot" (did you mean "tcp.port"?)`}},
		{"display filter: bad value, block scalar", "rules:\n  - sid: 1\n    name: t\n    wireshark: |\n      ip.addr == 10.0.0.0/8 or\n        ip.ttl == x\n",
			[]string{`t.yaml:6:19: x is not an integer`}},
		{"display filter and condition", "rules:\n  - sid: 1\n    name: t\n    condition: tcp\n    wireshark: tcp\n",
			[]string{`t.yaml:5:5: a rule gives condition or wireshark, not both`}},
		{"either-side name outside a comparison", rule1("tcp.port + 1 > 2"),
			[]string{`t.yaml:4:20: tcp.port stands for tcp.srcport and tcp.dstport: compare it with a value, or pass it to cidr`}},
		{"missing sid and condition", "rules:\n  - name: t\n",
			[]string{`t.yaml:2:5: rule has no sid`, `t.yaml:2:5: rule (no sid) has no condition (or wireshark filter)`}},
		{"duplicate sid", rule1("tcp") + "  - sid: 1\n    name: u\n    condition: udp\n",
			[]string{`t.yaml:5:10: duplicate sid 1 (first defined at t.yaml:2:10; override: true replaces it)`}},
		{"bad severity", "rules:\n  - sid: 1\n    name: t\n    severity: hihg\n    condition: tcp\n",
			[]string{`t.yaml:4:15: unknown severity "hihg" (did you mean "high"?)`}},
		{"bad severity far from any", "rules:\n  - sid: 1\n    name: t\n    severity: urgent\n    condition: tcp\n",
			[]string{`t.yaml:4:15: unknown severity "urgent" (want critical, high, medium, low, info)`}},
		{"bad threshold track", "rules:\n  - sid: 1\n    name: t\n    condition: tcp\n    threshold: {type: limit, track: by_source, count: 1, seconds: 60}\n",
			[]string{`t.yaml:5:37: unknown threshold track "by_source" (did you mean "by_src"?)`}},
		{"bad threshold type", "rules:\n  - sid: 1\n    name: t\n    condition: tcp\n    threshold: {type: often, track: by_src, count: 1, seconds: 60}\n",
			[]string{`t.yaml:5:23: unknown threshold type "often" (want limit, threshold, both)`}},
		{"threshold distinct count too large", "rules:\n  - sid: 1\n    name: t\n    condition: tcp\n    threshold: {type: both, track: by_src, count: 1025, seconds: 60, distinct: tcp.dstport}\n",
			[]string{`t.yaml:5:51: threshold count must be at most 1024 with distinct, got 1025`}},
		{"threshold window too long", "rules:\n  - sid: 1\n    name: t\n    condition: tcp\n    threshold: {type: limit, track: by_src, count: 1, seconds: 9223372037}\n",
			[]string{`t.yaml:5:64: threshold seconds must be at most 9223372036, got 9223372037`}},
		{"dedup track of suppress", "rules:\n  - sid: 1\n    name: t\n    condition: tcp\n    dedup: {track: by_either, seconds: 60}\n",
			[]string{`t.yaml:5:20: unknown dedup track "by_either" (want by_src, by_dst, by_both, by_flow, by_rule)`}},
		{"threshold missing keys", "rules:\n  - sid: 1\n    name: t\n    condition: tcp\n    threshold: {type: limit}\n",
			[]string{`t.yaml:5:5: threshold needs track, count, seconds`}},
		{"threshold distinct unknown field", "rules:\n  - sid: 1\n    name: t\n    condition: tcp\n    threshold: {type: both, track: by_src, count: 5, seconds: 60, distinct: tcp.dport}\n",
			[]string{`t.yaml:5:77: unknown field "tcp.dport" (did you mean "tcp.dstport"?)`}},
		{"threshold distinct on a time", "rules:\n  - sid: 1\n    name: t\n    condition: tcp\n    threshold: {type: both, track: by_src, count: 5, seconds: 60, distinct: frame.time}\n",
			[]string{`t.yaml:5:77: field "frame.time" cannot be counted: distinct needs a number, text or bool field`}},
		{"response without reset", "rules:\n  - sid: 1\n    name: t\n    condition: tcp\n    response: {target: both}\n",
			[]string{`t.yaml:5:5: response is only used with actions: [reset]`}},
		{"bad response target", "rules:\n  - sid: 1\n    name: t\n    condition: tcp\n    actions: [reset]\n    response: {target: src}\n",
			[]string{`t.yaml:6:24: unknown response target "src" (want both, source, dest)`}},
		{"bad action and strafe", "rules:\n  - sid: 1\n    name: t\n    condition: tcp\n    actions: [reset, drop]\n    response: {strafe: 9}\n",
			[]string{`t.yaml:5:22: unknown action "drop" (want alert, reset)`, `t.yaml:6:24: strafe must be 0..8, got 9`}},
		{"exception bad cidr", "rules:\n  - sid: 1\n    name: t\n    condition: tcp\n    exceptions:\n      - {field: ip.src, values: [\"10.0.0.0/8\", \"10.1.2\"]}\n",
			[]string{`t.yaml:6:48: bad address or CIDR "10.1.2" for ip.src`}},
		{"exception unknown field", "rules:\n  - sid: 1\n    name: t\n    condition: tcp\n    exceptions:\n      - {field: ip.srcc, values: [\"10.0.0.1\"]}\n",
			[]string{`t.yaml:6:17: unknown field "ip.srcc" (did you mean "ip.src"?)`}},
		{"exception value of the wrong type", "rules:\n  - sid: 1\n    name: t\n    condition: tcp\n    exceptions:\n      - {field: tcp.dstport, values: [http]}\n",
			[]string{`t.yaml:6:39: tcp.dstport is an integer field, got "http"`}},
		{"message placeholder unknown field", "rules:\n  - sid: 1\n    name: t\n    condition: tcp\n    message: \"to {{dest_ipp}}\"\n",
			[]string{`t.yaml:5:20: unknown identifier "dest_ipp" (did you mean "dest_ip"?)`}},
		{"message unclosed placeholder", "rules:\n  - sid: 1\n    name: t\n    condition: tcp\n    message: \"to {{dest_ip\"\n",
			[]string{`t.yaml:5:18: unclosed {{ in message`}},
		{"test with frames and count", "rules:\n  - sid: 1\n    name: t\n    condition: tcp\n    tests:\n      - {capture: a.pcap, frames: [1], count: 1}\n",
			[]string{`t.yaml:6:9: a test needs either frames or count`}},
		{"suppress unknown sid", rule1("tcp") + "suppress:\n  - {sid: 2, track: by_src, ip: 10.0.0.5}\n",
			[]string{`t.yaml:6:11: suppress: no rule with sid 2`}},
		{"suppress bad ip", rule1("tcp") + "suppress:\n  - {sid: 1, track: by_src, ip: 10.0.0.500}\n",
			[]string{`t.yaml:6:33: bad address or CIDR "10.0.0.500"`}},
		{"suppress track of thresholds", rule1("tcp") + "suppress:\n  - {sid: 1, track: by_both, ip: 10.0.0.5}\n",
			[]string{`t.yaml:6:21: unknown suppress track "by_both" (want by_src, by_dst, by_either)`}},
		{"suppress track without ip", rule1("tcp") + "suppress:\n  - {sid: 1, track: by_src}\n",
			[]string{`t.yaml:6:5: suppress entry needs both track and ip, or neither`}},
		{"flowbit bad name", "rules:\n  - sid: 1\n    name: t\n    condition: tcp\n    flowbits: {set: [\"a b\"]}\n",
			[]string{`t.yaml:5:22: bad flowbit name "a b" (letters, digits, _ . - only)`}},
		{"yaml syntax", "rules:\n  - sid: 1\n    name: t\n   condition: tcp\n",
			[]string{`t.yaml:4:4: yaml: did not find expected '-' indicator`}},
		{"not a mapping", "- a\n- b\n",
			[]string{`t.yaml:1:1: rule file must be a mapping, got a list`}},
		{"unclosed flow list", "rules:\n  - sid: 1\n    name: [t\n    condition: tcp\n",
			[]string{`t.yaml:3:5: yaml: did not find expected ',' or ']'`}},
		{"tab indentation", "rules:\n\t- sid: 1\n",
			[]string{`t.yaml:2:2: yaml: found character that cannot start any token`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			set, err := Parse("t.yaml", []byte(tc.src))
			if set != nil {
				t.Errorf("got a set despite errors")
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error %v is not an ErrorList", err)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error is not ErrInvalid")
			}
			var got []string
			for _, e := range list {
				got = append(got, e.Error())
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("source:\n%s\ngot:\n%s\nwant:\n%s", tc.src, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestCompileGood(t *testing.T) {
	src := `
lists:
  admin_ports: [22, 23, 3389]
macros:
  tcp_syn: tcp.flags.syn && !tcp.flags.ack
  admin_syn: tcp_syn && tcp.dstport in admin_ports
rules:
  - sid: 1000001
    name: Telnet connection attempt
    severity: high
    category: Attempted Administrator Privilege Gain
    tags: [telnet, cleartext]
    condition: admin_syn
    actions: [reset]
    response: {target: source, strafe: 2}
    message: "telnet to {{dest_ip}}:{{dest_port}}"
    threshold: {type: limit, track: by_src, count: 1, seconds: 60, distinct: tcp.dstport}
    dedup: {track: by_flow, seconds: 30}
    exceptions:
      - {field: ip.src, values: ["10.0.0.0/8"]}
    flowbits: {set: [login_seen], toggle: [x]}
    tests:
      - capture: ../captures/sv-telnet.pcap
        frames: [1, 5]
  - sid: 1000002
    rev: 3
    name: Login seen
    enabled: false
    condition: |
      udp &&
        !tcp
    tests:
      - {capture: /abs/c.pcap, count: 0}
suppress:
  - {sid: 1000001, track: by_dst, ip: "2001:db8::/32"}
  - {sid: 1000002}
  - {sid: 1000002, track: by_either, ip: 10.0.0.5}
  - {sid: 1000002, track: by_src, ip: 10.1.2.3/8}
`
	set, err := Parse("rules/t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Rules) != 2 {
		t.Fatalf("got %d rules", len(set.Rules))
	}
	r := set.BySID(1000001)
	if r == nil || set.BySID(42) != nil {
		t.Fatal("BySID")
	}
	if r.Name != "Telnet connection attempt" || r.Rev != 1 || r.Severity != High || r.Severity.EVE() != 1 ||
		r.Category != "Attempted Administrator Privilege Gain" || !r.Enabled || !r.Reset ||
		r.Response != (Response{Target: TargetSource, Strafe: 2}) || strings.Join(r.Tags, ",") != "telnet,cleartext" {
		t.Errorf("rule fields: %+v", r)
	}
	dport, _ := field.Lookup("tcp.dstport")
	if *r.Threshold != (Threshold{Type: TypeLimit, Track: BySrc, Count: 1, Window: time.Minute, DistinctName: "tcp.dstport", Distinct: dport}) {
		t.Errorf("threshold %+v", r.Threshold)
	}
	if *r.Dedup != (Dedup{Track: ByFlow, Window: 30 * time.Second}) {
		t.Errorf("dedup %+v", r.Dedup)
	}
	if r.Condition != "admin_syn" || r.Program == nil || r.Node == nil || r.Message == nil {
		t.Errorf("condition %q program %v node %v", r.Condition, r.Program, r.Node)
	}
	if r.Pos != (Position{File: "rules/t.yaml", Line: 8, Col: 5}) {
		t.Errorf("pos %v", r.Pos)
	}
	if len(r.Tests) != 1 || r.Tests[0].Capture != "captures/sv-telnet.pcap" || len(r.Tests[0].Frames) != 2 || r.Tests[0].HasCount {
		t.Errorf("tests %+v", r.Tests)
	}
	bits := set.Flowbits
	if len(bits) != 2 || r.FlowbitsSet != 1<<bits["login_seen"] || r.FlowbitsToggle != 1<<bits["x"] || r.FlowbitsUnset != 0 {
		t.Errorf("flowbits %v set %b toggle %b", bits, r.FlowbitsSet, r.FlowbitsToggle)
	}
	r2 := set.Rules[1]
	if r2.Condition != "udp &&\n  !tcp\n" {
		t.Errorf("condition as written: %q", r2.Condition)
	}
	if r2.SID != 1000002 || r2.Rev != 3 || r2.Enabled || r2.Severity != Medium || r2.Reset {
		t.Errorf("rule 2: %+v", r2)
	}
	if len(r2.Tests) != 1 || r2.Tests[0].Capture != "/abs/c.pcap" || !r2.Tests[0].HasCount || r2.Tests[0].Count != 0 {
		t.Errorf("tests %+v", r2.Tests)
	}
	wantSupp := []struct {
		track SuppressTrack
		net   string
	}{
		{SuppressByDst, "2001:db8::/32"},
		{SuppressAll, ""},
		{SuppressByEither, "10.0.0.5/32"},
		{SuppressBySrc, "10.0.0.0/8"},
	}
	if len(set.Suppress) != len(wantSupp) {
		t.Fatalf("suppress %+v", set.Suppress)
	}
	for i, w := range wantSupp {
		s := set.Suppress[i]
		var net netip.Prefix
		if w.net != "" {
			net = netip.MustParsePrefix(w.net)
		}
		if s.SID == 0 || s.Track != w.track || s.Net != net {
			t.Errorf("suppress %d: %+v, want %v %v", i, s, w.track, net)
		}
	}
	if en := set.Enabled(); len(en) != 1 || en[0] != r {
		t.Errorf("Enabled() = %v, want only sid 1000001", en)
	}
}

func TestSeverity(t *testing.T) {
	want := []struct {
		s    Severity
		name string
		eve  int
	}{{Critical, "critical", 1}, {High, "high", 1}, {Medium, "medium", 2}, {Low, "low", 3}, {Info, "info", 4}}
	for _, w := range want {
		if w.s.String() != w.name || w.s.EVE() != w.eve {
			t.Errorf("%d: %s %d", w.s, w.s, w.s.EVE())
		}
		if s, ok := ParseSeverity(w.name); !ok || s != w.s {
			t.Errorf("ParseSeverity(%q)", w.name)
		}
	}
}

// TestEnumWords: every value a key accepts prints as its word and parses
// back to itself; values that are not members print as Type(n).
func TestEnumWords(t *testing.T) {
	check := func(name string, words []string, got []string, parsed []bool) {
		t.Helper()
		if strings.Join(got, ",") != strings.Join(words, ",") {
			t.Errorf("%s words %v, want %v", name, got, words)
		}
		for i, ok := range parsed {
			if !ok {
				t.Errorf("%s %q does not parse back", name, words[i])
			}
		}
	}
	var got []string
	var parsed []bool
	for _, v := range thresholdTypes {
		p, ok := parseEnum(v.String(), thresholdTypes)
		got, parsed = append(got, v.String()), append(parsed, ok && p == v)
	}
	check("threshold type", []string{"limit", "threshold", "both"}, got, parsed)
	got, parsed = nil, nil
	for _, v := range tracks {
		p, ok := parseEnum(v.String(), tracks)
		got, parsed = append(got, v.String()), append(parsed, ok && p == v)
	}
	check("track", []string{"by_src", "by_dst", "by_both", "by_flow", "by_rule"}, got, parsed)
	got, parsed = nil, nil
	for _, v := range suppressTracks {
		p, ok := parseEnum(v.String(), suppressTracks)
		got, parsed = append(got, v.String()), append(parsed, ok && p == v)
	}
	check("suppress track", []string{"by_src", "by_dst", "by_either"}, got, parsed)
	got, parsed = nil, nil
	for _, v := range targets {
		p, ok := parseEnum(v.String(), targets)
		got, parsed = append(got, v.String()), append(parsed, ok && p == v)
	}
	check("target", []string{"both", "source", "dest"}, got, parsed)

	if _, ok := parseEnum("by_either", tracks); ok {
		t.Error("by_either parsed as a threshold track")
	}
	if _, ok := parseEnum("all", suppressTracks); ok {
		t.Error("all parsed as a suppress track: rule files leave track out")
	}
	for _, c := range []struct{ got, want string }{
		{ThresholdType(0).String(), "ThresholdType(0)"},
		{ThresholdType(4).String(), "ThresholdType(4)"},
		{Track(0).String(), "Track(0)"},
		{Track(6).String(), "Track(6)"},
		{SuppressAll.String(), "all"},
		{SuppressTrack(4).String(), "SuppressTrack(4)"},
		{Target(3).String(), "Target(3)"},
	} {
		if c.got != c.want {
			t.Errorf("String() = %q, want %q", c.got, c.want)
		}
	}
}
