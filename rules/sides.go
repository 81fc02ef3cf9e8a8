package rules

import (
	"strings"

	"github.com/expr-lang/expr/ast"

	"github.com/vigil-ids/vigil/rules/dfilter"
)

// An either-side name (ip.addr, ipv6.addr, eth.addr, tcp.port, udp.port,
// ip.host: dfilter.Sides) stands for both sides of the packet, as in
// Wireshark. The patcher rewrites a comparison of it into one per side,
//
//	tcp.port == 80              into  (tcp.srcport == 80 || tcp.dstport == 80)
//	tcp.port != 80              into  (tcp.srcport != 80 && tcp.dstport != 80)
//	cidr(ip.addr, "10.0.0.0/8") into  (cidr(ip.src, ...) || cidr(ip.dst, ...))
//
// that is, any side satisfies it, and != holds when no side equals (as
// for a field with several values, each.go). Anywhere else the name is
// an error.

// sideOps are the comparisons an either-side name may take.
var sideOps = map[string]bool{
	"==": true, "!=": true, "<": true, "<=": true, ">": true, ">=": true, "in": true,
	"contains": true, "matches": true, "startsWith": true, "endsWith": true,
}

// isSides reports whether path is an either-side name.
func isSides(path string) bool {
	_, ok := dfilter.Sides(path)
	return ok
}

// sidesOf returns the two fields of n when it is an either-side name.
func sidesOf(n ast.Node) ([]string, bool) {
	if _, ok := n.(*ast.MemberNode); !ok {
		return nil, false
	}
	path, root := chain(n)
	if root == nil {
		return nil, false
	}
	return dfilter.Sides(path)
}

// sides rewrites n, a comparison with an either-side name, into one per
// side, and reports whether it did.
func (p *patcher) sides(node *ast.Node, n *ast.BinaryNode) bool {
	if !sideOps[n.Operator] {
		return false
	}
	fields, left := sidesOf(n.Left)
	if !left {
		var right bool
		if fields, right = sidesOf(n.Right); !right || n.Operator == "in" {
			return false
		}
	}
	var parts []ast.Node
	for _, f := range fields {
		c := &ast.BinaryNode{Operator: n.Operator, Left: n.Left, Right: n.Right}
		if left {
			c.Left = fieldNode(f)
		} else {
			c.Right = fieldNode(f)
		}
		parts = append(parts, c)
	}
	joinSides(node, n.Operator == "!=", parts)
	return true
}

// sidesCall rewrites cidr(either-side name, prefix) into one call per side.
func (p *patcher) sidesCall(node *ast.Node, n *ast.CallNode) {
	fields, ok := sidesOf(n.Arguments[0])
	if !ok {
		return
	}
	var parts []ast.Node
	for _, f := range fields {
		parts = append(parts, &ast.CallNode{Callee: n.Callee, Arguments: []ast.Node{fieldNode(f), n.Arguments[1]}})
	}
	joinSides(node, false, parts)
}

// joinSides replaces *node with the two parts joined by || (by && when
// all), at *node's place.
func joinSides(node *ast.Node, all bool, parts []ast.Node) {
	op := "||"
	if all {
		op = "&&"
	}
	out := &ast.BinaryNode{Operator: op, Left: parts[0], Right: parts[1]}
	setLocation(out, (*node).Location())
	*node = out
}

// FieldPath returns the field name that the member chain n reads
// ("tcp.flags.syn" for tcp.flags.syn, "payload" for payload), and false
// when n is not a chain of identifiers and constant member names. It is
// the inverse of fieldNode.
func FieldPath(n ast.Node) (string, bool) {
	path, root := chain(n)
	return path, root != nil
}

// fieldNode is the member chain that reads the catalog field name.
func fieldNode(name string) ast.Node {
	parts := strings.Split(name, ".")
	var n ast.Node = &ast.IdentifierNode{Value: parts[0]}
	for _, s := range parts[1:] {
		n = &ast.MemberNode{Node: n, Property: &ast.StringNode{Value: s}}
	}
	return n
}
