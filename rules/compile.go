package rules

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
	"go.yaml.in/yaml/v3"

	"github.com/vigil-ids/vigil/rules/dfilter"
	"github.com/vigil-ids/vigil/rules/field"
)

// maxFlowbits is the number of distinct flowbit names a set may use: bits
// 0..62 of flow.bits.
const maxFlowbits = 63

// catalog indexes field.Catalog() once.
type catalog struct {
	fields   map[string]field.Field
	roots    map[string]bool // first name parts ("tcp", "payload")
	prefixes map[string]bool // proper prefixes of a name ("tcp.flags")
	names    []string
}

func newCatalog() *catalog {
	c := &catalog{fields: map[string]field.Field{}, roots: map[string]bool{}, prefixes: map[string]bool{}}
	for _, f := range field.Catalog() {
		c.fields[f.Name] = f
		c.names = append(c.names, f.Name)
		parts := strings.Split(f.Name, ".")
		c.roots[parts[0]] = true
		for i := 1; i < len(parts); i++ {
			c.prefixes[strings.Join(parts[:i], ".")] = true
		}
	}
	return c
}

// compiler holds what one load shares: lists, macros, flowbit numbers and
// the functions' compile-time state.
type compiler struct {
	e        *errs
	cat      *catalog
	fn       *funcs
	lists    map[string]*listSpec
	macros   map[string]*macroSpec
	flowbits map[string]int
	reserved map[string]bool
	// env is the checker's view of field.Packet, made once: expr learns
	// a struct's fields lazily and keeps what it learnt in the config's
	// type cache, which a fresh expr.Env(field.Packet{}) per expression
	// would throw away (at 1,000 rules that was a third of rule loading).
	env *conf.Config
}

func newCompiler(e *errs) *compiler {
	c := &compiler{
		e: e, cat: newCatalog(), fn: newFuncs(),
		lists: map[string]*listSpec{}, macros: map[string]*macroSpec{},
		flowbits: map[string]int{}, reserved: map[string]bool{},
		env: conf.New(field.Packet{}),
	}
	for _, f := range Functions() {
		c.reserved[f.Name] = true
	}
	for _, b := range builtin.Builtins {
		c.reserved[b.Name] = true
	}
	for _, w := range []string{"in", "and", "or", "not", "true", "false", "nil", "matches", "contains", "startsWith", "endsWith", "let", "if", "else", "bitand"} {
		c.reserved[w] = true
	}
	for r := range c.cat.roots {
		c.reserved[r] = true
	}
	return c
}

// options is the one place that lists the expr options every condition and
// template placeholder is compiled with.
func (c *compiler) options(p *patcher, asBool bool) []expr.Option {
	opts := []expr.Option{
		c.packetEnv,
		expr.Patch(p),
		expr.Optimize(true),
	}
	if asBool {
		opts = append(opts, expr.AsBool())
	}
	return append(opts, c.fn.options()...)
}

// packetEnv is expr.Env(field.Packet{}) with the type cache of c.env,
// shared by every expression c compiles (one at a time).
func (c *compiler) packetEnv(cfg *conf.Config) {
	cfg.EnvObject, cfg.Env, cfg.Strict, cfg.NtCache = c.env.EnvObject, c.env.Env, c.env.Strict, c.env.NtCache
}

// bit returns the flowbit number of name, assigning the next one.
func (c *compiler) bit(name string, pos Position) (int, bool) {
	if n, ok := c.flowbits[name]; ok {
		return n, true
	}
	if len(c.flowbits) >= maxFlowbits {
		c.e.add(pos, "too many flowbits: %q would be number %d, at most %d names may be used", name, len(c.flowbits)+1, maxFlowbits)
		return 0, false
	}
	c.flowbits[name] = len(c.flowbits)
	return c.flowbits[name], true
}

// scalar locates a condition or template inside the YAML file, so that a
// position inside the expression maps back to the file.
type scalar struct {
	f    *fileSpec
	node *yaml.Node
	// base is added to an offset in the expression: for a template
	// placeholder, its offset inside the message.
	base int
}

// position maps a 1-based line and column inside the scalar's value (plus
// s.base on the first line) to the file.
func (s scalar) position(line, col int) Position {
	n, f := s.node, s.f
	pos := Position{File: f.name, Line: n.Line, Col: n.Column}
	value := n.Value
	// offset in the value, in runes
	off := 0
	for i, l := range strings.Split(value, "\n") {
		if i+1 == line {
			break
		}
		off += utf8.RuneCountInString(l) + 1
	}
	off += col - 1 + s.base
	lineText := func(i int) string { // 1-based
		if i-1 >= 0 && i-1 < len(f.lines) {
			return strings.TrimRight(f.lines[i-1], "\r")
		}
		return ""
	}
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		indent := -1
		for i := n.Line + 1; i <= len(f.lines); i++ {
			t := lineText(i)
			if strings.TrimSpace(t) == "" {
				if indent < 0 {
					continue
				}
			} else {
				ind := len(t) - len(strings.TrimLeft(t, " "))
				if indent < 0 {
					indent = ind
				} else if ind < indent {
					break
				}
			}
			seg := ""
			if len(t) > indent {
				seg = t[indent:]
			}
			if n := utf8.RuneCountInString(seg); off <= n {
				return Position{File: f.name, Line: i, Col: indent + off + 1}
			} else {
				off -= n + 1
			}
		}
		return pos
	}
	start := n.Column - 1
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		start++
	}
	for i := n.Line; i <= len(f.lines); i++ {
		t := lineText(i)
		var seg string
		if i == n.Line {
			if start > len(t) {
				return pos
			}
			seg = t[start:]
		} else {
			seg = strings.TrimLeft(t, " \t")
			start = len(t) - len(seg)
		}
		if n := utf8.RuneCountInString(seg); off <= n || i == len(f.lines) {
			return Position{File: f.name, Line: i, Col: start + off + 1}
		} else {
			off -= n + 1
		}
	}
	return pos
}

// compiled is the result of compiling one expression.
type compiled struct {
	prog *vm.Program
	node ast.Node
}

// compileExpr compiles src, reporting errors at their place in sc. Lines
// of src before firstLine (1-based) are a wrapper written by the compiler;
// errors there are reported at fallback. With segment set, payload tests
// see the packet's own bytes only (a display filter's tcp.payload), not
// the stream too. It returns nil after an error.
func (c *compiler) compileExpr(src string, sc scalar, firstLine, lastLine int, fallback Position, asBool, segment bool, macroStack []string) (*compiled, *patcher) {
	p := &patcher{c: c, src: src, marks: map[ast.Node]ast.Node{}, unknownPaths: map[int]string{}, stack: macroStack, segment: segment}
	at := func(line, col int) Position {
		if line < firstLine || line > lastLine {
			return fallback
		}
		return sc.position(line-firstLine+1, col)
	}
	prog, err := expr.Compile(src, c.options(p, asBool)...)
	if len(p.errs) > 0 {
		for _, pe := range p.errs {
			line, col := lineCol(src, pe.from)
			c.e.add(at(line, col), "%s", pe.msg)
		}
		return nil, p
	}
	if p.brokenMacro {
		return nil, p // the macro's errors are reported at the macro
	}
	if err != nil {
		var fe *file.Error
		if errors.As(err, &fe) {
			line, col := fe.Line, fe.Column+1
			if fe.Snippet == "" { // not bound to the source: compute it
				line, col = lineCol(src, fe.From)
			}
			c.e.add(at(line, col), "%s", p.message(fe))
		} else {
			c.e.add(at(firstLine, 1), "%v", err)
		}
		return nil, p
	}
	var node ast.Node
	if p.root != nil {
		node = *p.root
	}
	return &compiled{prog: prog, node: node}, p
}

// lineCol turns a rune offset in src into a 1-based line and column.
func lineCol(src string, off int) (int, int) {
	line, col, i := 1, 1, 0
	for _, r := range src {
		if i == off {
			break
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		i++
	}
	return line, col
}

// message rewrites an expr message into the catalog's language.
func (p *patcher) message(fe *file.Error) string {
	msg := fe.Message
	if name, ok := strings.CutPrefix(msg, "unknown name "); ok {
		if path, ok := p.unknownPaths[fe.From]; ok {
			return fmt.Sprintf("unknown field %q%s", path, didYouMean(path, p.c.cat.names))
		}
		return fmt.Sprintf("unknown identifier %q%s", name, didYouMean(name, p.c.cat.names, p.c.listNames(), p.c.macroNames()))
	}
	if strings.HasPrefix(msg, "type ") && strings.Contains(msg, " has no field ") {
		for from, path := range p.unknownPaths {
			if fields, ok := dfilter.Sides(path); ok && fe.From >= from && fe.From <= from+len(path) {
				return fmt.Sprintf("%s stands for %s and %s: compare it with a value, or pass it to cidr", path, fields[0], fields[1])
			}
		}
		return "unknown field: " + msg
	}
	return msg
}

func (c *compiler) listNames() []string {
	out := make([]string, 0, len(c.lists))
	for n := range c.lists {
		out = append(out, n)
	}
	return out
}

func (c *compiler) macroNames() []string {
	out := make([]string, 0, len(c.macros))
	for n := range c.macros {
		out = append(out, n)
	}
	return out
}

// checkMacro compiles a macro on its own, so its errors are reported once,
// at the macro. A macro may be a condition or any value
// (`lower(urldecode(http.request.uri))`); its users' type checks apply.
func (c *compiler) checkMacro(m *macroSpec) {
	if m.checked {
		return
	}
	m.checked = true
	src := m.cond.Value
	before := len(c.e.list)
	res, p := c.compileExpr(src, scalar{f: m.file, node: m.cond}, 1, strings.Count(src, "\n")+1, m.pos, false, false, []string{m.name})
	if res == nil || p.brokenMacro || len(c.e.list) > before {
		m.broken = true
	}
}

// exceptionSource turns exceptions into expression text; it reports bad
// fields and values and returns ok false after an error.
func (c *compiler) exceptionSource(r *ruleSpec) (string, bool) {
	var parts []string
	ok := true
	for _, ex := range r.except {
		sc := scalar{f: r.file, node: ex.fNode}
		f, known := c.cat.fields[ex.field]
		if !known {
			c.e.add(sc.position(1, 1), "unknown field %q%s", ex.field, didYouMean(ex.field, c.cat.names))
			ok = false
			continue
		}
		for _, v := range ex.values {
			vp := Position{File: r.file.name, Line: v.Line, Col: v.Column}
			switch {
			case addressFields[ex.field]:
				if _, err := parsePrefix(v.Value); err != nil {
					c.e.add(vp, "bad address or CIDR %q for %s", v.Value, ex.field)
					ok = false
					continue
				}
				_ = c.fn.notePrefix(v.Value)
				parts = append(parts, fmt.Sprintf("cidr(%s, %s)", ex.field, strconv.Quote(v.Value)))
			case f.Type == "int":
				n, err := strconv.ParseInt(v.Value, 0, 64)
				if err != nil {
					c.e.add(vp, "%s is an integer field, got %q", ex.field, v.Value)
					ok = false
					continue
				}
				parts = append(parts, fmt.Sprintf("%s == %d", ex.field, n))
			case f.Type == "bool":
				b, err := strconv.ParseBool(v.Value)
				if err != nil {
					c.e.add(vp, "%s is a boolean field, got %q", ex.field, v.Value)
					ok = false
					continue
				}
				parts = append(parts, fmt.Sprintf("%s == %t", ex.field, b))
			case f.Type == "string":
				parts = append(parts, fmt.Sprintf("%s == %s", ex.field, strconv.Quote(v.Value)))
			default:
				c.e.add(vp, "exceptions on %s fields (%s) are not supported", f.Type, ex.field)
				ok = false
			}
		}
	}
	return strings.Join(parts, " || "), ok
}

// addressFields are compared as addresses (CIDR or address) in exceptions.
var addressFields = map[string]bool{
	"ip.src": true, "ip.dst": true, "ipv6.src": true, "ipv6.dst": true,
	"src_ip": true, "dest_ip": true,
	"arp.src.proto_ipv4": true, "arp.dst.proto_ipv4": true,
}

// compileRule fills r.rule's Program, Node, Message and flowbit masks.
func (c *compiler) compileRule(r *ruleSpec) {
	rl := &r.rule
	for _, ref := range r.set {
		if n, ok := c.bit(ref.name, ref.pos); ok {
			rl.FlowbitsSet |= 1 << n
		}
	}
	for _, ref := range r.unset {
		if n, ok := c.bit(ref.name, ref.pos); ok {
			rl.FlowbitsUnset |= 1 << n
		}
	}
	for _, ref := range r.toggle {
		if n, ok := c.bit(ref.name, ref.pos); ok {
			rl.FlowbitsToggle |= 1 << n
		}
	}
	if r.distinct != nil {
		d := rl.Threshold.DistinctName
		pos := Position{File: r.file.name, Line: r.distinct.Line, Col: r.distinct.Column}
		if _, ok := c.cat.fields[d]; !ok {
			c.e.add(pos, "unknown field %q%s", d, didYouMean(d, c.cat.names))
		} else if slot, ok := field.Lookup(d); !ok {
			c.e.add(pos, "field %q cannot be counted: distinct needs a number, text or bool field", d)
		} else {
			rl.Threshold.Distinct = slot
		}
	}
	if r.message != nil {
		rl.Message = c.compileTemplate(scalar{f: r.file, node: r.message})
	}
	if r.cond == nil {
		return
	}
	rl.Condition = r.cond.Value
	sc := scalar{f: r.file, node: r.cond}
	src := r.cond.Value
	lines := strings.Count(src, "\n") + 1
	first := 1
	fallback := r.exceptPos
	if r.wireshark {
		var ok bool
		if src, ok = c.translate(sc); !ok {
			return
		}
		// The translation is no text of the file: its errors (none are
		// expected) are reported at the filter.
		fallback, lines, first = sc.position(1, 1), 0, 1
	}
	if len(r.except) > 0 {
		exc, ok := c.exceptionSource(r)
		if !ok {
			return
		}
		src = "(\n" + src + "\n) && !(\n" + exc + "\n)"
		first = 2
	}
	res, _ := c.compileExpr(src, sc, first, first+lines-1, fallback, true, r.wireshark, nil)
	if res != nil {
		rl.Program, rl.Node = res.prog, res.node
		rl.fast = compileFast(res.node, c.fn)
	}
}

// translate returns the condition of the display filter in sc, reporting
// its errors at their place in the file.
func (c *compiler) translate(sc scalar) (string, bool) {
	src, err := dfilter.Translate(sc.node.Value)
	var fe *dfilter.Error
	if errors.As(err, &fe) {
		msg := fe.Msg
		if fe.Field != "" {
			msg += didYouMean(fe.Field, c.cat.names, dfilter.Names())
		}
		c.e.add(sc.position(fe.Line, fe.Col), "%s", msg)
		return "", false
	}
	return src, true
}
