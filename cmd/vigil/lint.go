package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/vigil-ids/vigil/engine"
	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/rules/index"
)

// cmdLint is `vigil lint`: load errors first (inline tests need a set that
// loads, so they do not run when any rule file has an error), then, with
// --explain, how the prefilter indexes each enabled rule, then the inline
// tests. Every problem goes to stdout as file:line:col: message.
func cmdLint(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "lint", "[flags] PATH...",
		"Checks rule files and folders (*.yaml, *.yml) and runs their inline tests.\n"+
			"Every problem is printed as file:line:col: message; the exit status is 1 if\n"+
			"there is any. Load errors are all reported at once; inline tests run only\n"+
			"when every file loads.")
	noTests := fs.Bool("no-tests", false, "check the rules only; do not run inline tests")
	explain := fs.Bool("explain", false, "print how the prefilter indexes each enabled rule; unindexed rules run on every packet")
	tz := fs.String("tz", "UTC", "time zone of NCF timestamps in test captures")
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
	set, err := loadRules(fs.Args())
	if err != nil {
		printRuleErrors(env.stdout, err)
		return exitError{1}
	}
	if *explain {
		if err := printExplain(env.stdout, set); err != nil {
			return err
		}
	}
	tests := 0
	if !*noTests {
		for _, r := range set.Rules {
			tests += len(r.Tests)
		}
		if failed := engine.RunInlineTests(ctx, set, zone); len(failed) > 0 {
			for _, e := range failed {
				fmt.Fprintln(env.stdout, e)
			}
			return exitError{1}
		}
	}
	fmt.Fprintf(env.stderr, "%d rules OK, %d inline tests passed\n", len(set.Rules), tests)
	return nil
}

// printExplain writes one line per enabled rule of set, in evaluation
// order: its sid, where it is written, and the keys the prefilter files it
// under or why it has none; then a count. The index is built exactly as the
// engine builds it, from the enabled rules only.
func printExplain(w io.Writer, set *rules.Set) error {
	var active []*rules.Rule
	for _, r := range set.Rules {
		if r.Enabled {
			active = append(active, r)
		}
	}
	indexed := 0
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SID\tRULE\tPREFILTER")
	for _, e := range index.Build(active).Explain() {
		if e.Pos < 0 || e.Pos >= len(active) {
			return fmt.Errorf("lint: explanation for rule %d of %d", e.Pos, len(active))
		}
		key := e.Keys
		if e.Indexed {
			indexed++
		} else {
			key = "unindexed: " + e.Why
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\n", e.SID, active[e.Pos].Pos, key)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("lint: %w", err)
	}
	fmt.Fprintf(w, "%d rules: %d indexed, %d unindexed (evaluated on every packet)", len(active), indexed, len(active)-indexed)
	if n := len(set.Rules) - len(active); n > 0 {
		fmt.Fprintf(w, ", %d disabled", n)
	}
	_, err := fmt.Fprintln(w)
	return err
}
