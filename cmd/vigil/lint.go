package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/vigil-ids/vigil/offline"
)

// lint is `vigil lint`, and `vigil rules` (name "rules"; args begin with
// --list --no-tests).
func lint(ctx context.Context, env *cliEnv, name string, args []string) error {
	fs := newFlags(env, name, "[flags] [PATH...]",
		"Checks rule files and folders (*.yaml, *.yml), or the built-in rules, and runs\n"+
			"their inline tests. Every problem is printed as file:line:col: message; the\n"+
			"exit status is 1 if there is any. Load errors are all reported at once;\n"+
			"inline tests run only when every file loads. --list prints the loaded rules.")
	cfg := offline.LintConfig{Out: env.stdout}
	fs.BoolVar(&cfg.NoTests, "no-tests", false, "check the rules only; do not run inline tests")
	fs.BoolVar(&cfg.DefaultRules, "default-rules", false, "check the files with the built-in rules, which they may override or disable by sid")
	fs.BoolVar(&cfg.List, "list", false, "print every loaded rule: sid, rev, severity, state, origin (built-in or file:line:col), name")
	fs.BoolVar(&cfg.Explain, "explain", false, "print how the prefilter indexes each enabled rule; unindexed rules run on every packet")
	tz := tzFlag(fs, "time zone of NCF timestamps in test captures")
	if err := parse(fs, args, 0, -1); err != nil {
		return err
	}
	cfg.Paths, cfg.Zone = fs.Args(), tz.Location
	n, tests, err := offline.Lint(ctx, cfg)
	if errors.Is(err, offline.ErrProblems) {
		return exitError{1}
	}
	if err == nil {
		fmt.Fprintf(env.stderr, "%d rules OK, %d inline tests passed\n", n, tests)
	}
	return err
}
