package dfilter

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

type translator struct{ filter string }

func (t *translator) errorf(at int, format string, args ...any) *Error {
	return errorAt(t.filter, at, format, args...)
}

// unknown is the error for a field name that is not known.
func (t *translator) unknown(tok token) *Error {
	e := t.errorf(tok.at, "unknown field %q", tok.text)
	e.Field = tok.text
	return e
}

func (t *translator) node(n node) (string, error) {
	switch n := n.(type) {
	case *logic:
		l, err := t.node(n.l)
		if err != nil {
			return "", err
		}
		r, err := t.node(n.r)
		if err != nil {
			return "", err
		}
		op := n.op
		if op == "^^" {
			op = "!=" // of two bools
		}
		return "(" + l + " " + op + " " + r + ")", nil
	case *negation:
		x, err := t.node(n.x)
		return "!(" + x + ")", err
	}
	return t.test(n.(*test))
}

// val is a field operand translated: one read per field of its reference
// (the field itself, or sliced, or a function of it) and what must hold
// for each read to be defined (a slice's length), "" for nothing.
type val struct {
	ref   fieldRef
	reads []string
	conds []string
	kind  kind
	// rests and length are set for a slice [i:j] with i >= 0: per read,
	// the field from offset i on, and the slice's length j, so that
	// F[i:j] == lit can be written F[i:] startsWith lit, whose literal
	// the prefilter indexes.
	rests  []string
	length int
}

// isField reports whether o reads a field (and is no literal).
func isField(o *operand) bool {
	_, known := lookup(o.tok.text)
	return o.tok.kind == tWord && (o.fn != "" || known)
}

// field translates o, which must read a field.
func (t *translator) field(o *operand) (*val, error) {
	var v *val
	switch {
	case o.fn != "":
		arg, err := t.field(o.arg)
		if err != nil {
			return nil, err
		}
		if v, err = t.function(o, arg); err != nil {
			return nil, err
		}
	case o.tok.kind != tWord:
		return nil, t.errorf(o.tok.at, "a test starts with a field, not %s", o.tok.raw)
	default:
		ref, ok := lookup(o.tok.text)
		if !ok {
			if isName(o.tok.text) {
				return nil, t.unknown(o.tok)
			}
			return nil, t.errorf(o.tok.at, "a test starts with a field, not %s", o.tok.raw)
		}
		v = &val{ref: ref, reads: ref.fields, conds: make([]string, len(ref.fields)), kind: ref.kind}
	}
	if o.slice != nil {
		return t.sliced(o, v)
	}
	return v, nil
}

// isName reports whether w is spelt like a field name.
func isName(w string) bool {
	return w != "" && (w[0] >= 'a' && w[0] <= 'z' || w[0] >= 'A' && w[0] <= 'Z') &&
		strings.Trim(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.") == ""
}

// asBytes turns a layer operand into the bytes it spans, which only frame
// has.
func (t *translator) asBytes(v *val, at int) error {
	if v.kind != kLayer {
		return nil
	}
	if v.reads[0] != "frame" {
		return t.errorf(at, "the bytes of %s are not available (frame's, tcp.payload and udp.payload are)", v.reads[0])
	}
	v.reads, v.kind = []string{"frame.bytes"}, kBytes
	return nil
}

func (t *translator) function(o *operand, arg *val) (*val, error) {
	out := &val{ref: arg.ref, conds: arg.conds}
	if o.fn == "len" && arg.kind == kMAC { // a MAC address has 6 bytes
		out.kind, out.reads = kInt, slices.Repeat([]string{"6"}, len(arg.reads))
		out.ref.multi = false
		return out, nil
	}
	switch o.fn {
	case "len": // expr's len counts runes: the bytes of ASCII text; len(frame) is frame.cap_len
		out.kind = kInt
	case "lower", "upper":
		out.kind = kText
	default:
		return nil, t.errorf(o.tok.at, "function %s is not supported (len, lower and upper are)", o.fn)
	}
	if err := t.asBytes(arg, o.arg.tok.at); err != nil {
		return nil, err
	}
	if arg.kind != kText && arg.kind != kBytes {
		return nil, t.errorf(o.arg.tok.at, "%s takes a string or bytes field, and %s is %s", o.fn, o.arg.tok.raw, arg.kind)
	}
	for _, r := range arg.reads {
		if r == "frame.bytes" && o.fn == "len" {
			out.reads = append(out.reads, "frame.cap_len")
			continue
		}
		out.reads = append(out.reads, o.fn+"("+r+")")
	}
	out.ref.multi = false
	return out, nil
}

// sliced applies o's slice to v: [i:j] (start, length), [i-j] (start,
// end inclusive), [i], [:j], [i:]; a negative offset counts from the end.
// The slice must lie inside the field.
func (t *translator) sliced(o *operand, v *val) (*val, error) {
	at := o.slice.at
	if err := t.asBytes(v, at); err != nil {
		return nil, err
	}
	if v.kind != kText && v.kind != kBytes && v.kind != kMAC {
		return nil, t.errorf(at, "only strings, bytes and MAC addresses can be sliced, and %s is %s", o.tok.raw, v.kind)
	}
	spec := strings.TrimSpace(o.slice.text)
	bad := t.errorf(at, "bad slice [%s]: [i:j], [i-j], [i], [:j] or [i:]", o.slice.text)
	num := func(s string) (int, bool) {
		n, err := strconv.Atoi(s)
		return n, err == nil && n > -1<<20 && n < 1<<20
	}
	var start, length int // length -1: to the end
	switch i := strings.IndexAny(spec, ":-"); {
	case strings.Contains(spec, ","):
		return nil, t.errorf(at, "slices joined with commas are not supported")
	case i == 0 && spec[0] == '-': // a negative start
		j := strings.IndexAny(spec[1:], ":-")
		if j < 0 {
			j = len(spec)
		} else {
			j++
		}
		var ok bool
		if start, ok = num(spec[:j]); !ok {
			return nil, bad
		}
		if length, ok = t.sliceLength(spec[j:], start); !ok {
			return nil, bad
		}
	case i < 0:
		var ok bool
		if start, ok = num(spec); !ok {
			return nil, bad
		}
		length = 1
	default:
		var ok bool
		if start, ok = num(spec[:i]); !ok && spec[:i] != "" {
			return nil, bad
		}
		if length, ok = t.sliceLength(spec[i:], start); !ok {
			return nil, bad
		}
	}
	if v.kind == kMAC {
		return t.macSlice(o, v, start, length)
	}
	out := &val{ref: v.ref, kind: kBytes}
	out.ref.multi = false
	// Offsets are in bytes, as expr slices strings; expr's len counts
	// runes, so byte_at (-1 past the end) says whether a byte is there.
	for i, r := range v.reads {
		from, to := strconv.Itoa(start), ""
		need := fmt.Sprintf("byte_at(%s, %d) >= 0", r, start+max(length, 1)-1)
		if start < 0 { // a negative offset counts from the end, in expr too
			need = fmt.Sprintf("byte_at(%s[%d:], %d) >= 0", r, start, -start-1)
		}
		if length >= 0 && start+length != 0 {
			to = strconv.Itoa(start + length)
		}
		out.reads = append(out.reads, fmt.Sprintf("%s[%s:%s]", r, from, to))
		out.conds = append(out.conds, and(v.conds[i], need))
		if start >= 0 && length > 0 {
			rest := r
			if start > 0 {
				rest = fmt.Sprintf("%s[%d:]", r, start)
			}
			out.rests, out.length = append(out.rests, rest), length
		}
	}
	return out, nil
}

// macSlice is the slice (start, length; -1: to the end; a negative start
// counts from the end) of v, a MAC address: its six bytes are the text
// aa:bb:cc:dd:ee:ff, so bytes i to j are the text from 3i to 3j+2, which
// compares with a byte string written the same way (kHex). The slice must
// lie inside the six bytes, as Wireshark's does to match.
func (t *translator) macSlice(o *operand, v *val, start, length int) (*val, error) {
	if start < 0 {
		start += 6
	}
	if length < 0 {
		length = 6 - start
	}
	if start < 0 || length == 0 || start+length > 6 {
		return nil, t.errorf(o.slice.at, "[%s] is not inside the 6 bytes of %s", o.slice.text, o.tok.raw)
	}
	out := &val{ref: v.ref, kind: kHex, conds: v.conds}
	for _, r := range v.reads {
		out.reads = append(out.reads, fmt.Sprintf("%s[%d:%d]", r, 3*start, 3*(start+length)-1))
	}
	return out, nil
}

// sliceLength reads the end of a slice after its start: ":j" (a length,
// or to the end when empty) or "-j" (an inclusive end offset).
func (t *translator) sliceLength(rest string, start int) (int, bool) {
	if rest == "" {
		return 1, true
	}
	n, err := strconv.Atoi(rest[1:])
	switch {
	case rest[0] == ':' && rest[1:] == "":
		return -1, true
	case err != nil || n < 0 || n >= 1<<20:
		return 0, false
	case rest[0] == ':':
		return n, start >= 0 || start+n <= 0
	}
	return n - start + 1, start >= 0 && n >= start // [i-j]
}

// exists is the condition that v's field exists, "" when it always does.
func exists(v *val) string {
	var nonEmpty string
	if v.ref.kind == kText || v.ref.kind == kBytes {
		nonEmpty = v.ref.fields[0] + ` != ""`
	}
	if v.ref.kind == kLayer {
		return v.ref.fields[0]
	}
	if optional[v.ref.fields[0]] {
		nonEmpty = v.ref.fields[0] + " != 0"
	}
	return and(v.ref.layer, nonEmpty)
}

// and joins conditions with &&, dropping empty ones.
func and(parts ...string) string { return join("&&", parts) }

// join joins the non-empty parts with op, each once, in parentheses when
// several.
func join(op string, parts []string) string {
	var keep []string
	for _, p := range parts {
		if p != "" && !slices.Contains(keep, p) {
			keep = append(keep, p)
		}
	}
	if len(keep) > 1 {
		return "(" + strings.Join(keep, " "+op+" ") + ")"
	}
	return strings.Join(keep, "")
}

func (t *translator) test(n *test) (string, error) {
	v, err := t.field(n.lhs)
	if err != nil {
		return "", err
	}
	if n.op == "" {
		if c := and(exists(v), join("&&", v.conds)); c != "" {
			return c, nil
		}
		return "true", nil
	}
	if err := t.asBytes(v, n.at); err != nil {
		return "", err
	}
	if n.rhs != nil && isField(n.rhs) {
		return t.fieldTest(n, v)
	}
	if err := t.check(n, v.kind); err != nil {
		return "", err
	}
	quant := "||" // any occurrence
	if n.op == "!=" || n.op == "===" {
		quant = "&&" // all occurrences
	}
	var parts []string
	for i, r := range v.reads {
		var c string
		if n.op == "in" {
			c, err = t.member(n, v, r)
		} else {
			c, err = t.compare(n, v, i, n.rhs)
		}
		if err != nil {
			return "", err
		}
		parts = append(parts, and(v.conds[i], c))
	}
	return and(exists(v), join(quant, parts)), nil
}

// ordered are the operators that need an order.
var ordered = map[string]bool{"<": true, "<=": true, ">": true, ">=": true}

// check reports an operator that a field of kind k does not take.
func (t *translator) check(n *test, k kind) error {
	ok := true
	switch {
	case ordered[n.op]:
		ok = k == kInt || k == kFloat || k == kText || k == kBytes || k == kHex
	case n.op == "contains":
		ok = k == kText || k == kBytes || k == kHex
	case n.op == "matches":
		ok = k == kText || k == kBytes
	case n.op == "&":
		ok = k == kInt
	case k == kTime:
		ok = false
	}
	if !ok {
		return t.errorf(n.at, "%s cannot be used on %s, which is %s", n.op, n.lhs.tok.raw, k)
	}
	return nil
}

// compare is the comparison of read i of v with the literal o.
func (t *translator) compare(n *test, v *val, i int, o *operand) (string, error) {
	r := v.reads[i]
	if n.op == "matches" {
		if o.tok.kind != tString {
			return "", t.errorf(o.tok.at, "matches takes a pattern in double quotes")
		}
		re := "(?i)" + o.tok.val
		if _, err := regexp.Compile(re); err != nil {
			return "", t.errorf(o.tok.at, "pattern not supported (Go regexp syntax): %v", err)
		}
		return r + " matches " + strconv.Quote(re), nil
	}
	k := v.kind
	if n.op == "contains" && k == kText {
		k = kBytes // a string field contains a string or bytes
	}
	lit, prefix, err := t.literal(o, k)
	if err != nil {
		return "", err
	}
	switch op := n.op; {
	case prefix && (op == "==" || op == "==="):
		return fmt.Sprintf("cidr(%s, %s)", r, lit), nil
	case prefix && (op == "!=" || op == "!=="):
		return fmt.Sprintf("!cidr(%s, %s)", r, lit), nil
	case prefix:
		return "", t.errorf(n.at, "an address prefix is compared with == or !=, not %s", op)
	case op == "&" && n.masked != nil:
		m := n.masked
		if m.op == "===" || m.op == "!==" {
			m.op = m.op[:2]
		}
		want, _, err := t.literal(m.rhs, kInt)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("bitand(%s, %s) %s %s", r, lit, m.op, want), nil
	case op == "&":
		return fmt.Sprintf("bitand(%s, %s) != 0", r, lit), nil
	case v.ref.multi && op == "===": // no value differs
		return fmt.Sprintf("!(%s < %s || %s > %s)", r, lit, r, lit), nil
	case v.ref.multi && op == "!==": // some value differs
		return fmt.Sprintf("(%s < %s || %s > %s)", r, lit, r, lit), nil
	case op == "==" && v.rests != nil:
		if b, ok := t.bytes(o); ok && len(b) == v.length {
			return v.rests[i] + " startsWith " + lit, nil
		}
	}
	return r + " " + exprOps[n.op] + " " + lit, nil
}

// exprOps are expr's operators for a filter's comparisons: on a field with
// one value, === is == and !== is !=.
var exprOps = map[string]string{
	"==": "==", "===": "==", "!=": "!=", "!==": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">=", "contains": "contains",
}

// member is the membership test of one read r of v in n's set.
func (t *translator) member(n *test, v *val, r string) (string, error) {
	var list, parts []string
	for _, m := range n.set {
		lo, prefix, err := t.literal(m.lo, v.kind)
		if err != nil {
			return "", err
		}
		switch {
		case m.hi != nil:
			if v.kind != kInt && v.kind != kFloat && v.kind != kText {
				return "", t.errorf(m.lo.tok.at, "a range needs numbers or strings, and %s is %s", n.lhs.tok.raw, v.kind)
			}
			hi, _, err := t.literal(m.hi, v.kind)
			if err != nil {
				return "", err
			}
			parts = append(parts, fmt.Sprintf("(%s >= %s && %s <= %s)", r, lo, r, hi))
		case prefix:
			parts = append(parts, fmt.Sprintf("cidr(%s, %s)", r, lo))
		default:
			list = append(list, lo)
		}
	}
	if len(list) > 0 {
		parts = append([]string{r + " in [" + strings.Join(list, ", ") + "]"}, parts...)
	}
	return join("||", parts), nil
}

// fieldTest compares two fields, each read once.
func (t *translator) fieldTest(n *test, l *val) (string, error) {
	r, err := t.field(n.rhs)
	if err != nil {
		return "", err
	}
	if err := t.asBytes(r, n.rhs.tok.at); err != nil {
		return "", err
	}
	numeric := func(k kind) bool { return k == kInt || k == kFloat }
	switch {
	case len(l.reads) > 1 || len(r.reads) > 1 || l.ref.multi || r.ref.multi:
		return "", t.errorf(n.at, "a field that occurs several times is compared with values, not with another field")
	case n.op == "in" || n.op == "matches" || n.op == "&":
		return "", t.errorf(n.at, "%s takes a value, not a field", n.op)
	case l.kind != r.kind && !(numeric(l.kind) && numeric(r.kind)) && !(n.op == "contains" && r.kind == kText):
		return "", t.errorf(n.at, "%s is %s and %s is %s", n.lhs.tok.raw, l.kind, n.rhs.tok.raw, r.kind)
	}
	if err := t.check(n, l.kind); err != nil {
		return "", err
	}
	cmp := l.reads[0] + " " + exprOps[n.op] + " " + r.reads[0]
	return and(exists(l), exists(r), l.conds[0], r.conds[0], cmp), nil
}

// literal returns the expr source of the literal o read as kind k, and
// whether it is an address prefix (for cidr).
func (t *translator) literal(o *operand, k kind) (string, bool, error) {
	if o.fn != "" || o.slice != nil {
		return "", false, t.errorf(o.tok.at, "%s is not a value", o.tok.raw)
	}
	tok := o.tok
	bad := func() (string, bool, error) {
		if tok.kind == tWord && isName(tok.text) && strings.Contains(tok.text, ".") {
			return "", false, t.unknown(tok)
		}
		return "", false, t.errorf(tok.at, "%s is not %s", tok.raw, k)
	}
	if tok.kind == tChar && (k == kInt || k == kFloat) {
		return strconv.Itoa(int(tok.val[0])), false, nil
	}
	if tok.kind != tWord && k != kText && k != kBytes && k != kHex {
		return bad()
	}
	w := tok.text
	switch k {
	case kInt:
		if n, err := strconv.ParseInt(w, 0, 64); err == nil {
			return strconv.FormatInt(n, 10), false, nil
		}
	case kFloat:
		if f, err := strconv.ParseFloat(w, 64); err == nil {
			return strconv.FormatFloat(f, 'g', -1, 64), false, nil
		}
	case kBool:
		switch strings.ToLower(w) {
		case "true":
			return "true", false, nil
		case "false":
			return "false", false, nil
		}
		if n, err := strconv.ParseInt(w, 0, 64); err == nil {
			return strconv.FormatBool(n != 0), false, nil
		}
	case kText:
		if tok.kind == tWord {
			return quote(w), false, nil
		}
		return quote(tok.val), false, nil
	case kBytes:
		if b, ok := t.bytes(o); ok {
			return quote(b), false, nil
		}
	case kHex:
		if b, ok := t.bytes(o); ok {
			return strconv.Quote(hexText(b)), false, nil
		}
	case kMAC:
		if b, ok := byteString(w); ok && len(b) == 6 {
			return strconv.Quote(fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5])), false, nil
		}
	case kIPv4, kIPv6, kIP:
		family := func(a netip.Addr) bool {
			return k == kIP || a.Is4() == (k == kIPv4)
		}
		if p, err := netip.ParsePrefix(w); err == nil && family(p.Addr()) {
			return strconv.Quote(p.Masked().String()), true, nil
		}
		if a, err := netip.ParseAddr(w); err == nil && family(a) {
			return strconv.Quote(a.String()), false, nil
		}
	}
	return bad()
}

// bytes returns the bytes the literal o stands for: a string's or a
// character's, or a byte string's.
func (t *translator) bytes(o *operand) (string, bool) {
	if o.tok.kind != tWord {
		return o.tok.val, true
	}
	b, ok := byteString(o.tok.text)
	return string(b), ok
}

// byteString reads bytes written in hex: aa:bb:cc, aa-bb-cc or aa.bb.cc
// (one or two digits each), aabbcc, or one byte 0xff.
func byteString(w string) ([]byte, bool) {
	if n, err := strconv.ParseUint(w, 0, 8); err == nil && strings.HasPrefix(w, "0x") {
		return []byte{byte(n)}, true
	}
	if sep := strings.IndexAny(w, ":-."); sep >= 0 {
		var out []byte
		for _, part := range strings.Split(w, w[sep:sep+1]) {
			n, err := strconv.ParseUint(part, 16, 8)
			if err != nil || len(part) > 2 {
				return nil, false
			}
			out = append(out, byte(n))
		}
		return out, true
	}
	b, err := hex.DecodeString(w)
	return b, err == nil && len(b) > 0
}

// hexText writes b as Vigil writes a MAC address: two lowercase hex
// digits a byte, joined with colons.
func hexText(b string) string {
	out := make([]byte, 0, 3*len(b))
	for i := 0; i < len(b); i++ {
		if i > 0 {
			out = append(out, ':')
		}
		out = hex.AppendEncode(out, []byte{b[i]})
	}
	return string(out)
}

// quote writes s as an expr string: quoted when printable ASCII,
// hex("...") otherwise (the rules compiler folds it into the bytes).
func quote(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return `hex("` + hex.EncodeToString([]byte(s)) + `")`
		}
	}
	return strconv.Quote(s)
}
