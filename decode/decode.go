// Package decode fills a [field.Packet] from one captured frame: Ethernet
// II and 802.3 LLC/SNAP, Token Ring, 802.11 data frames, 802.1Q and
// 802.1ad tags, MPLS, ARP, IPv4, IPv6 with its extension headers, TCP,
// UDP, ICMP, ICMPv6, and the start of DNS, HTTP/1.x, TLS, FTP and SSH
// messages.
//
// Decoding is hand-written over encoding/binary, in place, and allocates
// nothing. It is on the hot path: a typical packet costs well under 200 ns
// including the text of its addresses. gopacket's DecodingLayerParser
// alone costs 60–90 ns for the link, network and transport layers and
// would still need its layers copied into the Packet, so it is not used.
//
// # Encapsulations
//
// Tunnels are decoded down to the packet they carry, which is the one
// rules inspect, as in Suricata: PPPoE sessions (RFC 2516) and PPP, GRE
// (RFC 2784, 2890, 1701 routing, PPTP's enhanced GRE of RFC 2637)
// carrying IPv4, IPv6, MPLS, Ethernet (transparent bridging, 0x6558) or
// ERSPAN types I, II and III, VXLAN (RFC 7348, UDP port 4789), Geneve
// (RFC 8926, UDP port 6081), MPLS (RFC 3032, also inside IP: RFC 4023)
// carrying IPv4, IPv6 or an Ethernet pseudowire with or without control
// word (RFC 4448, 4385), IPv4 and IPv6 inside IPv4 or IPv6 (RFC 2003,
// 4213, 2473) and Teredo (RFC 4380, UDP port 3544).
//
// When an inner IP (or ARP) header is found valid, the outer packet's
// network, transport and application fields make way for the inner
// packet's, and the outermost IP header's endpoints go to tunnel.*; an
// inner Ethernet header replaces eth.*. The headers crossed keep their
// fields (gre.*, vxlan.*, mpls.*, vlan.*, ...): those a frame may carry
// several times keep every value (see field.Ints). A tunnel whose header
// or payload cannot be decoded leaves the outer packet as the one
// inspected and returns an error saying why. At most maxEncaps
// encapsulations are crossed per frame. Each one crossed, and each one
// that could not be, is counted per [Encap] (see [Decoder.TakeCounts]).
//
// Radiotap never reaches the decoder: the capture package strips it, with
// its FCS and data padding, when it turns a pcap record into an 802.11
// one.
//
// # Aliasing
//
// Strings in the Packet alias memory the decoder does not own:
//   - frame.bytes, payload and the application fields (http.*, tls SNI,
//     ftp.*, ssh.protocol) alias the frame passed to [Decoder.Decode]
//     (unsafe.String); Meta.Raw is the frame itself;
//   - address text (eth.*, tr.*, ip.*, ipv6.*, arp.*, wlan.*, src_ip,
//     dest_ip, tunnel.*) aliases Packet.Meta.Scratch, and dns.qry.name
//     aliases Packet.Meta.Name.
//
// They are valid while the frame is unchanged and until the Packet is
// decoded into again or reset. A caller that keeps a value longer (an
// alert, a flow key) must copy it (strings.Clone).
//
// # Application layer
//
// Decode takes application fields from the start of this packet's
// transport payload only. Wireshark matches http.*, tls.*, ftp.* and ssh.*
// in the frame where it completes a reassembled PDU, so a message spread
// over several segments is seen by Decode on its first segment (and only
// if its first line is complete there), and in Wireshark on its last. The
// engine reassembles TCP streams and, for TCP, replaces these fields with
// those of each message a segment completes ([Decoder.DecodeTCPApp]), as
// Wireshark does.
//
// A first IP fragment is decoded down to the transport header when the
// whole header is in it; a later fragment carries no transport layer
// (Meta.Fragment is set and payload is the IP payload). A tunnel in a
// first fragment is decoded as far as the fragment goes, a header cut by
// the fragment's end being no error. The engine reassembles fragments
// (decode/defrag) and decodes them with DecodeFragment instead: the
// fragment completing a datagram carries the datagram's transport and
// application layers, the others none.
//
// Of Vigil it imports only rules/field, the view it fills; the engine
// calls it.
package decode

import (
	"encoding/binary"
	"unsafe"

	"github.com/vigil-ids/vigil/rules/field"
)

// Link is the link-layer type of a frame.
type Link uint8

// Link types. The engine maps the NCF medium to one of them: 0 (Ethernet)
// to Ethernet, 1 (WiFi) to WiFi, 2 (Token Ring) to TokenRing, and
// ncf.LinuxSLL to LinuxSLL.
const (
	Ethernet  Link = iota // Ethernet II or IEEE 802.3
	WiFi                  // IEEE 802.11 frame without radiotap header
	RawIP                 // IPv4 or IPv6 packet, no link header
	TokenRing             // IEEE 802.5 frame (pcap link type 6), without FCS
	LinuxSLL              // Linux cooked capture frame (pcap link type 113): a 16-byte SLL header
)

// String returns the link's name.
func (l Link) String() string {
	switch l {
	case Ethernet:
		return "ethernet"
	case WiFi:
		return "wifi"
	case RawIP:
		return "raw-ip"
	case TokenRing:
		return "tokenring"
	case LinuxSLL:
		return "linux-sll"
	}
	return "link(" + itoa(int(l)) + ")"
}

// Limits on nested headers; a frame beyond them is malformed.
const (
	maxVLANTags   = 8               // VLAN tags (802.1Q and 802.1ad) in a frame
	maxMPLSLabels = field.MaxOccurs // MPLS label stack entries in a frame
	maxIPv6Ext    = 8               // IPv6 extension headers
	maxDNSJumps   = 16              // DNS compression pointers followed in one name
	maxEncaps     = 8               // encapsulations crossed in a frame (VLAN tags aside)
)

// A field.Ints holds every value a frame within these limits has (one
// per VLAN tag, per label, per encapsulation): this fails to compile
// otherwise.
var (
	_ [field.MaxOccurs - maxVLANTags]byte
	_ [field.MaxOccurs - maxEncaps]byte
)

// Decoder decodes frames into a field.Packet. A Decoder is meant to be
// owned by one worker: it is not safe for concurrent use. The zero value
// is ready to use.
type Decoder struct {
	// StreamApp leaves the application layers of TCP segments out of
	// Decode and DecodeFragment: the caller decodes them from the
	// reassembled stream with DecodeTCPApp, so parsing them per segment
	// would be work thrown away.
	StreamApp bool
	// DeferText leaves the bytes of the address text fields (TextFields)
	// unwritten until AddressText: Decode gives those strings their
	// length and their place in Meta.Scratch, and AddressText writes
	// them. An engine calls AddressText only for a packet some rule reads
	// (or alerts on), which saves formatting every address of every
	// packet. Until then the strings' bytes are those of an earlier frame.
	DeferText bool

	p     *field.Packet
	err   Error
	ready bool // err holds this frame's first error
	lean  bool // DecodeHeaders: no address text, no application layer
	// cut is set inside a tunnel that a first IP fragment carries: the
	// inner packet may end with the fragment, so a truncated header is
	// no error there.
	cut    bool
	encaps int    // encapsulations crossed in this frame
	counts Counts // since the last TakeCounts
	// DecodeFragment: frag is set, dgram is the reassembled payload (nil
	// when the fragment completes nothing) and dgramProto its protocol.
	frag       bool
	dgram      []byte
	dgramProto int
	// DeferText: the address texts left for AddressText, in order.
	pending  [maxPending]pendingText
	npending int
}

// New returns a Decoder.
func New() *Decoder { return &Decoder{} }

// Decode decodes frame, captured on link, into p.
//
// Decode owns every field of p except Frame.Time, Frame.Number, Frame.Len,
// Sensor, NCF and Flow, which the engine fills (before or after Decode;
// Decode leaves them alone). Frame.Len, when set before Decode, is the
// frame's length on the wire, where an IP packet ends at the latest (see
// wireEnd); when it is 0, an IP header's length is believed. Nobody else writes the fields Decode owns: p
// must be zero (new or Reset) or hold a previous Decode's output, because
// Decode clears only the layers whose Present flag is set. It then sets
// Frame.Present, Frame.CapLen, Frame.Bytes and Meta.Raw, and the fields of
// every layer it finds. Strings alias frame and p (see the package doc).
//
// A truncated or malformed header ends decoding: the layers before it
// stay decoded, and Decode returns an *Error (wrapping ErrTruncated or
// ErrMalformed) that belongs to the Decoder and is overwritten by the next
// call. Unknown EtherTypes and protocols are not errors. Decode never
// panics on hostile input and does not allocate.
func (d *Decoder) Decode(p *field.Packet, link Link, frame []byte) error {
	d.lean = false
	return d.decode(p, link, frame)
}

// DecodeHeaders decodes like Decode, but only the layer headers: address
// text fields stay empty and the application layer (DNS, HTTP, TLS, FTP,
// SSH) is not looked at. Meta (addresses, offsets, protocol), ports and
// VLAN are as Decode gives them, which is what a flow hash needs, at a
// fraction of the cost.
func (d *Decoder) DecodeHeaders(p *field.Packet, link Link, frame []byte) error {
	d.lean = true
	return d.decode(p, link, frame)
}

func (d *Decoder) decode(p *field.Packet, link Link, frame []byte) error {
	clearDecoded(p)
	d.p, d.ready, d.cut, d.encaps, d.npending = p, false, false, 0, 0
	p.Frame.Present = true
	p.Frame.CapLen = len(frame)
	p.Frame.Bytes = str(frame)
	p.Meta.Raw = frame
	switch link {
	case Ethernet:
		d.ethernet(frame, 0)
	case WiFi:
		d.wifi(frame)
	case RawIP:
		d.rawIP(frame, 0)
	case TokenRing:
		d.tokenRing(frame)
	case LinuxSLL:
		d.sll(frame)
	default:
		d.fail("link", 0, ErrMalformed, "unknown link type")
	}
	d.p = nil
	if d.ready {
		return &d.err
	}
	return nil
}

// clearDecoded zeroes what Decode owns, leaving the engine's fields and
// the scratch arrays (which only back strings set again below). A layer
// is cleared only when its Present flag is set: the decoder sets a
// layer's fields only after its flag, and Reset zeroes everything, so a
// layer whose flag is false is already zero. The layers of Token Ring,
// 802.1ad and encapsulations are looked at only when Meta.Encap says the
// frame had one: the decoder sets it before any of their flags. Clearing
// the whole Packet would cost more than decoding it.
func clearDecoded(p *field.Packet) {
	p.Frame.Present, p.Frame.CapLen, p.Frame.Bytes = false, 0, ""
	if p.WLAN.Present {
		p.WLAN = field.WLAN{}
	}
	if p.Eth.Present {
		p.Eth = field.Eth{}
	}
	if p.SLL.Present {
		p.SLL = field.SLL{}
	}
	if p.VLAN.Present || p.VLAN.Count != 0 { // an 802.1ad tag alone counts
		p.VLAN = field.VLAN{}
	}
	if p.Meta.Encap {
		clearEncap(p)
	}
	clearNetwork(p)
	p.Meta.Raw = nil
	p.Meta.VLANTags = 0
}

// clearEncap zeroes the layers that Meta.Encap announces.
func clearEncap(p *field.Packet) {
	if p.TR.Present {
		p.TR = field.TR{}
	}
	if p.IEEE8021AD.Present {
		p.IEEE8021AD = field.IEEE8021AD{}
	}
	if p.MPLS.Present {
		p.MPLS = field.MPLS{}
	}
	if p.PWEth.Present {
		p.PWEth = field.PWEth{}
	}
	if p.PPPoES.Present {
		p.PPPoES, p.PPPoE = field.PPPoES{}, field.PPPoE{}
	}
	if p.PPP.Present {
		p.PPP = field.PPP{}
	}
	if p.GRE.Present {
		p.GRE = field.GRE{}
	}
	if p.ERSPAN.Present {
		p.ERSPAN = field.ERSPAN{}
	}
	if p.VXLAN.Present {
		p.VXLAN = field.VXLAN{}
	}
	if p.Geneve.Present {
		p.Geneve = field.Geneve{}
	}
	if p.Teredo.Present {
		p.Teredo = field.Teredo{}
	}
	if p.Tunnel.Present {
		p.Tunnel = field.Tunnel{}
	}
	p.Meta.Encap = false
}

// clearNetwork zeroes the network, transport and application fields: for
// the next frame, or for the packet a tunnel carries.
func clearNetwork(p *field.Packet) {
	if p.ARP.Present {
		p.ARP = field.ARP{}
	}
	if p.IP.Present {
		p.IP = field.IPv4{}
	}
	if p.IPv6.Present {
		p.IPv6 = field.IPv6{}
	}
	if p.TCP.Present {
		p.TCP = field.TCP{}
	}
	if p.UDP.Present {
		p.UDP = field.UDP{}
	}
	if p.ICMP.Present {
		p.ICMP = field.ICMP{}
	}
	if p.ICMPv6.Present {
		p.ICMPv6 = field.ICMPv6{}
	}
	clearApp(p)
	if p.Data.Present {
		p.Data = field.Data{}
	}
	p.Payload, p.SrcIP, p.DestIP, p.SrcPort, p.DestPort, p.Proto = "", "", "", 0, 0, ""
	m := &p.Meta
	m.Stream, m.StreamTail, m.App = "", false, ""
	m.L3, m.L4, m.PayloadOff, m.IPProto = -1, -1, -1, -1
	m.Src, m.Dst = netipZero, netipZero
	m.Fragment = false
}

// fail records the frame's first error. Inside a tunnel that a first
// fragment carries, a truncated header is the fragment's end, not an
// error.
func (d *Decoder) fail(layer string, off int, err error, reason string) {
	if d.ready || d.cut && err == ErrTruncated {
		return
	}
	d.err = Error{Layer: layer, Offset: off, Reason: reason, Err: err}
	d.ready = true
}

// add records v as one more value of a field that a frame may carry
// several times: first is the field's member, which holds the first
// value, and all its Ints.
func add(first *int, all *field.Ints, v int) {
	if all.N == 0 {
		*first = v
	}
	all.Add(v)
}

// str returns b as a string without copying.
func str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

func be16(b []byte) int { return int(binary.BigEndian.Uint16(b)) }

func be32(b []byte) int { return int(binary.BigEndian.Uint32(b)) }
