package rules

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Sentinel errors, branched on with errors.Is.
var (
	// ErrInvalid is wrapped by every [ErrorList]: the rule files are wrong.
	ErrInvalid = errors.New("rules: invalid rule files")
	// ErrEval wraps a condition's run-time failure (see [Evaluator.Eval]).
	ErrEval = errors.New("rules: evaluation failed")
)

// Position is a place in a rule file: 1-based line and column.
type Position struct {
	File      string
	Line, Col int
}

// String formats p as "file:line:col".
func (p Position) String() string {
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Error is one problem in a rule file, at a precise position, or with
// Line 0 a problem of the file or folder as a whole (it cannot be read,
// a folder holds no rule file).
type Error struct {
	File      string
	Line, Col int
	Msg       string
}

// Error formats e as "file:line:col: message", the form `vigil lint`
// prints, or "file: message" when e has no line.
func (e *Error) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// ErrorList holds every error found while loading rule files, sorted by
// file, line and column. Load and Parse return a non-nil ErrorList or nil.
type ErrorList []*Error

// Error lists one error per line.
func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Is reports that an ErrorList is an [ErrInvalid].
func (l ErrorList) Is(target error) bool { return target == ErrInvalid }

func (l ErrorList) sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// errs collects errors while loading.
type errs struct {
	list ErrorList
}

func (e *errs) add(p Position, format string, args ...any) {
	e.list = append(e.list, &Error{File: p.File, Line: p.Line, Col: p.Col, Msg: fmt.Sprintf(format, args...)})
}

// result returns the sorted, deduplicated list, or nil.
func (e *errs) result() error {
	if len(e.list) == 0 {
		return nil
	}
	e.list.sort()
	out := e.list[:0]
	for i, x := range e.list {
		if i > 0 && *x == *e.list[i-1] {
			continue
		}
		out = append(out, x)
	}
	return out
}
