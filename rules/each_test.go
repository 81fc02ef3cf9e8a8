package rules

import (
	"strings"
	"testing"

	"github.com/expr-lang/expr/ast"

	"github.com/vigil-ids/vigil/rules/field"
)

// visitor calls itself on every node ast.Walk visits.
type visitor func(ast.Node)

func (v visitor) Visit(n *ast.Node) { v(*n) }

// qinqSYN is telnetSYN behind an 802.1ad S-tag 100 and the 802.1Q tags
// 200 (priority 3) and 300, over MPLS labels 16 and 17.
func qinqSYN() *field.Packet {
	p := telnetSYN()
	tags := func(vs ...int) (x field.Ints) {
		for _, v := range vs {
			x.Add(v)
		}
		return x
	}
	p.IEEE8021AD = field.IEEE8021AD{Present: true, ID: 100, IDs: tags(100), Priorities: tags(0)}
	p.VLAN = field.VLAN{Present: true, ID: 200, Priority: 3, Count: 3, InnerID: 300, IDs: tags(200, 300), Priorities: tags(3, 0)}
	p.MPLS = field.MPLS{Present: true, Label: 16, TTL: 64, Labels: tags(16, 17), Exps: tags(0, 0), TTLs: tags(64, 63)}
	return p
}

// TestEachValue checks comparisons of fields that a frame carries several
// times: over every value as Wireshark 4 compares them, the first value
// elsewhere, and zero when the frame has none; the closures and the VM
// agree.
func TestEachValue(t *testing.T) {
	untagged := telnetSYN()
	cases := []struct {
		cond       string
		tagged, no bool // on qinqSYN, on telnetSYN
		fast       bool // runs as closures
	}{
		{"vlan.id == 300", true, false, true},
		{"vlan.id == 200", true, false, true},
		{"vlan.id == 100", false, false, true}, // the S-tag is ieee8021ad.id
		{"ieee8021ad.id == 100", true, false, true},
		{"300 == vlan.id", true, false, true},
		{"vlan.id != 300", false, true, true}, // no value is 300
		{"vlan.id != 500", true, true, true},
		{"vlan.id > 250", true, false, true},
		{"vlan.id < 200", false, true, true}, // an untagged frame has vlan.id 0
		{"vlan.id <= 200 && vlan.id >= 300", true, false, true},
		{"vlan.id in [1, 300]", true, false, true},
		{"vlan.id not in [300]", false, true, true},
		{"vlan.id == 0", false, true, true},
		{"vlan.id == 1 || vlan.id == 300", true, false, true},
		{"vlan.priority == 3 && mpls.label == 17 && mpls.ttl == 63", true, false, true},
		{"vlan.id + 0 == 300", false, false, true}, // elsewhere: the first value
		{"vlan.id + 0 == 200", true, false, true},
		{"vlan.id * 1 == vlan.inner_id", false, true, true},
		{"any([7, 300], vlan.id == #)", true, false, false}, // the value reads # of the user's predicate
		{"any([7, 300], {vlan.id != # && # == 7})", true, true, false},
		{"vlan.count == 3 && vlan.inner_id == 300", true, false, true},
	}
	var ev Evaluator
	for _, c := range cases {
		r := compileOne(t, `"`+strings.ReplaceAll(c.cond, `"`, `\"`)+`"`, "")
		if (r.fast != nil) != c.fast {
			t.Errorf("%s: closures %v, want %v", c.cond, r.fast != nil, c.fast)
		}
		for _, pc := range []struct {
			p    *field.Packet
			want bool
		}{{qinqSYN(), c.tagged}, {untagged, c.no}} {
			got, err := ev.Eval(r, pc.p)
			vm, vmErr := ev.evalVM(r, pc.p)
			if err != nil || vmErr != nil || got != pc.want || vm != got {
				t.Errorf("%s on vlan %d: got %v (VM %v; %v %v), want %v", c.cond, pc.p.VLAN.ID, got, vm, err, vmErr, pc.want)
			}
		}
	}
}

// TestEachValueElsewhere: in an exception and a message template the rule
// is the same: a comparison over every value, the first value otherwise.
func TestEachValueElsewhere(t *testing.T) {
	r := compileOne(t, "tcp", `    message: "vlan {{vlan.id}} of {{vlan.count}}, 300: {{vlan.id == 300}}"
    exceptions:
      - {field: vlan.id, values: [300]}
`)
	var ev Evaluator
	p := qinqSYN()
	if got := r.Message.Render(p); got != "vlan 200 of 3, 300: true" {
		t.Errorf("message %q", got)
	}
	if ok, err := ev.Eval(r, p); ok || err != nil {
		t.Errorf("the exception on vlan.id 300 did not hold: %v %v", ok, err)
	}
	if ok, _ := ev.Eval(r, telnetSYN()); !ok {
		t.Error("the exception held on an untagged frame")
	}
}

// TestEachValueErrors: two fields with several values cannot be compared
// with each other, and the function that reads the values is the
// compiler's alone.
func TestEachValueErrors(t *testing.T) {
	for cond, msg := range map[string]string{
		"vlan.id == mpls.label":                    "vlan.id and mpls.label each have a value per header",
		`$each($env, "vlan.id") != nil`:            "unknown function $each",
		`any($each($env, "tcp.dstport"), # == 23)`: "unknown function $each",
	} {
		src := "rules:\n  - sid: 7\n    name: t\n    condition: '" + cond + "'\n"
		_, err := Parse("each.yaml", []byte(src))
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: error %v, want %q", cond, err, msg)
		}
	}
}

// TestEachFieldCatalog: the catalog marks the fields with several values,
// and EachField recognises only the compiler's read of them.
func TestEachFieldCatalog(t *testing.T) {
	multi := map[string]bool{}
	for _, f := range field.Catalog() {
		if f.Multi {
			multi[f.Name] = true
		}
	}
	for _, name := range []string{"vlan.id", "vlan.priority", "ieee8021ad.id", "mpls.label", "mpls.ttl", "gre.proto", "gre.key",
		"vxlan.vni", "geneve.vni", "pppoe.session_id", "ppp.protocol", "erspan.spanid"} {
		if !multi[name] {
			t.Errorf("%s is not marked as having several values", name)
		}
	}
	for _, name := range []string{"vlan.count", "vlan.inner_id", "ip.src", "tcp.dstport", "tunnel.depth"} {
		if multi[name] {
			t.Errorf("%s is marked as having several values", name)
		}
	}
	r := compileOne(t, `"vlan.id == 300 && tcp.dstport == 23"`, "")
	found := 0
	node := r.Node
	ast.Walk(&node, visitor(func(n ast.Node) {
		if s, ok := EachField(n); ok {
			found++
			if s.Name != "vlan.id" {
				t.Errorf("EachField gives %s", s.Name)
			}
		}
	}))
	if found != 1 {
		t.Errorf("EachField found %d reads of every value in %s", found, r.Node)
	}
}
