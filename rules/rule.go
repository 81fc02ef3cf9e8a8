package rules

import (
	"fmt"
	"io"
	"net/netip"
	"strings"
	"text/tabwriter"
	"time"

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

// Enabled returns the rules that are not disabled, in load order: the
// rules the engine runs. It returns a new slice on each call.
func (s *Set) Enabled() []*Rule {
	var out []*Rule
	for _, r := range s.Rules {
		if r.Enabled {
			out = append(out, r)
		}
	}
	return out
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
	// Condition is the condition as written in the file, or with
	// Wireshark set the display filter (wireshark:).
	Condition string
	Wireshark bool
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
	// Origin is the Source.Origin of the rule's file ("built-in" for the
	// built-in set), "" for the user's files.
	Origin string

	// fast is Program compiled into closures, nil when the condition
	// uses something only the VM runs (see fast.go).
	fast func(*field.Packet) bool
}

// Response says how a reset rule answers.
type Response struct {
	// Target is which side gets a reset; TargetBoth when not written.
	Target Target
	// Strafe is the number of extra resets per direction sent at
	// advancing sequence numbers (0..MaxStrafe), for peers whose window
	// moved on.
	Strafe int
}

// MaxStrafe is the largest response strafe a rule may ask for.
const MaxStrafe = 8

// MaxDistinct is the largest threshold count a rule with distinct may
// have: the engine remembers at most count distinct values per key and
// window.
const MaxDistinct = 1024

// Threshold limits alerts as Suricata's threshold keyword does. A loaded
// rule's Threshold has a known Type and Track, Count of at least 1 (at
// most MaxDistinct with a distinct field) and a Window of at least one
// second.
type Threshold struct {
	Type ThresholdType
	// Track is what is counted apart.
	Track Track
	// Count is the number of matches (or distinct values) of the type.
	Count int
	// Window is the window length, a whole number of seconds (seconds in
	// the rule file). A window starts at the first match counted in it.
	Window time.Duration
	// DistinctName, when not "", is the field named by distinct, as
	// written: matches count the distinct values of that field rather
	// than packets.
	DistinctName string
	// Distinct is where the distinct field is read from a packet; the
	// zero Slot when DistinctName is "".
	Distinct field.Slot
}

// Dedup folds repeated alerts of a rule into one alert and a summary.
type Dedup struct {
	// Track is what is folded apart.
	Track Track
	// Window is the window length, a whole number of seconds (seconds in
	// the rule file), at least one.
	Window time.Duration
}

// Suppress is one global suppression entry, as in Suricata's
// threshold.config: alerts of SID whose tracked address is in Net are
// dropped. With Track SuppressAll (no track given) every alert of SID is
// dropped.
type Suppress struct {
	SID   int
	Track SuppressTrack
	// Net is the address or CIDR written as ip, masked ("10.0.0.5" is
	// 10.0.0.5/32); the zero Prefix with SuppressAll.
	Net netip.Prefix
	Pos Position
}

// ThresholdType is a threshold's type, as Suricata names it. The zero
// value is not a type.
type ThresholdType uint8

// Threshold types.
const (
	// TypeLimit alerts on the first Count matches of each window.
	TypeLimit ThresholdType = iota + 1
	// TypeThreshold alerts on every Count-th match within the window.
	TypeThreshold
	// TypeBoth alerts once per window, on the Count-th match.
	TypeBoth
)

var thresholdTypeNames = [...]string{TypeLimit: "limit", TypeThreshold: "threshold", TypeBoth: "both"}

// String returns the word rule files use ("limit"), or
// "ThresholdType(n)" for a value that is not a type.
func (t ThresholdType) String() string { return enumString(thresholdTypeNames[:], t, "ThresholdType") }

// Track is what a threshold or a dedup counts apart: its key besides the
// rule. Suppression entries have their own [SuppressTrack]. The zero
// value is not a track.
type Track uint8

// Tracks of thresholds and dedup.
const (
	// BySrc counts each source address apart.
	BySrc Track = iota + 1
	// ByDst counts each destination address apart.
	ByDst
	// ByBoth counts each address pair apart, in either direction.
	ByBoth
	// ByFlow counts each flow apart.
	ByFlow
	// ByRule counts every match of the rule together.
	ByRule
)

var trackNames = [...]string{BySrc: "by_src", ByDst: "by_dst", ByBoth: "by_both", ByFlow: "by_flow", ByRule: "by_rule"}

// String returns the word rule files use ("by_src"), or "Track(n)" for a
// value that is not a track.
func (t Track) String() string { return enumString(trackNames[:], t, "Track") }

// SuppressTrack is which address of an alert a suppression entry tests
// against its Net. It is a type apart from [Track]: a suppression has no
// by_both, by_flow or by_rule, and it has by_either and "no track".
type SuppressTrack uint8

// Suppression tracks.
const (
	// SuppressAll is an entry written without track and ip: every alert
	// of the sid is dropped. It is the zero value.
	SuppressAll SuppressTrack = iota
	// SuppressBySrc drops an alert whose source address is in Net.
	SuppressBySrc
	// SuppressByDst drops an alert whose destination address is in Net.
	SuppressByDst
	// SuppressByEither drops an alert whose source or destination address
	// is in Net.
	SuppressByEither
)

var suppressTrackNames = [...]string{SuppressAll: "all", SuppressBySrc: "by_src", SuppressByDst: "by_dst", SuppressByEither: "by_either"}

// String returns the word rule files use ("by_src"); "all" for
// SuppressAll, which rule files write by leaving track out; or
// "SuppressTrack(n)" for a value that is not a track.
func (t SuppressTrack) String() string {
	return enumString(suppressTrackNames[:], t, "SuppressTrack")
}

// Target is which end of a flow a reset rule answers.
type Target uint8

// Response targets.
const (
	// TargetBoth answers the sender and the receiver of the packet (TCP);
	// for other packets it is the same as TargetSource. It is the zero
	// value and the default.
	TargetBoth Target = iota
	// TargetSource answers the sender of the packet only.
	TargetSource
	// TargetDest answers the receiver of the packet only (TCP only).
	TargetDest
)

var targetNames = [...]string{TargetBoth: "both", TargetSource: "source", TargetDest: "dest"}

// String returns the word rule files use ("both"), or "Target(n)" for a
// value that is not a target.
func (t Target) String() string { return enumString(targetNames[:], t, "Target") }

// enumString returns names[v], or typ(v) when v has no name.
func enumString[T ~uint8](names []string, v T, typ string) string {
	if int(v) < len(names) && names[v] != "" {
		return names[v]
	}
	return fmt.Sprintf("%s(%d)", typ, uint8(v))
}

// parseEnum returns the value among choices whose String is word.
func parseEnum[T fmt.Stringer](word string, choices []T) (T, bool) {
	for _, c := range choices {
		if c.String() == word {
			return c, true
		}
	}
	var zero T
	return zero, false
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

// CheckSeverity returns nil when word is a severity word, else an error
// listing the valid words.
func CheckSeverity(word string) error {
	if _, ok := ParseSeverity(word); !ok {
		return fmt.Errorf("unknown severity %q (valid: %s)", word, strings.Join(severityNames, ", "))
	}
	return nil
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

// WriteList writes one line per rule of set, in load order, under a
// header: sid, rev, severity, state (enabled or disabled), origin (the
// file:line of its sid, after its Origin when it has one, e.g.
// "built-in scan.yaml:4:5") and name.
func WriteList(w io.Writer, set *Set) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "SID\tREV\tSEVERITY\tSTATE\tORIGIN\tNAME")
	for _, r := range set.Rules {
		state := "enabled"
		if !r.Enabled {
			state = "disabled"
		}
		origin := strings.TrimSpace(r.Origin + " " + r.Pos.String())
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\n", r.SID, r.Rev, r.Severity, state, origin, r.Name)
	}
	return tw.Flush()
}
