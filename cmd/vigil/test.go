package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/vigil-ids/vigil/alerts"
	"github.com/vigil-ids/vigil/capture"
	"github.com/vigil-ids/vigil/engine"
	"github.com/vigil-ids/vigil/ncf"
	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/rules/defaults"
)

// pathList is a repeatable flag.
type pathList []string

func (p *pathList) String() string     { return strings.Join(*p, ",") }
func (p *pathList) Set(s string) error { *p = append(*p, s); return nil }

func cmdTest(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "test", "--rules PATH [flags] CAPTURE...",
		"Runs the engine over capture files (.ncf, .pcap or .pcapng, detected by\ncontent) and prints alerts as EVE JSON lines on stdout, in packet order, and a\nper-rule summary on stderr. The results are those `vigil run` gives for the\nsame packets.")
	var rulePaths pathList
	fs.Var(&rulePaths, "rules", "rule file or folder (repeatable; default: the built-in rule set)")
	save := fs.String("save-injected", "", "write the frames reset rules would inject to this capture file (.pcap, .pcapng or .ncf)")
	tz := fs.String("tz", "UTC", "time zone of NCF timestamps (IANA name)")
	workers := fs.Int("workers", 1, "evaluation goroutines (1 keeps the output in packet order)")
	profile := fs.Bool("profile", false, "print per-rule cost (evaluations, matches, time) sorted by time")
	quiet := fs.Bool("quiet", false, "no per-rule summary")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errUsage
	}
	zone, err := loadZone(*tz)
	if err != nil {
		return err
	}
	set, err := loadRules(rulePaths)
	if err != nil {
		printRuleErrors(env.stderr, err)
		return exitError{1}
	}
	out := bufio.NewWriterSize(env.stdout, 64<<10)
	sink := &jsonSink{w: out}
	var inj *fileInjector
	if *save != "" {
		w, err := capture.Create(*save, zone)
		if err != nil {
			return err
		}
		inj = &fileInjector{w: w}
	}
	e, err := engine.New(engine.Config{Rules: set, Sink: sink, Workers: *workers, Instance: "test"})
	if err != nil {
		return err
	}
	e.Start()
	start := time.Now()
	progress := progressFunc(env.stderr)
	var runErr error
	for _, path := range fs.Args() {
		var injector engine.Injector
		if inj != nil {
			injector = inj
		}
		if _, err := e.RunFile(ctx, path, zone, injector, progress); err != nil {
			runErr = err
			break
		}
	}
	if err := e.Stop(context.Background()); err != nil && runErr == nil {
		runErr = err
	}
	if err := sink.flush(); err != nil && runErr == nil {
		runErr = err
	}
	if inj != nil {
		if err := inj.close(); err != nil && runErr == nil {
			runErr = err
		}
	}
	if !*quiet {
		printSummary(env.stderr, e, time.Since(start), *profile)
	}
	return runErr
}

// loadRules loads the rule paths, or the built-in set when there are none.
func loadRules(paths []string) (*rules.Set, error) {
	if len(paths) == 0 {
		return rules.LoadFS(defaults.FS, ".")
	}
	return rules.Load(paths...)
}

// printRuleErrors prints a rule loading error, one file:line:col per line.
func printRuleErrors(w io.Writer, err error) {
	if list, ok := err.(rules.ErrorList); ok {
		for _, e := range list {
			fmt.Fprintln(w, e)
		}
		return
	}
	fmt.Fprintln(w, err)
}

// jsonSink writes alerts as JSON lines.
type jsonSink struct {
	mu  sync.Mutex
	w   *bufio.Writer
	buf []byte
	err error
}

func (s *jsonSink) Publish(a *alerts.Alert) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = a.AppendJSON(s.buf[:0])
	s.buf = append(s.buf, '\n')
	if _, err := s.w.Write(s.buf); err != nil && s.err == nil {
		s.err = err
	}
}

func (s *jsonSink) flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.w.Flush(); err != nil {
		return err
	}
	return s.err
}

// fileInjector writes would-be injected frames to a capture file.
type fileInjector struct {
	mu  sync.Mutex
	w   capture.Writer
	err error
}

func (f *fileInjector) Inject(frame []byte, at time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	rec := ncf.Record{Header: ncf.Header{Time: at, WireLen: len(frame), Medium: ncf.Ethernet, Direction: ncf.Out}, Data: frame}
	if err := f.w.Write(&rec); err != nil {
		if f.err == nil {
			f.err = err
		}
		return false
	}
	return true
}

func (f *fileInjector) close() error {
	err := f.w.Close()
	if f.err != nil {
		return f.err
	}
	return err
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

// printSummary prints the per-rule table of a run.
func printSummary(w io.Writer, e *engine.Engine, elapsed time.Duration, profile bool) {
	st := e.Stats()
	rs := e.RuleStats()
	if profile {
		sortByTime(rs)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "SID\tMATCHES\tALERTS\tEVALUATIONS\tERRORS\tTIME\tNS/EVAL\t NAME")
	for _, r := range rs {
		if !profile && r.Matches == 0 && r.Errors == 0 {
			continue
		}
		per := 0.0
		if r.Evaluations > 0 {
			per = float64(r.Time.Nanoseconds()) / float64(r.Evaluations)
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%s\t%.0f\t %s\n", r.SID, r.Matches, r.Alerts, r.Evaluations, r.Errors, r.Time.Round(time.Microsecond), per, r.Name)
	}
	tw.Flush()
	rate := float64(st.Packets) / elapsed.Seconds()
	fmt.Fprintf(w, "%d packets, %d alerts, %d decode errors, %d rule errors, %d rules, %s (%.0f packets/s)\n",
		st.Packets, st.Alerts, st.DecodeErrors, st.RuleErrors, len(rs), elapsed.Round(time.Millisecond), rate)
}

func sortByTime(rs []engine.RuleStats) {
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && rs[j].Time > rs[j-1].Time; j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
}

func loadZone(name string) (*time.Location, error) {
	if name == "" || name == "UTC" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", name, err)
	}
	return loc, nil
}
