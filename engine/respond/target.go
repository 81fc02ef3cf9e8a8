package respond

import "fmt"

// Target selects which end of a flow is answered.
type Target uint8

// Targets. The zero value is Both, the default.
const (
	// Both answers the sender and the receiver of the packet (TCP); for
	// non-TCP packets it is the same as Source.
	Both Target = iota
	// Source answers the sender of the packet only.
	Source
	// Dest answers the receiver of the packet only (TCP only).
	Dest
)

// ParseTarget parses "both", "source" or "dest"; the empty string is Both.
func ParseTarget(s string) (Target, error) {
	switch s {
	case "both", "":
		return Both, nil
	case "source":
		return Source, nil
	case "dest":
		return Dest, nil
	}
	return Both, fmt.Errorf("%w %q (want both, source or dest)", ErrTarget, s)
}

// String returns the name ParseTarget accepts.
func (t Target) String() string {
	switch t {
	case Both:
		return "both"
	case Source:
		return "source"
	case Dest:
		return "dest"
	}
	return fmt.Sprintf("Target(%d)", uint8(t))
}

func (t Target) source() bool { return t == Both || t == Source }
func (t Target) dest() bool   { return t == Both || t == Dest }
