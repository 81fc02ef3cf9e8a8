package offline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/vigil-ids/vigil/engine"
	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/rules/defaults"
	"github.com/vigil-ids/vigil/rules/index"
)

// LintConfig configures Lint.
type LintConfig struct {
	// Paths are the rule files and folders to check; none means the
	// built-in set.
	Paths []string
	// DefaultRules loads the built-in rules with Paths (defaults.Load).
	DefaultRules bool
	// List writes the loaded rules to Out (rules.WriteList) before
	// anything else.
	List bool
	// Explain writes how the prefilter indexes each enabled rule
	// (index.WriteExplain) to Out.
	Explain bool
	// NoTests skips the inline tests.
	NoTests bool
	// Zone is the zone of NCF timestamps in test captures (default UTC).
	Zone *time.Location
	// Out receives every problem as file:line:col: message, one a line,
	// the list and the explanation.
	Out io.Writer
}

// ErrProblems is returned by Lint when it wrote at least one problem.
var ErrProblems = errors.New("offline: lint found problems")

// Lint is `vigil lint`: load errors first (inline tests need a set that
// loads, so they do not run when any rule file has an error), then, with
// List, the rules; with Explain, how the prefilter indexes each enabled
// rule; unless List, a warning for each rule evaluated on every packet
// (index.WriteWarnings; warnings are not problems); then the inline
// tests. It returns the number of rules and of inline tests run, and
// ErrProblems when it wrote any problem to Out.
func Lint(ctx context.Context, cfg LintConfig) (n, tests int, err error) {
	set, err := defaults.Load(cfg.DefaultRules, cfg.Paths...)
	if err != nil {
		fmt.Fprintln(cfg.Out, err)
		return 0, 0, ErrProblems
	}
	if cfg.List {
		if err := rules.WriteList(cfg.Out, set); err != nil {
			return 0, 0, err
		}
	}
	if cfg.Explain {
		if err := index.WriteExplain(cfg.Out, set); err != nil {
			return 0, 0, err
		}
	}
	if !cfg.List { // a listing stays a table a script can read
		if _, err := index.WriteWarnings(cfg.Out, set); err != nil {
			return 0, 0, err
		}
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
