package alerts

import (
	"encoding/json"
	"fmt"
	"time"
)

// eveJSON mirrors the layout written by AppendJSON for decoding.
type eveJSON struct {
	Timestamp     string `json:"timestamp"`
	EventType     string `json:"event_type"`
	SchemaVersion int    `json:"schema_version"`
	Sensor        string `json:"sensor"`
	FlowID        uint64 `json:"flow_id"`
	CommunityID   string `json:"community_id"`
	PcapCnt       int    `json:"pcap_cnt"`
	PcapFilename  string `json:"pcap_filename"`
	SrcIP         string `json:"src_ip"`
	SrcPort       int    `json:"src_port"`
	DestIP        string `json:"dest_ip"`
	DestPort      int    `json:"dest_port"`
	Proto         string `json:"proto"`
	Direction     string `json:"direction"`
	Alert         struct {
		Action      string `json:"action"`
		GID         int    `json:"gid"`
		SignatureID int    `json:"signature_id"`
		Rev         int    `json:"rev"`
		Signature   string `json:"signature"`
		Category    string `json:"category"`
		Severity    int    `json:"severity"`
		Metadata    *struct {
			Tags []string `json:"tags"`
		} `json:"metadata"`
	} `json:"alert"`
	Vigil struct {
		Severity string `json:"severity"`
		Message  string `json:"message"`
		ID       string `json:"id"`
		Injected []struct {
			Direction string `json:"direction"`
			Type      string `json:"type"`
			Seq       uint32 `json:"seq"`
			Ack       uint32 `json:"ack"`
		} `json:"injected"`
	} `json:"vigil"`
	Summary *struct {
		Count     int    `json:"count"`
		FirstSeen string `json:"first_seen"`
		LastSeen  string `json:"last_seen"`
	} `json:"summary"`
}

// Decode parses one alert written by AppendJSON (unknown keys are ignored,
// so alerts of a later minor layout decode too). It fails with
// ErrNotAlert when event_type is not "alert" and ErrSchemaVersion when the
// schema_version is newer than SchemaVersion's major.
func Decode(data []byte) (*Alert, error) {
	var e eveJSON
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("alerts: decode: %w", err)
	}
	if e.EventType != "alert" {
		return nil, fmt.Errorf("alerts: decode: event_type %q: %w", e.EventType, ErrNotAlert)
	}
	if e.SchemaVersion > SchemaVersion {
		return nil, fmt.Errorf("alerts: decode: schema_version %d: %w", e.SchemaVersion, ErrSchemaVersion)
	}
	ts, err := parseTime("timestamp", e.Timestamp)
	if err != nil {
		return nil, err
	}
	a := &Alert{
		Timestamp:    ts,
		Sensor:       e.Sensor,
		FlowID:       e.FlowID,
		CommunityID:  e.CommunityID,
		PcapCnt:      e.PcapCnt,
		PcapFilename: e.PcapFilename,
		SrcIP:        e.SrcIP,
		SrcPort:      e.SrcPort,
		DestIP:       e.DestIP,
		DestPort:     e.DestPort,
		Proto:        e.Proto,
		Direction:    e.Direction,
		Action:       e.Alert.Action,
		GID:          e.Alert.GID,
		SID:          e.Alert.SignatureID,
		Rev:          e.Alert.Rev,
		Signature:    e.Alert.Signature,
		Category:     e.Alert.Category,
		Severity:     e.Alert.Severity,
		SeverityWord: e.Vigil.Severity,
		Message:      e.Vigil.Message,
		ID:           e.Vigil.ID,
	}
	if e.Alert.Metadata != nil && len(e.Alert.Metadata.Tags) > 0 {
		a.Tags = e.Alert.Metadata.Tags
	}
	for _, in := range e.Vigil.Injected {
		a.Injected = append(a.Injected, Injected{Direction: in.Direction, Type: in.Type, Seq: in.Seq, Ack: in.Ack})
	}
	if s := e.Summary; s != nil {
		first, err := parseTime("summary.first_seen", s.FirstSeen)
		if err != nil {
			return nil, err
		}
		last, err := parseTime("summary.last_seen", s.LastSeen)
		if err != nil {
			return nil, err
		}
		a.Summary = &Summary{Count: s.Count, FirstSeen: first, LastSeen: last}
	}
	return a, nil
}

func parseTime(key, s string) (time.Time, error) {
	t, err := time.Parse(TimeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("alerts: decode: %s: %w", key, err)
	}
	return t, nil
}
