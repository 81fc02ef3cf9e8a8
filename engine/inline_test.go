package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/vigil-ids/vigil/engine"
	"github.com/vigil-ids/vigil/rules"
)

// TestDefaultRules runs the inline tests of the built-in rule set from its
// folder (the capture paths in the files are relative to it).
func TestDefaultRules(t *testing.T) {
	set, err := rules.Load("../rules/defaults")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	tests := 0
	for _, r := range set.Rules {
		tests += len(r.Tests)
	}
	if tests == 0 {
		t.Fatal("the built-in rules have no inline tests")
	}
	for _, e := range engine.RunInlineTests(context.Background(), set, time.UTC) {
		t.Error(e)
	}
}
