package defaults

import "github.com/vigil-ids/vigil/rules"

// Load loads the rule files and folders at paths (see rules.Load), or the
// built-in set in FS when paths is empty. Errors are those of rules.Load
// and rules.LoadFS: a rules.ErrorList with every file:line:col problem.
func Load(paths ...string) (*rules.Set, error) {
	if len(paths) == 0 {
		return rules.LoadFS(FS, ".")
	}
	return rules.Load(paths...)
}
