package alerts

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Decode parses one alert written by AppendJSON, through eveRecord
// (unknown keys are ignored, so alerts of a later minor layout decode
// too). It fails with ErrNotAlert when event_type is neither EventAlert
// nor EventSummary and
// ErrSchemaVersion when the schema_version is newer than SchemaVersion's
// major.
func Decode(data []byte) (*Alert, error) {
	var e eveRecord
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("alerts: decode: %w", err)
	}
	if e.EventType != EventAlert && e.EventType != EventSummary {
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
		NCFDirection: e.Vigil.NCFDirection,
		AppProto:     e.AppProto,
		HTTP:         e.HTTP,
		TLS:          e.TLS,
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
		ARP:          e.Vigil.ARP,
	}
	if e.Alert.Metadata != nil && len(e.Alert.Metadata.Tags) > 0 {
		a.Tags = e.Alert.Metadata.Tags
	}
	if t := e.Tunnel; t != nil {
		a.Tunnel = &Tunnel{SrcIP: t.SrcIP, DestIP: t.DestIP, SrcPort: t.SrcPort, DestPort: t.DestPort,
			Proto: t.Proto, Depth: t.Depth, PcapCnt: t.PcapCnt}
	}
	if f := e.Flow; f != nil {
		start, err := parseTime("flow.start", f.Start)
		if err != nil {
			return nil, err
		}
		a.Flow = &Flow{PktsToServer: f.PktsToServer, PktsToClient: f.PktsToClient, BytesToServer: f.BytesToServer,
			BytesToClient: f.BytesToClient, Start: start, SrcIP: f.SrcIP, DestIP: f.DestIP, SrcPort: f.SrcPort, DestPort: f.DestPort}
	}
	if d := e.DNS; d != nil && len(d.Query) > 0 {
		q := d.Query[0]
		a.DNS = &DNS{ID: q.ID, RRName: q.RRName, RRType: q.RRType, Opcode: q.Opcode}
	} else if d != nil && d.Answer != nil {
		r := d.Answer
		flags, err := strconv.ParseUint(r.Flags, 16, 16)
		if err != nil {
			return nil, fmt.Errorf("alerts: decode: dns.answer.flags: %w", err)
		}
		a.DNS = &DNS{Response: true, ID: r.ID, RRName: r.RRName, RRType: r.RRType, Opcode: r.Opcode, Flags: uint16(flags), Rcode: r.Rcode}
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
