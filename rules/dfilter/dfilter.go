// Package dfilter translates Wireshark 4.0 display filters
// (wireshark-filter(4)) into rule conditions: expr source over the fields
// of field.Catalog, in the forms the rules compiler rewrites and the
// prefilter index reads (f == c, f in [...], contains, bool fields, cidr,
// && and ||), so that a `wireshark:` rule runs as fast as the same
// `condition:`.
//
// Grammar: and/&&, or/||, not/!, xor/^^ (4.2's, accepted), eq/==,
// ne/!=, all_eq/===, any_ne/!==, gt/>, lt/<, ge/>=, le/<=, contains,
// matches/~, bitwise_and/&, in {a, b, lo..hi} (commas optional, as before
// 4.0), slices [i:j] [i-j] [i] [:j] [i:] with negative offsets, the
// functions len, lower and upper, integers (decimal, 0x, 0 octal, 0b,
// 'c'), quoted and raw strings with wireshark-filter(4)'s escapes, byte
// strings (aa:bb:cc, aa-bb-cc, aa.bb.cc, aabbcc, 0xff), IPv4 and IPv6
// addresses and CIDR prefixes, MAC addresses.
//
// Semantics are Wireshark 4.0's:
//   - a test of a field holds only where the field exists: a field exists
//     when its layer is present (a text or bytes field when it is also
//     non-empty), since a Vigil field of an absent layer reads as zero;
//   - ==, <, <=, >, >=, in, contains, matches and !== hold when any
//     occurrence of the field satisfies them; != and === when all do (!=
//     is "no occurrence equals"). Occurrences are the values of a field
//     a frame may carry several times (field.Field.Multi) and the two
//     sides of ip.addr, ip.host, ipv6.addr, eth.addr, tcp.port and
//     udp.port;
//   - matches is case-insensitive unless the pattern says (?-i); patterns
//     are Go regexps (RE2), so PCRE-only syntax is an error;
//   - tcp.payload and udp.payload are Vigil's payload (the segment's own
//     bytes); data.data is the payload no dissector of Vigil's took, as
//     Wireshark's (not that of a DNS port over UDP, nor of a TCP
//     direction framed as DNS, HTTP, TLS, FTP or SSH); tcp.flags is
//     tcp.flags.raw, and frame in a byte context is the frame's bytes;
//   - slice offsets count bytes; len(frame) is frame.cap_len, len of a
//     MAC address 6, and len of anything else is expr's len, which counts
//     UTF-8 characters (the bytes of ASCII text);
//   - a slice of a MAC address (eth.src[0:3] == 00:11:22) is its bytes:
//     it compares (==, !=, ordering, contains) with a byte string or a
//     field's slice, and must lie inside the six bytes;
//   - tcp.seq, tcp.ack and tcp.nxtseq are relative to the initial
//     sequence numbers of the flow's directions, as Wireshark shows them
//     by default (tcp.seq_raw and tcp.ack_raw are the raw numbers).
//
// Not supported, each an error at its column: arithmetic (+ - * / %, and
// { } around it), field references ${...} (tshark resolves them against
// the packet selected in Wireshark, which a rule has not), the layer
// operator #, functions other than len, lower and upper (tshark 4.0 also
// has count, string, abs, min and max), the any and all prefixes, slices
// joined with commas, host names, ordering and
// ranges of addresses, slices of IP addresses, matches on a slice of a
// MAC address, and the bytes of layers other than frame. One approximation: a range lo..hi in a set, on a field with
// several values, holds when some value is >= lo and some value <= hi.
package dfilter

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Error is a filter that cannot be translated, at a 1-based line and
// column (in runes) of the filter text.
type Error struct {
	Line, Col int
	Msg       string
	// Field is the unknown field name the error is about, if any, for
	// the caller to suggest a near one.
	Field string
}

func (e *Error) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg) }

// errorAt returns an *Error at byte offset off of filter.
func errorAt(filter string, off int, format string, args ...any) *Error {
	before := filter[:off]
	line := strings.Count(before, "\n") + 1
	col := utf8.RuneCountInString(before[strings.LastIndexByte(before, '\n')+1:]) + 1
	return &Error{Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

// Translate returns the condition equivalent to filter, or an *Error.
func Translate(filter string) (string, error) {
	n, err := parse(filter)
	if err != nil {
		return "", err
	}
	return (&translator{filter: filter}).node(n)
}
