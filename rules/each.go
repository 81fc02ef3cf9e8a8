package rules

import (
	"github.com/expr-lang/expr/ast"

	"github.com/vigil-ids/vigil/rules/field"
)

// A field that a frame may carry several times (field.Slot.Multi:
// vlan.id, mpls.label, gre.proto, ...) is compared over all its values,
// as Wireshark 4 compares it. The patcher rewrites such a comparison,
//
//	vlan.id == 300      into  any($each($env, "vlan.id"), # == 300)
//	vlan.id != 300      into  none($each($env, "vlan.id"), # == 300)
//
// (likewise <, <=, >, >= and in), where $each returns the field's values
// (field.Slot.Ints). The VM runs that as written; the closure path and the
// prefilter recognise the shape with EachField. Anywhere else the field
// is its first value.

// eachFunc is the function the patcher writes to read every value of such
// a field; conditions cannot call it.
const eachFunc = "$each"

// eachOps are the comparisons taken over every value.
var eachOps = map[string]bool{"==": true, "!=": true, "<": true, "<=": true, ">": true, ">=": true, "in": true}

// EachField reports whether n is the compiler's read of every value of a
// field that a frame may carry several times (the first argument of the
// any or none it rewrites a comparison of that field into), and returns
// the field's slot.
func EachField(n ast.Node) (field.Slot, bool) {
	c, ok := n.(*ast.CallNode)
	if !ok || len(c.Arguments) != 2 {
		return field.Slot{}, false
	}
	if id, ok := c.Callee.(*ast.IdentifierNode); !ok || id.Value != eachFunc {
		return field.Slot{}, false
	}
	name, ok := c.Arguments[1].(*ast.StringNode)
	if !ok {
		return field.Slot{}, false
	}
	s, ok := field.Lookup(name.Value)
	return s, ok && s.Multi()
}

// eachValues is $each: the values of the field named name in the packet
// env (a *field.Packet, as the Evaluator runs every program with).
func eachValues(env any, name string) []int {
	s, _ := field.Lookup(name)
	return s.Ints(env.(*field.Packet))
}

// each rewrites n, a comparison of a field that a frame may carry several
// times with a value, into one over every value of the field (see the
// top of this file).
func (p *patcher) each(node *ast.Node, n *ast.BinaryNode) {
	if !eachOps[n.Operator] {
		return
	}
	left, isLeft := p.multi(n.Left)
	right, isRight := p.multi(n.Right)
	switch {
	case isLeft && isRight:
		p.errorf(n, "%s and %s each have a value per header: compare them with values, not with each other", left, right)
		return
	case !isLeft && !isRight, isRight && n.Operator == "in":
		return
	}
	loc := n.Location()
	elem := &ast.PointerNode{}
	pred := &ast.BinaryNode{Operator: n.Operator, Left: elem, Right: n.Right}
	name, other := left, &pred.Right
	if isRight {
		name, other = right, &pred.Left
		pred.Left, pred.Right = n.Left, elem
	}
	fn := "any"
	if n.Operator == "!=" {
		fn, pred.Operator = "none", "=="
	}
	env, callee, str := &ast.IdentifierNode{Value: "$env"}, &ast.IdentifierNode{Value: eachFunc}, &ast.StringNode{Value: name}
	values := &ast.CallNode{Callee: callee, Arguments: []ast.Node{env, str}}
	predNode := &ast.PredicateNode{Node: pred}
	var out ast.Node = &ast.BuiltinNode{Name: fn, Arguments: []ast.Node{values, predNode}}
	fresh := []ast.Node{elem, pred, env, callee, str, values, predNode, out}
	if usesElem(*other) {
		// The value reads # of an enclosing predicate: bind it first,
		// as # inside the new predicate is the field's value.
		const bound = "$value"
		decl := &ast.VariableDeclaratorNode{Name: bound, Value: *other, Expr: out}
		ref := &ast.IdentifierNode{Value: bound}
		*other = ref
		out = decl
		fresh = append(fresh, decl, ref)
	}
	for _, f := range fresh {
		f.SetLocation(loc)
	}
	*node = out
}

// multi returns the name of the field n reads when it is one that a frame
// may carry several times.
func (p *patcher) multi(n ast.Node) (string, bool) {
	if _, ok := n.(*ast.MemberNode); !ok {
		return "", false
	}
	path, root := chain(n)
	if root == nil || !p.c.cat.roots[root.Value] {
		return "", false
	}
	return path, p.c.cat.fields[path].Multi
}

// usesElem reports whether n reads a predicate's element (#, #index, ...).
func usesElem(n ast.Node) bool {
	var f elemFinder
	ast.Walk(&n, &f)
	return bool(f)
}

type elemFinder bool

func (f *elemFinder) Visit(n *ast.Node) {
	if _, ok := (*n).(*ast.PointerNode); ok {
		*f = true
	}
}
