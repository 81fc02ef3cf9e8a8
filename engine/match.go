package engine

import (
	"github.com/vigil-ids/vigil/alerts"
	"github.com/vigil-ids/vigil/engine/flow"
	"github.com/vigil-ids/vigil/engine/respond"
	"github.com/vigil-ids/vigil/engine/threshold"
	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/rules/field"
)

// onMatch handles a match of r on p in the worker: it applies flowbits
// (the flow's next packet must see them) and global suppression, then
// queues the match, with what the stateful stage will need from the packet,
// on b for release in packet order.
func (w *worker) onMatch(r *rules.Rule, pos int, rs *ruleState, p *field.Packet, b *batch, c *ruleCounter) {
	sw := w.state
	if r.FlowbitsSet|r.FlowbitsUnset|r.FlowbitsToggle != 0 {
		sw.flows.SetBits(sw.flowID, uint64(r.FlowbitsSet), uint64(r.FlowbitsUnset), uint64(r.FlowbitsToggle))
	}
	if rs.suppressed(r.SID, p) {
		w.e.shared.mu.Lock()
		w.e.shared.suppressed++
		w.e.shared.mu.Unlock()
		return
	}
	m := match{frame: p.Frame.Number, pos: pos, rule: r, counter: c, at: p.Frame.Time}
	if t := r.Threshold; t != nil {
		m.thKey = threshold.KeyFor(t.Track, p, sw.flowID)
		if t.DistinctName != "" {
			m.distinct = distinctValue(t.Distinct, p)
		}
	}
	m.alert = newAlert(r, p, b.src, sw.flowID, sw.flows.App(sw.flowID))
	m.alert.CommunityID = flow.CommunityID(p, 0)
	if r.Dedup != nil {
		m.ddKey = threshold.KeyFor(r.Dedup.Track, p, sw.flowID)
	}
	if w.e.encoded != nil && !r.Reset && r.Threshold == nil && r.Dedup == nil {
		// The release changes the alerts of reset rules, and drops most
		// matches of rules with a threshold or dedup: those alerts are
		// encoded at release, the few that go out.
		m.json = m.alert.AppendJSON(make([]byte, 0, alertJSONSize))
	}
	if r.Reset {
		m.frames, m.buildErr = respond.Build(p, r.Response.Target, r.Response.Strafe)
		// Remember now, not at release: the sensor may mirror the frames
		// back into the flow's next batch before this match is released.
		// Frames the caps then hold back are remembered too, harmlessly:
		// a copy of them on the wire would be ours or a forgery of ours.
		w.e.shared.guard.Remember(m.frames, p.Frame.Time)
		m.flowKey = flow.Hash(p)
		m.src, m.dst = p.Meta.Src, p.Meta.Dst
	}
	b.matches = append(b.matches, m)
}

// release turns a match into an alert, in packet order: thresholds,
// de-duplication, then the response and the alert itself.
func (e *Engine) release(m *match, src *Source) {
	sh := e.shared
	var ended []*alerts.Alert
	sh.mu.Lock()
	if t := m.rule.Threshold; t != nil && !sh.tracker.Allow(m.rule.SID, t, m.thKey, m.distinct, m.at) {
		sh.mu.Unlock()
		return
	}
	if d := m.rule.Dedup; d != nil {
		if !sh.dedup.Observe(m.rule.SID, m.ddKey, m.at, d.Window, m.alert) {
			sh.mu.Unlock()
			return
		}
		// A window of this key may have just ended: its summary goes out
		// before the new window's first alert.
		sh.summaries = sh.dedup.Expired(m.at, sh.summaries[:0])
		ended = sh.summaryAlerts()
	}
	sh.mu.Unlock()
	emitAll(e, ended)
	if m.rule.Reset {
		e.respond(m, src)
	}
	m.counter.alerts.Add(1)
	e.alertCount.Add(1)
	if m.json != nil {
		e.encoded.PublishEncoded(m.alert, m.json)
		return
	}
	e.cfg.Sink.Publish(m.alert)
}

// alertJSONSize is the capacity given to an alert's EVE JSON, which
// holds most alerts without growing.
const alertJSONSize = 1024

// respond injects the frames of a reset rule's match, within the caps,
// and records them in the alert.
func (e *Engine) respond(m *match, src *Source) {
	sh := e.shared
	if m.buildErr != nil {
		sh.limiter.RecordSuppressed("not answerable")
		return
	}
	if ok, _ := sh.limiter.Allow(m.flowKey, m.src, m.dst, m.at); !ok {
		return
	}
	sent, failed := 0, 0
	a := m.alert
	for _, f := range m.frames {
		if src.cfg.Injector.Inject(f.Data, m.at) {
			sent++
			a.Injected = append(a.Injected, alerts.Injected{Direction: f.Dir, Type: f.Kind, Seq: f.Seq, Ack: f.Ack})
		} else {
			failed++
		}
	}
	sh.limiter.RecordSent(sent)
	sh.limiter.RecordFailed(failed)
	if sent > 0 {
		a.Action = alerts.ActionBlocked
	}
}
