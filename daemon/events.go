package daemon

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/vigil-ids/vigil/alerts"
	"github.com/vigil-ids/vigil/cluster"
	"github.com/vigil-ids/vigil/engine"
	"github.com/vigil-ids/vigil/engine/sensor"
	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/rules/defaults"
)

// Subjects of the Daemon's operational messages, published as core NATS
// messages (never spooled) next to the alerts.
const (
	// StatsSubject carries a Stats every Config.StatsInterval.
	StatsSubject = "vigil.stats"
	// ReloadSubject carries a ReloadEvent after every reload attempt.
	ReloadSubject = "vigil.event.reload"
)

// ReloadEvent is the JSON message published on ReloadSubject. A reload
// compiles the rule paths of the Config again off the hot path; a set
// with errors is refused and the running one stays.
type ReloadEvent struct {
	// Time is when the reload was asked for (UTC).
	Time time.Time `json:"time"`
	// OK says the new set runs; Rules is then its number of rules.
	OK    bool `json:"ok"`
	Rules int  `json:"rules"`
	// Added, Removed and Changed list the sids that came, went, or
	// changed rev, condition, name or enabled state (OK only).
	Added   []int `json:"added,omitempty"`
	Removed []int `json:"removed,omitempty"`
	Changed []int `json:"changed,omitempty"`
	// Errors are why the set was refused, one file:line:col: message each.
	Errors []string `json:"errors,omitempty"`
}

// Stats is the JSON message published on StatsSubject, and what the
// Prometheus metrics are taken from: cumulative counters since New.
type Stats struct {
	Time      time.Time             `json:"time"` // when taken (UTC)
	Engine    engine.Stats          `json:"engine"`
	Sensors   sensor.Stats          `json:"sensors"`
	Publisher alerts.PublisherStats `json:"publisher"`
	Rules     []engine.RuleStats    `json:"rules"`
	// Reload is the report of the last reload; nil before the first.
	Reload *ReloadEvent `json:"reload,omitempty"`
	// Ingest and Evaluator are the cluster role's counters, for
	// --role ingest and evaluate.
	Ingest    *cluster.IngestStats    `json:"ingest,omitempty"`
	Evaluator *cluster.EvaluatorStats `json:"evaluator,omitempty"`
}

// Counters returns the packets evaluated and the alerts raised: the
// samples of the console's plots (ui.Stats).
func (s Stats) Counters() (packets, alerts uint64) { return s.Engine.Packets, s.Engine.Alerts }

// reload loads the rules again and swaps them in, then publishes the
// outcome.
func (d *Daemon) reload() {
	ev := ReloadEvent{Time: time.Now().UTC()}
	set, err := defaults.Load(d.cfg.DefaultRules, d.cfg.Rules...)
	if err != nil {
		ev.Errors = errorStrings(err)
		d.log.Error("rule reload refused; the previous rules keep running", "errors", len(ev.Errors))
		for _, e := range ev.Errors {
			d.log.Error("rule error", "error", e)
		}
	} else if old, rerr := d.eng.Reload(set); rerr != nil {
		ev.Errors = []string{rerr.Error()}
		d.log.Error("rule reload refused; the previous rules keep running", "err", rerr)
	} else {
		ev.OK = true
		ev.Added, ev.Removed, ev.Changed = diffRules(old, set)
		ev.Rules = len(set.Rules)
		d.log.Info("rules reloaded", "rules", ev.Rules, "added", len(ev.Added), "removed", len(ev.Removed), "changed", len(ev.Changed))
	}
	d.mu.Lock()
	d.lastReload = &ev
	d.mu.Unlock()
	data, _ := json.Marshal(ev)
	d.pub.PublishEvent(ReloadSubject, data)
	if d.eve != nil {
		if err := d.eve.Reopen(); err != nil {
			d.log.Error("EVE log not reopened; alerts go on to the old file", "path", d.cfg.EveLog, "err", err)
		}
	}
}

func errorStrings(err error) []string {
	var list rules.ErrorList
	if errors.As(err, &list) {
		out := make([]string, len(list))
		for i, e := range list {
			out[i] = e.Error()
		}
		return out
	}
	return []string{err.Error()}
}

// diffRules lists the sids added, removed and changed (rev, condition or
// display filter, name or enabled state) between two sets.
func diffRules(old, cur *rules.Set) (added, removed, changed []int) {
	for _, r := range cur.Rules {
		o := old.BySID(r.SID)
		switch {
		case o == nil:
			added = append(added, r.SID)
		case o.Rev != r.Rev || o.Condition != r.Condition || o.Wireshark != r.Wireshark || o.Name != r.Name || o.Enabled != r.Enabled:
			changed = append(changed, r.SID)
		}
	}
	for _, r := range old.Rules {
		if cur.BySID(r.SID) == nil {
			removed = append(removed, r.SID)
		}
	}
	return added, removed, changed
}

// Stats returns a snapshot of the counters, as published on StatsSubject.
func (d *Daemon) Stats() Stats {
	d.mu.Lock()
	reload := d.lastReload
	d.mu.Unlock()
	st := Stats{
		Time: time.Now().UTC(), Engine: d.eng.Stats(), Sensors: d.sensors.Stats(),
		Publisher: d.pub.Stats(), Rules: d.eng.RuleStats(), Reload: reload,
	}
	if d.ingest != nil {
		in := d.ingest.Stats()
		st.Ingest = &in
	}
	if d.eval != nil {
		ev := d.eval.Stats()
		st.Evaluator = &ev
	}
	return st
}

// publishStats publishes a snapshot on StatsSubject and gives it to the
// console's plots.
func (d *Daemon) publishStats() {
	st := d.Stats()
	if d.ui != nil {
		d.ui.Sample(st)
	}
	data, err := json.Marshal(st)
	if err != nil {
		d.log.Error("encoding stats", "err", err)
		return
	}
	d.pub.PublishEvent(StatsSubject, data)
}
