package index

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/ast"

	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/rules/field"
)

// hdrAtom is a test of one integer or bool field: f == v (eq), or f
// non-zero (true for a bool).
type hdrAtom struct {
	f  fieldRef
	eq bool
	v  int
}

// litAtom says that the text field src contains lit (ASCII case ignored
// when fold), at its start when anchored.
type litAtom struct {
	src      fieldRef
	lit      string
	fold     bool
	anchored bool
}

// need is what a node requires of a packet for it to be true: when hasHdr,
// at least one of hdr holds; when hasLit, at least one of lit holds. An
// empty list with its flag set means the node is never true.
type need struct {
	hdr    []hdrAtom
	lit    []litAtom
	hasHdr bool
	hasLit bool
	// extra are further header parts that all hold as well (from other
	// operands of &&), checked before a rule filed under hdr or lit is
	// returned.
	extra [][]hdrAtom
}

// analyze returns what the condition n requires. It only ever claims
// conditions that hold whenever n evaluates to true:
//   - a && b is true only if a and b are, so either side's need is one;
//   - a || b is true only if a or b is, so the union of needs both sides
//     have is one;
//   - a leaf (a comparison, a bool field, contains, ...) gives an atom
//     when its truth implies the atom, and nothing otherwise.
func analyze(n ast.Node) need {
	switch n := n.(type) {
	case *ast.BinaryNode:
		switch n.Operator {
		case "&&", "and":
			return both(analyze(n.Left), analyze(n.Right))
		case "||", "or":
			return either(analyze(n.Left), analyze(n.Right))
		}
		return leafBinary(n)
	case *ast.BoolNode:
		if !n.Value {
			return need{hasHdr: true} // never true
		}
	case *ast.ConstantNode:
		if b, ok := n.Value.(bool); ok && !b {
			return need{hasHdr: true}
		}
	case *ast.MemberNode, *ast.IdentifierNode:
		if f, ok := fieldOf(n); ok && f.Kind == field.KindBool {
			return need{hdr: []hdrAtom{{f: f}}, hasHdr: true}
		}
	case *ast.CallNode:
		id, ok := n.Callee.(*ast.IdentifierNode)
		if ok && id.Value == "icontains" && len(n.Arguments) == 2 {
			return icontainsNeed(n.Arguments[0], n.Arguments[1])
		}
	case *ast.BuiltinNode:
		if len(n.Arguments) == 2 && (n.Name == "hasPrefix" || n.Name == "hasSuffix") {
			return litNeed(n.Arguments[0], n.Arguments[1], n.Name == "hasPrefix")
		}
		if len(n.Arguments) == 2 && n.Name == "any" {
			// A comparison over every value of a field that a frame may
			// carry several times: the predicate with # read as the
			// field, whose atoms the index tests on every value.
			pred, isPred := n.Arguments[1].(*ast.PredicateNode)
			if f, ok := rules.EachField(n.Arguments[0]); ok && isPred {
				return analyze(elemAs(pred.Node, &ast.IdentifierNode{Value: f.Name}))
			}
			// any over constants (a list): the predicate holds for one of
			// them, so the union of what each needs is needed.
			if elems, ok := constElems(n.Arguments[0]); ok && isPred {
				out := need{hasHdr: true, hasLit: true} // an empty list: never true
				for _, e := range elems {
					out = either(out, analyze(elemAs(pred.Node, e)))
				}
				return out
			}
		}
	}
	return need{}
}

// constElems returns the elements of a constant list of strings and
// integers, as written or as the optimizer folds it.
func constElems(n ast.Node) ([]ast.Node, bool) {
	var vals []any
	switch n := n.(type) {
	case *ast.ArrayNode:
		for _, e := range n.Nodes {
			switch e.(type) {
			case *ast.StringNode, *ast.IntegerNode:
			default:
				return nil, false
			}
		}
		return n.Nodes, true
	case *ast.ConstantNode:
		vs, ok := n.Value.([]any)
		if !ok {
			return nil, false
		}
		vals = vs
	default:
		return nil, false
	}
	out := make([]ast.Node, len(vals))
	for i, v := range vals {
		switch v := v.(type) {
		case string:
			out[i] = &ast.StringNode{Value: v}
		case int:
			out[i] = &ast.IntegerNode{Value: v}
		default:
			return nil, false
		}
	}
	return out, true
}

// elemAs returns predicate n with # read as x: a copy of the nodes
// analyze looks into (binary operators, calls, built-ins) with #
// replaced.
func elemAs(n, x ast.Node) ast.Node {
	switch n := n.(type) {
	case *ast.PointerNode:
		if n.Name == "" {
			return x
		}
	case *ast.BinaryNode:
		c := *n
		c.Left, c.Right = elemAs(n.Left, x), elemAs(n.Right, x)
		return &c
	case *ast.CallNode:
		c := *n
		c.Arguments = make([]ast.Node, len(n.Arguments))
		for i, a := range n.Arguments {
			c.Arguments[i] = elemAs(a, x)
		}
		return &c
	case *ast.BuiltinNode:
		c := *n
		c.Arguments = make([]ast.Node, len(n.Arguments))
		for i, a := range n.Arguments {
			c.Arguments[i] = elemAs(a, x)
		}
		return &c
	}
	return n
}

// both is the need of a && b: the cheaper header part and the cheaper
// literal part, each from either side.
func both(a, b need) need {
	out := a
	out.extra = append(slices.Clip(a.extra), b.extra...)
	if b.hasHdr && (!a.hasHdr || hdrCost(b.hdr) < hdrCost(a.hdr)) {
		out.hdr, out.hasHdr = b.hdr, true
		if a.hasHdr {
			out.extra = append(out.extra, a.hdr)
		}
	} else if b.hasHdr {
		out.extra = append(out.extra, b.hdr)
	}
	if b.hasLit && (!a.hasLit || litCost(b.lit) < litCost(a.lit)) {
		out.lit, out.hasLit = b.lit, true
	}
	return out
}

// either is the need of a || b: a part both sides have, united.
func either(a, b need) need {
	var out need
	if a.hasHdr && b.hasHdr {
		out.hdr, out.hasHdr = append(slices.Clip(a.hdr), b.hdr...), true
	}
	if a.hasLit && b.hasLit {
		out.lit, out.hasLit = append(slices.Clip(a.lit), b.lit...), true
	}
	return out
}

func leafBinary(n *ast.BinaryNode) need {
	l, r := n.Left, n.Right
	switch n.Operator {
	case "==":
		if _, ok := fieldOf(r); ok {
			l, r = r, l
		}
		if _, ok := textOf(r); ok {
			l, r = r, l
		}
		f, ok := fieldOf(l)
		if !ok {
			return litNeed(l, r, true) // lower(x) == "...", x[i:j] == "..."
		}
		switch f.Kind {
		case field.KindInt:
			if v, ok := intConst(r); ok {
				return need{hdr: []hdrAtom{{f: f, eq: true, v: v}}, hasHdr: true}
			}
		case field.KindBool:
			if b, ok := r.(*ast.BoolNode); ok && b.Value {
				return need{hdr: []hdrAtom{{f: f}}, hasHdr: true}
			}
		case field.KindString:
			return litNeed(l, r, true)
		}
	case "in":
		return inNeed(l, r)
	case "contains", "endsWith":
		return litNeed(l, r, false)
	case "startsWith":
		return litNeed(l, r, true)
	case "matches":
		if t, ok := textOf(l); ok {
			if s, ok := strConst(r); ok {
				return regexNeed(t, s)
			}
		}
	case ">", ">=", "<", "<=":
		return orderNeed(n.Operator, l, r)
	}
	return need{}
}

// orderNeed: an integer field ordered against a constant so that 0 is
// excluded (ip.ttl > 5, tcp.dstport >= 1) must be non-zero.
func orderNeed(op string, l, r ast.Node) need {
	if _, ok := fieldOf(r); ok {
		l, r = r, l
		op = map[string]string{">": "<", ">=": "<=", "<": ">", "<=": ">="}[op]
	}
	f, ok := fieldOf(l)
	if !ok || f.Kind != field.KindInt {
		return need{}
	}
	c, ok := intConst(r)
	if !ok {
		return need{}
	}
	var excludesZero bool
	switch op {
	case ">":
		excludesZero = c >= 0
	case ">=":
		excludesZero = c > 0
	case "<":
		excludesZero = c <= 0
	case "<=":
		excludesZero = c < 0
	}
	if !excludesZero {
		return need{}
	}
	return need{hdr: []hdrAtom{{f: f}}, hasHdr: true}
}

// inNeed handles l in [constants], as written or as the optimizer's map:
// l an integer field, or a text haystack and the constants strings.
func inNeed(l, r ast.Node) need {
	var ints []int
	var strs []string
	switch r := r.(type) {
	case *ast.ArrayNode:
		for _, e := range r.Nodes {
			switch e := e.(type) {
			case *ast.IntegerNode:
				ints = append(ints, e.Value)
			case *ast.StringNode:
				strs = append(strs, e.Value)
			default:
				return need{}
			}
		}
	case *ast.ConstantNode:
		switch v := r.Value.(type) {
		case map[int]struct{}:
			for k := range v {
				ints = append(ints, k)
			}
		case map[string]struct{}:
			for k := range v {
				strs = append(strs, k)
			}
		default:
			return need{}
		}
	default:
		return need{}
	}
	slices.Sort(ints)
	slices.Sort(strs)
	if f, ok := fieldOf(l); ok && f.Kind == field.KindInt && len(strs) == 0 {
		out := need{hasHdr: true}
		for _, v := range ints {
			out.hdr = append(out.hdr, hdrAtom{f: f, eq: true, v: v})
		}
		return out
	}
	t, ok := textOf(l)
	if !ok || len(ints) > 0 {
		return need{}
	}
	out := need{hasLit: true}
	for _, s := range strs {
		as := t.atoms(s, true)
		if as == nil {
			return need{} // "" is in every text field's start
		}
		out.lit = append(out.lit, as...)
	}
	return out
}

// litNeed: haystack src (a text field, a slice of one, lower() or upper()
// of either) must contain the constant lit.
func litNeed(src, lit ast.Node, anchored bool) need {
	t, ok := textOf(src)
	if !ok {
		return need{}
	}
	s, ok := strConst(lit)
	if !ok {
		return need{}
	}
	as := t.atoms(s, anchored)
	if as == nil {
		return need{}
	}
	return need{lit: as, hasLit: true}
}

// fieldOf resolves a member chain on the packet (tcp.flags.syn, payload).
func fieldOf(n ast.Node) (fieldRef, bool) {
	path, ok := rules.FieldPath(n)
	if !ok {
		return fieldRef{}, false
	}
	f, ok := field.Lookup(path)
	if !ok || f.Kind == field.KindFloat {
		return fieldRef{}, false
	}
	return f, true
}

func intConst(n ast.Node) (int, bool) {
	switch n := n.(type) {
	case *ast.IntegerNode:
		return n.Value, true
	case *ast.ConstantNode:
		if v, ok := n.Value.(int); ok {
			return v, true
		}
	case *ast.UnaryNode: // -5 when not folded
		if n.Operator == "-" {
			if v, ok := intConst(n.Node); ok {
				return -v, true
			}
		}
	}
	return 0, false
}

func strConst(n ast.Node) (string, bool) {
	switch n := n.(type) {
	case *ast.StringNode:
		return n.Value, true
	case *ast.ConstantNode:
		if v, ok := n.Value.(string); ok {
			return v, true
		}
	}
	return "", false
}

// Costs estimate how often an atom holds on real traffic, so that a rule
// is filed under its rarest requirement. They steer speed only.
var layerCost = map[string]float64{
	"frame.present": 1, "eth.present": 0.95, "ip.present": 0.9, "tcp.present": 0.6,
	"udp.present": 0.3, "ipv6.present": 0.1,
}

// lowCardinality are integer fields whose common values are shared by
// much of the traffic.
var lowCardinality = map[string]bool{
	"ip.proto": true, "ipv6.nxt": true, "eth.type": true, "ncf.channel": true,
	"tcp.hdr_len": true, "ip.hdr_len": true, "tcp.flags.raw": true, "vlan.count": true,
	"ip.ttl": true, "ipv6.hlim": true, "ip.dsfield": true, "wlan.fc.type": true,
}

func (a hdrAtom) cost() float64 {
	switch {
	case a.eq && a.v == 0:
		return 0.5
	case a.eq && lowCardinality[a.f.Name]:
		return 0.2
	case a.eq:
		return 0.02
	case a.f.Kind == field.KindBool:
		if c, ok := layerCost[a.f.Name]; ok {
			return c
		}
		return 0.3
	}
	return 0.6
}

func hdrCost(as []hdrAtom) float64 {
	c := 0.0
	for _, a := range as {
		c += a.cost()
	}
	return c
}

func (a litAtom) cost() float64 {
	n := min(len(a.lit), maxPattern)
	c := [...]float64{1, 0.5, 0.2, 0.05}
	if n < len(c) {
		return c[n]
	}
	return 0.01
}

func litCost(as []litAtom) float64 {
	c := 0.0
	for _, a := range as {
		c += a.cost()
	}
	return c
}

func (a hdrAtom) String() string {
	switch {
	case a.eq:
		return a.f.Name + "==" + strconv.Itoa(a.v)
	case a.f.Kind == field.KindBool:
		return a.f.Name
	}
	return a.f.Name + "!=0"
}

func (a litAtom) String() string {
	op := "∋"
	if a.anchored {
		op = "^="
	}
	q := quoteBytes(a.lit)
	if a.fold {
		q = "i" + q
	}
	return a.src.Name + op + q
}

func joinAtoms[T fmt.Stringer](as []T) string {
	if len(as) == 0 {
		return "false"
	}
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	if len(s) == 1 {
		return s[0]
	}
	return "(" + strings.Join(s, " || ") + ")"
}

// whyNot explains why a condition gave no key.
func whyNot(n ast.Node) string {
	if n == nil {
		return "no compiled condition"
	}
	var conj []ast.Node
	var flat func(ast.Node)
	flat = func(n ast.Node) {
		if b, ok := n.(*ast.BinaryNode); ok && (b.Operator == "&&" || b.Operator == "and") {
			flat(b.Left)
			flat(b.Right)
			return
		}
		conj = append(conj, n)
	}
	flat(n)
	neg, or := 0, 0
	for _, c := range conj {
		switch c := c.(type) {
		case *ast.UnaryNode:
			if c.Operator == "!" || c.Operator == "not" {
				neg++
			}
		case *ast.BinaryNode:
			if c.Operator == "||" || c.Operator == "or" {
				or++
			}
		}
	}
	switch {
	case len(conj) == 1 && or == 1:
		return "|| at top level without a key in every branch"
	case neg == len(conj):
		return "negation only"
	case or > 0:
		return "only negations, || without a key in every branch, or tests that are not indexed"
	}
	return "no equality, presence or literal test on an indexed field"
}

// quoteBytes quotes s byte by byte: printable ASCII as is, the rest as \xNN.
func quoteBytes(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c >= 0x20 && c < 0x7f:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, `\x%02x`, c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// icontainsNeed: haystack src must contain lit, ASCII case ignored.
func icontainsNeed(src, lit ast.Node) need {
	n := litNeed(src, lit, false)
	for i := range n.lit {
		n.lit[i].fold = true
	}
	return n
}
