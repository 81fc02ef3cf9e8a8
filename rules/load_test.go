package rules

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

// TestLintFolder loads a folder of files with seeded mistakes and checks
// that every error of testdata/lint/want.txt, and no other, is reported.
func TestLintFolder(t *testing.T) {
	want, err := os.ReadFile("testdata/lint/want.txt")
	if err != nil {
		t.Fatal(err)
	}
	wantLines := strings.Split(strings.TrimSpace(string(want)), "\n")
	set, err := Load("testdata/lint")
	if set != nil || err == nil {
		t.Fatal("the lint folder loaded without errors")
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("%T is not an ErrorList", err)
	}
	got := map[string]bool{}
	for _, e := range list {
		got[filepath.ToSlash(e.Error())] = true
	}
	for _, w := range wantLines {
		if !got[w] {
			t.Errorf("missing: %s", w)
		}
		delete(got, w)
	}
	for g := range got {
		t.Errorf("unexpected: %s", g)
	}
	if len(list) != len(wantLines) {
		t.Errorf("got %d errors, want %d", len(list), len(wantLines))
	}
	for i := 1; i < len(list); i++ {
		a, b := list[i-1], list[i]
		if a.File > b.File || a.File == b.File && (a.Line > b.Line || a.Line == b.Line && a.Col > b.Col) {
			t.Errorf("not sorted: %v before %v", a, b)
		}
	}
}

func TestLoadFS(t *testing.T) {
	_, err := LoadFS(os.DirFS("testdata"), "lint")
	var list ErrorList
	if !errors.As(err, &list) || len(list) == 0 || !strings.HasPrefix(list[0].File, "lint/") {
		t.Fatalf("LoadFS: %v", err)
	}
	fsys := fstest.MapFS{
		"rules/a.yaml":     {Data: []byte("lists:\n  ports: [23]\nrules:\n  - sid: 1\n    name: a\n    condition: tcp.dstport in ports\n    tests:\n      - {capture: ../caps/x.pcap, count: 1}\n")},
		"rules/sub/b.yml":  {Data: []byte("macros:\n  syn: tcp.flags.syn\nrules:\n  - sid: 2\n    name: b\n    condition: syn && tcp.dstport in ports\n")},
		"rules/notes.txt":  {Data: []byte("not rules")},
		"caps/x.pcap":      {Data: []byte("a capture")},
		"rules/z/c.yaml":   {Data: []byte("# empty\n")},
		"other/skip.yaml":  {Data: []byte("nonsense: [")},
		"rules/0first.yml": {Data: []byte("rules:\n  - sid: 3\n    name: c\n    condition: syn\n")},
	}
	set, err := LoadFS(fsys, "rules")
	if err != nil {
		t.Fatal(err)
	}
	var sids []int
	for _, r := range set.Rules {
		sids = append(sids, r.SID)
	}
	// files sorted by path: 0first.yml, a.yaml, sub/b.yml; macros and lists shared
	if len(sids) != 3 || sids[0] != 3 || sids[1] != 1 || sids[2] != 2 {
		t.Errorf("order %v", sids)
	}
	if c := set.BySID(1).Tests[0].Capture; c != "caps/x.pcap" {
		t.Errorf("capture resolved to %q", c)
	}
	if set.BySID(3).Pos.File != "rules/0first.yml" {
		t.Errorf("pos %v", set.BySID(3).Pos)
	}
}

func TestLoadPaths(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.yaml")
	if err := os.WriteFile(a, []byte(rule1("tcp")), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := Load(a, dir) // the same file twice counts once
	if err != nil || len(set.Rules) != 1 {
		t.Fatalf("%v %v", set, err)
	}
	if got := set.Rules[0].Pos.File; got != a {
		t.Errorf("file %q", got)
	}
	missing := filepath.Join(dir, "missing.yaml")
	_, err = Load(missing, filepath.Join(dir, "empty"))
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 2 || list[0].File != filepath.Join(dir, "empty") || list[1].File != missing ||
		!strings.Contains(list[1].Msg, "no such file") {
		t.Errorf("missing paths: %v", err)
	}
	// A path that cannot be read has no line to point at, nor a system
	// call to name.
	if want := missing + ": cannot read: no such file or directory"; err == nil || list[1].Error() != want {
		t.Errorf("missing file: %v, want %q", err, want)
	}
	// a broken file does not hide the errors of the others
	b := filepath.Join(dir, "b.yaml")
	if err := os.WriteFile(b, []byte("rules: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(c, []byte(strings.Replace(rule1("tcp.dstprt == 1"), "sid: 1", "sid: 2", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(dir)
	if !errors.As(err, &list) || len(list) != 2 || list[0].File != b || list[1].File != c {
		t.Errorf("broken files: %v", err)
	}
}

// TestLoadSources: sources load as one set in order; a later rule with
// override: true replaces the earlier rule of its sid in place, a disable
// list disables rules of any source, and each rule keeps its source's
// Origin. An override with nothing before it, a disable of an unknown
// sid, and a duplicate sid without override are errors at their place.
func TestLoadSources(t *testing.T) {
	base := fstest.MapFS{"base.yaml": {Data: []byte(`rules:
  - {sid: 1, name: one, condition: tcp}
  - {sid: 2, name: two, condition: udp}
  - {sid: 3, name: three, condition: icmp}
`)}}
	dir := t.TempDir()
	user := filepath.Join(dir, "user.yaml")
	if err := os.WriteFile(user, []byte(`disable: [3]
rules:
  - {sid: 2, name: my two, condition: udp.dstport == 53, override: true}
  - {sid: 4, name: four, condition: arp}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := LoadSources(Source{FS: base, Paths: []string{"."}, Origin: "built-in"}, Source{Paths: []string{user}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range set.Rules {
		got = append(got, fmt.Sprintf("%d %s %v %q %s", r.SID, r.Name, r.Enabled, r.Origin, filepath.Base(r.Pos.File)))
	}
	want := []string{
		`1 one true "built-in" base.yaml`,
		`2 my two true "" user.yaml`,
		`3 three false "built-in" base.yaml`,
		`4 four true "" user.yaml`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rules:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var list strings.Builder
	if err := WriteList(&list, set); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{`^SID\s+REV\s+SEVERITY\s+STATE\s+ORIGIN\s+NAME$`, `^3\s+1\s+medium\s+disabled\s+built-in base\.yaml:4:5\s+three$`, `^2\s+1\s+medium\s+enabled\s+\S+user\.yaml:3:5\s+my two$`} {
		if !regexp.MustCompile("(?m)" + line).MatchString(list.String()) {
			t.Errorf("WriteList does not match %s:\n%s", line, list.String())
		}
	}

	bad := fstest.MapFS{"bad.yaml": {Data: []byte(`disable: [9]
rules:
  - {sid: 5, name: five, condition: tcp, override: true}
  - {sid: 1, name: again, condition: tcp}
`)}}
	_, err = LoadSources(Source{FS: base, Paths: []string{"."}}, Source{FS: bad, Paths: []string{"."}})
	for _, w := range []string{
		"bad.yaml:1:11: disable: no rule with sid 9",
		"bad.yaml:3:42: override: no rule with sid 5 is loaded before this one",
		"bad.yaml:4:11: duplicate sid 1 (first defined at base.yaml:2:11; override: true replaces it)",
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("errors %v\nwant one %q", err, w)
		}
	}
}
