package index_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/rules/index"
)

// explainRules holds one rule of each kind the prefilter sees.
const explainRules = `rules:
  - sid: 4000001
    name: Telnet SYN (indexed on a header field)
    condition: tcp.flags.syn && !tcp.flags.ack && tcp.dstport == 23
  - sid: 4000002
    name: Password file in a payload (indexed on a literal)
    condition: tcp && payload contains "/etc/passwd"
  - sid: 4000003
    name: Telnet or a low TTL (unindexed)
    condition: tcp.dstport == 23 || ip.ttl < 5
  - sid: 4000005
    name: Every TCP packet with a TTL (layer only)
    condition: tcp && ip.ttl > 0 && !(payload contains "x")
  - sid: 4000004
    name: Disabled rules are not indexed
    enabled: false
    condition: udp
`

// TestWriteExplain checks the table on a rule of each kind: a header rule
// and a content rule are indexed, a top-level || is not, a disabled rule is
// left out; columns line up and the counts add up.
func TestWriteExplain(t *testing.T) {
	set, err := rules.Parse("explain.yaml", []byte(explainRules))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := index.WriteExplain(&b, set); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 6 {
		t.Fatalf("got %d lines, want header, 4 rules and a count:\n%s", len(lines), out)
	}
	if f := strings.Fields(lines[0]); strings.Join(f, " ") != "SID RULE PREFILTER" {
		t.Errorf("header %q", lines[0])
	}
	rows := []struct {
		sid, pos string
		indexed  bool
		key      string
	}{
		{"4000001", "explain.yaml:2:5", true, "tcp.dstport==23"},
		{"4000002", "explain.yaml:5:5", true, `"/etc/passwd"`},
		{"4000003", "explain.yaml:8:5", false, "||"},
		{"4000005", "explain.yaml:11:5", true, "layer only (every tcp packet): tcp.present (then ip.ttl!=0)"},
	}
	ruleCol := strings.Index(lines[0], "RULE")
	keyCol := strings.Index(lines[0], "PREFILTER")
	for i, r := range rows {
		l := lines[i+1]
		if !strings.HasPrefix(l, r.sid+" ") || !strings.HasPrefix(l[ruleCol:], r.pos+" ") {
			t.Errorf("row %d: %q, want sid %s at %s in aligned columns", i, l, r.sid, r.pos)
			continue
		}
		key := l[keyCol:]
		if got := strings.HasPrefix(key, "unindexed: "); got == r.indexed {
			t.Errorf("sid %s: %q, want indexed=%v", r.sid, key, r.indexed)
		}
		if !strings.Contains(key, r.key) {
			t.Errorf("sid %s: %q does not mention %q", r.sid, key, r.key)
		}
	}
	if want := "4 rules: 2 indexed by a literal or value, 1 by a layer only, 1 unindexed (evaluated on every packet), 1 disabled"; lines[5] != want {
		t.Errorf("count line %q, want %q", lines[5], want)
	}
	if strings.Contains(out, "4000004") {
		t.Errorf("disabled rule explained:\n%s", out)
	}
}

// TestWriteWarnings: the unindexed and the layer-only rule are warned
// about, at their position; the indexed ones are not.
func TestWriteWarnings(t *testing.T) {
	set, err := rules.Parse("explain.yaml", []byte(explainRules))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	n, err := index.WriteWarnings(&b, set)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if n != 2 || len(lines) != 2 {
		t.Fatalf("%d warnings, want 2:\n%s", n, b.String())
	}
	for i, want := range []string{
		"explain.yaml:8:5: warning: sid 4000003 is evaluated on every packet (|| at top level",
		"explain.yaml:11:5: warning: sid 4000005 is evaluated on every tcp packet (tcp.present (then ip.ttl!=0))",
	} {
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("warning %d: %q, want it to start %q", i, lines[i], want)
		}
	}
}

// TestPeerRulesIndexed: the rule sets compared with Suricata
// (testdata/peer, content tests in every form users write: icontains,
// lower() contains, startsWith, slices, regexes) are indexed by a literal
// or a value, every rule of them.
func TestPeerRulesIndexed(t *testing.T) {
	files, err := filepath.Glob("../../testdata/peer/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no peer rule sets: %v", err)
	}
	for _, f := range files {
		set, err := rules.Load(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range index.Build(set.Rules).Explain() {
			if !e.Indexed || e.Layer != "" {
				t.Errorf("%s: sid %d is not indexed by a literal or value: %+v", f, e.SID, e)
			}
		}
	}
}
