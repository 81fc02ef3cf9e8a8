package rules

import (
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"

	"github.com/vigil-ids/vigil/rules/field"
)

// Set is a compiled rule set: every rule of the files loaded together.
// A Set is immutable once returned and safe for concurrent use; the engine
// evaluates its rules with one [Evaluator] per worker.
type Set struct {
	// Rules in load order: files in the order given (folders sorted), then
	// the rule's position in its file. Disabled rules are included (they
	// are compiled and checked) with Enabled false.
	Rules []*Rule
	// Suppress holds the global suppressions, in load order.
	Suppress []Suppress
	// Flowbits numbers every flowbit name used by the set: bit n of
	// flow.bits (0..62) stands for the name that maps to n.
	Flowbits map[string]int

	bySID map[int]*Rule
}

// BySID returns the rule with that sid, or nil.
func (s *Set) BySID(sid int) *Rule {
	if s == nil {
		return nil
	}
	return s.bySID[sid]
}

// Rule is one compiled rule: what the engine needs to evaluate it and to
// build an alert.
type Rule struct {
	SID, Rev    int
	Name        string
	Description string
	// Category is EVE's alert.category, "" if not given.
	Category string
	Severity Severity
	Tags     []string
	// Enabled is false for a rule written with enabled: false: it is
	// compiled (so its errors are reported) but the engine does not run it.
	Enabled bool
	// Reset is true when actions include reset: the engine injects TCP
	// resets (ICMP unreachable for UDP) as Response says, and raises the
	// alert as well.
	Reset    bool
	Response Response
	// Condition is the condition as written in the file.
	Condition string
	// Program is the compiled condition, exceptions included
	// (cond && !(exception || ...)): it returns a bool. Run it with an
	// [Evaluator].
	Program *vm.Program
	// Node is the patched, expanded AST of Program (lists and macros
	// inlined, layer names rewritten, exceptions joined), for a
	// prefilter index. Treat it as read-only.
	Node ast.Node
	// Message is the output template, nil when the rule has none.
	Message *Template
	// Threshold limits how often the rule alerts, nil when unlimited.
	Threshold *Threshold
	// Dedup folds repeats into one alert plus a summary, nil when off.
	Dedup *Dedup
	// FlowbitsSet, FlowbitsUnset and FlowbitsToggle are masks over
	// flow.bits applied to the packet's flow when the rule matches
	// (after exceptions; before thresholds).
	FlowbitsSet, FlowbitsUnset, FlowbitsToggle int
	// Tests are the rule's inline tests.
	Tests []Test
	// Pos is where the rule starts (its sid key's list item).
	Pos Position

	// fast is Program compiled into closures, nil when the condition
	// uses something only the VM runs (see fast.go).
	fast func(*field.Packet) bool
}

// Response says how a reset rule answers.
type Response struct {
	// Target is "both" (default), "source" or "dest": which side gets a
	// reset.
	Target string
	// Strafe is the number of extra resets sent at advancing sequence
	// numbers (0..8), for peers whose window moved on.
	Strafe int
}

// Threshold limits alerts as Suricata's threshold keyword does.
type Threshold struct {
	// Type is "limit" (at most Count alerts per window), "threshold"
	// (an alert every Count-th match) or "both" (one alert once Count
	// matches happened in the window).
	Type string
	// Track is "by_src", "by_dst", "by_both", "by_flow" or "by_rule".
	Track string
	Count int
	// Seconds is the window length.
	Seconds int
	// Distinct, when not "", is a field name: matches count the distinct
	// values of that field rather than packets.
	Distinct string
}

// Dedup folds repeated alerts of a rule into one alert and a summary.
type Dedup struct {
	// Track is "by_src", "by_dst", "by_both", "by_flow" or "by_rule".
	Track   string
	Seconds int
}

// Suppress is one global suppression entry, as in Suricata's
// threshold.config: alerts of SID whose tracked address is in Net are
// dropped. With Track "" (no track given) every alert of SID is dropped.
type Suppress struct {
	SID int
	// Track is "by_src", "by_dst", "by_either" or "".
	Track string
	// Net is the address or CIDR as written ("10.0.0.5", "10.0.0.0/8").
	Net string
	Pos Position
}

// Test is one inline test of a rule.
type Test struct {
	// Capture is the capture path, resolved against the rule file's
	// folder (for LoadFS, a path inside the fs.FS).
	Capture string
	// Frames lists the frame numbers that must match, exactly; used when
	// HasCount is false.
	Frames []int
	// Count is the number of matches required when HasCount is true.
	Count    int
	HasCount bool
	Pos      Position
}

// Severity ranks a rule; the zero value is Critical.
type Severity int

// Severities, from highest to lowest.
const (
	Critical Severity = iota
	High
	Medium
	Low
	Info
)

var severityNames = []string{"critical", "high", "medium", "low", "info"}

// String returns the lowercase severity word used in rule files and NATS
// subjects.
func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return "unknown"
	}
	return severityNames[s]
}

// EVE returns EVE's alert.severity: critical and high 1, medium 2, low 3,
// info 4.
func (s Severity) EVE() int {
	switch s {
	case Critical, High:
		return 1
	case Medium:
		return 2
	case Low:
		return 3
	}
	return 4
}

// ParseSeverity returns the severity named by word.
func ParseSeverity(word string) (Severity, bool) {
	for i, n := range severityNames {
		if n == word {
			return Severity(i), true
		}
	}
	return 0, false
}
