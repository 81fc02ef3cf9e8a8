package rules

import (
	"fmt"

	"github.com/expr-lang/expr/vm"

	"github.com/vigil-ids/vigil/rules/field"
)

// Evaluator runs rule conditions. It holds a reusable expr VM, so each
// worker goroutine needs its own; the zero value is ready to use. An
// Evaluator must not be used by two goroutines at once.
type Evaluator struct {
	vm vm.VM
}

// Eval reports whether p matches r (exceptions included). A condition
// that fails at run time (or panics inside expr) returns false and an
// error wrapping [ErrEval]; the caller counts it and goes on. Conditions
// that the closure path covers (see the package doc) run without
// allocating.
func (e *Evaluator) Eval(r *Rule, p *field.Packet) (match bool, err error) {
	if r.fast != nil {
		return r.fast(p), nil
	}
	return e.evalVM(r, p)
}

// evalVM runs r.Program on the expr VM.
func (e *Evaluator) evalVM(r *Rule, p *field.Packet) (match bool, err error) {
	defer func() {
		if x := recover(); x != nil {
			match, err = false, fmt.Errorf("%w: sid %d: %v", ErrEval, r.SID, x)
		}
	}()
	out, err := e.vm.Run(r.Program, p)
	if err != nil {
		return false, fmt.Errorf("%w: sid %d: %w", ErrEval, r.SID, err)
	}
	b, _ := out.(bool)
	return b, nil
}
