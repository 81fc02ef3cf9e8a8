package respond

import (
	"errors"
	"fmt"
)

// ErrNotAnswerable is the parent of every reason Build refuses a packet;
// test for it with errors.Is. The specific sentinels below wrap it and say
// why.
var ErrNotAnswerable = errors.New("respond: packet not answerable")

// Reasons Build refuses a packet. Each wraps ErrNotAnswerable.
var (
	// ErrNoIP: the packet carries no IPv4 or IPv6 header.
	ErrNoIP = fmt.Errorf("%w: no IP header", ErrNotAnswerable)
	// ErrLinkLayer: the frame is not Ethernet II, optionally with 802.1Q /
	// 802.1ad tags, directly followed by the IP header (for example 802.11
	// or MPLS), so no frame can be addressed on the wire.
	ErrLinkLayer = fmt.Errorf("%w: link layer is not ethernet with vlan tags", ErrNotAnswerable)
	// ErrMalformed: the headers are truncated or inconsistent with the
	// decoder's offsets.
	ErrMalformed = fmt.Errorf("%w: truncated or inconsistent headers", ErrNotAnswerable)
	// ErrReset: the packet is itself a TCP reset.
	ErrReset = fmt.Errorf("%w: packet is a tcp reset", ErrNotAnswerable)
	// ErrICMPError: the packet is an ICMP or ICMPv6 error message (or an
	// ICMP type not known to be a query).
	ErrICMPError = fmt.Errorf("%w: packet is an icmp error", ErrNotAnswerable)
	// ErrFragment: the packet is a non-first fragment.
	ErrFragment = fmt.Errorf("%w: packet is a non-first fragment", ErrNotAnswerable)
	// ErrDestination: the destination is not a unicast address: a
	// broadcast or multicast MAC or IP, or an unspecified IP.
	ErrDestination = fmt.Errorf("%w: broadcast, multicast or unspecified destination", ErrNotAnswerable)
	// ErrSource: the source is not a unicast address (unspecified,
	// broadcast or multicast MAC or IP), so no answer can reach it.
	ErrSource = fmt.Errorf("%w: source is not a unicast address", ErrNotAnswerable)
	// ErrDestOnly: a non-TCP packet with target dest: an ICMP unreachable
	// only ever goes to the sender.
	ErrDestOnly = fmt.Errorf("%w: icmp unreachable goes to the source only", ErrNotAnswerable)
)

// ErrTarget is returned by Build for a rules.Target out of range.
var ErrTarget = errors.New("respond: unknown target")

// ErrPolicy is returned by NewLimiter for an invalid Policy.
var ErrPolicy = errors.New("respond: invalid policy")
