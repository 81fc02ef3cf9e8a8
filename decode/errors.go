package decode

import (
	"errors"
	"strconv"
)

// Sentinel errors wrapped by [Error]; branch on them with errors.Is.
var (
	// ErrTruncated: the frame ends inside a header.
	ErrTruncated = errors.New("decode: truncated header")
	// ErrMalformed: a header field is impossible (bad version, a length
	// below the minimum, a label loop, too many nested headers).
	ErrMalformed = errors.New("decode: malformed header")
	// ErrUnsupported: an encapsulation whose content the decoder does not
	// follow (a GRE or Geneve payload protocol, an MPLS payload, a PPP
	// network protocol, a GRE version, an ERSPAN frame type it does not
	// know): the packet inside is not inspected.
	ErrUnsupported = errors.New("decode: unsupported encapsulation")
)

// Error reports the first malformation met while decoding a frame. The
// layers before it, and the fields of its own layer read before the fault,
// are decoded.
type Error struct {
	Layer  string // the layer being decoded: "eth", "vlan", "ip", "ipv6", "tcp", "dns", "gre", ... (an Encap's name)
	Offset int    // offset of that layer's header in the frame
	Reason string // what was wrong, e.g. "header length 12 below 20"
	Err    error  // ErrTruncated, ErrMalformed or ErrUnsupported
}

// Error formats the error as "decode: LAYER at offset N: REASON".
func (e *Error) Error() string {
	return "decode: " + e.Layer + " at offset " + strconv.Itoa(e.Offset) + ": " + e.Reason
}

// Unwrap returns the sentinel: ErrTruncated, ErrMalformed or
// ErrUnsupported.
func (e *Error) Unwrap() error { return e.Err }
