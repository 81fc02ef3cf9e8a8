package dfilter

import "strings"

// The syntax tree of a filter, before any field is looked up.
type (
	node interface{}

	// logic is a && b, a || b or a ^^ b.
	logic struct {
		op   string
		l, r node
	}

	// negation is !x.
	negation struct{ x node }

	// test is a comparison, a membership or search test, a bitwise test
	// or, with op empty, the existence of a field.
	test struct {
		lhs *operand
		op  string // "", ==, !=, ===, !==, <, <=, >, >=, contains, matches, in, &
		at  int    // the operator's offset
		rhs *operand
		set []member // op in
		// masked: for op &, the comparison of lhs & rhs with a value
		// (tcp.flags & 0x12 == 0x12); nil for the bare bitwise test
		// (lhs & rhs != 0).
		masked *test
	}

	// operand is a field or a literal (tok), or a function of one
	// (fn, arg), possibly sliced.
	operand struct {
		tok   token
		fn    string
		arg   *operand
		slice *token
	}

	// member is one element of a set: a value, or the range lo..hi.
	member struct{ lo, hi *operand }
)

// parser is a recursive-descent parser over the tokens of one filter.
type parser struct {
	filter string
	toks   []token
	i      int
}

// parse returns the syntax tree of filter. The grammar, loosest first:
//
//	or      = xor { "||" xor }
//	xor     = and { "^^" and }
//	and     = unary { "&&" unary }
//	unary   = "!" unary | "(" or ")" | test
//	test    = operand [ relop operand | "in" set | "contains" operand | "matches" operand | "&" operand [ relop operand ] ]
//	set     = "{" member { [","] member } "}"
//	member  = operand [ ".." operand ]
//	operand = ( word | string | char | word "(" operand ")" ) [ slice ]
func parse(filter string) (node, error) {
	toks, err := lex(filter)
	if err != nil {
		return nil, err
	}
	p := &parser{filter: filter, toks: toks}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.unexpected(t)
	}
	return n, nil
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

// accept consumes the operator op if it comes next.
func (p *parser) accept(op string) bool {
	if t := p.peek(); t.kind == tOp && t.text == op {
		p.i++
		return true
	}
	return false
}

func (p *parser) unexpected(t token) error {
	if t.kind == tEOF {
		return errorAt(p.filter, t.at, "unexpected end of filter")
	}
	if msg, ok := unsupported[t.raw[0]]; ok && t.kind == tWord { // a word such as "/" or "-2"
		return errorAt(p.filter, t.at, "%s", msg)
	}
	return errorAt(p.filter, t.at, "unexpected %q", t.raw)
}

// binary parses operands of the operator op, each with sub, into a
// left-associative chain.
func (p *parser) binary(op string, sub func() (node, error)) (node, error) {
	l, err := sub()
	if err != nil {
		return nil, err
	}
	for p.accept(op) {
		r, err := sub()
		if err != nil {
			return nil, err
		}
		l = &logic{op: op, l: l, r: r}
	}
	return l, nil
}

func (p *parser) or() (node, error)  { return p.binary("||", p.xor) }
func (p *parser) xor() (node, error) { return p.binary("^^", p.and) }
func (p *parser) and() (node, error) { return p.binary("&&", p.unary) }

func (p *parser) unary() (node, error) {
	switch {
	case p.accept("!"):
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &negation{x: x}, nil
	case p.accept("("):
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.accept(")") {
			return nil, p.unexpected(p.peek())
		}
		return x, nil
	}
	return p.test()
}

// relops are the operators between two operands.
var relops = map[string]bool{
	"==": true, "!=": true, "===": true, "!==": true, "<": true, "<=": true, ">": true, ">=": true,
	"contains": true, "matches": true, "&": true,
}

func (p *parser) test() (node, error) {
	lhs, err := p.operand()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	if t.kind != tOp || !relops[t.text] && t.text != "in" {
		return &test{lhs: lhs, at: lhs.tok.at}, nil
	}
	p.next()
	if t.text == "in" {
		set, err := p.set()
		return &test{lhs: lhs, op: "in", at: t.at, set: set}, err
	}
	rhs, err := p.operand()
	if err != nil {
		return nil, err
	}
	n := &test{lhs: lhs, op: t.text, at: t.at, rhs: rhs}
	if c := p.peek(); t.text == "&" && c.kind == tOp && relops[c.text] && !strings.ContainsAny(c.text[:1], "&cm") {
		p.next()
		v, err := p.operand()
		if err != nil {
			return nil, err
		}
		n.masked = &test{op: c.text, at: c.at, rhs: v}
	}
	return n, nil
}

func (p *parser) set() ([]member, error) {
	if !p.accept("{") {
		return nil, p.unexpected(p.peek())
	}
	var out []member
	for !p.accept("}") {
		if len(out) > 0 {
			p.accept(",")
		}
		lo, err := p.operand()
		if err != nil {
			return nil, err
		}
		m := member{lo: lo}
		// A range is lo..hi, written as one word or apart.
		if w := lo.tok.text; lo.tok.kind == tWord && strings.Contains(w, "..") && lo.slice == nil && lo.fn == "" {
			i := strings.Index(w, "..")
			lo.tok.text, lo.tok.raw = w[:i], w[:i]
			if rest := w[i+2:]; rest != "" {
				m.hi = &operand{tok: token{kind: tWord, text: rest, raw: rest, at: lo.tok.at + i + 2}}
			}
			if lo.tok.text == "" {
				return nil, errorAt(p.filter, lo.tok.at, "a range needs a lower bound")
			}
		} else if t := p.peek(); t.kind == tWord && strings.HasPrefix(t.text, "..") {
			p.next()
			if rest := t.text[2:]; rest != "" {
				m.hi = &operand{tok: token{kind: tWord, text: rest, raw: rest, at: t.at + 2}}
			}
		} else {
			out = append(out, m)
			continue
		}
		if m.hi == nil {
			if m.hi, err = p.operand(); err != nil {
				return nil, err
			}
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		return nil, errorAt(p.filter, p.toks[p.i-1].at, "empty set")
	}
	return out, nil
}

// functions are the display-filter functions a rule takes.
var functions = map[string]bool{"len": true, "lower": true, "upper": true}

func (p *parser) operand() (*operand, error) {
	t := p.next()
	var o *operand
	switch t.kind {
	case tString, tChar:
		o = &operand{tok: t}
	case tWord:
		o = &operand{tok: t}
		if p.accept("(") {
			if !functions[t.text] {
				return nil, errorAt(p.filter, t.at, "function %s is not supported (len, lower and upper are)", t.text)
			}
			arg, err := p.operand()
			if err != nil {
				return nil, err
			}
			if !p.accept(")") {
				return nil, p.unexpected(p.peek())
			}
			o = &operand{tok: t, fn: t.text, arg: arg}
		}
	case tOp:
		if t.text == "{" {
			return nil, errorAt(p.filter, t.at, "arithmetic is not supported")
		}
		return nil, p.unexpected(t)
	default:
		return nil, p.unexpected(t)
	}
	if s := p.peek(); s.kind == tSlice {
		p.next()
		o.slice = &s
	}
	return o, nil
}
