package rules

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr/ast"

	"github.com/vigil-ids/vigil/rules/field"
)

// The fast path: a condition made only of field loads, literals,
// comparisons, boolean logic, string operators, slices, constant `in`
// sets, any/all/none over constant arrays or over the values of a field
// that a frame may carry several times, and the functions that cannot
// fail (cidr with a constant prefix, icontains, byte_at, u16, u32, len,
// lower, upper, urldecode, b64decode) is also compiled from Rule.Node into Go closures that read
// the Packet's fields in place. expr's VM boxes every loaded field into an
// interface (one allocation per load); the closures allocate nothing.
// Conditions with anything else run on the VM. Both give the same result:
// every construct accepted here cannot fail at run time.

type kind int

const (
	kBool kind = iota + 1
	kInt
	kFloat
	kString
)

// fastNode is a compiled expression of one kind; the matching function is
// set.
type fastNode struct {
	k     kind
	konst bool // a constant: folded when combined with another
	b     func(*field.Packet) bool
	i     func(*field.Packet) int
	f     func(*field.Packet) float64
	s     func(*field.Packet) string
}

// fastCtx is what compiling a node needs besides the node.
type fastCtx struct {
	fn *funcs
	// elem is the value of # inside a predicate (any, all, none), nil
	// elsewhere: a predicate over a constant array is compiled once per
	// element.
	elem *fastNode
}

// loadSlot reads a packet field in place.
func loadSlot(s field.Slot) fastNode {
	switch s.Kind {
	case field.KindBool:
		return fastNode{k: kBool, b: s.Bool}
	case field.KindInt:
		return fastNode{k: kInt, i: s.Int}
	case field.KindFloat:
		return fastNode{k: kFloat, f: s.Float}
	default:
		return fastNode{k: kString, s: s.String}
	}
}

func constant(v any) (fastNode, bool) {
	switch v := v.(type) {
	case bool:
		return fastNode{k: kBool, konst: true, b: func(*field.Packet) bool { return v }}, true
	case int:
		return fastNode{k: kInt, konst: true, i: func(*field.Packet) int { return v }}, true
	case float64:
		return fastNode{k: kFloat, konst: true, f: func(*field.Packet) float64 { return v }}, true
	case string:
		return fastNode{k: kString, konst: true, s: func(*field.Packet) string { return v }}, true
	}
	return fastNode{}, false
}

// compileFast returns the closure for a bool condition, or nil when the
// condition uses something the fast path does not cover.
func compileFast(n ast.Node, fn *funcs) func(*field.Packet) bool {
	c, ok := fastCompile(n, &fastCtx{fn: fn})
	if !ok || c.k != kBool {
		return nil
	}
	return c.b
}

func fastCompile(n ast.Node, cx *fastCtx) (fastNode, bool) {
	switch n := n.(type) {
	case *ast.BoolNode:
		return constant(n.Value)
	case *ast.IntegerNode:
		return constant(n.Value)
	case *ast.FloatNode:
		return constant(n.Value)
	case *ast.StringNode:
		return constant(n.Value)
	case *ast.ConstantNode:
		return constant(n.Value)
	case *ast.IdentifierNode, *ast.MemberNode:
		path, root := chain(n)
		if root == nil {
			return fastNode{}, false
		}
		s, ok := field.Lookup(path)
		if !ok {
			return fastNode{}, false
		}
		return loadSlot(s), true
	case *ast.UnaryNode:
		x, ok := fastCompile(n.Node, cx)
		if !ok {
			return fastNode{}, false
		}
		switch {
		case (n.Operator == "!" || n.Operator == "not") && x.k == kBool:
			return fastNode{k: kBool, b: func(p *field.Packet) bool { return !x.b(p) }}, true
		case n.Operator == "-" && x.k == kInt:
			return fastNode{k: kInt, i: func(p *field.Packet) int { return -x.i(p) }}, true
		}
	case *ast.BinaryNode:
		return fastBinary(n, cx)
	case *ast.CallNode:
		return fastCall(n, cx)
	case *ast.BuiltinNode:
		return fastBuiltin(n, cx)
	case *ast.PointerNode:
		if n.Name == "" && cx.elem != nil {
			return *cx.elem, true
		}
	case *ast.SliceNode:
		x, ok := fastCompile(n.Node, cx)
		if !ok || x.k != kString {
			return fastNode{}, false
		}
		from, to := fastNode{k: kInt, i: func(*field.Packet) int { return 0 }}, fastNode{k: kInt, i: func(p *field.Packet) int { return len(x.s(p)) }}
		if n.From != nil {
			if from, ok = fastCompile(n.From, cx); !ok || from.k != kInt {
				return fastNode{}, false
			}
		}
		if n.To != nil {
			if to, ok = fastCompile(n.To, cx); !ok || to.k != kInt {
				return fastNode{}, false
			}
		}
		return fastNode{k: kString, s: func(p *field.Packet) string { return sliceString(x.s(p), from.i(p), to.i(p)) }}, true
	}
	return fastNode{}, false
}

// sliceString is expr's s[a:b]: negative bounds count from the end, and
// both are clamped into the string.
func sliceString(s string, a, b int) string {
	n := len(s)
	if a < 0 {
		a += n
	}
	if a < 0 {
		a = 0
	}
	if b < 0 {
		b += n
	}
	if b < 0 {
		b = 0
	}
	if b > n {
		b = n
	}
	if a > b {
		a = b
	}
	return s[a:b]
}

// constElems returns the elements of a constant array of strings or ints.
func constElems(n ast.Node) ([]any, bool) {
	var out []any
	switch n := n.(type) {
	case *ast.ArrayNode:
		for _, e := range n.Nodes {
			switch e := e.(type) {
			case *ast.StringNode:
				out = append(out, e.Value)
			case *ast.IntegerNode:
				out = append(out, e.Value)
			default:
				return nil, false
			}
		}
	case *ast.ConstantNode:
		switch v := n.Value.(type) {
		case []any:
			for _, e := range v {
				switch e.(type) {
				case string, int:
					out = append(out, e)
				default:
					return nil, false
				}
			}
		case []string:
			for _, e := range v {
				out = append(out, e)
			}
		case []int:
			for _, e := range v {
				out = append(out, e)
			}
		default:
			return nil, false
		}
	default:
		return nil, false
	}
	return out, true
}

// fastPredicate compiles any/all/none over a constant array, or over the
// values of a field that a frame may carry several times (EachField): the
// predicate is compiled once per element.
func fastPredicate(n *ast.BuiltinNode, cx *fastCtx) (fastNode, bool) {
	if len(n.Arguments) != 2 {
		return fastNode{}, false
	}
	pred, isPred := n.Arguments[1].(*ast.PredicateNode)
	if !isPred {
		return fastNode{}, false
	}
	var elems []fastNode
	var count func(*field.Packet) int // how many elements p has
	if s, ok := EachField(n.Arguments[0]); ok {
		for i := range field.MaxOccurs {
			elems = append(elems, fastNode{k: kInt, i: func(p *field.Packet) int { return s.Ints(p)[i] }})
		}
		count = func(p *field.Packet) int { return len(s.Ints(p)) }
	} else {
		vals, ok := constElems(n.Arguments[0])
		if !ok {
			return fastNode{}, false
		}
		for _, v := range vals {
			el, _ := constant(v)
			elems = append(elems, el)
		}
		count = func(*field.Packet) int { return len(vals) }
	}
	parts := make([]func(*field.Packet) bool, len(elems))
	for i := range elems {
		c, ok := fastCompile(pred.Node, &fastCtx{fn: cx.fn, elem: &elems[i]})
		if !ok || c.k != kBool {
			return fastNode{}, false
		}
		parts[i] = c.b
	}
	anyOf := func(p *field.Packet) bool {
		for _, f := range parts[:count(p)] {
			if f(p) {
				return true
			}
		}
		return false
	}
	switch n.Name {
	case "any":
		return fastNode{k: kBool, b: anyOf}, true
	case "none":
		return fastNode{k: kBool, b: func(p *field.Packet) bool { return !anyOf(p) }}, true
	default: // all
		return fastNode{k: kBool, b: func(p *field.Packet) bool {
			for _, f := range parts[:count(p)] {
				if !f(p) {
					return false
				}
			}
			return true
		}}, true
	}
}

func fastBinary(n *ast.BinaryNode, cx *fastCtx) (fastNode, bool) {
	no := fastNode{}
	l, ok := fastCompile(n.Left, cx)
	if !ok {
		return no, false
	}
	if n.Operator == "in" {
		if c, ok := n.Right.(*ast.ConstantNode); ok {
			switch set := c.Value.(type) {
			case map[int]struct{}:
				if l.k == kInt {
					return fastNode{k: kBool, b: func(p *field.Packet) bool { _, in := set[l.i(p)]; return in }}, true
				}
			case map[string]struct{}:
				if l.k == kString {
					return fastNode{k: kBool, b: func(p *field.Packet) bool { _, in := set[l.s(p)]; return in }}, true
				}
			}
		}
		return no, false
	}
	if n.Operator == "matches" {
		s, ok := n.Right.(*ast.StringNode)
		if !ok || l.k != kString {
			return no, false
		}
		re, err := regexp.Compile(s.Value)
		if err != nil {
			return no, false
		}
		return fastNode{k: kBool, b: func(p *field.Packet) bool { return re.MatchString(l.s(p)) }}, true
	}
	r, ok := fastCompile(n.Right, cx)
	if !ok || l.k != r.k {
		return no, false
	}
	bool2 := func(f func(p *field.Packet) bool) (fastNode, bool) { return fastNode{k: kBool, b: f}, true }
	switch l.k {
	case kBool:
		switch n.Operator {
		case "&&", "and":
			return bool2(func(p *field.Packet) bool { return l.b(p) && r.b(p) })
		case "||", "or":
			return bool2(func(p *field.Packet) bool { return l.b(p) || r.b(p) })
		case "==":
			return bool2(func(p *field.Packet) bool { return l.b(p) == r.b(p) })
		case "!=":
			return bool2(func(p *field.Packet) bool { return l.b(p) != r.b(p) })
		}
	case kInt:
		switch n.Operator {
		case "==":
			return bool2(func(p *field.Packet) bool { return l.i(p) == r.i(p) })
		case "!=":
			return bool2(func(p *field.Packet) bool { return l.i(p) != r.i(p) })
		case "<":
			return bool2(func(p *field.Packet) bool { return l.i(p) < r.i(p) })
		case "<=":
			return bool2(func(p *field.Packet) bool { return l.i(p) <= r.i(p) })
		case ">":
			return bool2(func(p *field.Packet) bool { return l.i(p) > r.i(p) })
		case ">=":
			return bool2(func(p *field.Packet) bool { return l.i(p) >= r.i(p) })
		case "+":
			return fastNode{k: kInt, i: func(p *field.Packet) int { return l.i(p) + r.i(p) }}, true
		case "-":
			return fastNode{k: kInt, i: func(p *field.Packet) int { return l.i(p) - r.i(p) }}, true
		case "*":
			return fastNode{k: kInt, i: func(p *field.Packet) int { return l.i(p) * r.i(p) }}, true
		}
	case kFloat:
		switch n.Operator {
		case "==":
			return bool2(func(p *field.Packet) bool { return l.f(p) == r.f(p) })
		case "!=":
			return bool2(func(p *field.Packet) bool { return l.f(p) != r.f(p) })
		case "<":
			return bool2(func(p *field.Packet) bool { return l.f(p) < r.f(p) })
		case "<=":
			return bool2(func(p *field.Packet) bool { return l.f(p) <= r.f(p) })
		case ">":
			return bool2(func(p *field.Packet) bool { return l.f(p) > r.f(p) })
		case ">=":
			return bool2(func(p *field.Packet) bool { return l.f(p) >= r.f(p) })
		}
	case kString:
		switch n.Operator {
		case "==":
			return bool2(func(p *field.Packet) bool { return l.s(p) == r.s(p) })
		case "!=":
			return bool2(func(p *field.Packet) bool { return l.s(p) != r.s(p) })
		case "<":
			return bool2(func(p *field.Packet) bool { return l.s(p) < r.s(p) })
		case "<=":
			return bool2(func(p *field.Packet) bool { return l.s(p) <= r.s(p) })
		case ">":
			return bool2(func(p *field.Packet) bool { return l.s(p) > r.s(p) })
		case ">=":
			return bool2(func(p *field.Packet) bool { return l.s(p) >= r.s(p) })
		case "contains":
			return bool2(func(p *field.Packet) bool { return strings.Contains(l.s(p), r.s(p)) })
		case "startsWith":
			return bool2(func(p *field.Packet) bool { return strings.HasPrefix(l.s(p), r.s(p)) })
		case "endsWith":
			return bool2(func(p *field.Packet) bool { return strings.HasSuffix(l.s(p), r.s(p)) })
		case "+":
			if l.konst && r.konst {
				return constant(l.s(nil) + r.s(nil))
			}
			return fastNode{k: kString, s: func(p *field.Packet) string { return l.s(p) + r.s(p) }}, true
		}
	}
	return no, false
}

func fastArgs(args []ast.Node, cx *fastCtx, kinds ...kind) ([]fastNode, bool) {
	if len(args) != len(kinds) {
		return nil, false
	}
	out := make([]fastNode, len(args))
	for i, a := range args {
		c, ok := fastCompile(a, cx)
		if !ok || c.k != kinds[i] {
			return nil, false
		}
		out[i] = c
	}
	return out, true
}

func fastCall(n *ast.CallNode, cx *fastCtx) (fastNode, bool) {
	no := fastNode{}
	id, ok := n.Callee.(*ast.IdentifierNode)
	if !ok {
		return no, false
	}
	switch id.Value {
	case "cidr":
		a, ok := fastArgs(n.Arguments, cx, kString, kString)
		if !ok {
			return no, false
		}
		s, ok := n.Arguments[1].(*ast.StringNode)
		if !ok {
			return no, false // a prefix computed at run time may fail
		}
		prefix, ok := cx.fn.prefixes[s.Value]
		if !ok {
			return no, false
		}
		addr := a[0].s
		return fastNode{k: kBool, b: func(p *field.Packet) bool { return prefixContains(prefix, addr(p)) }}, true
	case "icontains":
		a, ok := fastArgs(n.Arguments, cx, kString, kString)
		if !ok {
			return no, false
		}
		return fastNode{k: kBool, b: func(p *field.Packet) bool { return icontains(a[0].s(p), a[1].s(p)) }}, true
	case "byte_at", "u16", "u32":
		a, ok := fastArgs(n.Arguments, cx, kString, kInt)
		if !ok {
			return no, false
		}
		f := map[string]func(string, int) int{"byte_at": byteAt, "u16": u16, "u32": u32}[id.Value]
		return fastNode{k: kInt, i: func(p *field.Packet) int { return f(a[0].s(p), a[1].i(p)) }}, true
	case "urldecode", "b64decode":
		a, ok := fastArgs(n.Arguments, cx, kString)
		if !ok {
			return no, false
		}
		f := urldecode
		if id.Value == "b64decode" {
			f = b64decode
		}
		return fastNode{k: kString, s: func(p *field.Packet) string { return f(a[0].s(p)) }}, true
	}
	return no, false
}

func fastBuiltin(n *ast.BuiltinNode, cx *fastCtx) (fastNode, bool) {
	switch n.Name {
	case "any", "all", "none":
		return fastPredicate(n, cx)
	case "lower", "upper":
		a, ok := fastArgs(n.Arguments, cx, kString)
		if !ok {
			return fastNode{}, false
		}
		f := strings.ToLower
		if n.Name == "upper" {
			f = strings.ToUpper
		}
		return fastNode{k: kString, s: func(p *field.Packet) string { return f(a[0].s(p)) }}, true
	case "len":
		a, ok := fastArgs(n.Arguments, cx, kString)
		if !ok {
			return fastNode{}, false
		}
		return fastNode{k: kInt, i: func(p *field.Packet) int { return utf8.RuneCountInString(a[0].s(p)) }}, true
	case "bitand":
		a, ok := fastArgs(n.Arguments, cx, kInt, kInt)
		if !ok {
			return fastNode{}, false
		}
		return fastNode{k: kInt, i: func(p *field.Packet) int { return a[0].i(p) & a[1].i(p) }}, true
	}
	return fastNode{}, false
}
