package engine

import (
	"time"

	"github.com/vigil-ids/vigil/alerts"
)

// tick emits the de-duplication summaries of windows that ended by packet
// time now; a source calls it when its matches up to now are released,
// and it works at most once a second of packet time.
func (s *sharedState) tick(e *Engine, now time.Time) {
	s.mu.Lock()
	if now.Sub(s.lastExpire) < time.Second {
		s.mu.Unlock()
		return
	}
	s.lastExpire = now
	s.summaries = s.dedup.Expired(now, s.summaries[:0])
	out := s.summaryAlerts()
	s.mu.Unlock()
	emitAll(e, out)
}

// flush emits every pending summary, at the end of a run.
func (s *sharedState) flush(e *Engine) {
	s.mu.Lock()
	s.summaries = s.dedup.Flush(s.summaries[:0])
	out := s.summaryAlerts()
	s.mu.Unlock()
	emitAll(e, out)
}

func emitAll(e *Engine, list []*alerts.Alert) {
	for _, a := range list {
		e.alertCount.Add(1)
		e.cfg.Sink.Publish(a)
	}
}

// summaryAlerts turns s.summaries into alerts, each a copy of its window's
// first alert (kept by the Deduper) carrying the summary. s.mu is held.
func (s *sharedState) summaryAlerts() []*alerts.Alert {
	var out []*alerts.Alert
	for _, sum := range s.summaries {
		first, ok := sum.Data.(*alerts.Alert)
		if !ok {
			continue
		}
		a := *first
		a.Summary = &alerts.Summary{Count: sum.Count, FirstSeen: sum.FirstSeen, LastSeen: sum.LastSeen}
		a.Timestamp = sum.LastSeen
		a.ID = alerts.SummaryID(first.ID)
		a.Injected = nil
		out = append(out, &a)
	}
	clear(s.summaries) // drop the references to the first alerts
	return out
}
