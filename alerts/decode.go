package alerts

import (
	"encoding/json"
	"fmt"
	"time"
)

// Decode parses one alert written by AppendJSON, through eveRecord
// (unknown keys are ignored, so alerts of a later minor layout decode
// too). It fails with ErrNotAlert when event_type is not "alert" and
// ErrSchemaVersion when the schema_version is newer than SchemaVersion's
// major.
func Decode(data []byte) (*Alert, error) {
	var e eveRecord
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
		Injected:     e.Vigil.Injected,
	}
	if e.Alert.Metadata != nil && len(e.Alert.Metadata.Tags) > 0 {
		a.Tags = e.Alert.Metadata.Tags
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
