package alerts

// eveRecord is the EVE layout of an alert and the one description of it:
// the keys, their order, their JSON types and which are left out when
// empty (omitempty). Decode reads alerts through it. AppendJSON writes the
// same layout by hand, for speed, and the tests hold it to eveRecord:
// every alert of a golden set must decode into eveRecord with no unknown
// key and re-encode through it with encoding/json to the very same bytes,
// and every key of eveRecord must appear in the set.
//
// Timestamps are strings in TimeLayout; the elements of vigil.injected are
// Injected, the http and tls objects HTTP and TLS, vigil.arp ARP, under
// their json tags.
// The keys are those of Suricata 7's EVE alert records, with their
// meaning, except these, which Vigil adds: schema_version, sensor
// (Suricata's "host" is a configured sensor name; Vigil's sensor is the
// CommView connection or capture file), the vigil object and summary.
// alert.metadata holds rule metadata, which Suricata leaves free-form;
// Vigil writes the rule's tags there. As in Suricata's records, a packet
// without IP addresses (ARP) has no src_ip, dest_ip or proto, and one
// without ports (ICMP, ARP) no src_port or dest_port.
type eveRecord struct {
	Timestamp     string      `json:"timestamp"`
	EventType     string      `json:"event_type"` // EventAlert or EventSummary
	SchemaVersion int         `json:"schema_version"`
	Sensor        string      `json:"sensor"`
	FlowID        uint64      `json:"flow_id"`
	CommunityID   string      `json:"community_id,omitempty"`
	PcapCnt       int         `json:"pcap_cnt"`
	PcapFilename  string      `json:"pcap_filename,omitempty"`
	SrcIP         string      `json:"src_ip,omitempty"`
	SrcPort       int         `json:"src_port,omitempty"`
	DestIP        string      `json:"dest_ip,omitempty"`
	DestPort      int         `json:"dest_port,omitempty"`
	Proto         string      `json:"proto,omitempty"`
	Direction     string      `json:"direction,omitempty"`
	AppProto      string      `json:"app_proto,omitempty"`
	Alert         eveAlert    `json:"alert"`
	Tunnel        *eveTunnel  `json:"tunnel,omitempty"`
	HTTP          *HTTP       `json:"http,omitempty"`
	TLS           *TLS        `json:"tls,omitempty"`
	DNS           *eveDNS     `json:"dns,omitempty"`
	Flow          *eveFlow    `json:"flow,omitempty"`
	Vigil         eveVigil    `json:"vigil"`
	Summary       *eveSummary `json:"summary,omitempty"`
}

// eveAlert is eveRecord's "alert" object.
type eveAlert struct {
	Action      string       `json:"action"`
	GID         int          `json:"gid"`
	SignatureID int          `json:"signature_id"`
	Rev         int          `json:"rev"`
	Signature   string       `json:"signature"`
	Category    string       `json:"category"`
	Severity    int          `json:"severity"`
	Metadata    *eveMetadata `json:"metadata,omitempty"` // only with tags
}

// eveTunnel is eveRecord's "tunnel" object (Tunnel); PktSrc is always
// PktSrcWire.
type eveTunnel struct {
	SrcIP    string `json:"src_ip"`
	SrcPort  int    `json:"src_port"`
	DestIP   string `json:"dest_ip"`
	DestPort int    `json:"dest_port"`
	Proto    string `json:"proto"`
	Depth    int    `json:"depth"`
	PcapCnt  int    `json:"pcap_cnt,omitempty"`
	PktSrc   string `json:"pkt_src"`
}

// eveMetadata is eveRecord's "alert.metadata" object.
type eveMetadata struct {
	Tags []string `json:"tags"`
}

// eveVigil is eveRecord's "vigil" object.
type eveVigil struct {
	Severity     string     `json:"severity"`
	NCFDirection string     `json:"ncf_direction,omitempty"`
	Message      string     `json:"message,omitempty"`
	ID           string     `json:"id,omitempty"`
	Injected     []Injected `json:"injected,omitempty"`
	ARP          *ARP       `json:"arp,omitempty"`
}

// eveSummary is eveRecord's "summary" object.
type eveSummary struct {
	Count     int    `json:"count"`
	FirstSeen string `json:"first_seen"`
	LastSeen  string `json:"last_seen"`
}

// eveDNS is eveRecord's "dns" object: Query for a query, Answer for a
// response.
type eveDNS struct {
	Version int           `json:"version"` // 2
	Query   []eveDNSQuery `json:"query,omitempty"`
	Answer  *eveDNSAnswer `json:"answer,omitempty"`
}

// eveDNSQuery is an element of "dns.query".
type eveDNSQuery struct {
	Type   string `json:"type"` // "query"
	ID     int    `json:"id"`
	RRName string `json:"rrname"`
	RRType string `json:"rrtype"`
	TxID   int    `json:"tx_id"`
	Opcode int    `json:"opcode"`
}

// eveDNSAnswer is "dns.answer".
type eveDNSAnswer struct {
	Type   string `json:"type"` // "answer"
	ID     int    `json:"id"`
	Flags  string `json:"flags"` // hexadecimal
	QR     bool   `json:"qr"`
	RD     bool   `json:"rd,omitempty"`
	RA     bool   `json:"ra,omitempty"`
	Opcode int    `json:"opcode"`
	RRName string `json:"rrname"`
	RRType string `json:"rrtype"`
	Rcode  string `json:"rcode"`
}

// eveFlow is eveRecord's "flow" object.
type eveFlow struct {
	PktsToServer  int    `json:"pkts_toserver"`
	PktsToClient  int    `json:"pkts_toclient"`
	BytesToServer int    `json:"bytes_toserver"`
	BytesToClient int    `json:"bytes_toclient"`
	Start         string `json:"start"`
	SrcIP         string `json:"src_ip"`
	DestIP        string `json:"dest_ip"`
	SrcPort       int    `json:"src_port"`
	DestPort      int    `json:"dest_port"`
}
