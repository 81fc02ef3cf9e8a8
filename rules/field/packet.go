// Package field defines the packet view that rule conditions are evaluated
// against: one struct, [Packet], whose expr tags are Wireshark display-filter
// names with Wireshark's meaning (ip.* is IPv4 only, ipv6.* is IPv6, a field
// of an absent layer holds its zero value).
//
// Encapsulated traffic is seen from the inside, as Suricata sees it: the
// network, transport and application fields (ip.*, ipv6.*, tcp.*, udp.*,
// payload, src_ip, ...) are those of the innermost packet decoded, eth.*
// is the innermost Ethernet header, and the outermost IP header of a
// tunnel is under tunnel.* (Suricata's EVE "tunnel" names). The headers
// crossed on the way (ieee8021ad, vlan, mpls, pweth, pppoes, ppp, gre,
// erspan, vxlan, geneve, teredo) keep their Wireshark names; a field of
// theirs that a frame may carry several times (one per VLAN tag, MPLS
// label or nested tunnel) keeps every value in an [Ints] next to it, and
// conditions compare it over all of them (see [Slot.Ints]).
//
// A Packet is filled in place by the decoder and reused for the next packet.
// Every string and byte slice in it may alias the frame or a scratch buffer
// inside the Packet: it is valid until the Packet is reset or refilled. Code
// that keeps a value past that (an alert, a flow key) must copy it.
//
// It imports nothing of Vigil: the decoder fills this view and the rule
// language reads it.
package field

import (
	"net/netip"
	"time"
)

// Packet is the environment of every rule condition. Conditions are compiled
// against the value type (expr.Env(Packet{})) and run with a *Packet.
//
// Layer structs carry a Present flag: a layer name written alone in a
// condition (`tcp && tcp.dstport == 80`) is rewritten by the rule compiler
// into that flag, as Wireshark treats a bare protocol name as "present".
type Packet struct {
	Frame      Frame      `expr:"frame"`
	Sensor     string     `expr:"sensor" doc:"capture source: the CommView connection or capture file"`
	NCF        NCF        `expr:"ncf"`
	WLAN       WLAN       `expr:"wlan"`
	TR         TR         `expr:"tr"`
	SLL        SLL        `expr:"sll"`
	Eth        Eth        `expr:"eth"`
	IEEE8021AD IEEE8021AD `expr:"ieee8021ad"`
	VLAN       VLAN       `expr:"vlan"`
	MPLS       MPLS       `expr:"mpls"`
	PWEth      PWEth      `expr:"pweth"`
	PPPoES     PPPoES     `expr:"pppoes"`
	PPPoE      PPPoE      `expr:"pppoe"`
	PPP        PPP        `expr:"ppp"`
	GRE        GRE        `expr:"gre"`
	ERSPAN     ERSPAN     `expr:"erspan"`
	VXLAN      VXLAN      `expr:"vxlan"`
	Geneve     Geneve     `expr:"geneve"`
	Teredo     Teredo     `expr:"teredo"`
	Tunnel     Tunnel     `expr:"tunnel"`
	ARP        ARP        `expr:"arp"`
	IP         IPv4       `expr:"ip"`
	IPv6       IPv6       `expr:"ipv6"`
	TCP        TCP        `expr:"tcp"`
	UDP        UDP        `expr:"udp"`
	ICMP       ICMP       `expr:"icmp"`
	ICMPv6     ICMPv6     `expr:"icmpv6"`
	DNS        DNS        `expr:"dns"`
	HTTP       HTTP       `expr:"http"`
	TLS        TLS        `expr:"tls"`
	FTP        FTP        `expr:"ftp"`
	SSH        SSH        `expr:"ssh"`
	Flow       Flow       `expr:"flow"`
	Data       Data       `expr:"data"`

	// Payload is the transport payload (TCP or UDP data), or the IP
	// payload for other IP protocols, or empty; of the innermost packet.
	Payload string `expr:"payload" doc:"transport payload (TCP/UDP data), or the IP payload for other IP protocols, of the innermost packet"`

	// Version-agnostic fields named as in Suricata's EVE output.
	SrcIP    string `expr:"src_ip" doc:"source IP address (IPv4 or IPv6 text), as EVE src_ip"`
	DestIP   string `expr:"dest_ip" doc:"destination IP address (IPv4 or IPv6 text), as EVE dest_ip"`
	SrcPort  int    `expr:"src_port" doc:"TCP or UDP source port, 0 otherwise"`
	DestPort int    `expr:"dest_port" doc:"TCP or UDP destination port, 0 otherwise"`
	Proto    string `expr:"proto" doc:"IP protocol as Suricata names it: TCP, UDP, ICMP, IPv6-ICMP, GRE, IPv6 (41), IP-in-IP (4), or the protocol number as text"`

	// Meta is decoder output for Vigil itself (offsets, parsed addresses);
	// conditions cannot see it.
	Meta Meta `expr:"-"`
}

// Meta holds what the engine needs beyond the rule-visible fields.
type Meta struct {
	// Raw is the whole captured frame (aliases the record buffer).
	Raw []byte
	// L3 is the offset of the (innermost) IPv4/IPv6/ARP header in Raw, -1
	// if none.
	L3 int
	// L4 is the offset of the TCP/UDP/ICMP/ICMPv6 header in Raw, -1 if
	// none or not in Raw (a reassembled datagram, see Fragment).
	L4 int
	// PayloadOff is the offset of Payload in Raw, -1 if there is none or
	// it is not in Raw (a reassembled datagram, see Fragment).
	PayloadOff int
	// VLANTags is the number of 802.1Q/802.1ad tags in the frame (as
	// vlan.count).
	VLANTags int
	// Src and Dst are the IP addresses (IPv4 or IPv6), invalid when absent.
	Src, Dst netip.Addr
	// IPProto is the transport protocol number (IPv4 proto or the last
	// IPv6 next header), -1 when the packet carries no IP.
	IPProto int
	// Fragment is true for an IPv4 or IPv6 fragment whose transport header
	// is not in this frame: a fragment other than the first, or any
	// fragment the engine reassembles (the one completing a datagram
	// carries the datagram's transport layer, decoded from the reassembled
	// payload, not from Raw).
	Fragment bool
	// Encap is true when the frame has a Token Ring header, an 802.1ad
	// tag or an encapsulation (MPLS, PPPoE, GRE, VXLAN, ...): the decoder
	// looks at those layers, to clear them, only then.
	Encap bool
	// Scratch backs the address strings (MAC, IPv4, IPv6 text) so
	// decoding does not allocate; the strings alias it. Each address
	// field has its own place in it, so an inner header's text takes the
	// place of the outer one it replaces.
	Scratch [ScratchLen]byte
	// Name backs dns.qry.name (up to 255 bytes); the string aliases it.
	Name [256]byte
	// Stream is the buffer the engine's stream view (tcp.reassembled.data)
	// aliases, empty when none: the prefilter looks for text there as it
	// does in the frame. Decode clears it; the engine sets it after.
	Stream string
	// StreamTail is true when Stream ends with the packet's payload, the
	// segment delivered whole and in order (stream.View.Whole): the
	// prefilter then finds the literals of that part of the view in the
	// frame. Set and cleared with Stream.
	StreamTail bool
	// App is the application message whose fields (dns, http, tls, ftp,
	// ssh) the packet holds when the engine took them from the TCP stream
	// (decode's DecodeTCPApp sets it), empty otherwise: the prefilter
	// looks for text there too.
	App string
}

// ScratchLen is the size of Meta.Scratch: room for the text of every
// address field at once (MAC addresses of 17 bytes, IPv4 of up to 15,
// IPv6 of up to 45).
const ScratchLen = 384

// Frame is the capture record.
type Frame struct {
	Present bool      `expr:"present" doc:"frame present (always true)"`
	Len     int       `expr:"len" doc:"frame length on the wire, in bytes"`                          // original length on the wire
	CapLen  int       `expr:"cap_len" doc:"captured frame length, in bytes"`                         // bytes captured
	Time    time.Time `expr:"time" doc:"capture time"`                                               // capture time, in the sensor's configured zone
	Number  int       `expr:"number" doc:"1-based frame number in its capture or sensor connection"` // 1-based number in its capture or sensor connection
	// Bytes is the whole frame as a string: `frame contains "x"` is
	// rewritten into `frame.bytes contains "x"`.
	Bytes string `expr:"bytes" doc:"whole frame bytes as a string, for frame contains"`
}

// NCF carries the CommView record header fields.
type NCF struct {
	Direction  string  `expr:"direction" doc:"CommView direction: in, out or pass (Ethernet); empty for WiFi"` // "in", "out" or "pass" (Ethernet); "" for WiFi
	Medium     string  `expr:"medium" doc:"CommView medium: ethernet, wifi or tokenring"`                      // "ethernet", "wifi" or "tokenring"
	Decrypted  bool    `expr:"decrypted" doc:"CommView decrypted flag (WiFi)"`
	Broken     bool    `expr:"broken" doc:"CommView broken flag: bad CRC"` // bad CRC
	Compressed bool    `expr:"compressed" doc:"CommView compressed flag"`
	SignalPct  int     `expr:"signal_percent" doc:"WiFi signal level, percent"`
	SignalDBm  int     `expr:"signal_dbm" doc:"WiFi signal level in dBm (negative), 0 if not WiFi"` // negative dBm, 0 if not WiFi
	NoiseDBm   int     `expr:"noise_dbm" doc:"WiFi noise level in dBm (negative), 0 if not WiFi"`   // negative dBm, 0 if not WiFi
	Channel    int     `expr:"channel" doc:"WiFi channel"`
	Rate       float64 `expr:"rate" doc:"WiFi data rate, Mbit/s"`                     // Mbit/s
	Band       int     `expr:"band" doc:"WiFi band bit mask as recorded by CommView"` // the raw band bit mask
}

// WLAN is an 802.11 header (NCF medium 1).
type WLAN struct {
	Present bool   `expr:"present" doc:"IEEE 802.11 header present"`
	FC      WLANFC `expr:"fc"`
	SA      string `expr:"sa" doc:"802.11 source address"`
	DA      string `expr:"da" doc:"802.11 destination address"`
	BSSID   string `expr:"bssid" doc:"802.11 BSS id (empty when both ToDS and FromDS are set)"`
}

// WLANFC is the 802.11 frame control field.
type WLANFC struct {
	Type    int `expr:"type" doc:"802.11 frame type: 0 management, 1 control, 2 data"` // 0 management, 1 control, 2 data
	Subtype int `expr:"subtype" doc:"802.11 frame subtype"`

	ToDS      bool `expr:"tods" doc:"802.11 To DS flag"`
	FromDS    bool `expr:"fromds" doc:"802.11 From DS flag"`
	Protected bool `expr:"protected" doc:"802.11 protected (encrypted) frame flag"`
}

// TR is a Token Ring (IEEE 802.5) MAC header: link type 6, NCF medium 2.
type TR struct {
	Present bool   `expr:"present" doc:"Token Ring (IEEE 802.5) header present"`
	Src     string `expr:"src" doc:"Token Ring source address without the source-routing bit, aa:bb:cc:dd:ee:ff"`
	Dst     string `expr:"dst" doc:"Token Ring destination address, aa:bb:cc:dd:ee:ff"`
	SR      bool   `expr:"sr" doc:"Token Ring source-routed: a routing information field follows the addresses"`
}

// SLL is the Linux cooked capture header (pcap link type 113) under
// Wireshark's names: a frame captured on Linux's "any" device has it
// instead of an Ethernet header.
type SLL struct {
	Present bool   `expr:"present" doc:"Linux cooked capture (SLL) header present"`
	PktType int    `expr:"pkttype" doc:"SLL packet type: 0 to us, 1 broadcast, 2 multicast, 3 to another host, 4 sent by us"`
	HAType  int    `expr:"hatype" doc:"SLL link-layer address type (ARPHRD_ number: 1 Ethernet)"`
	HALen   int    `expr:"halen" doc:"SLL link-layer address length, in bytes"`
	Src     SLLSrc `expr:"src"`
	EType   int    `expr:"etype" doc:"SLL protocol when an EtherType (above 1536), 0 otherwise"`
	LType   int    `expr:"ltype" doc:"SLL protocol when not an EtherType (1536 or below: 4 is 802.2 LLC), 0 otherwise"`
}

// SLLSrc is the SLL source address, by kind.
type SLLSrc struct {
	Eth string `expr:"eth" doc:"SLL source address, aa:bb:cc:dd:ee:ff, when 6 bytes long (empty otherwise)"`
}

// Eth is the Ethernet II (or IEEE 802.3) header: the innermost one when a
// tunnel carries Ethernet (VXLAN, Geneve, GRE bridging, ERSPAN, an MPLS
// Ethernet pseudowire).
type Eth struct {
	Present bool   `expr:"present" doc:"Ethernet header present"`
	Src     string `expr:"src" doc:"Ethernet source address, aa:bb:cc:dd:ee:ff (innermost Ethernet header)"`                      // aa:bb:cc:dd:ee:ff
	Dst     string `expr:"dst" doc:"Ethernet destination address, aa:bb:cc:dd:ee:ff (innermost Ethernet header)"`                 // aa:bb:cc:dd:ee:ff
	Type    int    `expr:"type" doc:"EtherType after any VLAN tags (0 for 802.3 frames without SNAP; innermost Ethernet header)"` // EtherType after VLAN tags
}

// IEEE8021AD is the IEEE 802.1ad service tag (S-tag, EtherType 0x88a8), under
// Wireshark's names (ieee8021ad.*). An S-tag is not an 802.1Q tag: vlan.id
// never matches it.
type IEEE8021AD struct {
	Present    bool `expr:"present" doc:"IEEE 802.1ad service tag (S-tag, EtherType 0x88a8) present"`
	ID         int  `expr:"id" each:"IDs" doc:"802.1ad S-tag VLAN id"`
	Priority   int  `expr:"priority" each:"Priorities" doc:"802.1ad S-tag priority (PCP)"`
	IDs        Ints // every S-tag's id, outermost first
	Priorities Ints // every S-tag's priority
}

// VLAN holds the IEEE 802.1Q tags (EtherType 0x8100, and 0x9100 as
// Wireshark reads it) of the frame, those of inner Ethernet headers
// included. vlan.id and vlan.priority compare over every tag, as in
// Wireshark; count and inner_id also cover 802.1ad S-tags.
type VLAN struct {
	Present    bool `expr:"present" doc:"802.1Q VLAN tag present"`
	ID         int  `expr:"id" each:"IDs" doc:"802.1Q VLAN id (not an 802.1ad S-tag: see ieee8021ad.id)"`
	Priority   int  `expr:"priority" each:"Priorities" doc:"802.1Q VLAN priority (PCP)"`
	Count      int  `expr:"count" doc:"number of VLAN tags in the frame, 802.1Q and 802.1ad"`                                   // QinQ stacks count every tag
	InnerID    int  `expr:"inner_id" doc:"id of the innermost VLAN tag (802.1Q or 802.1ad), 0 if the frame has fewer than two"` // innermost tag's id, 0 if fewer than two tags
	IDs        Ints // every 802.1Q tag's id, outermost first
	Priorities Ints // every 802.1Q tag's priority
}

// MPLS holds the MPLS label stack entries (RFC 3032) of the frame.
type MPLS struct {
	Present bool `expr:"present" doc:"MPLS label stack present"`
	Label   int  `expr:"label" each:"Labels" doc:"MPLS label"`
	Exp     int  `expr:"exp" each:"Exps" doc:"MPLS traffic class (experimental) bits"`
	TTL     int  `expr:"ttl" each:"TTLs" doc:"MPLS label stack entry TTL"`
	Labels  Ints // every label, top of stack first
	Exps    Ints // every entry's traffic class
	TTLs    Ints // every entry's TTL
}

// PWEth is an Ethernet pseudowire inside MPLS (RFC 4448), under
// Wireshark's names: the frame after the label stack is Ethernet, behind a
// 4-byte control word (RFC 4385) or not.
type PWEth struct {
	Present bool    `expr:"present" doc:"Ethernet pseudowire inside MPLS (RFC 4448)"`
	CW      PWEthCW `expr:"cw"`
}

// PWEthCW is the pseudowire control word before the Ethernet frame.
type PWEthCW struct {
	Present bool `expr:"present" doc:"Ethernet pseudowire control word (RFC 4385) present"`
}

// PPPoES is a PPPoE session stage frame (RFC 2516, EtherType 0x8864);
// Wireshark names the protocol pppoes and its fields pppoe.*.
type PPPoES struct {
	Present bool `expr:"present" doc:"PPPoE session frame (RFC 2516, EtherType 0x8864)"`
}

// PPPoE holds the PPPoE header fields of session frames.
type PPPoE struct {
	SessionID  int  `expr:"session_id" each:"SessionIDs" doc:"PPPoE session id"`
	SessionIDs Ints // every PPPoE header's session id
}

// PPP is a PPP header (RFC 1661) inside PPPoE or PPTP's enhanced GRE.
type PPP struct {
	Present   bool `expr:"present" doc:"PPP header present (PPPoE session, PPTP)"`
	Protocol  int  `expr:"protocol" each:"Protocols" doc:"PPP protocol: 0x0021 IPv4, 0x0057 IPv6, 0xc021 LCP, ..."`
	Protocols Ints // every PPP header's protocol
}

// GRE is a Generic Routing Encapsulation header (RFC 2784, 2890; RFC 1701
// routing; version 1 is PPTP's enhanced GRE, RFC 2637).
type GRE struct {
	Present bool `expr:"present" doc:"GRE header present"`
	Proto   int  `expr:"proto" each:"Protos" doc:"GRE protocol type: an EtherType (0x0800 IPv4, 0x6558 Ethernet bridging, 0x88be ERSPAN, ...)"`
	Key     int  `expr:"key" each:"Keys" doc:"GRE key, of GRE headers that carry one"`
	Protos  Ints // every GRE header's protocol type
	Keys    Ints // every GRE key
}

// ERSPAN is a Cisco ERSPAN header inside GRE: type I has none (GRE
// protocol 0x88be without sequence number), type II is version 1 (0x88be),
// type III version 2 (0x22eb).
type ERSPAN struct {
	Present  bool `expr:"present" doc:"ERSPAN (type I, II or III) inside GRE"`
	Version  int  `expr:"version" each:"Versions" doc:"ERSPAN header version: 1 for type II, 2 for type III (type I has no header)"`
	SpanID   int  `expr:"spanid" each:"SpanIDs" doc:"ERSPAN session id"`
	Versions Ints // every ERSPAN header's version
	SpanIDs  Ints // every ERSPAN header's session id
}

// VXLAN is a VXLAN header (RFC 7348, UDP destination port 4789).
type VXLAN struct {
	Present bool `expr:"present" doc:"VXLAN header present (UDP port 4789)"`
	VNI     int  `expr:"vni" each:"VNIs" doc:"VXLAN network identifier"`
	VNIs    Ints // every VXLAN header's VNI
}

// Geneve is a Geneve header (RFC 8926, UDP destination port 6081).
type Geneve struct {
	Present bool `expr:"present" doc:"Geneve header present (UDP port 6081)"`
	VNI     int  `expr:"vni" each:"VNIs" doc:"Geneve virtual network identifier"`
	VNIs    Ints // every Geneve header's VNI
}

// Teredo is IPv6 over UDP port 3544 (RFC 4380), with or without its
// authentication and origin indication headers.
type Teredo struct {
	Present bool `expr:"present" doc:"Teredo: IPv6 inside UDP port 3544"`
}

// Tunnel describes the outermost IP packet of a frame whose inspected
// packet travelled inside another IP packet (IP in IP, GRE, ERSPAN,
// VXLAN, Geneve, Teredo), under the names of Suricata's EVE "tunnel"
// object. Encapsulations below IP (VLAN, MPLS, PPPoE) are not tunnels.
type Tunnel struct {
	Present  bool   `expr:"present" doc:"the packet was carried inside another IP packet (an IP tunnel)"`
	SrcIP    string `expr:"src_ip" doc:"source address of the outermost IP header (IPv4 or IPv6 text)"`
	DestIP   string `expr:"dest_ip" doc:"destination address of the outermost IP header (IPv4 or IPv6 text)"`
	SrcPort  int    `expr:"src_port" doc:"outermost UDP source port (VXLAN, Geneve, Teredo), 0 otherwise"`
	DestPort int    `expr:"dest_port" doc:"outermost UDP destination port (VXLAN, Geneve, Teredo), 0 otherwise"`
	Proto    string `expr:"proto" doc:"IP protocol of the outermost IP header, written as proto (GRE, UDP, IPv6, IP-in-IP), as in EVE tunnel.proto"`
	Depth    int    `expr:"depth" doc:"IP packets around the inspected one: 1 behind one tunnel"`
}

// ARP is an ARP packet.
type ARP struct {
	Present bool       `expr:"present" doc:"ARP packet present"`
	Opcode  int        `expr:"opcode" doc:"ARP opcode: 1 request, 2 reply"`
	Src     ARPAddress `expr:"src" doc:"ARP sender"`
	Dst     ARPAddress `expr:"dst" doc:"ARP target"`
}

// ARPAddress is one side of an ARP packet.
type ARPAddress struct {
	HWMac     string `expr:"hw_mac" doc:"hardware (MAC) address"`
	ProtoIPv4 string `expr:"proto_ipv4" doc:"protocol (IPv4) address"`
}

// IPv4 is the IPv4 header of the packet inspected: the innermost one of a
// tunnel (the outermost is under tunnel.*).
type IPv4 struct {
	Present    bool      `expr:"present" doc:"IPv4 header present (the innermost packet's)"`
	Src        string    `expr:"src" doc:"IPv4 source address, dotted quad"`
	Dst        string    `expr:"dst" doc:"IPv4 destination address, dotted quad"`
	TTL        int       `expr:"ttl" doc:"IPv4 time to live"`
	Proto      int       `expr:"proto" doc:"IPv4 protocol number"`
	Len        int       `expr:"len" doc:"IPv4 total length, in bytes"`
	ID         int       `expr:"id" doc:"IPv4 identification"`
	HdrLen     int       `expr:"hdr_len" doc:"IPv4 header length, in bytes"` // bytes
	DSField    int       `expr:"dsfield" doc:"IPv4 differentiated services field (DSCP and ECN byte)"`
	Flags      IPv4Flags `expr:"flags"`
	FragOffset int       `expr:"frag_offset" doc:"IPv4 fragment offset in 8-byte units, as Wireshark 4.0 display filters count it (the packet tree shows bytes)"`
	Checksum   int       `expr:"checksum" doc:"IPv4 header checksum"`
}

// IPv4Flags are the IPv4 flag bits.
type IPv4Flags struct {
	RB bool `expr:"rb" doc:"IPv4 reserved flag bit"`
	DF bool `expr:"df" doc:"IPv4 don't fragment flag"`
	MF bool `expr:"mf" doc:"IPv4 more fragments flag"`
}

// IPv6 is the IPv6 header of the packet inspected: the innermost one of a
// tunnel (the outermost is under tunnel.*).
type IPv6 struct {
	Present  bool         `expr:"present" doc:"IPv6 header present (the innermost packet's)"`
	Src      string       `expr:"src" doc:"IPv6 source address, canonical text (RFC 5952)"`
	Dst      string       `expr:"dst" doc:"IPv6 destination address, canonical text (RFC 5952)"`
	HLim     int          `expr:"hlim" doc:"IPv6 hop limit"`
	Nxt      int          `expr:"nxt" doc:"IPv6 next header of the fixed header"` // next header of the fixed header
	Plen     int          `expr:"plen" doc:"IPv6 payload length, in bytes"`
	Flow     int          `expr:"flow" doc:"IPv6 flow label"`
	TClass   int          `expr:"tclass" doc:"IPv6 traffic class"`
	Fragment IPv6Fragment `expr:"fragment"` // zero when there is no fragment header
	FragHdr  IPv6FragHdr  `expr:"fraghdr"`  // Wireshark 4 names of the same header
}

// IPv6FragHdr is the IPv6 fragment extension header under Wireshark's
// names (ipv6.fraghdr.*); the offset is in 8-byte units as Wireshark's
// filter value is.
type IPv6FragHdr struct {
	Offset int  `expr:"offset" doc:"IPv6 fragment offset in 8-byte units (0 without fragment header)"`
	More   bool `expr:"more" doc:"IPv6 more fragments flag"`
	Ident  int  `expr:"ident" doc:"IPv6 fragment identification"`
}

// IPv6Fragment is the IPv6 fragment extension header.
type IPv6Fragment struct {
	Offset int  `expr:"offset" doc:"IPv6 fragment offset, in bytes (0 without fragment header)"` // bytes
	More   bool `expr:"more" doc:"IPv6 more fragments flag"`
	ID     int  `expr:"id" doc:"IPv6 fragment identification"`
}

// TCP is the TCP header.
type TCP struct {
	Present bool `expr:"present" doc:"TCP header present"`
	SrcPort int  `expr:"srcport" doc:"TCP source port"`
	DstPort int  `expr:"dstport" doc:"TCP destination port"`
	// Seq, Ack and NxtSeq are relative to the initial sequence numbers
	// of the directions of the segment's flow, as Wireshark shows them
	// (engine/stream.View says how a base is found); the decoder, which
	// knows no flow, fills them raw, and the engine makes them relative.
	Seq        int      `expr:"seq" doc:"TCP sequence number, relative to the direction's initial sequence number as in Wireshark (raw without a flow)"`
	SeqRaw     int      `expr:"seq_raw" doc:"TCP sequence number (raw)"`
	Ack        int      `expr:"ack" doc:"TCP acknowledgment number, relative to the peer's initial sequence number as in Wireshark (raw without ACK set or without a flow)"`
	AckRaw     int      `expr:"ack_raw" doc:"TCP acknowledgment number (raw)"`
	NxtSeq     int      `expr:"nxtseq" doc:"TCP next sequence number: tcp.seq plus tcp.len, plus one for a SYN or a FIN"`
	Flags      TCPFlags `expr:"flags"`
	Window     int      `expr:"window_size_value" doc:"TCP window size value (unscaled)"`
	Len        int      `expr:"len" doc:"TCP segment payload length: from the IP length, within the frame's length on the wire (as Wireshark: an IP length beyond the frame is not followed)"`
	HdrLen     int      `expr:"hdr_len" doc:"TCP header length, in bytes"` // bytes
	UrgPointer int      `expr:"urgent_pointer" doc:"TCP urgent pointer"`
	Checksum   int      `expr:"checksum" doc:"TCP checksum"`
	// Reassembled is the segment's stream view, filled by the engine.
	Reassembled TCPReassembled `expr:"reassembled"`
	// Analysis is the segment's sequence analysis, filled by the engine.
	Analysis TCPAnalysis `expr:"analysis"`
}

// TCPAnalysis holds Wireshark's TCP sequence analysis events of a segment
// (packet-tcp.c; the Wireshark User's Guide, "TCP Analysis"), set by the
// engine's reassembler (engine/stream.Analysis says exactly when). Like
// Wireshark, they compare a segment with the highest sequence number seen
// so far in its direction.
type TCPAnalysis struct {
	Retransmission bool `expr:"retransmission" doc:"segment resends data (or a SYN or FIN) seen before, or data the peer acknowledged; fast and spurious retransmissions included"`
	OutOfOrder     bool `expr:"out_of_order" doc:"segment starts before the highest sequence number seen and came within the first RTT (3 ms if unknown) of the segment that set it"`
	LostSegment    bool `expr:"lost_segment" doc:"segment starts past the highest sequence number seen: a previous segment was not captured"`
}

// TCPReassembled is the stream view of a TCP segment (engine/stream): the
// bytes of its direction that the segment made available in order, after
// up to a window of bytes delivered before them, so that text split over
// segments is seen whole on the segment that completes it.
type TCPReassembled struct {
	Data      string `expr:"data" doc:"stream view: earlier bytes of the direction (up to 255), then the bytes this segment delivered in order"`
	NewLength int    `expr:"new_length" doc:"bytes at the end of tcp.reassembled.data that this segment delivered in order"`
}

// TCPFlags are the TCP flag bits.
type TCPFlags struct {
	FIN   bool `expr:"fin" doc:"TCP FIN flag"`
	SYN   bool `expr:"syn" doc:"TCP SYN flag"`
	Reset bool `expr:"reset" doc:"TCP RST flag"`
	Push  bool `expr:"push" doc:"TCP PSH flag"`
	Ack   bool `expr:"ack" doc:"TCP ACK flag"`
	Urg   bool `expr:"urg" doc:"TCP URG flag"`
	ECE   bool `expr:"ece" doc:"TCP ECN-Echo flag"`
	CWR   bool `expr:"cwr" doc:"TCP congestion window reduced flag"`
	Raw   int  `expr:"raw" doc:"TCP flag byte as a number"` // the flag byte (Wireshark's tcp.flags as a number)
}

// UDP is the UDP header.
type UDP struct {
	Present  bool `expr:"present" doc:"UDP header present"`
	SrcPort  int  `expr:"srcport" doc:"UDP source port"`
	DstPort  int  `expr:"dstport" doc:"UDP destination port"`
	Length   int  `expr:"length" doc:"UDP length field (header and data), in bytes"`
	Checksum int  `expr:"checksum" doc:"UDP checksum"`
}

// ICMP is the ICMPv4 header.
type ICMP struct {
	Present bool `expr:"present" doc:"ICMP (IPv4) header present"`
	Type    int  `expr:"type" doc:"ICMP type"`
	Code    int  `expr:"code" doc:"ICMP code"`
	Ident   int  `expr:"ident" doc:"ICMP echo identifier (echo request/reply only)"`    // echo request/reply only
	Seq     int  `expr:"seq" doc:"ICMP echo sequence number (echo request/reply only)"` // echo request/reply only
}

// ICMPv6 is the ICMPv6 header.
type ICMPv6 struct {
	Present bool `expr:"present" doc:"ICMPv6 header present"`
	Type    int  `expr:"type" doc:"ICMPv6 type"`
	Code    int  `expr:"code" doc:"ICMPv6 code"`
}

// DNS is a DNS message over UDP or TCP (port 53, 5353 mDNS, 5355 LLMNR).
type DNS struct {
	Present bool     `expr:"present" doc:"DNS message present (UDP/TCP port 53, 5353, 5355)"`
	ID      int      `expr:"id" doc:"DNS transaction id"`
	Flags   DNSFlags `expr:"flags"`
	Qry     DNSQuery `expr:"qry"`
	Count   DNSCount `expr:"count"`
}

// DNSQuery is the first question of a DNS message.
type DNSQuery struct {
	Name  string `expr:"name" doc:"first question name, without trailing dot"` // no trailing dot
	Type  int    `expr:"type" doc:"first question type"`
	Class int    `expr:"class" doc:"first question class"`
}

// DNSCount holds the DNS header section counts.
type DNSCount struct {
	Queries int `expr:"queries" doc:"DNS question count"`
	Answers int `expr:"answers" doc:"DNS answer count"`
	AuthRR  int `expr:"auth_rr" doc:"DNS authority record count"`
	AddRR   int `expr:"add_rr" doc:"DNS additional record count"`
}

// DNSFlags are the DNS header flags.
type DNSFlags struct {
	Response bool `expr:"response" doc:"DNS message is a response"`
	Opcode   int  `expr:"opcode" doc:"DNS opcode"`
	Rcode    int  `expr:"rcode" doc:"DNS reply code"`

	Authoritative bool `expr:"authoritative" doc:"DNS authoritative answer flag"`
	Truncated     bool `expr:"truncated" doc:"DNS truncated message flag"`
	RecDesired    bool `expr:"recdesired" doc:"DNS recursion desired flag"`
	RecAvail      bool `expr:"recavail" doc:"DNS recursion available flag"`
}

// HTTP is an HTTP/1.x request or response starting in this packet.
type HTTP struct {
	Present       bool         `expr:"present" doc:"HTTP/1.x message starting in this packet"`
	Request       HTTPRequest  `expr:"request"`
	Response      HTTPResponse `expr:"response"`
	Host          string       `expr:"host" doc:"HTTP Host header"`
	UserAgent     string       `expr:"user_agent" doc:"HTTP User-Agent header"`
	ContentType   string       `expr:"content_type" doc:"HTTP Content-Type header"`
	Cookie        string       `expr:"cookie" doc:"HTTP Cookie header"`
	Referer       string       `expr:"referer" doc:"HTTP Referer header"`
	Authorization string       `expr:"authorization" doc:"HTTP Authorization header"`
}

// HTTPRequest is an HTTP request line.
type HTTPRequest struct {
	Present bool   `expr:"present" doc:"HTTP request line present"`
	Method  string `expr:"method" doc:"HTTP request method"`
	URI     string `expr:"uri" doc:"HTTP request URI"`
	Version string `expr:"version" doc:"HTTP request version, e.g. HTTP/1.1"`
}

// HTTPResponse is an HTTP status line.
type HTTPResponse struct {
	Present bool   `expr:"present" doc:"HTTP status line present"`
	Code    int    `expr:"code" doc:"HTTP response status code"`
	Phrase  string `expr:"phrase" doc:"HTTP response reason phrase"`
	Version string `expr:"version" doc:"HTTP response version, e.g. HTTP/1.1"`
}

// TLS is a TLS record starting at the start of the TCP payload.
type TLS struct {
	Present   bool         `expr:"present" doc:"TLS record starting at the start of the TCP payload"`
	Record    TLSRecord    `expr:"record"`
	Handshake TLSHandshake `expr:"handshake"`
}

// TLSRecord is the TLS record header.
type TLSRecord struct {
	ContentType int `expr:"content_type" doc:"TLS record content type (22 handshake, 23 application data, ...)"`
	Version     int `expr:"version" doc:"TLS record version, e.g. 0x0303"`
}

// TLSHandshake is a TLS handshake message. In a TCP stream, the engine
// evaluates each message once, reassembled across records, on the frame
// that completes it (as tshark shows it); a packet decoded alone shows the
// first message of its first record.
type TLSHandshake struct {
	Type       int    `expr:"type" doc:"TLS handshake type: 1 ClientHello, 2 ServerHello, ...; 0 if none"` // 1 ClientHello, 2 ServerHello, ...; 0 if none
	Version    int    `expr:"version" doc:"TLS ClientHello/ServerHello version"`
	ServerName string `expr:"extensions_server_name" doc:"TLS ClientHello server name (SNI)"` // SNI of a ClientHello
}

// FTP is an FTP control message (TCP port 21).
type FTP struct {
	Present  bool        `expr:"present" doc:"FTP control message present (TCP port 21)"`
	Request  FTPRequest  `expr:"request"`
	Response FTPResponse `expr:"response"`
}

// FTPRequest is an FTP command line.
type FTPRequest struct {
	Present bool   `expr:"present" doc:"FTP command line present"`
	Command string `expr:"command" doc:"FTP command, e.g. USER"`
	Arg     string `expr:"arg" doc:"FTP command argument"`
}

// FTPResponse is an FTP reply line.
type FTPResponse struct {
	Present bool   `expr:"present" doc:"FTP reply line present"`
	Code    int    `expr:"code" doc:"FTP reply code"`
	Arg     string `expr:"arg" doc:"FTP reply text"`
}

// SSH is the SSH protocol identification line ("SSH-2.0-...").
type SSH struct {
	Present  bool   `expr:"present" doc:"SSH identification line present"`
	Protocol string `expr:"protocol" doc:"SSH identification line without CR LF, e.g. SSH-2.0-OpenSSH_8.9"` // the identification line without CR LF
}

// Flow is the context of the packet's flow, filled by the flow table.
type Flow struct {
	Present       bool    `expr:"present" doc:"flow context present"`
	ToServer      bool    `expr:"to_server" doc:"packet sent by the side that started the flow"` // sent by the side that started the flow
	ToClient      bool    `expr:"to_client" doc:"packet sent by the side that answered the flow"`
	PktsToServer  int     `expr:"pkts_toserver" doc:"packets seen so far toward the server"`
	PktsToClient  int     `expr:"pkts_toclient" doc:"packets seen so far toward the client"`
	BytesToServer int     `expr:"bytes_toserver" doc:"bytes seen so far toward the server"`
	BytesToClient int     `expr:"bytes_toclient" doc:"bytes seen so far toward the client"`
	Age           float64 `expr:"age" doc:"seconds since the flow's first packet"`          // seconds since the flow's first packet
	State         string  `expr:"state" doc:"flow state: new, established or closed (TCP)"` // TCP: "new", "established", "closed"; others: "new", "established"
	Established   bool    `expr:"established" doc:"flow is established"`
	// Bits holds the flow's flowbits, one bit per name; conditions use
	// isset("name") and notset("name"), which the rule compiler turns
	// into tests of Bits.
	Bits int `expr:"bits" doc:"the flow's flowbits as a bit mask (use isset/notset)"`
}

// Data is Wireshark's data protocol: the payload that no dissector took.
// The engine fills it: the payload of the innermost packet, except a UDP
// datagram to or from a DNS port and a TCP segment of a direction framed
// as DNS, HTTP, TLS, FTP or SSH (and not past a gap that lost the
// framing), whose payload those layers dissect.
type Data struct {
	Present bool   `expr:"present" doc:"payload that no dissector took is present (Wireshark's data protocol)"`
	Data    string `expr:"data" doc:"payload that no dissector took (Vigil dissects DNS, HTTP, TLS, FTP and SSH)"`
	Len     int    `expr:"len" doc:"length of data.data, in bytes"`
}

// Reset clears p for the next packet, keeping nothing that aliases the
// previous frame.
func (p *Packet) Reset() {
	*p = Packet{Meta: Meta{L3: -1, L4: -1, PayloadOff: -1, IPProto: -1}}
}
