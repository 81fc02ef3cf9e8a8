package rules

import (
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"github.com/vigil-ids/vigil/rules/field"
)

// Template is a rule's output message: text with {{placeholders}}, each a
// field name or any expression over the packet ("{{dest_ip}}",
// "{{lower(http.host)}}"). A Template is safe for concurrent use.
type Template struct {
	text  string
	parts []tmplPart
}

type tmplPart struct {
	lit  string
	prog *vm.Program // nil for a literal part
}

// String returns the template as written.
func (t *Template) String() string { return t.text }

// Render fills the template from p. A placeholder that fails at run time
// renders as "<error>". Render allocates; call it only for alerts.
func (t *Template) Render(p *field.Packet) string {
	var b strings.Builder
	for _, part := range t.parts {
		if part.prog == nil {
			b.WriteString(part.lit)
			continue
		}
		out, err := expr.Run(part.prog, p)
		if err != nil {
			b.WriteString("<error>")
			continue
		}
		switch v := out.(type) {
		case string:
			b.WriteString(v)
		case int:
			b.WriteString(strconv.Itoa(v))
		case float64:
			b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
		case bool:
			b.WriteString(strconv.FormatBool(v))
		case time.Time:
			b.WriteString(v.Format(time.RFC3339Nano))
		case nil:
		default:
			b.WriteString(strings.TrimSpace(strconv.Quote(toString(v))))
		}
	}
	return b.String()
}

func toString(v any) string {
	if s, ok := v.(interface{ String() string }); ok {
		return s.String()
	}
	return "?"
}

// compileTemplate compiles a message; it returns nil after an error.
func (c *compiler) compileTemplate(sc scalar) *Template {
	text := sc.node.Value
	t := &Template{text: text}
	ok := true
	rest, off := text, 0 // off: rune offset of rest in text
	for rest != "" {
		i := strings.Index(rest, "{{")
		if i < 0 {
			t.parts = append(t.parts, tmplPart{lit: rest})
			break
		}
		if i > 0 {
			t.parts = append(t.parts, tmplPart{lit: rest[:i]})
		}
		open := off + runeLen(rest[:i])
		j := strings.Index(rest[i+2:], "}}")
		if j < 0 {
			c.e.add(sc.at(open), "unclosed {{ in message")
			return nil
		}
		inner := rest[i+2 : i+2+j]
		if strings.TrimSpace(inner) == "" {
			c.e.add(sc.at(open), "empty {{}} in message")
			ok = false
		} else {
			sub := scalar{f: sc.f, node: sc.node, base: open + 2}
			last := strings.Count(inner, "\n") + 1
			res, _ := c.compileExpr(inner, sub, 1, last, sc.at(open), false, false, nil)
			if res == nil {
				ok = false
			} else {
				t.parts = append(t.parts, tmplPart{prog: res.prog})
			}
		}
		off = open + 2 + runeLen(inner) + 2
		rest = rest[i+2+j+2:]
	}
	if !ok {
		return nil
	}
	return t
}

func runeLen(s string) int { return len([]rune(s)) }

// at maps a rune offset in the scalar's value to the file.
func (s scalar) at(off int) Position {
	return scalar{f: s.f, node: s.node, base: s.base + off}.position(1, 1)
}
