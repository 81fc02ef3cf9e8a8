package dfilter

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// tokKind is the kind of a token.
type tokKind uint8

const (
	tEOF    tokKind = iota
	tWord           // a field name or an unquoted literal: tcp.port, 80, 10.0.0.0/8, aa:bb:cc, ..
	tString         // a double-quoted or raw string; val holds its bytes
	tChar           // a character constant 'x'; val holds its byte
	tOp             // an operator or punctuation; text is its canonical form
	tSlice          // [...]; text is what lies between the brackets
)

type token struct {
	kind tokKind
	text string // tOp: canonical form; tSlice: between the brackets; else as written
	raw  string // as written
	val  string // tString, tChar: the value, escapes resolved
	at   int    // byte offset in the filter
}

// words are the English operators, by their canonical form; any_eq and
// friends are 4.0's explicit quantifiers.
var words = map[string]string{
	"and": "&&", "or": "||", "not": "!", "xor": "^^",
	"eq": "==", "any_eq": "==", "ne": "!=", "all_ne": "!=", "all_eq": "===", "any_ne": "!==",
	"gt": ">", "lt": "<", "ge": ">=", "le": "<=",
	"contains": "contains", "matches": "matches", "in": "in", "bitwise_and": "&",
}

// symbols are the C-like operators, longest first.
var symbols = []string{"===", "!==", "==", "!=", ">=", "<=", "&&", "||", "^^", ">", "<", "!", "~", "&", "(", ")", "{", "}", ","}

// isWordByte reports whether c may continue an unquoted word.
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '.' || c == ':' || c == '/' || c == '-'
}

// lex splits filter into tokens, ending with tEOF.
func lex(filter string) ([]token, error) {
	var out []token
	for i := 0; ; {
		for i < len(filter) && strings.IndexByte(" \t\r\n", filter[i]) >= 0 {
			i++
		}
		if i == len(filter) {
			return append(out, token{kind: tEOF, at: i}), nil
		}
		c := filter[i]
		switch {
		case c == '"' || (c == 'r' && strings.HasPrefix(filter[i:], `r"`)):
			tok, n, err := lexString(filter, i)
			if err != nil {
				return nil, err
			}
			out = append(out, tok)
			i = n
		case c == '\'':
			tok, n, err := lexChar(filter, i)
			if err != nil {
				return nil, err
			}
			out = append(out, tok)
			i = n
		case c == '[':
			end := strings.IndexByte(filter[i:], ']')
			if end < 0 {
				return nil, errorAt(filter, i, "unclosed [")
			}
			out = append(out, token{kind: tSlice, text: filter[i+1 : i+end], raw: filter[i : i+end+1], at: i})
			i += end + 1
		case isWordByte(c) && (c != '-' || i+1 < len(filter) && filter[i+1] >= '0' && filter[i+1] <= '9'):
			j := i
			for j < len(filter) && isWordByte(filter[j]) {
				j++
			}
			w := filter[i:j]
			if op, ok := words[w]; ok {
				out = append(out, token{kind: tOp, text: op, raw: w, at: i})
			} else {
				out = append(out, token{kind: tWord, text: w, raw: w, at: i})
			}
			i = j
		default:
			op := ""
			for _, s := range symbols {
				if strings.HasPrefix(filter[i:], s) {
					op = s
					break
				}
			}
			if op == "" {
				if msg, ok := unsupported[c]; ok {
					return nil, errorAt(filter, i, "%s", msg)
				}
				r, _ := utf8.DecodeRuneInString(filter[i:])
				return nil, errorAt(filter, i, "unexpected %q", r)
			}
			tok := token{kind: tOp, text: op, raw: op, at: i}
			if op == "~" {
				tok.text = "matches"
			}
			out = append(out, tok)
			i += len(op)
		}
	}
}

// unsupported are the characters of Wireshark 4.0 display-filter features
// that tshark 4.0 takes and a rule does not, with what to say of them.
var unsupported = map[byte]string{
	'+': "arithmetic (+ - * / %) is not supported", '-': "arithmetic (+ - * / %) is not supported",
	'*': "arithmetic (+ - * / %) is not supported", '/': "arithmetic (+ - * / %) is not supported",
	'%': "arithmetic (+ - * / %) is not supported",
	'$': "field references ${...} are not supported (they read the packet selected in Wireshark, which a rule has not)",
	'#': "the layer operator # is not supported",
}

// lexString reads the string starting at filter[i] (a quote, or r and a
// quote for a raw string) and returns it and the offset after it. A raw
// string keeps its backslashes; a quote escaped in it ends nothing.
func lexString(filter string, i int) (token, int, error) {
	raw := filter[i] == 'r'
	j := i + 1
	if raw {
		j++
	}
	var b strings.Builder
	for j < len(filter) {
		c := filter[j]
		switch {
		case c == '"':
			return token{kind: tString, raw: filter[i : j+1], val: b.String(), at: i}, j + 1, nil
		case c == '\\' && raw:
			if j+1 == len(filter) {
				return token{}, 0, errorAt(filter, i, "unterminated string")
			}
			b.WriteString(filter[j : j+2])
			j += 2
		case c == '\\':
			v, n, err := unescape(filter, j)
			if err != nil {
				return token{}, 0, err
			}
			b.WriteString(v)
			j = n
		default:
			b.WriteByte(c)
			j++
		}
	}
	return token{}, 0, errorAt(filter, i, "unterminated string")
}

// lexChar reads the character constant at filter[i].
func lexChar(filter string, i int) (token, int, error) {
	j := i + 1
	var v string
	switch {
	case j < len(filter) && filter[j] == '\\':
		var err error
		if v, j, err = unescape(filter, j); err != nil {
			return token{}, 0, err
		}
	case j < len(filter):
		_, n := utf8.DecodeRuneInString(filter[j:])
		v, j = filter[j:j+n], j+n
	}
	if j >= len(filter) || filter[j] != '\'' || len(v) != 1 {
		return token{}, 0, errorAt(filter, i, "bad character constant: one byte between single quotes")
	}
	return token{kind: tChar, raw: filter[i : j+1], val: v, at: i}, j + 1, nil
}

// simpleEscapes are the one-letter escapes of wireshark-filter(4).
var simpleEscapes = map[byte]string{
	'\'': "'", '"': `"`, '\\': `\`, 'a': "\a", 'b': "\b", 'f': "\f", 'n': "\n", 'r': "\r", 't': "\t", 'v': "\v",
}

// unescape reads the escape sequence at filter[i] (a backslash): \NNN
// (octal), \xNN, \uNNNN, \UNNNNNNNN or a simpleEscapes letter. It returns
// the bytes meant and the offset after the sequence.
func unescape(filter string, i int) (string, int, error) {
	if i+1 >= len(filter) {
		return "", 0, errorAt(filter, i, "unterminated escape")
	}
	c := filter[i+1]
	if s, ok := simpleEscapes[c]; ok {
		return s, i + 2, nil
	}
	switch c {
	case 'x':
		if v, ok := hexDigits(filter, i+2, 2); ok {
			return string([]byte{byte(v)}), i + 4, nil
		}
	case 'u', 'U':
		n := 4
		if c == 'U' {
			n = 8
		}
		if v, ok := hexDigits(filter, i+2, n); ok && utf8.ValidRune(rune(v)) {
			return string(rune(v)), i + 2 + n, nil
		}
	case '0', '1', '2', '3':
		if i+4 <= len(filter) {
			if v, err := strconv.ParseUint(filter[i+1:i+4], 8, 8); err == nil {
				return string([]byte{byte(v)}), i + 4, nil
			}
		}
	}
	return "", 0, errorAt(filter, i, "bad escape sequence")
}

// hexDigits parses the n hex digits at filter[i].
func hexDigits(filter string, i, n int) (uint64, bool) {
	if i+n > len(filter) {
		return 0, false
	}
	v, err := strconv.ParseUint(filter[i:i+n], 16, 32)
	return v, err == nil
}
