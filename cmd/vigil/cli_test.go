package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
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
		{[]string{"--version"}, 0, regexp.MustCompile(`^vigil \S+, go1\.\d+\S*, alert schema_version 3\n$`), nil},
		{[]string{"version"}, 0, regexp.MustCompile(`^vigil \S+, go1\.\d+\S*, alert schema_version 3\n$`), nil},
		{nil, 2, regexp.MustCompile(`Usage: vigil COMMAND`), nil},
		{[]string{"frobnicate"}, 2, nil, regexp.MustCompile(`unknown command "frobnicate"`)},
		{[]string{"run", "--no-such-flag"}, 2, nil, regexp.MustCompile(`flag provided but not defined`)},
		{[]string{"lint", broken}, 1, regexp.MustCompile(`broken\.yaml:7:5: unknown key "bogus"`), nil},
		{[]string{"lint", good}, 0, nil, regexp.MustCompile(`1 rules OK`)},
		{[]string{"filter", "tcp.port == 23 and frame.number < 3", captures + "sv-telnet.pcap"}, 0, regexp.MustCompile(`^1\n2\n$`), nil},
		{[]string{"filter", "tcp.dstprt == 23", captures + "sv-telnet.pcap"}, 1, nil, regexp.MustCompile(`filter:1:1: unknown field "tcp.dstprt" \(did you mean "tcp.dstport"\?\)`)},
		{[]string{"test", "--rules", broken, captures + "sv-telnet.pcap"}, 1, nil, regexp.MustCompile(`broken\.yaml:7:5: `)},
		// A capture that cannot be read: its error alone, no empty table.
		{[]string{"test", "--rules", good, filepath.Join(dir, "nope.pcap")}, 3, regexp.MustCompile(`^$`),
			regexp.MustCompile(`^\S*nope\.pcap: not read: capture: open \S*nope\.pcap: no such file or directory\n$`)},
		{[]string{"run", "--rules", broken, "--listen", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--data-dir", dir}, 1, nil, regexp.MustCompile(`broken\.yaml:7:5: `)},
	}
	// Arguments are checked before any connection (nothing listens on port 1).
	cases = append(cases,
		tc{[]string{"alerts", "--nats", "nats://127.0.0.1:1", "--severity", "hgih"}, 1, nil,
			regexp.MustCompile(`^vigil: --severity: unknown severity "hgih" \(valid: critical, high, medium, low, info\)\n$`)},
		tc{[]string{"alerts", "--nats", "nats://127.0.0.1:1", "--since", "yesterday"}, 1, nil, regexp.MustCompile(`^vigil: --since: .*"yesterday" is neither a duration`)},
		tc{[]string{"alerts", "--nats", "nats://127.0.0.1:1", "--since", "-5m"}, 1, nil, regexp.MustCompile(`^vigil: --since: .*"-5m" is a negative duration`)},
		tc{[]string{"alerts", "--nats", "nats://127.0.0.1:1", "--sid", "-5"}, 1, nil, regexp.MustCompile(`^vigil: --sid: -5 is not a sid`)},
		tc{[]string{"alerts", "--nats", "nats://127.0.0.1:1", "--last", "-3"}, 1, nil, regexp.MustCompile(`^vigil: --last: -3 is not a number of alerts`)},
		tc{[]string{"replay", "--to", "localhost", captures + "sv-telnet.pcap"}, 1, nil, regexp.MustCompile(`^vigil: replay: Vigil's address "localhost" is not HOST:PORT with a port from 1 to 65535 \(e\.g\. 127\.0\.0\.1:5555\)\n$`)},
		tc{[]string{"replay", "--to", "127.0.0.1:99999", captures + "sv-telnet.pcap"}, 1, nil, regexp.MustCompile(`^vigil: replay: Vigil's address "127\.0\.0\.1:99999" is not HOST:PORT`)},
		tc{[]string{"replay", "--to", "127.0.0.1:1", filepath.Join(dir, "nope.pcap")}, 1, nil, regexp.MustCompile(`^vigil: replay: .*nope\.pcap.*\n$`)},
	)
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

// TestRunConfigFile: a YAML config sets the addresses and the data folder
// (keys as the flag names, or in the older snake_case); a VIGIL_<FLAG>
// variable overrides the file, and a flag overrides both.
func TestRunConfigFile(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfgListen := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	flagListen := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	natsPort := freePort(t)
	cfg := writeFile(t, dir, "vigil.yaml", fmt.Sprintf("listen: %s\nnats-listen: 127.0.0.1:%d\ndata_dir: %s\nrules: [%s]\n",
		cfgListen, natsPort, filepath.Join(dir, "file-data"), writeFile(t, dir, "r.yaml", smallRules)))
	t.Setenv("VIGIL_DATA_DIR", data)
	t.Setenv("VIGIL_LISTEN", cfgListen)
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
		t.Errorf("VIGIL_DATA_DIR was not used: %v", err)
	}
	d.stop(30 * time.Second)

	bad := writeFile(t, dir, "bad.yaml", "listen: 127.0.0.1:0\nlisten_typo: 1\n")
	p := vigil(t, "run", "--config", bad)
	if code := p.wait(10 * time.Second); code != 1 || !strings.Contains(p.stderr.String(), "bad.yaml:2:1: unknown key \"listen_typo\"") {
		t.Errorf("an unknown config key: exit %d, stderr %q; want 1 naming file:line:col and the key", code, p.stderr.String())
	}
}

// runCLI runs the command in-process and returns its stdout and stderr.
func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), &cliEnv{stdout: &out, stderr: &errOut}, args)
	return out.String(), errOut.String(), err
}

// TestFlagsAfterArguments checks that flags may follow the positional
// arguments and that "--" ends the flags.
func TestFlagsAfterArguments(t *testing.T) {
	for _, tc := range []struct {
		args []string
		rate float64
		rest []string
	}{
		{[]string{"a.pcap", "--rate", "5", "b.pcap"}, 5, []string{"a.pcap", "b.pcap"}},
		{[]string{"--rate", "7", "a.pcap"}, 7, []string{"a.pcap"}},
		{[]string{"a.pcap", "--", "--rate", "b"}, 0, []string{"a.pcap", "--rate", "b"}},
		{nil, 0, nil},
	} {
		fs := newFlags(&cliEnv{stdout: io.Discard, stderr: io.Discard}, "x", "", "")
		rate := fs.Float64("rate", 0, "")
		if err := parse(fs, tc.args, 0, -1); err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		if *rate != tc.rate || !slices.Equal(fs.Args(), tc.rest) && len(tc.rest)+len(fs.Args()) > 0 {
			t.Errorf("%q: rate %v args %q, want %v %q", tc.args, *rate, fs.Args(), tc.rate, tc.rest)
		}
	}
}

// TestEnvFlags: a flag not given takes VIGIL_<FLAG>; a flag given wins;
// a bad value is an error naming the variable.
func TestEnvFlags(t *testing.T) {
	for _, tc := range []struct {
		args, env string
		want      float64
		err       string
	}{
		{"", "9", 9, ""},
		{"--max-rate=5", "9", 5, ""},
		{"", "", 0, ""},
		{"", "fast", 0, `VIGIL_MAX_RATE="fast": invalid value for --max-rate`},
	} {
		t.Run(tc.args+" "+tc.env, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv("VIGIL_MAX_RATE", tc.env)
			}
			fs := newFlags(&cliEnv{stdout: io.Discard, stderr: io.Discard}, "x", "", "")
			rate := fs.Float64("max-rate", 0, "")
			err := parse(fs, strings.Fields(tc.args), 0, -1)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("error %v, want one with %q", err, tc.err)
				}
				return
			}
			if err != nil || *rate != tc.want {
				t.Errorf("rate %v, %v; want %v", *rate, err, tc.want)
			}
		})
	}
}

// TestArgumentCount: parse refuses too few or too many positional
// arguments, flags and "--" not counted.
func TestArgumentCount(t *testing.T) {
	for _, tc := range []struct {
		args             []string
		minArgs, maxArgs int
		ok               bool
	}{
		{nil, 1, -1, false},
		{[]string{"--rate", "5"}, 1, -1, false},
		{[]string{"a", "--rate", "5"}, 1, -1, true},
		{[]string{"a", "b", "c"}, 1, -1, true},
		{[]string{"a", "--", "b"}, 2, 2, true},
		{[]string{"a", "b", "c"}, 2, 2, false},
		{[]string{"a"}, 2, 2, false},
		{nil, 0, -1, true},
	} {
		fs := newFlags(&cliEnv{stdout: io.Discard, stderr: io.Discard}, "x", "", "")
		fs.Float64("rate", 0, "")
		err := parse(fs, tc.args, tc.minArgs, tc.maxArgs)
		if tc.ok && err != nil || !tc.ok && !errors.Is(err, errUsage) {
			t.Errorf("%q with %d..%d arguments: %v", tc.args, tc.minArgs, tc.maxArgs, err)
		}
	}
}

// TestTestCommand checks the wiring of `vigil test`'s flags (the run itself
// is tested in package offline): --rules, --save-injected, --quiet and the
// summary on stderr.
func TestTestCommand(t *testing.T) {
	dir := t.TempDir()
	rulesPath := writeFile(t, dir, "reset.yaml", "rules:\n  - sid: 1\n    name: reset telnet data\n    condition: tcp.dstport == 23 && tcp.len > 0\n    actions: [reset]\n")
	saved := filepath.Join(dir, "sent.pcap")
	stdout, stderr, err := runCLI(t, "test", "--quiet", "--rules", rulesPath, captures+"sv-telnet.pcap", "--save-injected", saved)
	if err != nil || stderr != "" {
		t.Fatalf("%v, stderr %q", err, stderr)
	}
	alerts := parseAlerts(t, stdout)
	if len(alerts) == 0 || alerts[0].SID != 1 || alerts[0].Action != "blocked" {
		t.Fatalf("alerts: %s", stdout)
	}
	if n := len(readFrames(t, saved)); n == 0 || n > len(alerts) {
		t.Errorf("%d frames saved for %d blocked alerts", n, len(alerts))
	}
	_, stderr, err = runCLI(t, "test", "--rules", rulesPath, captures+"sv-telnet.pcap")
	if err != nil || !strings.Contains(stderr, " reset telnet data\n") || !strings.Contains(stderr, "92 packets, ") {
		t.Errorf("summary: %v\n%s", err, stderr)
	}
}
