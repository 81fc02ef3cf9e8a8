package engine

import (
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/expr-lang/expr/ast"

	"github.com/vigil-ids/vigil/decode"
	"github.com/vigil-ids/vigil/engine/stream"

	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/rules/index"
)

// RuleStats counts the work of one rule.
type RuleStats struct {
	SID         int    `json:"sid"`
	Name        string `json:"name"`
	Evaluations uint64 `json:"evaluations"`
	Matches     uint64 `json:"matches"`
	Alerts      uint64 `json:"alerts"`
	Errors      uint64 `json:"errors"`
	// Time is the evaluation time, estimated from one evaluation in 16.
	Time time.Duration `json:"time_ns"`
}

// ruleCounter is written by one worker only; atomics make reads from other
// goroutines safe without contention.
type ruleCounter struct {
	evals, matches, alerts, errors, nanos atomic.Uint64
	_                                     [24]byte // keep neighbours off this cache line
}

// ruleState is one loaded rule set with its per-worker counters.
type ruleState struct {
	set    *rules.Set
	active []*rules.Rule // enabled rules, in set order
	// index[w] is worker w's prefilter over active: per packet it names
	// the rules that may match, so expr runs only on those.
	index   []*index.Index
	counter [][]ruleCounter
	// app[i] is true when active[i] reads an application layer (dns,
	// http, tls, ftp, ssh): only those run again for a TCP segment's
	// second and later application messages.
	app []bool
	// window is how many earlier bytes the stream views must repeat for
	// the active rules (streamWindow).
	window int
	// text is true when some active rule reads an address text field
	// (readsText): the workers then write those fields before the
	// prefilter runs, and otherwise only for a packet some rule is
	// evaluated on (decode.Decoder.DeferText).
	text bool
}

func newRuleState(set *rules.Set, workers int) *ruleState {
	s := &ruleState{set: set, active: set.Enabled()}
	s.app = make([]bool, len(s.active))
	for i, r := range s.active {
		s.app[i] = readsApp(r.Node)
		s.text = s.text || readsText(r.Node)
		s.window = max(s.window, streamWindow(r.Node))
	}
	ix := index.Build(s.active)
	s.index = make([]*index.Index, workers)
	for w := range s.index {
		s.index[w] = ix.Clone()
	}
	s.counter = make([][]ruleCounter, workers)
	for w := range s.counter {
		s.counter[w] = make([]ruleCounter, len(s.active))
	}
	return s
}

func (s *ruleState) totals() []RuleStats {
	out := make([]RuleStats, len(s.active))
	for i, r := range s.active {
		out[i] = RuleStats{SID: r.SID, Name: r.Name}
		for w := range s.counter {
			c := &s.counter[w][i]
			out[i].Evaluations += c.evals.Load()
			out[i].Matches += c.matches.Load()
			out[i].Alerts += c.alerts.Load()
			out[i].Errors += c.errors.Load()
			out[i].Time += time.Duration(c.nanos.Load())
		}
	}
	return out
}

// appLayers are the layers decode.DecodeTCPApp fills.
var appLayers = map[string]bool{"dns": true, "http": true, "tls": true, "ftp": true, "ssh": true}

// readsApp reports whether the condition n names an application layer.
func readsApp(n ast.Node) bool {
	v := appVisitor(false)
	ast.Walk(&n, &v)
	return bool(v)
}

type appVisitor bool

func (v *appVisitor) Visit(n *ast.Node) {
	if id, ok := (*n).(*ast.IdentifierNode); ok && appLayers[id.Value] {
		*v = true
	}
}

// readsText reports whether the condition n may read an address text
// field (decode.TextFields): it names one, or a struct holding one
// (arp.src), or the condition is not one the rules package compiled.
func readsText(n ast.Node) bool {
	if n == nil {
		return true
	}
	v := textVisitor(false)
	ast.Walk(&n, &v)
	return bool(v)
}

type textVisitor bool

func (v *textVisitor) Visit(n *ast.Node) {
	path, ok := rules.FieldPath(*n)
	if !ok {
		return
	}
	if _, member := (*n).(*ast.MemberNode); !member && !slices.Contains(decode.TextFields, path) {
		return // a chain's first name (ip of ip.ttl), unless a field alone
	}
	for _, f := range decode.TextFields {
		if f == path || strings.HasPrefix(f, path+".") {
			*v = true
		}
	}
}

// streamWindow returns how many earlier bytes a stream view must repeat
// for condition n: a literal test the rules package wrote for a payload
// test (tcp.reassembled.data[(1-len) - tcp.reassembled.new_length:])
// needs len-1; any other read of tcp.reassembled.data (a regex, or the
// field written out) needs all there is (stream.MaxWindow); none, 0.
func streamWindow(n ast.Node) int {
	v := windowVisitor{}
	ast.Walk(&n, &v)
	if v.reads > len(v.tails) {
		return stream.MaxWindow
	}
	w := 0
	for _, t := range v.tails {
		w = max(w, t)
	}
	return w
}

type windowVisitor struct {
	reads int   // reads of tcp.reassembled.data
	tails []int // windows of the literal tests among them
}

func (v *windowVisitor) Visit(n *ast.Node) {
	switch n := (*n).(type) {
	case *ast.MemberNode:
		if isReassembled(n, "data") {
			v.reads++
		}
	case *ast.SliceNode:
		if !isReassembled(n.Node, "data") || n.To != nil {
			return
		}
		if b, ok := n.From.(*ast.BinaryNode); ok && b.Operator == "-" && isReassembled(b.Right, "new_length") {
			if k, ok := b.Left.(*ast.IntegerNode); ok && k.Value <= 0 {
				v.tails = append(v.tails, -k.Value)
			}
		}
	}
}

// isReassembled reports whether n is the member chain tcp.reassembled.<name>.
func isReassembled(n ast.Node, name string) bool {
	m, ok := n.(*ast.MemberNode)
	if !ok {
		return false
	}
	if p, ok := m.Property.(*ast.StringNode); !ok || p.Value != name {
		return false
	}
	r, ok := m.Node.(*ast.MemberNode)
	if !ok {
		return false
	}
	if p, ok := r.Property.(*ast.StringNode); !ok || p.Value != "reassembled" {
		return false
	}
	id, ok := r.Node.(*ast.IdentifierNode)
	return ok && id.Value == "tcp"
}
