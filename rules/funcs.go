package rules

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"strings"

	"github.com/expr-lang/expr"
)

// Func documents one function available in conditions, beyond expr's
// built-ins.
type Func struct {
	Name      string
	Signature string
	Doc       string
}

// Functions lists the functions a condition may call, in the order the
// package documentation gives them. isset and notset are rewritten at
// compile time into tests of flow.bits.
func Functions() []Func {
	return []Func{
		{"cidr", "cidr(addr string, prefix string) bool", `addr (IPv4 or IPv6 text) is inside prefix ("10.0.0.0/8", "2001:db8::/32", or one address); false when addr is empty or not an address`},
		{"hex", "hex(s string) string", `the bytes written in hex ("de ad be ef", "deadbeef", "de:ad") as a string, for payload contains hex("...")`},
		{"icontains", "icontains(s string, sub string) bool", "s contains sub, ignoring ASCII case"},
		{"byte_at", "byte_at(s string, off int) int", "the byte at offset off of s, -1 when out of range"},
		{"u16", "u16(s string, off int) int", "the big-endian 16-bit number at offset off of s, -1 when out of range"},
		{"u32", "u32(s string, off int) int", "the big-endian 32-bit number at offset off of s, -1 when out of range"},
		{"b64decode", "b64decode(s string) string", "s decoded from base64 (standard alphabet, padded or not; URL alphabet), \"\" when s is not base64"},
		{"urldecode", "urldecode(s string) string", "s with %XX escapes decoded and + as space; malformed escapes are kept as written"},
		{"isset", `isset("name") bool`, "the flowbit name is set on this packet's flow"},
		{"notset", `notset("name") bool`, "the flowbit name is not set on this packet's flow"},
	}
}

// funcs holds the state of the condition functions of one Set: the
// prefixes parsed at compile time. It is written only while compiling and
// read-only afterwards, so evaluation needs no lock.
type funcs struct {
	prefixes map[string]netip.Prefix
}

func newFuncs() *funcs {
	return &funcs{prefixes: map[string]netip.Prefix{}}
}

// parsePrefix accepts a CIDR or a single address (a full-length prefix).
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.IndexByte(s, '/') >= 0 {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// notePrefix parses a constant prefix at compile time and caches it.
func (f *funcs) notePrefix(s string) error {
	if _, ok := f.prefixes[s]; ok {
		return nil
	}
	p, err := parsePrefix(s)
	if err != nil {
		return err
	}
	f.prefixes[s] = p
	return nil
}

func (f *funcs) cidr(addr, prefix string) (bool, error) {
	p, ok := f.prefixes[prefix]
	if !ok {
		var err error
		if p, err = parsePrefix(prefix); err != nil {
			return false, fmt.Errorf("cidr: bad prefix %q", prefix)
		}
	}
	return prefixContains(p, addr), nil
}

// prefixContains reports whether addr (text) is inside p; false when addr
// is not an address.
func prefixContains(p netip.Prefix, addr string) bool {
	if addr == "" {
		return false
	}
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	return p.Contains(a.Unmap()) || p.Contains(a)
}

// decodeHex turns "de ad be ef", "deadbeef" or "de:ad" into bytes.
func decodeHex(s string) (string, error) {
	var b strings.Builder
	b.Grow(len(s) / 2)
	hi := -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		var v int
		switch {
		case c >= '0' && c <= '9':
			v = int(c - '0')
		case c >= 'a' && c <= 'f':
			v = int(c-'a') + 10
		case c >= 'A' && c <= 'F':
			v = int(c-'A') + 10
		case c == ' ' || c == ':' || c == '\t' || c == '|':
			if hi >= 0 {
				return "", fmt.Errorf("odd number of hex digits before offset %d", i)
			}
			continue
		default:
			return "", fmt.Errorf("%q is not a hex digit", c)
		}
		if hi < 0 {
			hi = v
			continue
		}
		b.WriteByte(byte(hi<<4 | v))
		hi = -1
	}
	if hi >= 0 {
		return "", fmt.Errorf("odd number of hex digits")
	}
	return b.String(), nil
}

// icontains reports whether sub is in s, ignoring ASCII case, without
// allocating.
func icontains(s, sub string) bool {
	n := len(sub)
	if n == 0 {
		return true
	}
	for i := 0; i+n <= len(s); i++ {
		j := 0
		for ; j < n; j++ {
			if lowerASCII(s[i+j]) != lowerASCII(sub[j]) {
				break
			}
		}
		if j == n {
			return true
		}
	}
	return false
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func byteAt(s string, off int) int {
	if off < 0 || off >= len(s) {
		return -1
	}
	return int(s[off])
}

func u16(s string, off int) int {
	if off < 0 || off > len(s)-2 {
		return -1
	}
	return int(s[off])<<8 | int(s[off+1])
}

func u32(s string, off int) int {
	if off < 0 || off > len(s)-4 {
		return -1
	}
	return int(s[off])<<24 | int(s[off+1])<<16 | int(s[off+2])<<8 | int(s[off+3])
}

func b64decode(s string) string {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return string(b)
		}
	}
	return ""
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// urldecode decodes %XX and + leniently; it returns s itself when there is
// nothing to decode.
func urldecode(s string) string {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			b = append(b, ' ')
		case '%':
			if i+2 < len(s) {
				if h, l := unhex(s[i+1]), unhex(s[i+2]); h >= 0 && l >= 0 {
					b = append(b, byte(h<<4|l))
					i += 2
					continue
				}
			}
			b = append(b, c)
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// options returns the expr options declaring the functions. The type
// lists let calls type-check at compile time; the bodies assert the
// argument types the checker guaranteed.
func (f *funcs) options() []expr.Option {
	return []expr.Option{
		expr.Function("cidr", func(a ...any) (any, error) {
			return f.cidr(a[0].(string), a[1].(string))
		}, new(func(string, string) bool)),
		expr.Function("hex", func(a ...any) (any, error) {
			s, err := decodeHex(a[0].(string))
			if err != nil {
				return nil, fmt.Errorf("hex: %w", err)
			}
			return s, nil
		}, new(func(string) string)),
		expr.Function("icontains", func(a ...any) (any, error) {
			return icontains(a[0].(string), a[1].(string)), nil
		}, new(func(string, string) bool)),
		expr.Function("byte_at", func(a ...any) (any, error) {
			return byteAt(a[0].(string), a[1].(int)), nil
		}, new(func(string, int) int)),
		expr.Function("u16", func(a ...any) (any, error) {
			return u16(a[0].(string), a[1].(int)), nil
		}, new(func(string, int) int)),
		expr.Function("u32", func(a ...any) (any, error) {
			return u32(a[0].(string), a[1].(int)), nil
		}, new(func(string, int) int)),
		expr.Function("b64decode", func(a ...any) (any, error) {
			return b64decode(a[0].(string)), nil
		}, new(func(string) string)),
		expr.Function("urldecode", func(a ...any) (any, error) {
			return urldecode(a[0].(string)), nil
		}, new(func(string) string)),
		expr.Function(eachFunc, func(a ...any) (any, error) {
			return eachValues(a[0], a[1].(string)), nil
		}, new(func(any, string) []int)),
	}
}
