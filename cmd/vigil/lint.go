package main

import (
	"context"
	"fmt"

	"github.com/vigil-ids/vigil/engine"
	"github.com/vigil-ids/vigil/ncf"
	"github.com/vigil-ids/vigil/rules/defaults"
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
	if err := parse(fs, args, 1, -1); err != nil {
		return err
	}
	zone, err := ncf.LoadZone(*tz)
	if err != nil {
		return err
	}
	set, err := defaults.Load(fs.Args()...)
	if err != nil {
		fmt.Fprintln(env.stdout, err)
		return exitError{1}
	}
	if *explain {
		if err := index.WriteExplain(env.stdout, set); err != nil {
			return err
		}
	}
	if _, err := index.WriteWarnings(env.stdout, set); err != nil {
		return err
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
