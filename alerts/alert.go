// Package alerts defines Vigil's alert record, its EVE-compatible JSON
// encoding, the NATS subjects alerts are published on, and a Publisher that
// delivers alerts to NATS (core or JetStream) without ever blocking the
// packet path for long: alerts wait in a bounded memory queue, overflow to
// append-only segment files on disk, and are delivered in order when NATS is
// reachable again. None is dropped silently: what cannot be kept is counted.
//
// The package imports nats.go and the standard library only; the embedded
// NATS server lives in the natsserver subpackage.
package alerts

import "time"

// SchemaVersion versions the alert JSON layout (the "schema_version" key).
// Changes within one version only add keys; no key changes meaning.
// Version 2 gave "direction" Suricata's meaning (the NCF direction moved to
// "vigil.ncf_direction") and summaries their own event_type. Version 3
// leaves out src_ip, dest_ip and proto when empty (ARP) and src_port and
// dest_port when 0 (ICMP, ARP), as Suricata does, where version 2 wrote
// them empty or 0.
const SchemaVersion = 3

// Event types (the "event_type" key).
const (
	EventAlert   = "alert"         // an alert
	EventSummary = "alert_summary" // a de-duplication summary: Alert.Summary is set
)

// Directions of the packet in its flow (the "direction" key), as Suricata
// writes them.
const (
	ToServer = "to_server" // sent by the flow's initiator
	ToClient = "to_client" // sent by the other side
)

// TimeLayout is the layout of every timestamp in an alert, as in Suricata's
// EVE output: microseconds and a numeric zone without a colon
// (2026-11-25T10:00:00.123456+0000).
const TimeLayout = "2006-01-02T15:04:05.000000-0700"

// Alert actions (the "alert.action" key).
const (
	ActionAllowed = "allowed" // no response was injected
	ActionBlocked = "blocked" // Vigil injected a response (TCP RST, ICMP unreachable)
)

// Alert is one alert, the unit that is encoded, published and printed.
//
// An Alert owns its strings and slices: the engine copies anything that
// aliased a packet before building one. The Publisher encodes an alert
// during Publish and does not keep the *Alert afterwards.
type Alert struct {
	Timestamp    time.Time // capture time of the packet that raised the alert
	Sensor       string    // CommView connection (remote address or configured name) or capture file
	FlowID       uint64    // direction-symmetric flow hash
	CommunityID  string    // Community ID flow hash ("1:..."); omitted when empty
	PcapCnt      int       // 1-based packet number in the capture or sensor connection (frame.number)
	PcapFilename string    // capture file (offline only); omitted when empty
	SrcIP        string
	SrcPort      int
	DestIP       string
	DestPort     int
	Proto        string // "TCP", "UDP", "ICMP", ...
	Direction    string // ToServer or ToClient; empty without a flow
	NCFDirection string // NCF direction: "in", "out" or "pass"; empty for WiFi
	AppProto     string // "http", "tls", "dns", "ftp" or "ssh": the flow's, once a message of it was seen; omitted when empty
	Action       string // ActionAllowed or ActionBlocked

	Flow *Flow // the flow at this packet; nil without one
	HTTP *HTTP // the HTTP message the packet completes; nil without one
	TLS  *TLS  // the TLS handshake the packet completes; nil without one
	DNS  *DNS  // the DNS message the packet carries; nil without one
	ARP  *ARP  // the ARP packet (which has no IP addresses); nil for others

	Tunnel *Tunnel // the outermost IP packet of a tunnelled packet; nil for others

	GID       int // generator id; always 1 for Vigil rules
	SID       int // rule id
	Rev       int // rule revision
	Signature string
	Category  string
	Severity  int      // EVE severity, 1 (highest) to 4 (for Vigil rules, rules.Severity.EVE)
	Tags      []string // rule tags, "alert.metadata.tags"; metadata omitted when empty

	SeverityWord string     // the rule's severity word (critical, high, medium, low, info); a subject token
	Message      string     // rendered output template; omitted when empty
	Injected     []Injected // responses injected for this alert
	Summary      *Summary   // set on de-duplication summaries (thresholds)

	// ID is the Nats-Msg-Id of the alert: unique per alert and stable
	// across retries, so JetStream drops duplicates. The producer sets it
	// with ID (SummaryID for a summary); Publisher.Publish drops an alert
	// without one.
	ID string
}

// Injected describes one frame Vigil injected in response to an alert. It
// is also the layout of an element of the alert JSON's "vigil.injected"
// array, under its json tags.
type Injected struct {
	Direction string `json:"direction"` // "to_source" or "to_dest"
	Type      string `json:"type"`      // "tcp-rst" or "icmp-unreach"
	Seq       uint32 `json:"seq"`       // TCP sequence number (0 for ICMP)
	Ack       uint32 `json:"ack"`       // TCP acknowledgement number (0 for ICMP)
}

// Summary marks an alert that stands for Count alerts of the same rule
// (thresholds and suppression), seen between FirstSeen and LastSeen.
type Summary struct {
	Count     int
	FirstSeen time.Time
	LastSeen  time.Time
}

// Flow is the "flow" object: the packet's flow as Suricata 7 writes it in
// alerts, its counters including this packet. Src and Dest are the flow's
// initiator and responder (the packet's own addresses are the alert's).
type Flow struct {
	PktsToServer, PktsToClient   int
	BytesToServer, BytesToClient int // frame lengths on the wire
	Start                        time.Time
	SrcIP, DestIP                string
	SrcPort, DestPort            int
}

// Tunnel is the "tunnel" object of an alert on a packet that travelled
// inside another IP packet (IP in IP, GRE, ERSPAN, VXLAN, Geneve, Teredo),
// as Suricata 7 writes it: the outermost IP packet's addresses, its UDP
// ports (0 for the tunnels that have none), its IP protocol as proto, the
// number of IP packets around the inspected one (Depth, 1 behind one
// tunnel) and its frame number (PcapCnt, omitted when 0). Suricata's
// "pkt_src" is written as "wire/pcap": the outer packet was read from a
// sensor or a capture file. Encapsulations below IP (VLAN, MPLS, PPPoE)
// are not tunnels.
type Tunnel struct {
	SrcIP, DestIP     string
	SrcPort, DestPort int
	Proto             string
	Depth             int
	PcapCnt           int
}

// PktSrcWire is the tunnel object's "pkt_src": Suricata's word for a
// packet read from the wire or a capture file.
const PktSrcWire = "wire/pcap"

// HTTP is the "http" object: an HTTP/1.x request (Method, URL, Hostname,
// UserAgent...) or response (Status...); empty strings and a zero Status
// are omitted.
type HTTP struct {
	Hostname    string `json:"hostname,omitempty"`
	URL         string `json:"url,omitempty"`
	UserAgent   string `json:"http_user_agent,omitempty"`
	ContentType string `json:"http_content_type,omitempty"`
	Referer     string `json:"http_refer,omitempty"`
	Method      string `json:"http_method,omitempty"`
	Protocol    string `json:"protocol,omitempty"` // "HTTP/1.1"
	Status      int    `json:"status,omitempty"`
}

// TLS is the "tls" object of a TLS handshake: the server name (SNI, of a
// ClientHello) and the negotiated version as Suricata names it ("TLS 1.2",
// "TLSv1", "SSLv3"; "UNDETERMINED" before the ServerHello, see
// TLSVersion); each omitted when empty.
type TLS struct {
	SNI     string `json:"sni,omitempty"`
	Version string `json:"version,omitempty"`
}

// DNS is the "dns" object of a DNS message's first question, as Suricata 7
// writes it in alerts: a query as "dns.query[0]", a response as
// "dns.answer" (with its flags and rcode).
type DNS struct {
	Response bool
	ID       int
	RRName   string // the question name, without trailing dot
	RRType   string // "A", "AAAA", ... or the number
	Opcode   int
	Flags    uint16 // the header's flags word (responses: "flags" in hex)
	Rcode    string // "NOERROR", "NXDOMAIN", ... (responses)
}

// ARP is the "vigil.arp" object of an alert on an ARP packet: the opcode
// (1 request, 2 reply) and the sender's (Src) and target's (Dest)
// hardware and IPv4 addresses, named as Suricata 8's "arp" object names
// them.
type ARP struct {
	Opcode  int    `json:"opcode"`
	SrcMAC  string `json:"src_mac"`
	SrcIP   string `json:"src_ip"`
	DestMAC string `json:"dest_mac"`
	DestIP  string `json:"dest_ip"`
}
