// Package offline runs the engine over capture files, as `vigil test`
// does: alerts as EVE JSON lines in packet order, the frames reset rules
// would inject saved to a capture file, and a per-rule summary. The
// results are those the daemon gives for the same packets.
//
// It wires engine, alerts, capture and rules together and may import
// nothing else of the project; only cmd imports it.
package offline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/vigil-ids/vigil/alerts"
	"github.com/vigil-ids/vigil/capture"
	"github.com/vigil-ids/vigil/engine"
	"github.com/vigil-ids/vigil/rules"
)

// Config configures Run. Rules and Out are required; the zero value of
// every other field is a documented default.
type Config struct {
	// Rules is the rule set to run.
	Rules *rules.Set
	// Files are the captures (.ncf, .pcap or .pcapng, detected by
	// content), run one after the other, each as its own source.
	Files []string
	// Out receives the alerts as EVE JSON lines.
	Out io.Writer
	// EveLog, if not empty, is a file the alerts are also appended to as
	// EVE JSON lines (alerts.File); it may not be one of Files.
	EveLog string
	// SaveInjected, if not empty, is the capture file (format by
	// extension) the frames reset rules would inject are written to.
	SaveInjected string
	// Zone is the zone of NCF timestamps, read and written (default UTC).
	Zone *time.Location
	// Workers is the number of evaluation goroutines (default 1, which
	// keeps the alerts in packet order).
	Workers int
	// Progress, if it is a terminal, shows now and then the records read
	// so far from the current file and the rate, overwriting one line;
	// anything else (nil, a file, a pipe) shows nothing.
	Progress io.Writer
}

// Result is what a run counted.
type Result struct {
	// Stats are the engine's counters over every capture.
	Stats engine.Stats
	// Rules holds one entry per rule, in rule order.
	Rules []engine.RuleStats
	// Files holds one entry per capture run, in the order given.
	Files []FileResult
	// Elapsed is the wall time from the engine's start to the last
	// alert written.
	Elapsed time.Duration
}

// FileResult is what a run read from one capture.
type FileResult struct {
	engine.FileStats
	// Err is why the capture could not be read at all (FileStats.Format
	// is then empty) or was cut short by a read error. It is nil when the
	// capture was read to its end, records skipped or not.
	Err error `json:"-"`
}

// ErrUnreadable is wrapped by the error Run returns when a capture could
// not be read at all, or a read error cut it short; the other captures
// were run all the same.
var ErrUnreadable = errors.New("offline: a capture could not be read")

// Run runs cfg.Rules over cfg.Files. The alerts carry fixed IDs, so the
// output depends only on the rules and the captures.
//
// A record that cannot be read is skipped and counted (Result.Files), and
// its capture read on. A capture that cannot be read at all, or that a
// read error cuts short, does not stop the run either: the others are run,
// and the error returned wraps ErrUnreadable and names each such capture.
// The alerts are written and the injected frames saved either way. Only
// ctx ends the run early. The Result is nil when the run could not start
// (the SaveInjected file or the engine), and counts what ran otherwise.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Workers <= 0 {
		cfg.Workers = 1
	}
	var inj *capture.InjectFile
	if cfg.SaveInjected != "" {
		var err error
		if inj, err = capture.CreateInjectFile(cfg.SaveInjected, cfg.Zone, cfg.Files...); err != nil {
			return nil, err
		}
	}
	out := alerts.NewLineWriter(cfg.Out)
	sink := alerts.Publishers{out}
	var eve *alerts.File
	if cfg.EveLog != "" {
		err := capture.NotInput(cfg.EveLog, cfg.Files...)
		if err == nil {
			eve, err = alerts.OpenFile(cfg.EveLog)
		}
		if err != nil {
			return nil, errors.Join(fmt.Errorf("--eve-log: %w", err), closeInject(inj))
		}
		sink = append(sink, eve)
	}
	e, err := engine.New(engine.Config{Rules: cfg.Rules, Sink: sink, Workers: cfg.Workers, Instance: "test"})
	if err != nil {
		if eve != nil {
			eve.Close()
		}
		return nil, errors.Join(err, closeInject(inj))
	}
	e.Start()
	start := time.Now()
	progress := progressFunc(cfg.Progress)
	var runErr error
	var files []FileResult
	var unreadable []error
	for _, path := range cfg.Files {
		var injector engine.Injector
		if inj != nil {
			injector = inj
		}
		st, err := e.RunFile(ctx, path, cfg.Zone, injector, progress)
		if ctx.Err() != nil {
			runErr = ctx.Err()
			break
		}
		files = append(files, FileResult{FileStats: st, Err: err})
		if err != nil {
			unreadable = append(unreadable, err)
		}
	}
	if runErr == nil && len(unreadable) > 0 {
		runErr = fmt.Errorf("%w: %w", ErrUnreadable, errors.Join(unreadable...))
	}
	if err := e.Stop(context.Background()); err != nil && runErr == nil {
		runErr = err
	}
	if err := out.Flush(); err != nil && runErr == nil {
		runErr = err
	}
	if err := closeInject(inj); err != nil && runErr == nil {
		runErr = err
	}
	if eve != nil {
		if err := eve.Close(); err != nil && runErr == nil {
			runErr = err
		}
	}
	return &Result{Stats: e.Stats(), Rules: e.RuleStats(), Files: files, Elapsed: time.Since(start)}, runErr
}

// progressFunc shows the records read so far when w is a terminal.
func progressFunc(w io.Writer) func(int) {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	start := time.Now()
	return func(n int) {
		fmt.Fprintf(w, "\r%d records, %.0f records/s ", n, float64(n)/time.Since(start).Seconds())
	}
}

func closeInject(inj *capture.InjectFile) error {
	if inj == nil {
		return nil
	}
	return inj.Close()
}

// SummaryOptions say what WriteSummary writes.
type SummaryOptions struct {
	// Profile lists every rule, the slowest first, instead of only the
	// rules that matched or failed, in rule order.
	Profile bool
	// Quiet writes only the lines of the captures: no rule table and no
	// totals.
	Quiet bool
}

// WriteSummary writes the run's summary to w. First, one line for each
// capture that could not be read, or was cut short, with the error, and
// one for each capture with records skipped: how many, and per reason the
// count and where the first one is (its record number and byte offset in
// the file); captures read cleanly get no line. Then, unless opt.Quiet,
// the per-rule table, right-aligned: sid, matches, alerts, evaluations
// and the share of packets they are (how much traffic the prefilter
// leaves the rule to evaluate), errors, time and nanoseconds per
// evaluation, then the rule name (see
// SummaryOptions.Profile for which rules); a last line gives the totals
// and the packet rate. When no capture could be read at all, only their
// lines are written: a table of nothing would bury the errors. The error
// is w's.
func (r *Result) WriteSummary(w io.Writer, opt SummaryOptions) error {
	if err := r.writeFiles(w); err != nil || opt.Quiet || r.noneRead() {
		return err
	}
	profile := opt.Profile
	rs := r.Rules
	if profile {
		rs = slices.Clone(rs)
		slices.SortStableFunc(rs, func(a, b engine.RuleStats) int { return cmp.Compare(b.Time, a.Time) })
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "SID\tMATCHES\tALERTS\tEVALUATIONS\tEVALUATED\tERRORS\tTIME\tNS/EVAL\t NAME")
	for _, s := range rs {
		if !profile && s.Matches == 0 && s.Errors == 0 {
			continue
		}
		per := 0.0
		if s.Evaluations > 0 {
			per = float64(s.Time.Nanoseconds()) / float64(s.Evaluations)
		}
		share := 0.0
		if r.Stats.Packets > 0 {
			share = 100 * float64(s.Evaluations) / float64(r.Stats.Packets)
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%.2f%%\t%d\t%s\t%.0f\t %s\n", s.SID, s.Matches, s.Alerts, s.Evaluations, share, s.Errors, s.Time.Round(time.Microsecond), per, s.Name)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	st := r.Stats
	rate := float64(st.Packets) / r.Elapsed.Seconds()
	var more string
	if st.Skipped > 0 {
		more += fmt.Sprintf(", %d records skipped", st.Skipped)
	}
	if st.Compressed > 0 {
		more += fmt.Sprintf(", %d compressed records not decoded", st.Compressed)
	}
	_, err := fmt.Fprintf(w, "%d packets, %d alerts, %d decode errors, %d rule errors%s, %d rules, %s (%.0f packets/s)\n",
		st.Packets, st.Alerts, st.DecodeErrors, st.RuleErrors, more, len(rs), r.Elapsed.Round(time.Millisecond), rate)
	return err
}

// noneRead reports whether there were captures and none could be read at
// all.
func (r *Result) noneRead() bool {
	for _, f := range r.Files {
		if f.Err == nil || f.Format != "" {
			return false
		}
	}
	return len(r.Files) > 0
}

// writeFiles writes the lines of the captures that could not be read or
// had records skipped (see WriteSummary).
func (r *Result) writeFiles(w io.Writer) error {
	for _, f := range r.Files {
		name := f.Path
		switch {
		case f.Err != nil && f.Format == "":
			if _, err := fmt.Fprintf(w, "%s: not read: %v\n", name, f.Err); err != nil {
				return err
			}
			continue
		case f.Err != nil:
			if _, err := fmt.Fprintf(w, "%s: cut short after %d records: %v\n", name, f.Packets+f.Skipped, f.Err); err != nil {
				return err
			}
		}
		if f.Skipped == 0 {
			continue
		}
		reasons := slices.Sorted(maps.Keys(f.SkippedBy))
		parts := make([]string, len(reasons))
		for i, reason := range reasons {
			s := f.SkippedBy[reason]
			parts[i] = fmt.Sprintf("%d %s (first: record %d at byte %d)", s.Count, reason, s.FirstRecord, s.FirstOffset)
		}
		if _, err := fmt.Fprintf(w, "%s: %d of %d records skipped: %s\n", name, f.Skipped, f.Packets+f.Skipped, strings.Join(parts, "; ")); err != nil {
			return err
		}
	}
	return nil
}
