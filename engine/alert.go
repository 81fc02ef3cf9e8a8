package engine

import (
	"strings"

	"github.com/vigil-ids/vigil/alerts"
	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/rules/field"
)

// newAlert builds the alert of rule r on packet p. Strings are copied: p is
// reused for the next packet.
func newAlert(r *rules.Rule, p *field.Packet, src *Source, flowID uint64) *alerts.Alert {
	a := &alerts.Alert{
		Timestamp:    p.Frame.Time,
		Sensor:       src.cfg.Name,
		FlowID:       flowID,
		PcapCnt:      p.Frame.Number,
		PcapFilename: src.cfg.Filename,
		SrcIP:        strings.Clone(p.SrcIP),
		SrcPort:      p.SrcPort,
		DestIP:       strings.Clone(p.DestIP),
		DestPort:     p.DestPort,
		Proto:        strings.Clone(p.Proto),
		Direction:    p.NCF.Direction,
		Action:       alerts.ActionAllowed,
		GID:          1,
		SID:          r.SID,
		Rev:          r.Rev,
		Signature:    r.Name,
		Category:     r.Category,
		Severity:     r.Severity.EVE(),
		SeverityWord: r.Severity.String(),
		Tags:         r.Tags,
		ID:           alerts.ID(src.e.instance, uint64(src.id), p.Frame.Number, r.SID),
	}
	if r.Message != nil {
		a.Message = r.Message.Render(p)
	}
	return a
}
