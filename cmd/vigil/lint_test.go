package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/rules/index"
)

var update = flag.Bool("update", false, "rewrite testdata/lint-mistakes/want.txt from what vigil lint prints")

const mistakes = "testdata/lint-mistakes"

// lintRuns are the `vigil lint` runs whose output want.txt records. Load
// errors stop lint before the inline tests run, so the failing inline test
// lives in a file that loads cleanly and is checked on its own; the last run
// shows that with the whole folder only the load errors are reported.
var lintRuns = [][]string{
	{"lint", mistakes + "/load"},
	{"lint", mistakes + "/inline-test.yaml"},
	{"lint", mistakes},
}

// lintTranscript runs every lintRuns entry and returns what was printed:
// the command, its stdout, and its exit status, as want.txt records them.
func lintTranscript(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, args := range lintRuns {
		out, errOut, err := runCLI(t, args...)
		var ee exitError
		if !errors.As(err, &ee) || ee.code != 1 {
			t.Errorf("vigil %s: got error %v, want exit status 1", strings.Join(args, " "), err)
		}
		if errOut != "" {
			t.Errorf("vigil %s: unexpected stderr %q", strings.Join(args, " "), errOut)
		}
		fmt.Fprintf(&b, "$ vigil %s\n%s%v\n\n", strings.Join(args, " "), out, err)
	}
	return b.String()
}

// TestLintMistakes checks `vigil lint` on the seeded mistakes against
// want.txt, line for line (run with -update to rewrite it).
func TestLintMistakes(t *testing.T) {
	got := lintTranscript(t)
	path := filepath.Join(mistakes, "want.txt")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	gotLines := strings.Split(got, "\n")
	wantLines := strings.Split(string(want), "\n")
	for i := 0; i < max(len(gotLines), len(wantLines)); i++ {
		var g, w string
		if i < len(gotLines) {
			g = gotLines[i]
		}
		if i < len(wantLines) {
			w = wantLines[i]
		}
		if g != w {
			t.Errorf("want.txt line %d:\n got %q\nwant %q", i+1, g, w)
		}
	}
}

// errorLine is one "file:line:col: message" line of lint's output.
var errorLine = regexp.MustCompile(`^(.+\.ya?ml):(\d+):(\d+): (.*)$`)

// marker is a "# want: TOKEN MESSAGE" comment on a seeded mistake's line:
// the error must point at TOKEN and its message contain MESSAGE.
type marker struct {
	file        string
	line        int
	token, text string
}

// readMarkers returns the want markers of every rule file under dir.
func readMarkers(t *testing.T, dir string) map[string]marker {
	t.Helper()
	found := map[string]marker{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for n := 1; sc.Scan(); n++ {
			_, spec, ok := strings.Cut(sc.Text(), "# want: ")
			if !ok {
				continue
			}
			token, text, _ := strings.Cut(spec, " ")
			m := marker{file: filepath.ToSlash(path), line: n, token: token, text: text}
			found[fmt.Sprintf("%s:%d", m.file, n)] = m
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestLintMistakesPointAtMarkers checks lint's output against the files
// themselves, independently of want.txt: each seeded mistake carries a
// "# want:" comment, and each one must be reported exactly once, at its
// line, with the column on the token the comment names.
func TestLintMistakesPointAtMarkers(t *testing.T) {
	markers := readMarkers(t, mistakes)
	if len(markers) < 10 {
		t.Fatalf("only %d seeded mistakes", len(markers))
	}
	reported := map[string]int{}
	for _, args := range lintRuns[:2] {
		out, _, _ := runCLI(t, args...)
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			m := errorLine.FindStringSubmatch(l)
			if m == nil {
				t.Errorf("not file:line:col: message: %q", l)
				continue
			}
			line, _ := strconv.Atoi(m[2])
			col, _ := strconv.Atoi(m[3])
			key := fmt.Sprintf("%s:%d", m[1], line)
			want, ok := markers[key]
			if !ok {
				t.Errorf("error on a line without a want marker: %s", l)
				continue
			}
			reported[key]++
			text, err := os.ReadFile(m[1])
			if err != nil {
				t.Fatal(err)
			}
			src := strings.Split(string(text), "\n")[line-1]
			if col < 1 || col > len(src) || !strings.HasPrefix(src[col-1:], want.token) {
				t.Errorf("%s: column %d is not on %q in %q", l, col, want.token, src)
			}
			if !strings.Contains(m[4], want.text) {
				t.Errorf("%s: message does not say %q", l, want.text)
			}
		}
	}
	for key := range markers {
		if reported[key] != 1 {
			t.Errorf("%s: seeded mistake reported %d times, want once", key, reported[key])
		}
	}
}

// TestLintStopsAtLoadErrors: with load errors in the set, inline tests do
// not run, so the failing test of inline-test.yaml is not reported.
func TestLintStopsAtLoadErrors(t *testing.T) {
	out, _, err := runCLI(t, "lint", mistakes)
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("got %v, want exit status 1", err)
	}
	if !strings.Contains(out, "unknown field") {
		t.Errorf("load errors missing:\n%s", out)
	}
	if strings.Contains(out, "inline test") {
		t.Errorf("inline tests ran despite load errors:\n%s", out)
	}
}

// TestLintExplain: --explain prints the prefilter table of the files as
// loaded (index.WriteExplain, tested there), then the warnings about rules
// evaluated on every packet (index.WriteWarnings), and the inline tests
// run; warnings do not fail the run.
func TestLintExplain(t *testing.T) {
	file := mistakes + "/explain/explain.yaml"
	out, errOut, err := runCLI(t, "lint", "--explain", file)
	if err != nil {
		t.Fatalf("%v\n%s%s", err, out, errOut)
	}
	set, err := rules.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	if err := index.WriteExplain(&want, set); err != nil {
		t.Fatal(err)
	}
	if n, err := index.WriteWarnings(&want, set); n != 1 || err != nil {
		t.Fatalf("%d warnings, %v; want 1", n, err)
	}
	if out != want.String() || !strings.Contains(out, file+":9:5: warning:") {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want.String())
	}
	if errOut != "4 rules OK, 0 inline tests passed\n" {
		t.Errorf("stderr %q", errOut)
	}
}

// TestLintExplainNeedsLoad: --explain prints nothing but the load errors
// when the rules do not load.
func TestLintExplainNeedsLoad(t *testing.T) {
	out, _, err := runCLI(t, "lint", "--explain", mistakes+"/load")
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("got %v, want exit status 1", err)
	}
	if strings.Contains(out, "PREFILTER") || !strings.Contains(out, "duplicate sid") {
		t.Errorf("output:\n%s", out)
	}
}

// TestDefaultRules: --default-rules loads the built-in rules with the
// user's file, which overrides one built-in rule and disables another by
// sid; lint --list shows each rule's origin and state, and vigil test runs
// the combination. Without --default-rules the file is loaded alone, and
// its disable names no rule.
func TestDefaultRules(t *testing.T) {
	dir := t.TempDir()
	user := filepath.Join(dir, "mine.yaml")
	if err := os.WriteFile(user, []byte(`disable: [2100104]
rules:
  - sid: 2100201
    name: my telnet rule
    severity: low
    condition: tcp.dstport == 23 && tcp.flags.syn && !tcp.flags.ack
    override: true
  - {sid: 9, name: mine, condition: tcp.dstport == 23}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := runCLI(t, "lint", "--list", "--no-tests", "--default-rules", user)
	if err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{
		`(?m)^2100201\s+1\s+low\s+enabled\s+\S*mine\.yaml:3:5\s+my telnet rule$`,
		`(?m)^2100104\s+\d+\s+\w+\s+disabled\s+built-in \w+\.yaml:\d+:\d+\s`,
		`(?m)^9\s+1\s+medium\s+enabled\s+\S*mine\.yaml:8:5\s+mine$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("lint --list does not match %s:\n%s", re, out)
		}
	}
	if n := strings.Count(out, "built-in "); n < 10 {
		t.Errorf("%d built-in rules listed", n)
	}
	if strings.Contains(out, "warning:") {
		t.Errorf("the listing holds lint warnings, which scripts would read as rows:\n%s", out)
	}
	stdout, _, err := runCLI(t, "test", "--quiet", "--default-rules", "--rules", user, captures+"sv-telnet.pcap")
	if err != nil {
		t.Fatal(err)
	}
	sids := map[int]int{}
	for _, a := range parseAlerts(t, stdout) {
		sids[a.SID]++
	}
	if sids[9] == 0 || sids[2100201] == 0 || sids[2100104] != 0 || sids[2100105] == 0 {
		t.Errorf("alerts by sid %v, want 9, the overriding 2100201 and 2100105, not the disabled 2100104", sids)
	}
	_, _, err = runCLI(t, "test", "--quiet", "--rules", user, captures+"sv-telnet.pcap")
	if err == nil || !strings.Contains(err.Error(), "mine.yaml:1:11: disable: no rule with sid 2100104") {
		t.Errorf("--rules alone, without the built-in rules to disable: %v", err)
	}
}
