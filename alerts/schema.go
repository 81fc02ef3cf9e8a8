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
// Injected, under its json tags. The keys are those of Suricata's
// EVE alert records, except these, which Vigil adds: schema_version,
// sensor (Suricata's "host" is a configured sensor name; Vigil's sensor is
// the CommView connection or capture file), the vigil object and summary.
// alert.metadata holds rule metadata, which Suricata leaves free-form;
// Vigil writes the rule's tags there.
type eveRecord struct {
	Timestamp     string      `json:"timestamp"`
	EventType     string      `json:"event_type"` // always "alert"
	SchemaVersion int         `json:"schema_version"`
	Sensor        string      `json:"sensor"`
	FlowID        uint64      `json:"flow_id"`
	CommunityID   string      `json:"community_id,omitempty"`
	PcapCnt       int         `json:"pcap_cnt"`
	PcapFilename  string      `json:"pcap_filename,omitempty"`
	SrcIP         string      `json:"src_ip"`
	SrcPort       int         `json:"src_port"`
	DestIP        string      `json:"dest_ip"`
	DestPort      int         `json:"dest_port"`
	Proto         string      `json:"proto"`
	Direction     string      `json:"direction"`
	Alert         eveAlert    `json:"alert"`
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

// eveMetadata is eveRecord's "alert.metadata" object.
type eveMetadata struct {
	Tags []string `json:"tags"`
}

// eveVigil is eveRecord's "vigil" object.
type eveVigil struct {
	Severity string     `json:"severity"`
	Message  string     `json:"message,omitempty"`
	ID       string     `json:"id,omitempty"`
	Injected []Injected `json:"injected,omitempty"`
}

// eveSummary is eveRecord's "summary" object.
type eveSummary struct {
	Count     int    `json:"count"`
	FirstSeen string `json:"first_seen"`
	LastSeen  string `json:"last_seen"`
}
