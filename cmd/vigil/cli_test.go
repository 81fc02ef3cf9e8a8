package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestExitCodes: help exits 0 for the tool and every command, an unknown
// command or no command exits 2, and lint exits 1 with file:line:col.
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	broken := writeFile(t, dir, "broken.yaml", everyPacket+"    bogus: 1\n")
	good := writeFile(t, dir, "good.yaml", everyPacket)
	type tc struct {
		args   []string
		code   int
		stdout *regexp.Regexp
		stderr *regexp.Regexp
	}
	cases := []tc{
		{[]string{"--help"}, 0, regexp.MustCompile(`Commands:`), nil},
		{[]string{"help"}, 0, regexp.MustCompile(`Commands:`), nil},
		{nil, 2, regexp.MustCompile(`Usage: vigil COMMAND`), nil},
		{[]string{"frobnicate"}, 2, nil, regexp.MustCompile(`unknown command "frobnicate"`)},
		{[]string{"run", "--no-such-flag"}, 2, nil, regexp.MustCompile(`flag provided but not defined`)},
		{[]string{"lint", broken}, 1, regexp.MustCompile(`broken\.yaml:7:5: unknown key "bogus"`), nil},
		{[]string{"lint", good}, 0, nil, regexp.MustCompile(`1 rules OK`)},
		{[]string{"test", "--rules", broken, captures + "sv-telnet.pcap"}, 1, nil, regexp.MustCompile(`broken\.yaml:7:5: `)},
		{[]string{"run", "--rules", broken, "--listen", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--data-dir", dir}, 1, nil, regexp.MustCompile(`broken\.yaml:7:5: `)},
	}
	for _, c := range commands {
		cases = append(cases, tc{[]string{c.name, "--help"}, 0, nil, regexp.MustCompile(`Usage: vigil ` + c.name)})
	}
	for _, c := range cases {
		name := strings.Join(c.args, " ")
		if len(c.args) > 1 {
			name = c.args[0] + " " + filepath.Base(c.args[len(c.args)-1])
		}
		t.Run(name, func(t *testing.T) {
			p := vigil(t, c.args...)
			if code := p.wait(30 * time.Second); code != c.code {
				t.Errorf("vigil %v exited %d, want %d\nstdout: %s\nstderr: %s", c.args, code, c.code, p.stdout.String(), p.stderr.String())
			}
			if c.stdout != nil && !c.stdout.MatchString(p.stdout.String()) {
				t.Errorf("stdout does not match %q:\n%s", c.stdout, p.stdout.String())
			}
			if c.stderr != nil && !c.stderr.MatchString(p.stderr.String()) {
				t.Errorf("stderr does not match %q:\n%s", c.stderr, p.stderr.String())
			}
		})
	}
}

// TestRunConfigFile: a YAML config sets the addresses and the data folder;
// a flag overrides one of them.
func TestRunConfigFile(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfgListen := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	flagListen := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	natsPort := freePort(t)
	cfg := writeFile(t, dir, "vigil.yaml", fmt.Sprintf("listen: %s\nnats_listen: 127.0.0.1:%d\ndata_dir: %s\nrules: [%s]\n",
		cfgListen, natsPort, data, writeFile(t, dir, "r.yaml", smallRules)))
	d := vigil(t, "run", "--config", cfg, "--listen", flagListen)
	m := d.waitStderr(regexp.MustCompile(`msg="vigil running" listen=(\S+) rules=(\d+) nats=(\S+)`), 20*time.Second)
	if m[1] != flagListen {
		t.Errorf("listening on %s, want the flag's %s (the config said %s)", m[1], flagListen, cfgListen)
	}
	if m[2] != "3" {
		t.Errorf("%s rules loaded, want the config's 3", m[2])
	}
	if want := fmt.Sprintf("nats://127.0.0.1:%d", natsPort); m[3] != want {
		t.Errorf("NATS at %s, want the config's %s", m[3], want)
	}
	if _, err := os.Stat(filepath.Join(data, "jetstream")); err != nil {
		t.Errorf("the config's data_dir was not used: %v", err)
	}
	d.stop(30 * time.Second)

	bad := writeFile(t, dir, "bad.yaml", "listen: 127.0.0.1:0\nlisten_typo: 1\n")
	p := vigil(t, "run", "--config", bad)
	if code := p.wait(10 * time.Second); code != 1 || !strings.Contains(p.stderr.String(), "bad.yaml") {
		t.Errorf("an unknown config key: exit %d, stderr %q; want 1 naming the file", code, p.stderr.String())
	}
}
