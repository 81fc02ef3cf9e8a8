package rules

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load reads and compiles rule files. Each path is a file, or a folder
// whose *.yaml and *.yml files are loaded recursively in sorted order.
// Inline test captures must exist.
// Lists, macros, sids and flowbits are shared by all the files of one
// call. On any problem Load returns a nil Set and an [ErrorList] holding
// every error of every file, sorted by file, line and column.
func Load(paths ...string) (*Set, error) {
	return LoadSources(Source{Paths: paths})
}

// LoadFS is Load over a file system, for embedded rule sets. Inline test
// captures are resolved as paths relative to the rule file (path.Join, so
// they may begin with ".." and lie outside fsys); their existence is not
// checked.
func LoadFS(fsys fs.FS, paths ...string) (*Set, error) {
	return LoadSources(Source{FS: fsys, Paths: paths})
}

// Source is one group of rule files for LoadSources.
type Source struct {
	// FS holds Paths, read as LoadFS reads them; nil means the operating
	// system's files, read as Load reads them.
	FS fs.FS
	// Paths are files and folders, as for Load.
	Paths []string
	// Origin, when set, is the Rule.Origin of every rule of these files
	// ("built-in", say).
	Origin string
}

// LoadSources is Load over several sources, in order, as one set: lists,
// macros, sids and flowbits are shared; a rule with override: true
// replaces the rule of its sid loaded before it (a built-in rule, say)
// in place; a file's disable list disables rules of any source by sid.
func LoadSources(srcs ...Source) (*Set, error) {
	e := &errs{}
	var specs []*fileSpec
	for _, src := range srcs {
		var f files = osFiles{}
		if src.FS != nil {
			f = fsFiles{src.FS}
		}
		specs = append(specs, readFiles(f, src.Paths, src.Origin, e)...)
	}
	return build(specs, e)
}

// Parse compiles one rule file held in memory; name is used in errors and
// to resolve inline test captures (relative to name's folder). Unlike
// Load, Parse does not check that the captures exist.
func Parse(name string, data []byte) (*Set, error) {
	e := &errs{}
	f := &fileSpec{name: name, dir: filepath.Dir(name), join: joinOS}
	parseFile(f, data, e)
	return build([]*fileSpec{f}, e)
}

// files abstracts the operating system and an fs.FS.
type files interface {
	// list returns the rule files under p (p itself if it is a file).
	list(p string) ([]string, error)
	read(p string) ([]byte, error)
	dir(p string) string
	join(dir, p string) string
	exists(p string) bool
}

func isRuleFile(name string) bool {
	return strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")
}

type osFiles struct{}

func (osFiles) list(p string) ([]string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{p}, nil
	}
	var out []string
	err = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && isRuleFile(d.Name()) {
			out = append(out, q)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

func (osFiles) read(p string) ([]byte, error) { return os.ReadFile(p) }
func (osFiles) dir(p string) string           { return filepath.Dir(p) }
func (osFiles) join(dir, p string) string     { return joinOS(dir, p) }
func (osFiles) exists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func joinOS(dir, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(dir, p)
}

type fsFiles struct{ fsys fs.FS }

func (f fsFiles) list(p string) ([]string, error) {
	st, err := fs.Stat(f.fsys, p)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{p}, nil
	}
	var out []string
	err = fs.WalkDir(f.fsys, p, func(q string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && isRuleFile(d.Name()) {
			out = append(out, q)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

func (f fsFiles) read(p string) ([]byte, error) { return fs.ReadFile(f.fsys, p) }
func (fsFiles) dir(p string) string             { return path.Dir(p) }
func (fsFiles) join(dir, p string) string       { return path.Join(dir, p) }

// exists does not look: an embedded rule set's inline tests usually name
// captures outside the fs.FS.
func (fsFiles) exists(string) bool { return true }

// readFiles reads and decodes the rule files at paths, once each.
func readFiles(src files, paths []string, origin string, e *errs) []*fileSpec {
	var specs []*fileSpec
	seen := map[string]bool{}
	for _, p := range paths {
		names, err := src.list(p)
		if err != nil {
			e.add(Position{File: p}, "%v", unwrapPath(err))
			continue
		}
		if len(names) == 0 {
			e.add(Position{File: p}, "no rule files (*.yaml, *.yml) in folder")
		}
		for _, name := range names {
			if seen[name] {
				continue
			}
			seen[name] = true
			data, err := src.read(name)
			if err != nil {
				e.add(Position{File: name}, "%v", unwrapPath(err))
				continue
			}
			f := &fileSpec{name: name, dir: src.dir(name), join: src.join, exists: src.exists, origin: origin}
			parseFile(f, data, e)
			specs = append(specs, f)
		}
	}
	return specs
}

// unwrapPath drops the path and the system call from a *fs.PathError:
// the error names the file already, and "stat" tells a user nothing.
func unwrapPath(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return fmt.Errorf("cannot read: %w", pe.Err)
	}
	return err
}

// ParseFilter compiles a Wireshark display filter into a Set of one rule,
// SID 1, as if written `wireshark: FILTER`, for `vigil filter`. Errors are
// an [ErrorList] at "filter:LINE:COL" in the filter's text.
func ParseFilter(filter string) (*Set, error) {
	f := &fileSpec{name: "filter", lines: strings.Split(filter, "\n")}
	r := &ruleSpec{file: f, sid: 1, wireshark: true, cond: &yaml.Node{Kind: yaml.ScalarNode, Value: filter, Line: 1, Column: 1}}
	r.rule = Rule{SID: 1, Rev: 1, Name: "filter", Severity: Medium, Enabled: true, Wireshark: true}
	f.rules = []*ruleSpec{r}
	return build([]*fileSpec{f}, &errs{})
}

// build compiles decoded files into a Set.
func build(specs []*fileSpec, e *errs) (*Set, error) {
	c := newCompiler(e)
	listPos := map[string]Position{}
	for _, f := range specs {
		for _, l := range f.lists {
			if !c.checkName("list", l.name, l.pos, listPos) {
				continue
			}
			c.lists[l.name] = l
		}
		for _, m := range f.macros {
			if !c.checkName("macro", m.name, m.pos, listPos) {
				continue
			}
			c.macros[m.name] = m
		}
	}
	for _, f := range specs {
		for _, m := range f.macros {
			if c.macros[m.name] == m {
				c.checkMacro(m)
			}
		}
	}
	set := &Set{bySID: map[int]*Rule{}}
	sidPos := map[int]Position{}
	for _, f := range specs {
		for _, r := range f.rules {
			c.compileRule(r)
			if r.sid == 0 {
				continue
			}
			first, dup := sidPos[r.sid]
			switch {
			case dup && !r.override:
				e.add(r.sidPos, "duplicate sid %d (first defined at %s; override: true replaces it)", r.sid, first)
				continue
			case !dup && r.override:
				e.add(r.overridePos, "override: no rule with sid %d is loaded before this one", r.sid)
				continue
			}
			sidPos[r.sid] = r.sidPos
			rl := r.rule
			rl.Origin = f.origin
			if dup {
				*set.bySID[r.sid] = rl
				continue
			}
			set.Rules = append(set.Rules, &rl)
			set.bySID[r.sid] = &rl
		}
	}
	for _, f := range specs {
		for _, d := range f.disable {
			if r := set.bySID[d.sid]; r != nil {
				r.Enabled = false
			} else if d.sid > 0 {
				e.add(d.pos, "disable: no rule with sid %d", d.sid)
			}
		}
	}
	for _, f := range specs {
		for _, s := range f.supp {
			if s.s.SID > 0 && set.bySID[s.s.SID] == nil {
				e.add(s.sidPos, "suppress: no rule with sid %d", s.s.SID)
				continue
			}
			set.Suppress = append(set.Suppress, s.s)
		}
	}
	set.Flowbits = c.flowbits
	if err := e.result(); err != nil {
		return nil, err
	}
	return set, nil
}

// checkName validates a list or macro name; seen records where each name
// was first defined.
func (c *compiler) checkName(kind, name string, pos Position, seen map[string]Position) bool {
	if !identRe.MatchString(name) {
		c.e.add(pos, "bad %s name %q (letters, digits and _ only)", kind, name)
		return false
	}
	if c.reserved[name] {
		c.e.add(pos, "%s name %q is taken by a field, function or keyword", kind, name)
		return false
	}
	if first, dup := seen[name]; dup {
		c.e.add(pos, "duplicate list or macro name %q (first defined at %s)", name, first)
		return false
	}
	seen[name] = pos
	return true
}
