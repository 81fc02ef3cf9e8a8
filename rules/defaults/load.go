package defaults

import "github.com/vigil-ids/vigil/rules"

// Origin is the Rule.Origin of the built-in rules.
const Origin = "built-in"

// Load loads the rule files and folders at paths (see rules.Load). With
// builtin, or when paths is empty, the built-in set in FS comes first and
// the files at paths are loaded with it, as rules.LoadSources does: they
// may override a built-in rule (override: true) or disable one
// (disable: [sid, ...]); without builtin, paths alone are loaded, as
// Suricata's -S loads its file alone. Errors are a rules.ErrorList with
// every file:line:col problem.
func Load(builtin bool, paths ...string) (*rules.Set, error) {
	var srcs []rules.Source
	if builtin || len(paths) == 0 {
		srcs = append(srcs, rules.Source{FS: FS, Paths: []string{"."}, Origin: Origin})
	}
	if len(paths) > 0 {
		srcs = append(srcs, rules.Source{Paths: paths})
	}
	return rules.LoadSources(srcs...)
}
