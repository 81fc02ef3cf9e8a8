package gen_test

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/vigil-ids/vigil/tools/gen"
)

var update = flag.Bool("update", false, "rewrite testdata/peer from gen.PeerRules")

// peerDir holds the rule sets `make bench` compares with Suricata.
const peerDir = "../../testdata/peer"

// TestPeerRules: the committed peer rule sets are what PeerRules makes
// (go test ./tools/gen -run PeerRules -update rewrites them), and, when
// suricata is installed, Suricata loads the Suricata twin. That every
// Vigil rule of them is indexed is rules/index's TestPeerRulesIndexed.
func TestPeerRules(t *testing.T) {
	if _, _, err := gen.PeerRules("nocase", 1, 1); err == nil {
		t.Error("an unknown form was accepted")
	}
	suricata, _ := exec.LookPath("suricata")
	for _, form := range gen.PeerForms {
		for _, n := range []int{100, 1000} {
			v, s, err := gen.PeerRules(form, n, 1)
			if err != nil {
				t.Fatal(err)
			}
			base := filepath.Join(peerDir, fmt.Sprintf("%s-%d", form, n))
			for _, f := range []struct{ path, text string }{{base + ".yaml", v}, {base + ".rules", s}} {
				if *update {
					if err := os.WriteFile(f.path, []byte(f.text), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				b, err := os.ReadFile(f.path)
				if err != nil || string(b) != f.text {
					t.Errorf("%s is not what PeerRules makes (%v): run go test ./tools/gen -run PeerRules -update", f.path, err)
				}
			}
			if suricata != "" && n == 100 {
				out, err := exec.Command(suricata, "-T", "-S", base+".rules", "-l", t.TempDir()).CombinedOutput()
				if err != nil {
					t.Errorf("suricata -T %s: %v\n%s", base+".rules", err, out)
				}
			}
		}
	}
}
