package vigil_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

const module = "github.com/vigil-ids/vigil"

// room is what the project packages under one folder may import: Code
// for their non-test files, Tests for their test files as well. Entries
// are folders relative to the module root and include their subfolders;
// a package may always import its own subpackages.
type room struct {
	Folder      string
	Code, Tests []string
}

// rooms is the intended dependency direction, as the package docs and the
// README describe it. The most specific folder applies.
var rooms = []room{
	{Folder: "ncf"},
	{Folder: "capture", Code: []string{"ncf"}},
	{Folder: "rules/field"},
	{Folder: "rules", Code: []string{"rules"}, Tests: []string{"decode"}},
	{Folder: "rules/dfilter", Code: []string{"rules/field"}},
	{Folder: "decode", Code: []string{"rules/field"}, Tests: []string{"rules"}},
	{Folder: "alerts"},
	{Folder: "engine", Code: []string{"ncf", "capture", "decode", "rules", "alerts"}, Tests: []string{"tools/gen"}},
	{Folder: "tools/gen", Code: []string{"ncf", "capture"}, Tests: []string{"decode", "rules/field"}},
	{Folder: "tools/replay", Code: []string{"ncf", "capture"}},
	{Folder: "offline", Code: []string{"capture", "rules", "alerts", "engine"}},
	{Folder: "cluster", Code: []string{"ncf", "decode", "rules/field", "engine", "alerts"}, Tests: []string{"rules", "tools/gen"}},
	{Folder: "daemon/ui", Code: []string{"alerts", "rules"}},
	{Folder: "daemon", Code: []string{"ncf", "rules", "alerts", "engine", "cluster"}, Tests: []string{"tools/replay"}},
	{Folder: "cmd", Code: []string{""}},
}

// TestImportDirection fails when a package imports across the intended
// direction, test files included, or when code outside cmd reads flags or
// the command line (the flag package, os.Args) or ends the process
// (os.Exit). Test files may use flag, for -update switches.
func TestImportDirection(t *testing.T) {
	for _, v := range violations(t, os.DirFS(".")) {
		t.Error(v)
	}
}

// TestImportDirectionCatches checks the checker itself on a small tree
// with one violation of each kind.
func TestImportDirectionCatches(t *testing.T) {
	src := func(pkg string, imports ...string) *fstest.MapFile {
		var b strings.Builder
		fmt.Fprintf(&b, "package %s\nimport (\n", pkg)
		for _, imp := range imports {
			fmt.Fprintf(&b, "\t%q\n", imp)
		}
		b.WriteString(")\nfunc f() { os.Exit(1) }\n")
		return &fstest.MapFile{Data: []byte(b.String())}
	}
	tree := fstest.MapFS{
		"ncf/reader.go":           src("ncf", "io", module+"/rules"),
		"rules/index/x_test.go":   src("index", module+"/engine"),
		"rules/index/x.go":        src("index", module+"/rules/field"),
		"engine/flow/flow.go":     src("flow", "flag", module+"/rules/field"),
		"cmd/vigil/main.go":       src("main", "flag", module+"/engine"),
		"newroom/newroom.go":      src("newroom"),
		"capture/testdata/bad.go": src("bad", module+"/engine"),
	}
	got := violations(t, tree)
	want := []string{
		`engine/flow/flow.go: import "flag" is for cmd only`,
		"engine/flow/flow.go: os.Exit is for cmd only",
		"ncf/reader.go: imports rules (ncf may import nothing of the project)",
		"ncf/reader.go: os.Exit is for cmd only",
		"newroom/newroom.go: newroom is in no room of the table in imports_test.go",
		"newroom/newroom.go: os.Exit is for cmd only",
		"rules/index/x.go: os.Exit is for cmd only",
		"rules/index/x_test.go: imports engine (rules tests may import rules, decode)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// violations lists every problem of the Go files of fsys, sorted.
func violations(t *testing.T, fsys fs.FS) []string {
	t.Helper()
	var out []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); p != "." && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return fs.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, data, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		out = append(out, check(p, f)...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// check returns the violations of one parsed file at path p.
func check(p string, f *ast.File) []string {
	dir := path.Dir(p)
	test := strings.HasSuffix(p, "_test.go")
	var out []string
	if dir == "." { // this test
		return nil
	}
	r, ok := roomOf(dir)
	if !ok {
		out = append(out, fmt.Sprintf("%s: %s is in no room of the table in imports_test.go", p, dir))
	}
	allowed := r.Code
	what := r.Folder
	if test {
		allowed = append(slices.Clone(r.Code), r.Tests...)
		what += " tests"
	}
	for _, imp := range f.Imports {
		ip, _ := strconv.Unquote(imp.Path.Value)
		if ip == "flag" && !test && r.Folder != "cmd" {
			out = append(out, fmt.Sprintf(`%s: import "flag" is for cmd only`, p))
		}
		rel, ok := strings.CutPrefix(ip, module+"/")
		if !ok || within(rel, r.Folder) || !r.known() {
			continue
		}
		if !slices.ContainsFunc(allowed, func(a string) bool { return within(rel, a) }) {
			may := "nothing of the project"
			if len(allowed) > 0 {
				may = strings.Join(allowed, ", ")
			}
			out = append(out, fmt.Sprintf("%s: imports %s (%s may import %s)", p, rel, what, may))
		}
	}
	if !test && r.Folder != "cmd" {
		ast.Inspect(f, func(n ast.Node) bool {
			if s, ok := n.(*ast.SelectorExpr); ok {
				if x, ok := s.X.(*ast.Ident); ok && x.Name == "os" && (s.Sel.Name == "Exit" || s.Sel.Name == "Args") {
					out = append(out, fmt.Sprintf("%s: os.%s is for cmd only", p, s.Sel.Name))
				}
			}
			return true
		})
	}
	return out
}

// known reports whether r is an entry of rooms.
func (r room) known() bool { return r.Folder != "" }

// roomOf finds the most specific room holding dir.
func roomOf(dir string) (room, bool) {
	best := room{}
	for _, r := range rooms {
		if within(dir, r.Folder) && len(r.Folder) > len(best.Folder) {
			best = r
		}
	}
	return best, best.known()
}

// within reports whether folder p is folder dir or below it; "" holds
// everything.
func within(p, dir string) bool {
	return dir == "" || p == dir || strings.HasPrefix(p, dir+"/")
}
