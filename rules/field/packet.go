// Package field defines the packet view that rule conditions are evaluated
// against: one struct, [Packet], whose expr tags are Wireshark display-filter
// names with Wireshark's meaning (ip.* is IPv4 only, ipv6.* is IPv6, a field
// of an absent layer holds its zero value).
//
// A Packet is filled in place by the decoder and reused for the next packet.
// Every string and byte slice in it may alias the frame or a scratch buffer
// inside the Packet: it is valid until the Packet is reset or refilled. Code
// that keeps a value past that (an alert, a flow key) must copy it.
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
	Frame  Frame  `expr:"frame"`
	Sensor string `expr:"sensor"`
	NCF    NCF    `expr:"ncf"`
	WLAN   WLAN   `expr:"wlan"`
	Eth    Eth    `expr:"eth"`
	VLAN   VLAN   `expr:"vlan"`
	MPLS   MPLS   `expr:"mpls"`
	ARP    ARP    `expr:"arp"`
	IP     IPv4   `expr:"ip"`
	IPv6   IPv6   `expr:"ipv6"`
	TCP    TCP    `expr:"tcp"`
	UDP    UDP    `expr:"udp"`
	ICMP   ICMP   `expr:"icmp"`
	ICMPv6 ICMPv6 `expr:"icmpv6"`
	DNS    DNS    `expr:"dns"`
	HTTP   HTTP   `expr:"http"`
	TLS    TLS    `expr:"tls"`
	FTP    FTP    `expr:"ftp"`
	SSH    SSH    `expr:"ssh"`
	Flow   Flow   `expr:"flow"`

	// Payload is the transport payload (TCP or UDP data), or the IP
	// payload for other IP protocols, or empty.
	Payload string `expr:"payload"`

	// Version-agnostic fields named as in Suricata's EVE output.
	SrcIP    string `expr:"src_ip"`
	DestIP   string `expr:"dest_ip"`
	SrcPort  int    `expr:"src_port"`
	DestPort int    `expr:"dest_port"`
	Proto    string `expr:"proto"` // "TCP", "UDP", "ICMP", "IPv6-ICMP", or the IP protocol number as text

	// Meta is decoder output for Vigil itself (offsets, parsed addresses);
	// conditions cannot see it.
	Meta Meta `expr:"-"`
}

// Meta holds what the engine needs beyond the rule-visible fields.
type Meta struct {
	// Raw is the whole captured frame (aliases the record buffer).
	Raw []byte
	// L3 is the offset of the IPv4/IPv6/ARP header in Raw, -1 if none.
	L3 int
	// L4 is the offset of the TCP/UDP/ICMP/ICMPv6 header in Raw, -1 if none.
	L4 int
	// PayloadOff is the offset of Payload in Raw, -1 if there is none.
	PayloadOff int
	// VLANTags is the number of 802.1Q/802.1ad tags between Ethernet and L3.
	VLANTags int
	// Src and Dst are the IP addresses (IPv4 or IPv6), invalid when absent.
	Src, Dst netip.Addr
	// IPProto is the transport protocol number (IPv4 proto or the last
	// IPv6 next header), -1 when the packet carries no IP.
	IPProto int
	// Fragment is true for an IPv4 or IPv6 fragment other than the first:
	// its transport header is not in this packet.
	Fragment bool
	// scratch backs the address strings so decoding does not allocate.
	Scratch [160]byte
}

// Frame is the capture record.
type Frame struct {
	Present bool      `expr:"present"`
	Len     int       `expr:"len"`     // original length on the wire
	CapLen  int       `expr:"cap_len"` // bytes captured
	Time    time.Time `expr:"time"`    // capture time, in the sensor's configured zone
	Number  int       `expr:"number"`  // 1-based number in its capture or sensor connection
	// Bytes is the whole frame as a string: `frame contains "x"` is
	// rewritten into `frame.bytes contains "x"`.
	Bytes string `expr:"bytes"`
}

// NCF carries the CommView record header fields.
type NCF struct {
	Direction  string  `expr:"direction"` // "in", "out" or "pass" (Ethernet); "" for WiFi
	Medium     string  `expr:"medium"`    // "ethernet", "wifi" or "tokenring"
	Decrypted  bool    `expr:"decrypted"`
	Broken     bool    `expr:"broken"` // bad CRC
	Compressed bool    `expr:"compressed"`
	SignalPct  int     `expr:"signal_percent"`
	SignalDBm  int     `expr:"signal_dbm"` // negative dBm, 0 if not WiFi
	NoiseDBm   int     `expr:"noise_dbm"`  // negative dBm, 0 if not WiFi
	Channel    int     `expr:"channel"`
	Rate       float64 `expr:"rate"` // Mbit/s
	Band       int     `expr:"band"` // the raw band bit mask
}

// WLAN is an 802.11 header (NCF medium 1).
type WLAN struct {
	Present bool   `expr:"present"`
	FC      WLANFC `expr:"fc"`
	SA      string `expr:"sa"`
	DA      string `expr:"da"`
	BSSID   string `expr:"bssid"`
}

// WLANFC is the 802.11 frame control field.
type WLANFC struct {
	Type    int `expr:"type"` // 0 management, 1 control, 2 data
	Subtype int `expr:"subtype"`
}

// Eth is the Ethernet II header.
type Eth struct {
	Present bool   `expr:"present"`
	Src     string `expr:"src"`  // aa:bb:cc:dd:ee:ff
	Dst     string `expr:"dst"`  // aa:bb:cc:dd:ee:ff
	Type    int    `expr:"type"` // EtherType after VLAN tags
}

// VLAN is the outermost 802.1Q tag.
type VLAN struct {
	Present  bool `expr:"present"`
	ID       int  `expr:"id"` // 0 if untagged
	Priority int  `expr:"priority"`
	Count    int  `expr:"count"`    // number of stacked tags (QinQ)
	InnerID  int  `expr:"inner_id"` // innermost tag's id, 0 if fewer than two tags
}

// MPLS is the first MPLS label stack entry.
type MPLS struct {
	Present bool `expr:"present"`
	Label   int  `expr:"label"`
	TTL     int  `expr:"ttl"`
}

// ARP is an ARP packet.
type ARP struct {
	Present bool       `expr:"present"`
	Opcode  int        `expr:"opcode"`
	Src     ARPAddress `expr:"src"`
	Dst     ARPAddress `expr:"dst"`
}

// ARPAddress is one side of an ARP packet.
type ARPAddress struct {
	HWMac     string `expr:"hw_mac"`
	ProtoIPv4 string `expr:"proto_ipv4"`
}

// IPv4 is the IPv4 header.
type IPv4 struct {
	Present    bool      `expr:"present"`
	Src        string    `expr:"src"`
	Dst        string    `expr:"dst"`
	TTL        int       `expr:"ttl"`
	Proto      int       `expr:"proto"`
	Len        int       `expr:"len"`
	ID         int       `expr:"id"`
	HdrLen     int       `expr:"hdr_len"` // bytes
	DSField    int       `expr:"dsfield"`
	Flags      IPv4Flags `expr:"flags"`
	FragOffset int       `expr:"frag_offset"` // in bytes, as Wireshark shows it
	Checksum   int       `expr:"checksum"`
}

// IPv4Flags are the IPv4 flag bits.
type IPv4Flags struct {
	RB bool `expr:"rb"`
	DF bool `expr:"df"`
	MF bool `expr:"mf"`
}

// IPv6 is the IPv6 header.
type IPv6 struct {
	Present  bool         `expr:"present"`
	Src      string       `expr:"src"`
	Dst      string       `expr:"dst"`
	HLim     int          `expr:"hlim"`
	Nxt      int          `expr:"nxt"` // next header of the fixed header
	Plen     int          `expr:"plen"`
	Flow     int          `expr:"flow"`
	TClass   int          `expr:"tclass"`
	Fragment IPv6Fragment `expr:"fragment"` // zero when there is no fragment header
}

// IPv6Fragment is the IPv6 fragment extension header.
type IPv6Fragment struct {
	Offset int  `expr:"offset"` // bytes
	More   bool `expr:"more"`
	ID     int  `expr:"id"`
}

// TCP is the TCP header.
type TCP struct {
	Present    bool     `expr:"present"`
	SrcPort    int      `expr:"srcport"`
	DstPort    int      `expr:"dstport"`
	Seq        int      `expr:"seq"`     // raw sequence number (Wireshark's tcp.seq_raw)
	SeqRaw     int      `expr:"seq_raw"` // same as seq
	Ack        int      `expr:"ack"`     // raw acknowledgement number
	AckRaw     int      `expr:"ack_raw"` // same as ack
	Flags      TCPFlags `expr:"flags"`
	Window     int      `expr:"window_size_value"`
	Len        int      `expr:"len"`     // payload length
	HdrLen     int      `expr:"hdr_len"` // bytes
	UrgPointer int      `expr:"urgent_pointer"`
	Checksum   int      `expr:"checksum"`
}

// TCPFlags are the TCP flag bits.
type TCPFlags struct {
	FIN   bool `expr:"fin"`
	SYN   bool `expr:"syn"`
	Reset bool `expr:"reset"`
	Push  bool `expr:"push"`
	Ack   bool `expr:"ack"`
	Urg   bool `expr:"urg"`
	ECE   bool `expr:"ece"`
	CWR   bool `expr:"cwr"`
	Raw   int  `expr:"raw"` // the flag byte (Wireshark's tcp.flags as a number)
}

// UDP is the UDP header.
type UDP struct {
	Present  bool `expr:"present"`
	SrcPort  int  `expr:"srcport"`
	DstPort  int  `expr:"dstport"`
	Length   int  `expr:"length"`
	Checksum int  `expr:"checksum"`
}

// ICMP is the ICMPv4 header.
type ICMP struct {
	Present bool `expr:"present"`
	Type    int  `expr:"type"`
	Code    int  `expr:"code"`
	Ident   int  `expr:"ident"` // echo request/reply only
	Seq     int  `expr:"seq"`   // echo request/reply only
}

// ICMPv6 is the ICMPv6 header.
type ICMPv6 struct {
	Present bool `expr:"present"`
	Type    int  `expr:"type"`
	Code    int  `expr:"code"`
}

// DNS is a DNS message over UDP or TCP (port 53, 5353 mDNS, 5355 LLMNR).
type DNS struct {
	Present bool     `expr:"present"`
	ID      int      `expr:"id"`
	Flags   DNSFlags `expr:"flags"`
	Qry     DNSQuery `expr:"qry"`
	Count   DNSCount `expr:"count"`
}

// DNSQuery is the first question of a DNS message.
type DNSQuery struct {
	Name  string `expr:"name"` // no trailing dot
	Type  int    `expr:"type"`
	Class int    `expr:"class"`
}

// DNSCount holds the DNS header section counts.
type DNSCount struct {
	Queries int `expr:"queries"`
	Answers int `expr:"answers"`
}

// DNSFlags are the DNS header flags.
type DNSFlags struct {
	Response bool `expr:"response"`
	Opcode   int  `expr:"opcode"`
	Rcode    int  `expr:"rcode"`
}

// HTTP is an HTTP/1.x request or response starting in this packet.
type HTTP struct {
	Present       bool         `expr:"present"`
	Request       HTTPRequest  `expr:"request"`
	Response      HTTPResponse `expr:"response"`
	Host          string       `expr:"host"`
	UserAgent     string       `expr:"user_agent"`
	ContentType   string       `expr:"content_type"`
	Cookie        string       `expr:"cookie"`
	Referer       string       `expr:"referer"`
	Authorization string       `expr:"authorization"`
}

// HTTPRequest is an HTTP request line.
type HTTPRequest struct {
	Present bool   `expr:"present"`
	Method  string `expr:"method"`
	URI     string `expr:"uri"`
	Version string `expr:"version"`
}

// HTTPResponse is an HTTP status line.
type HTTPResponse struct {
	Present bool   `expr:"present"`
	Code    int    `expr:"code"`
	Phrase  string `expr:"phrase"`
	Version string `expr:"version"`
}

// TLS is a TLS record starting at the start of the TCP payload.
type TLS struct {
	Present   bool         `expr:"present"`
	Record    TLSRecord    `expr:"record"`
	Handshake TLSHandshake `expr:"handshake"`
}

// TLSRecord is the TLS record header.
type TLSRecord struct {
	ContentType int `expr:"content_type"`
	Version     int `expr:"version"`
}

// TLSHandshake is the first handshake message of the record.
type TLSHandshake struct {
	Type       int    `expr:"type"` // 1 ClientHello, 2 ServerHello, ...; 0 if none
	Version    int    `expr:"version"`
	ServerName string `expr:"extensions_server_name"` // SNI of a ClientHello
}

// FTP is an FTP control message (TCP port 21).
type FTP struct {
	Present  bool        `expr:"present"`
	Request  FTPRequest  `expr:"request"`
	Response FTPResponse `expr:"response"`
}

// FTPRequest is an FTP command line.
type FTPRequest struct {
	Present bool   `expr:"present"`
	Command string `expr:"command"`
	Arg     string `expr:"arg"`
}

// FTPResponse is an FTP reply line.
type FTPResponse struct {
	Present bool   `expr:"present"`
	Code    int    `expr:"code"`
	Arg     string `expr:"arg"`
}

// SSH is the SSH protocol identification line ("SSH-2.0-...").
type SSH struct {
	Present  bool   `expr:"present"`
	Protocol string `expr:"protocol"` // the identification line without CR LF
}

// Flow is the context of the packet's flow, filled by the flow table.
type Flow struct {
	Present       bool    `expr:"present"`
	ToServer      bool    `expr:"to_server"` // sent by the side that started the flow
	ToClient      bool    `expr:"to_client"`
	PktsToServer  int     `expr:"pkts_toserver"`
	PktsToClient  int     `expr:"pkts_toclient"`
	BytesToServer int     `expr:"bytes_toserver"`
	BytesToClient int     `expr:"bytes_toclient"`
	Age           float64 `expr:"age"`   // seconds since the flow's first packet
	State         string  `expr:"state"` // TCP: "new", "established", "closed"; others: "new", "established"
	Established   bool    `expr:"established"`
}

// Reset clears p for the next packet, keeping nothing that aliases the
// previous frame.
func (p *Packet) Reset() {
	*p = Packet{Meta: Meta{L3: -1, L4: -1, PayloadOff: -1, IPProto: -1}}
}
