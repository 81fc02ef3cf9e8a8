package rules

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
)

// patcher is the expr Patch visitor that turns a condition as written into
// the one that runs. ast.Walk visits children before parents, so:
//
//   - an identifier that names a layer ("tcp") is first rewritten into
//     tcp.present and remembered (marks); when its parent turns out to be a
//     member access (tcp.dstport), the parent puts the identifier back;
//   - `frame` (already frame.present) under contains/matches/startsWith/
//     endsWith, a slice or index, or a string function becomes frame.bytes;
//   - a bool compared with 0 or 1 is compared with false or true;
//   - list names become array literals, macro names their expanded AST,
//     isset/notset a test of flow.bits;
//   - a comparison of a field that a frame may carry several times is
//     taken over all its values (each.go);
//   - member chains on the packet are checked against the catalog.
type patcher struct {
	c   *compiler
	src string
	// marks maps a node written as X.present to X, its receiver.
	marks map[ast.Node]ast.Node
	// unknownPaths maps the offset of an unknown identifier that starts
	// a member chain, or of an either-side name (sides.go), to the whole
	// chain ("tpc.dstport", "tcp.port"), for error messages.
	unknownPaths map[int]string
	// badChains holds root identifiers already reported, so an error in
	// tcp.dstprt is not reported again for tcp.dstprt.x.
	badChains map[ast.Node]bool
	errs      []patchErr
	// brokenMacro is set when an expanded macro had errors (reported at
	// the macro): the user's own errors would only repeat them.
	brokenMacro bool
	stack       []string // macros being expanded, for cycles
	root        *ast.Node
	// segment keeps payload tests on the packet's own bytes: no stream
	// view is added (compileExpr).
	segment bool
	// budget is the number of AST nodes macro expansion may still add to
	// this condition, shared with nested expansions: macros that use each
	// other twice over would otherwise grow exponentially.
	budget *int
}

// maxExpansion bounds the AST nodes that macros may add to one condition.
const maxExpansion = 20000

type patchErr struct {
	from int
	msg  string
}

func (p *patcher) errorf(n ast.Node, format string, args ...any) {
	p.errs = append(p.errs, patchErr{from: n.Location().From, msg: fmt.Sprintf(format, args...)})
}

// byteFuncs take the frame's bytes when given `frame`.
var byteFuncs = map[string]bool{
	"icontains": true, "byte_at": true, "u16": true, "u32": true, "b64decode": true, "urldecode": true,
	"len": true, "lower": true, "upper": true, "trim": true, "trimPrefix": true, "trimSuffix": true,
	"indexOf": true, "lastIndexOf": true, "hasPrefix": true, "hasSuffix": true, "split": true, "splitAfter": true, "replace": true,
}

var stringOps = map[string]bool{"contains": true, "matches": true, "startsWith": true, "endsWith": true}

// Visit implements ast.Visitor.
func (p *patcher) Visit(node *ast.Node) {
	p.root = node
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		p.ident(node, n)
	case *ast.MemberNode:
		p.member(node, n)
	case *ast.SliceNode:
		p.frameBytes(&n.Node)
	case *ast.BinaryNode:
		if stringOps[n.Operator] {
			p.frameBytes(&n.Left)
			p.frameBytes(&n.Right)
		}
		if n.Operator == "contains" || n.Operator == "matches" {
			if lit, ok := n.Right.(*ast.StringNode); ok && !p.segment {
				if same, ok := payloadOperand(n.Left); ok {
					p.orStream(node, &ast.BinaryNode{Operator: n.Operator, Left: same(streamView(lit, n.Operator == "contains")), Right: &ast.StringNode{Value: lit.Value}})
				}
			}
		}
		if n.Operator == "==" || n.Operator == "!=" {
			p.boolHabit(n)
		}
		if !p.sides(node, n) {
			p.each(node, n)
		}
	case *ast.CallNode:
		p.call(node, n)
	case *ast.BuiltinNode:
		if byteFuncs[n.Name] {
			for i := range n.Arguments {
				p.frameBytes(&n.Arguments[i])
			}
		}
	}
}

func (p *patcher) ident(node *ast.Node, n *ast.IdentifierNode) {
	name := n.Value
	if l, ok := p.c.lists[name]; ok {
		arr := &ast.ArrayNode{}
		for _, it := range l.items {
			arr.Nodes = append(arr.Nodes, literal(it.Tag, it.Value))
		}
		setLocation(arr, n.Location())
		*node = arr
		return
	}
	if m, ok := p.c.macros[name]; ok {
		*node = p.expand(m, n)
		return
	}
	if f, ok := p.c.cat.fields[name]; ok && f.Layer {
		p.present(node)
	}
}

// present rewrites *node (a layer) into node.present and marks it.
func (p *patcher) present(node *ast.Node) {
	recv := *node
	m := &ast.MemberNode{Node: recv, Property: &ast.StringNode{Value: "present"}}
	setLocation(m, recv.Location())
	p.marks[m] = recv
	*node = m
}

// frameBytes turns a bare `frame` (frame.present by now) into frame.bytes.
func (p *patcher) frameBytes(node *ast.Node) {
	recv, ok := p.marks[*node]
	if !ok {
		return
	}
	if id, ok := recv.(*ast.IdentifierNode); !ok || id.Value != "frame" {
		return
	}
	delete(p.marks, *node)
	m := &ast.MemberNode{Node: recv, Property: &ast.StringNode{Value: "bytes"}}
	setLocation(m, recv.Location())
	*node = m
}

// chain returns the dotted name of a member chain and its root identifier.
func chain(n ast.Node) (string, *ast.IdentifierNode) {
	switch n := n.(type) {
	case *ast.IdentifierNode:
		return n.Value, n
	case *ast.MemberNode:
		s, ok := n.Property.(*ast.StringNode)
		if !ok {
			return "", nil
		}
		path, root := chain(n.Node)
		if root == nil {
			return "", nil
		}
		return path + "." + s.Value, root
	}
	return "", nil
}

func (p *patcher) member(node *ast.Node, n *ast.MemberNode) {
	if recv, ok := p.marks[n.Node]; ok {
		if _, isName := n.Property.(*ast.StringNode); isName {
			n.Node = recv // tcp.dstport: tcp is a receiver, not a value
		} else {
			p.frameBytes(&n.Node) // frame[0]
		}
	}
	path, root := chain(n)
	if root == nil {
		return
	}
	cat := p.c.cat
	if !cat.roots[root.Value] {
		if _, ok := p.c.lists[root.Value]; !ok {
			if _, ok := p.c.macros[root.Value]; !ok {
				p.unknownPaths[root.Location().From] = path
			}
		}
		return
	}
	if p.badChains[root] {
		return
	}
	f, known := cat.fields[path]
	switch {
	case known && f.Layer:
		p.present(node)
	case isSides(path):
		p.unknownPaths[root.Location().From] = path // in case no comparison takes it
	case known || cat.prefixes[path]:
	case strings.HasSuffix(path, ".present") && cat.fields[strings.TrimSuffix(path, ".present")].Layer:
	default:
		if p.badChains == nil {
			p.badChains = map[ast.Node]bool{}
		}
		p.badChains[root] = true
		p.errorf(root, "unknown field %q%s", path, didYouMean(path, cat.names))
	}
}

// payloadOperand reports whether n is payload, lower(payload) or
// upper(payload), and returns what n does to payload, to do it to another
// operand.
func payloadOperand(n ast.Node) (same func(ast.Node) ast.Node, ok bool) {
	if isPayload(n) {
		return func(x ast.Node) ast.Node { return x }, true
	}
	if b, ok := n.(*ast.BuiltinNode); ok && (b.Name == "lower" || b.Name == "upper") && len(b.Arguments) == 1 && isPayload(b.Arguments[0]) {
		return func(x ast.Node) ast.Node { return &ast.BuiltinNode{Name: b.Name, Arguments: []ast.Node{x}} }, true
	}
	return nil, false
}

// isPayload reports whether n is the field payload.
func isPayload(n ast.Node) bool {
	id, ok := n.(*ast.IdentifierNode)
	return ok && id.Value == "payload"
}

// streamView returns the part of tcp.reassembled.data in which a match of
// lit must lie to be new for this packet: when ending, the last
// new_length+len(lit)-1 bytes, so that a match must end in the bytes this
// packet delivered and is seen once; otherwise (a regex) the whole view.
func streamView(lit *ast.StringNode, ending bool) ast.Node {
	tcp := &ast.IdentifierNode{Value: "tcp"}
	re := &ast.MemberNode{Node: tcp, Property: &ast.StringNode{Value: "reassembled"}}
	data := &ast.MemberNode{Node: re, Property: &ast.StringNode{Value: "data"}}
	if !ending {
		return data
	}
	newLen := &ast.MemberNode{Node: re, Property: &ast.StringNode{Value: "new_length"}}
	// A negative slice start counts from the end.
	from := &ast.BinaryNode{Operator: "-", Left: &ast.IntegerNode{Value: 1 - len(lit.Value)}, Right: newLen}
	return &ast.SliceNode{Node: data, From: from}
}

// orStream rewrites the payload test at *node into `(test || stream)`,
// stream being the same test on the TCP stream view: a content test on
// TCP sees the reassembled stream as well as the packet, as a Suricata
// content match does. len(payload), payload[i:j] and startsWith and
// endsWith keep testing the packet's own bytes.
func (p *patcher) orStream(node *ast.Node, stream ast.Node) {
	if _, ok := p.c.cat.fields["tcp.reassembled.data"]; !ok {
		return
	}
	loc := (*node).Location()
	setLocation(stream, loc)
	or := &ast.BinaryNode{Operator: "||", Left: *node, Right: stream}
	or.SetLocation(loc)
	*node = or
}

// boolHabit accepts Wireshark's `tcp.flags.syn == 1`.
func (p *patcher) boolHabit(n *ast.BinaryNode) {
	fix := func(num *ast.Node, other ast.Node) {
		i, ok := (*num).(*ast.IntegerNode)
		if !ok || (i.Value != 0 && i.Value != 1) || !p.boolish(other) {
			return
		}
		b := &ast.BoolNode{Value: i.Value == 1}
		b.SetLocation(i.Location())
		*num = b
	}
	fix(&n.Right, n.Left)
	fix(&n.Left, n.Right)
}

// boolish reports whether n is surely a bool.
func (p *patcher) boolish(n ast.Node) bool {
	switch n := n.(type) {
	case *ast.BoolNode:
		return true
	case *ast.UnaryNode:
		return n.Operator == "!" || n.Operator == "not"
	case *ast.BinaryNode:
		switch n.Operator {
		case "&&", "||", "and", "or", "==", "!=", "<", ">", "<=", ">=", "in", "contains", "matches", "startsWith", "endsWith":
			return true
		}
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok {
			return id.Value == "cidr" || id.Value == "icontains"
		}
	case *ast.MemberNode:
		path, root := chain(n)
		if root == nil || !p.c.cat.roots[root.Value] {
			return false
		}
		if strings.HasSuffix(path, ".present") {
			return true
		}
		return p.c.cat.fields[path].Type == "bool"
	}
	return false
}

func (p *patcher) call(node *ast.Node, n *ast.CallNode) {
	id, ok := n.Callee.(*ast.IdentifierNode)
	if !ok {
		return
	}
	if byteFuncs[id.Value] {
		for i := range n.Arguments {
			p.frameBytes(&n.Arguments[i])
		}
	}
	if id.Value == "icontains" && len(n.Arguments) == 2 {
		if lit, ok := n.Arguments[1].(*ast.StringNode); ok && isPayload(n.Arguments[0]) {
			p.orStream(node, &ast.CallNode{Callee: &ast.IdentifierNode{Value: "icontains"}, Arguments: []ast.Node{streamView(lit, true), &ast.StringNode{Value: lit.Value}}})
		}
	}
	switch id.Value {
	case eachFunc:
		p.errorf(n, "unknown function %s", eachFunc)
	case "isset", "notset":
		p.flowbit(node, n, id.Value)
	case "hex":
		if len(n.Arguments) != 1 {
			return // the checker reports the count
		}
		if s, ok := n.Arguments[0].(*ast.StringNode); ok {
			v, err := decodeHex(s.Value)
			if err != nil {
				p.errorf(s, "bad hex string %q: %v", s.Value, err)
				return
			}
			out := &ast.StringNode{Value: v}
			out.SetLocation(n.Location())
			*node = out
		}
	case "cidr":
		if len(n.Arguments) != 2 {
			return
		}
		p.sidesCall(node, n)
		if s, ok := n.Arguments[1].(*ast.StringNode); ok {
			if err := p.c.fn.notePrefix(s.Value); err != nil {
				p.errorf(s, "bad cidr %q", s.Value)
			}
		}
	}
}

// flowbit rewrites isset("x") into bitand(flow.bits, 1<<n) != 0.
func (p *patcher) flowbit(node *ast.Node, n *ast.CallNode, fn string) {
	if len(n.Arguments) != 1 {
		p.errorf(n, "%s takes one flowbit name", fn)
		return
	}
	s, ok := n.Arguments[0].(*ast.StringNode)
	if !ok {
		p.errorf(n.Arguments[0], "%s needs a flowbit name in quotes", fn)
		return
	}
	if !flowbitRe.MatchString(s.Value) {
		p.errorf(s, "bad flowbit name %q (letters, digits, _ . - only)", s.Value)
		return
	}
	if _, ok := p.c.cat.fields["flow.bits"]; !ok {
		p.errorf(n, "%s needs the field flow.bits, which the packet view lacks", fn)
		return
	}
	bit, ok := p.c.bit(s.Value, Position{})
	if !ok {
		p.errorf(s, "too many flowbits: at most %d names may be used", maxFlowbits)
		return
	}
	op := "!="
	if fn == "notset" {
		op = "=="
	}
	bits := &ast.MemberNode{Node: &ast.IdentifierNode{Value: "flow"}, Property: &ast.StringNode{Value: "bits"}}
	and := &ast.BuiltinNode{Name: "bitand", Arguments: []ast.Node{bits, &ast.IntegerNode{Value: 1 << bit}}}
	out := &ast.BinaryNode{Operator: op, Left: and, Right: &ast.IntegerNode{Value: 0}}
	setLocation(out, n.Location())
	*node = out
}

// expand returns macro m's condition, patched, with every node placed at
// the identifier that names it.
func (p *patcher) expand(m *macroSpec, at *ast.IdentifierNode) ast.Node {
	for i, s := range p.stack {
		if s == m.name {
			cycle := append(append([]string{}, p.stack[i:]...), m.name)
			p.errorf(at, "macro cycle: %s", strings.Join(cycle, " -> "))
			return &ast.BoolNode{}
		}
	}
	if !m.checked {
		p.c.checkMacro(m)
	}
	if m.broken {
		p.brokenMacro = true
		return &ast.BoolNode{}
	}
	tree, err := parser.Parse(m.cond.Value)
	if err != nil {
		p.brokenMacro = true
		return &ast.BoolNode{}
	}
	if p.budget == nil {
		p.budget = new(int)
		*p.budget = maxExpansion
	}
	*p.budget -= countNodes(tree.Node)
	if *p.budget < 0 {
		if *p.budget > -1<<40 { // report once
			p.errorf(at, "macro expansion too large (more than %d nodes)", maxExpansion)
			*p.budget = -1 << 41
		}
		return &ast.BoolNode{}
	}
	child := &patcher{
		c: p.c, src: m.cond.Value, marks: p.marks, unknownPaths: map[int]string{},
		stack: append(append([]string{}, p.stack...), m.name), budget: p.budget,
	}
	ast.Walk(&tree.Node, child)
	if len(child.errs) > 0 {
		for _, e := range child.errs {
			if strings.HasPrefix(e.msg, "macro cycle") || strings.HasPrefix(e.msg, "macro expansion") {
				p.errorf(at, "%s", e.msg)
				continue
			}
			p.brokenMacro = true
		}
	}
	if child.brokenMacro {
		p.brokenMacro = true
	}
	setLocation(tree.Node, at.Location())
	return tree.Node
}

// literal makes an AST literal from a YAML scalar.
func literal(tag, value string) ast.Node {
	switch tag {
	case "!!int":
		if n, err := strconv.ParseInt(strings.ReplaceAll(value, "_", ""), 0, 64); err == nil {
			return &ast.IntegerNode{Value: int(n)}
		}
	case "!!float":
		if f, err := strconv.ParseFloat(value, 64); err == nil {
			return &ast.FloatNode{Value: f}
		}
	case "!!bool":
		if b, err := strconv.ParseBool(value); err == nil {
			return &ast.BoolNode{Value: b}
		}
	}
	return &ast.StringNode{Value: value}
}

// setLocation places every node of the tree at loc.
func setLocation(n ast.Node, loc file.Location) {
	ast.Walk(&n, locSetter(loc))
}

type locSetter file.Location

func (l locSetter) Visit(n *ast.Node) { (*n).SetLocation(file.Location(l)) }

type nodeCounter int

func (c *nodeCounter) Visit(*ast.Node) { *c++ }

func countNodes(n ast.Node) int {
	var c nodeCounter
	ast.Walk(&n, &c)
	return int(c)
}
