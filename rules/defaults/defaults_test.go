package defaults_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/rules/defaults"
)

// TestEmbeddedSet checks what `vigil run` gets without --rules: the embedded
// files load without error, hold at least 30 rules, all enabled, with sids in
// the range reserved for the defaults.
func TestEmbeddedSet(t *testing.T) {
	names, err := fs.Glob(defaults.FS, "*.yaml")
	if err != nil || len(names) == 0 {
		t.Fatalf("embedded files: %v %v", names, err)
	}
	set, err := defaults.Load(false)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(set.Rules) < 30 {
		t.Errorf("%d rules, want at least 30", len(set.Rules))
	}
	for _, r := range set.Rules {
		if r.SID < 2100001 || r.SID > 2199999 {
			t.Errorf("sid %d (%s) outside 2100001..2199999", r.SID, r.Name)
		}
		if !r.Enabled {
			t.Errorf("sid %d (%s) is disabled", r.SID, r.Name)
		}
		if r.Description == "" || r.Category == "" || len(r.Tags) == 0 {
			t.Errorf("sid %d (%s) lacks a description, category or tags", r.SID, r.Name)
		}
	}
}

// TestLoadPaths: given paths, Load loads those and not the built-in set.
func TestLoadPaths(t *testing.T) {
	path := filepath.Join(t.TempDir(), "one.yaml")
	rule := "rules:\n  - sid: 9000001\n    name: one\n    condition: tcp.dstport == 23\n"
	if err := os.WriteFile(path, []byte(rule), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := defaults.Load(false, path)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Rules) != 1 || set.Rules[0].SID != 9000001 {
		t.Errorf("Load(%s): %d rules, want only sid 9000001", path, len(set.Rules))
	}
}

// TestEveryRuleHasBothTests requires each rule to have at least one
// inline test where it must fire and one where it must stay silent; the
// engine's tests run them (engine.TestDefaultRules).
func TestEveryRuleHasBothTests(t *testing.T) {
	set, err := rules.Load(".")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	for _, r := range set.Rules {
		var pos, neg bool
		for _, tc := range r.Tests {
			if tc.HasCount && tc.Count == 0 {
				neg = true
			} else {
				pos = true
			}
		}
		if !pos || !neg {
			t.Errorf("sid %d (%s): positive test %v, negative test %v; want both", r.SID, r.Name, pos, neg)
		}
	}
}
