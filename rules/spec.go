package rules

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The YAML side: a file decoded from yaml.Node into specs that keep the
// nodes (for positions), before anything is compiled.

type fileSpec struct {
	name string // as shown in errors
	dir  string // folder that inline test captures are relative to
	join func(dir, p string) string
	// exists, when not nil, tells whether an inline test capture exists.
	exists func(p string) bool
	lines  []string
	lists  []*listSpec
	macros []*macroSpec
	rules  []*ruleSpec
	supp   []*suppSpec
	// disable lists the sids the file's disable key names.
	disable []sidRef
	origin  string // Rule.Origin of the file's rules
}

// sidRef is a sid written at pos.
type sidRef struct {
	sid int
	pos Position
}

type listSpec struct {
	name  string
	pos   Position
	items []*yaml.Node
}

type macroSpec struct {
	name string
	pos  Position
	cond *yaml.Node
	file *fileSpec
	// set by the macro check: broken macros do not make their users
	// report errors again.
	checked, broken bool
}

type exceptionSpec struct {
	field  string
	fNode  *yaml.Node
	values []*yaml.Node
	pos    Position
}

type nameRef struct {
	name string
	pos  Position
}

type ruleSpec struct {
	file      *fileSpec
	pos       Position
	sid       int
	sidPos    Position
	rule      Rule
	cond      *yaml.Node
	wireshark bool // cond is a display filter
	message   *yaml.Node
	respPos   *Position
	distinct  *yaml.Node
	except    []exceptionSpec
	exceptPos Position
	set       []nameRef
	unset     []nameRef
	toggle    []nameRef
	// override replaces the rule of the same sid loaded before.
	override    bool
	overridePos Position
}

type suppSpec struct {
	s      Suppress
	sidPos Position
}

var (
	ruleKeys      = []string{"sid", "rev", "name", "description", "severity", "category", "tags", "enabled", "condition", "wireshark", "actions", "response", "message", "threshold", "dedup", "exceptions", "flowbits", "tests", "override"}
	topKeys       = []string{"lists", "macros", "rules", "suppress", "disable"}
	responseKeys  = []string{"target", "strafe"}
	thresholdKeys = []string{"type", "track", "count", "seconds", "distinct"}
	dedupKeys     = []string{"track", "seconds"}
	exceptionKeys = []string{"field", "values"}
	flowbitsKeys  = []string{"set", "unset", "toggle"}
	testKeys      = []string{"capture", "frames", "count"}
	suppressKeys  = []string{"sid", "track", "ip"}

	// the words each key accepts, in the order errors list them
	thresholdTypes = []ThresholdType{TypeLimit, TypeThreshold, TypeBoth}
	tracks         = []Track{BySrc, ByDst, ByBoth, ByFlow, ByRule}
	suppressTracks = []SuppressTrack{SuppressBySrc, SuppressByDst, SuppressByEither}
	targets        = []Target{TargetBoth, TargetSource, TargetDest}
	actionWords    = []string{"alert", "reset"}

	identRe   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	flowbitRe = regexp.MustCompile(`^[A-Za-z0-9_.\-]+$`)
	yamlErrRe = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)
)

// maxSeconds is the largest window, in seconds, a time.Duration holds.
const maxSeconds = math.MaxInt64 / int64(time.Second)

type decoder struct {
	f *fileSpec
	e *errs
}

func (d *decoder) pos(n *yaml.Node) Position {
	return Position{File: d.f.name, Line: n.Line, Col: n.Column}
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	d.e.add(d.pos(n), format, args...)
}

// resolve follows an alias.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 8; i++ {
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "null"
		case "!!str":
			return strconv.Quote(n.Value)
		}
		return n.Value
	}
	return "an alias"
}

// mapping calls fn for each key of n, reporting keys outside allowed (with
// a did-you-mean) and duplicates.
func (d *decoder) mapping(n *yaml.Node, what string, allowed []string, fn func(key string, k, v *yaml.Node)) bool {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		if n != nil {
			d.errorf(n, "%s must be a mapping, got %s", what, kindName(n))
		}
		return false
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, "%s: keys must be words", what)
			continue
		}
		if allowed != nil && !contains(allowed, k.Value) {
			d.errorf(k, "unknown key %q in %s%s", k.Value, what, didYouMean(k.Value, allowed))
			continue
		}
		if seen[k.Value] {
			d.errorf(k, "duplicate key %q in %s", k.Value, what)
			continue
		}
		seen[k.Value] = true
		if v == nil {
			continue
		}
		fn(k.Value, k, v)
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (d *decoder) str(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.errorf(n, "%s must be a string, got %s", what, kindName(n))
		return "", false
	}
	return n.Value, true
}

func (d *decoder) integer(n *yaml.Node, what string) (int, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		v, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		if err == nil && v >= -1<<53 && v <= 1<<53 {
			return int(v), true
		}
	}
	d.errorf(n, "%s must be an integer, got %s", what, kindName(n))
	return 0, false
}

func (d *decoder) boolean(n *yaml.Node, what string) (bool, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		var b bool
		if n.Decode(&b) == nil {
			return b, true
		}
	}
	d.errorf(n, "%s must be true or false, got %s", what, kindName(n))
	return false, false
}

// word decodes a string that must be one of choices.
func (d *decoder) word(n *yaml.Node, what string, choices []string) (string, bool) {
	s, ok := d.str(n, what)
	if !ok {
		return "", false
	}
	if !contains(choices, s) {
		hint := didYouMean(s, choices)
		if hint == "" {
			hint = " (want " + strings.Join(choices, ", ") + ")"
		}
		d.errorf(n, "unknown %s %q%s", what, s, hint)
		return "", false
	}
	return s, true
}

// enum decodes a word that must be the String of one of choices.
func enum[T fmt.Stringer](d *decoder, n *yaml.Node, what string, choices []T) (T, bool) {
	names := make([]string, len(choices))
	for i, c := range choices {
		names[i] = c.String()
	}
	var zero T
	w, ok := d.word(n, what, names)
	if !ok {
		return zero, false
	}
	return parseEnum(w, choices)
}

// seq calls fn for each item of a list.
func (d *decoder) seq(n *yaml.Node, what string, fn func(item *yaml.Node)) {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "%s must be a list, got %s", what, kindName(n))
		return
	}
	for _, it := range n.Content {
		if it = resolve(it); it != nil {
			fn(it)
		}
	}
}

func (d *decoder) strings(n *yaml.Node, what string) []string {
	var out []string
	d.seq(n, what, func(it *yaml.Node) {
		if s, ok := d.str(it, what+" item"); ok {
			out = append(out, s)
		}
	})
	return out
}

// parseFile decodes one rule file. Errors go to e; what could be decoded is
// returned even when there are errors, so that every error is found.
func parseFile(f *fileSpec, data []byte, e *errs) {
	f.lines = strings.Split(string(data), "\n")
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		msg := err.Error()
		if m := yamlErrRe.FindStringSubmatch(msg); m != nil {
			msg = m[2]
		}
		line, col := syntaxErrorAt(f.lines)
		e.add(Position{File: f.name, Line: line, Col: col}, "yaml: %s", msg)
		return
	}
	if len(root.Content) == 0 {
		return // empty file
	}
	d := &decoder{f: f, e: e}
	d.mapping(root.Content[0], "rule file", topKeys, func(key string, k, v *yaml.Node) {
		switch key {
		case "lists":
			d.mapping(v, "lists", nil, func(name string, k, v *yaml.Node) {
				l := &listSpec{name: name, pos: d.pos(k)}
				d.seq(v, "list "+name, func(it *yaml.Node) {
					if it.Kind != yaml.ScalarNode || it.Tag == "!!null" {
						d.errorf(it, "list %s: items must be numbers or strings, got %s", name, kindName(it))
						return
					}
					l.items = append(l.items, it)
				})
				f.lists = append(f.lists, l)
			})
		case "macros":
			d.mapping(v, "macros", nil, func(name string, k, v *yaml.Node) {
				if _, ok := d.str(v, "macro "+name); !ok {
					return
				}
				f.macros = append(f.macros, &macroSpec{name: name, pos: d.pos(k), cond: v, file: f})
			})
		case "rules":
			d.seq(v, "rules", func(it *yaml.Node) {
				if r := d.rule(it); r != nil {
					f.rules = append(f.rules, r)
				}
			})
		case "suppress":
			d.seq(v, "suppress", func(it *yaml.Node) { d.suppress(it) })
		case "disable":
			d.seq(v, "disable", func(it *yaml.Node) {
				f.disable = append(f.disable, sidRef{sid: d.positive(it, "disable sid"), pos: d.pos(it)})
			})
		}
	})
}

func (d *decoder) rule(n *yaml.Node) *ruleSpec {
	r := &ruleSpec{file: d.f, pos: d.pos(n)}
	r.rule = Rule{Rev: 1, Severity: Medium, Enabled: true, Pos: r.pos}
	var hasName, hasSID bool
	ok := d.mapping(n, "rule", ruleKeys, func(key string, k, v *yaml.Node) {
		rl := &r.rule
		switch key {
		case "sid":
			hasSID = true
			r.sidPos = d.pos(v)
			if sid, ok := d.integer(v, "sid"); ok {
				if sid <= 0 {
					d.errorf(v, "sid must be greater than 0, got %d", sid)
					return
				}
				r.sid = sid
			}
		case "rev":
			if rev, ok := d.integer(v, "rev"); ok {
				if rev <= 0 {
					d.errorf(v, "rev must be greater than 0, got %d", rev)
					return
				}
				rl.Rev = rev
			}
		case "name":
			hasName = true
			rl.Name, _ = d.str(v, "name")
		case "description":
			rl.Description, _ = d.str(v, "description")
		case "category":
			rl.Category, _ = d.str(v, "category")
		case "severity":
			if w, ok := d.word(v, "severity", severityNames); ok {
				rl.Severity, _ = ParseSeverity(w)
			}
		case "tags":
			rl.Tags = d.strings(v, "tags")
		case "enabled":
			rl.Enabled, _ = d.boolean(v, "enabled")
		case "override":
			r.override, _ = d.boolean(v, "override")
			r.overridePos = d.pos(k)
		case "condition", "wireshark":
			if _, ok := d.str(v, key); !ok {
				return
			}
			if r.cond != nil {
				d.errorf(k, "a rule gives condition or wireshark, not both")
				return
			}
			r.cond, r.wireshark = v, key == "wireshark"
			rl.Wireshark = r.wireshark
		case "actions":
			d.seq(v, "actions", func(it *yaml.Node) {
				if w, ok := d.word(it, "action", actionWords); ok && w == "reset" {
					rl.Reset = true
				}
			})
		case "response":
			p := d.pos(k)
			r.respPos = &p
			d.mapping(v, "response", responseKeys, func(key string, k, v *yaml.Node) {
				switch key {
				case "target":
					rl.Response.Target, _ = enum(d, v, "response target", targets)
				case "strafe":
					if s, ok := d.integer(v, "strafe"); ok {
						if s < 0 || s > MaxStrafe {
							d.errorf(v, "strafe must be 0..%d, got %d", MaxStrafe, s)
							return
						}
						rl.Response.Strafe = s
					}
				}
			})
		case "message":
			if _, ok := d.str(v, "message"); ok {
				r.message = v
			}
		case "threshold":
			rl.Threshold = d.threshold(r, k, v)
		case "dedup":
			dd := &Dedup{}
			var hasTrack, hasSec bool
			d.mapping(v, "dedup", dedupKeys, func(key string, k, v *yaml.Node) {
				switch key {
				case "track":
					hasTrack = true
					dd.Track, _ = enum(d, v, "dedup track", tracks)
				case "seconds":
					hasSec = true
					dd.Window = d.seconds(v, "dedup seconds")
				}
			})
			if !hasTrack || !hasSec {
				d.errorf(v, "dedup needs track and seconds")
			}
			rl.Dedup = dd
		case "exceptions":
			r.exceptPos = d.pos(k)
			d.seq(v, "exceptions", func(it *yaml.Node) {
				ex := exceptionSpec{pos: d.pos(it)}
				d.mapping(it, "exception", exceptionKeys, func(key string, k, v *yaml.Node) {
					switch key {
					case "field":
						if s, ok := d.str(v, "exception field"); ok {
							ex.field, ex.fNode = s, v
						}
					case "values":
						d.seq(v, "exception values", func(x *yaml.Node) {
							if x.Kind != yaml.ScalarNode || x.Tag == "!!null" {
								d.errorf(x, "exception values must be numbers or strings, got %s", kindName(x))
								return
							}
							ex.values = append(ex.values, x)
						})
					}
				})
				if ex.fNode == nil || len(ex.values) == 0 {
					d.errorf(it, "an exception needs a field and at least one value")
					return
				}
				r.except = append(r.except, ex)
			})
		case "flowbits":
			d.mapping(v, "flowbits", flowbitsKeys, func(key string, k, v *yaml.Node) {
				var refs []nameRef
				d.seq(v, "flowbits "+key, func(it *yaml.Node) {
					s, ok := d.str(it, "flowbit")
					if !ok {
						return
					}
					if !flowbitRe.MatchString(s) {
						d.errorf(it, "bad flowbit name %q (letters, digits, _ . - only)", s)
						return
					}
					refs = append(refs, nameRef{s, d.pos(it)})
				})
				switch key {
				case "set":
					r.set = refs
				case "unset":
					r.unset = refs
				case "toggle":
					r.toggle = refs
				}
			})
		case "tests":
			d.seq(v, "tests", func(it *yaml.Node) {
				if t, ok := d.test(it); ok {
					rl.Tests = append(rl.Tests, t)
				}
			})
		}
	})
	if !ok {
		return nil
	}
	if !hasSID {
		d.errorf(n, "rule has no sid")
	}
	if !hasName {
		d.errorf(n, "rule %s has no name", sidText(r.sid))
	} else if r.rule.Name == "" {
		// an empty name was given: reported at the rule too
		d.errorf(n, "rule %s has an empty name", sidText(r.sid))
	}
	if r.cond == nil {
		d.errorf(n, "rule %s has no condition (or wireshark filter)", sidText(r.sid))
	}
	if r.respPos != nil && !r.rule.Reset {
		d.e.add(*r.respPos, "response is only used with actions: [reset]")
	}
	r.rule.SID = r.sid
	return r
}

func sidText(sid int) string {
	if sid == 0 {
		return "(no sid)"
	}
	return strconv.Itoa(sid)
}

func (d *decoder) positive(n *yaml.Node, what string) int {
	v, ok := d.integer(n, what)
	if !ok {
		return 0
	}
	if v <= 0 {
		d.errorf(n, "%s must be greater than 0, got %d", what, v)
		return 0
	}
	return v
}

// seconds decodes a window length: a whole number of seconds, greater
// than 0 and small enough for a time.Duration.
func (d *decoder) seconds(n *yaml.Node, what string) time.Duration {
	v := d.positive(n, what)
	if int64(v) > maxSeconds {
		d.errorf(n, "%s must be at most %d, got %d", what, maxSeconds, v)
		return 0
	}
	return time.Duration(v) * time.Second
}

func (d *decoder) threshold(r *ruleSpec, k, n *yaml.Node) *Threshold {
	t := &Threshold{}
	seen := map[string]bool{}
	var count *yaml.Node
	ok := d.mapping(n, "threshold", thresholdKeys, func(key string, k, v *yaml.Node) {
		seen[key] = true
		switch key {
		case "type":
			t.Type, _ = enum(d, v, "threshold type", thresholdTypes)
		case "track":
			t.Track, _ = enum(d, v, "threshold track", tracks)
		case "count":
			t.Count, count = d.positive(v, "threshold count"), v
		case "seconds":
			t.Window = d.seconds(v, "threshold seconds")
		case "distinct":
			if s, ok := d.str(v, "threshold distinct"); ok {
				t.DistinctName = s
				r.distinct = v
			}
		}
	})
	if r.distinct != nil && t.Count > MaxDistinct {
		d.errorf(count, "threshold count must be at most %d with distinct, got %d", MaxDistinct, t.Count)
	}
	if ok {
		var missing []string
		for _, key := range []string{"type", "track", "count", "seconds"} {
			if !seen[key] {
				missing = append(missing, key)
			}
		}
		if len(missing) > 0 {
			d.errorf(k, "threshold needs %s", strings.Join(missing, ", "))
		}
	}
	return t
}

func (d *decoder) test(n *yaml.Node) (Test, bool) {
	t := Test{Pos: d.pos(n)}
	var hasFrames bool
	d.mapping(n, "test", testKeys, func(key string, k, v *yaml.Node) {
		switch key {
		case "capture":
			if s, ok := d.str(v, "capture"); ok {
				t.Capture = d.f.join(d.f.dir, s)
				if d.f.exists != nil && !d.f.exists(t.Capture) {
					d.errorf(v, "capture %s not found", t.Capture)
				}
			}
		case "frames":
			hasFrames = true
			t.Frames = []int{}
			d.seq(v, "frames", func(it *yaml.Node) {
				if f := d.positive(it, "frame number"); f > 0 {
					t.Frames = append(t.Frames, f)
				}
			})
		case "count":
			if c, ok := d.integer(v, "count"); ok {
				if c < 0 {
					d.errorf(v, "count must be 0 or more, got %d", c)
				}
				t.Count, t.HasCount = c, true
			}
		}
	})
	if t.Capture == "" {
		d.errorf(n, "a test needs a capture")
		return t, false
	}
	if hasFrames == t.HasCount {
		d.errorf(n, "a test needs either frames or count")
		return t, false
	}
	return t, true
}

func (d *decoder) suppress(n *yaml.Node) {
	s := &suppSpec{s: Suppress{Pos: d.pos(n)}}
	var hasSID, hasTrack, hasIP bool
	d.mapping(n, "suppress entry", suppressKeys, func(key string, k, v *yaml.Node) {
		switch key {
		case "sid":
			hasSID = true
			s.sidPos = d.pos(v)
			s.s.SID = d.positive(v, "sid")
		case "track":
			hasTrack = true
			s.s.Track, _ = enum(d, v, "suppress track", suppressTracks)
		case "ip":
			hasIP = true
			if ip, ok := d.str(v, "ip"); ok {
				pfx, err := parsePrefix(ip)
				if err != nil {
					d.errorf(v, "bad address or CIDR %q", ip)
					return
				}
				s.s.Net = pfx
			}
		}
	})
	switch {
	case !hasSID:
		d.errorf(n, "suppress entry has no sid")
	case hasTrack != hasIP:
		d.errorf(n, "suppress entry needs both track and ip, or neither")
	}
	d.f.supp = append(d.f.supp, s)
}

// syntaxErrorAt finds where a YAML syntax error is: the first line whose
// inclusion makes the prefix of the file fail to parse (yaml's own message
// names the line where the enclosing block started, 0-based). The column
// is that line's first non-blank character.
func syntaxErrorAt(lines []string) (int, int) {
	fails := func(n int) bool {
		var root yaml.Node
		return yaml.Unmarshal([]byte(strings.Join(lines[:n], "\n")), &root) != nil
	}
	lo, hi := 1, len(lines) // the whole file fails
	for lo < hi {
		mid := (lo + hi) / 2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	t := lines[lo-1]
	return lo, len(t) - len(strings.TrimLeft(t, " \t")) + 1
}
