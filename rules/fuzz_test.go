package rules

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vigil-ids/vigil/rules/field"
)

// FuzzParse feeds arbitrary bytes to Parse: it must never panic, must
// return either a Set or an ErrorList, and every compiled rule must
// evaluate without panicking.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/lint/*.yaml")
	more, _ := filepath.Glob("testdata/lint/*/*.y*ml")
	for _, name := range append(files, more...) {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(evalHeader + "rules:\n  - sid: 7\n    name: t\n    condition: admin_syn && frame contains hex(\"00 11\")\n    message: \"{{src_ip}}\"\n"))
	f.Add([]byte(rule1(">\n      tcp &&\n      tcp.dstprt == 1")))
	f.Add([]byte("macros:\n  a: &x b\n  b: *x\n"))
	f.Add([]byte(rule1(`"byte_at(payload, 1) == 1 && u32(frame, 0) > 0"`) + "    exceptions:\n      - {field: ip.src, values: [\"10.0.0.0/8\"]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := Parse("f.yaml", data)
		if (set == nil) == (err == nil) {
			t.Fatalf("set %v and error %v", set, err)
		}
		if err != nil {
			if _, ok := err.(ErrorList); !ok {
				t.Fatalf("error %T", err)
			}
			return
		}
		var ev Evaluator
		p := &field.Packet{}
		p.Reset()
		q := telnetSYN()
		for _, r := range set.Rules {
			for _, pkt := range []*field.Packet{p, q} {
				got, err := ev.Eval(r, pkt)
				if vm, vmErr := ev.evalVM(r, pkt); r.fast != nil && (vm != got || vmErr != nil || err != nil) {
					t.Fatalf("%s: closures %v, VM %v, %v", r.Condition, got, vm, vmErr)
				}
			}
			if r.Message != nil {
				_ = r.Message.Render(p)
			}
		}
	})
}
