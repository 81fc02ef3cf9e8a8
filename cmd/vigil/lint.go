package main

import (
	"context"
	"fmt"
	"github.com/vigil-ids/vigil/engine"
)

func cmdLint(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "lint", "[flags] PATH...",
		"Checks rule files and folders (*.yaml, *.yml) and runs their inline tests.\nEvery problem is printed as file:line:col: message; the exit status is 1 if\nthere is any.")
	noTests := fs.Bool("no-tests", false, "check the rules only; do not run inline tests")
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
