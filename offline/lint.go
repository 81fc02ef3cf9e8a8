package offline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/vigil-ids/vigil/engine"
	"github.com/vigil-ids/vigil/rules/defaults"
	"github.com/vigil-ids/vigil/rules/index"
)

// LintConfig configures Lint.
type LintConfig struct {
	// Paths are the rule files and folders to check.
	Paths []string
	// Explain writes how the prefilter indexes each enabled rule
	// (index.WriteExplain) to Out.
	Explain bool
	// NoTests skips the inline tests.
	NoTests bool
	// Zone is the zone of NCF timestamps in test captures (default UTC).
	Zone *time.Location
	// Out receives every problem as file:line:col: message, one a line,
	// and the explanation.
	Out io.Writer
}

// ErrProblems is returned by Lint when it wrote at least one problem.
var ErrProblems = errors.New("offline: lint found problems")

// Lint is `vigil lint`: load errors first (inline tests need a set that
// loads, so they do not run when any rule file has an error), then, with
// Explain, how the prefilter indexes each enabled rule, then the inline
// tests. It returns the number of rules and of inline tests run, and
// ErrProblems when it wrote any problem to Out.
func Lint(ctx context.Context, cfg LintConfig) (rules, tests int, err error) {
	set, err := defaults.Load(cfg.Paths...)
	if err != nil {
		fmt.Fprintln(cfg.Out, err)
		return 0, 0, ErrProblems
	}
	if cfg.Explain {
		if err := index.WriteExplain(cfg.Out, set); err != nil {
			return 0, 0, err
		}
	}
	if _, err := index.WriteWarnings(cfg.Out, set); err != nil {
		return 0, 0, err
	}
	if !cfg.NoTests {
		for _, r := range set.Rules {
			tests += len(r.Tests)
		}
		if failed := engine.RunInlineTests(ctx, set, cfg.Zone); len(failed) > 0 {
			for _, e := range failed {
				fmt.Fprintln(cfg.Out, e)
			}
			return len(set.Rules), tests, ErrProblems
		}
	}
	return len(set.Rules), tests, nil
}
