package main

import (
	"bytes"
	"context"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// runCLI runs the command in-process and returns its stdout and stderr.
func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), &cliEnv{stdout: &out, stderr: &errOut}, args)
	return out.String(), errOut.String(), err
}

// TestTestIsDeterministic runs `vigil test` twice over the same captures:
// the output must be byte-identical, and not empty.
func TestTestIsDeterministic(t *testing.T) {
	args := []string{"test", "../../testdata/captures/zeek-ftp-bruteforce.pcap", "../../testdata/captures/sv-http-testmyids.ncf", "../../testdata/captures/sv-syn-flood.pcap"}
	first, summary, err := runCLI(t, args...)
	if err != nil {
		t.Fatal(err, summary)
	}
	second, _, err := runCLI(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	if first == "" || first != second {
		t.Fatalf("outputs differ or are empty (%d and %d bytes)", len(first), len(second))
	}
	if n := strings.Count(first, "\n"); n < 30 {
		t.Errorf("only %d alerts", n)
	}
	if !strings.Contains(summary, "packets") {
		t.Errorf("no summary on stderr: %q", summary)
	}
}

// TestSaveInjectedReadByTshark checks `vigil test --save-injected`: the
// frames a reset rule would send are written to a pcap that tshark reads
// as TCP resets with good checksums (checksum status 1 is "Good").
func TestSaveInjectedReadByTshark(t *testing.T) {
	dir := t.TempDir()
	rulesPath := writeFile(t, dir, "reset.yaml", `rules:
  - sid: 1
    name: reset telnet data
    condition: tcp.dstport == 23 && tcp.len > 0
    actions: [reset]
`)
	out := filepath.Join(dir, "sent.pcap")
	stdout, stderr, err := runCLI(t, "test", "--rules", rulesPath, "--save-injected", out, "../../testdata/captures/sv-telnet.pcap")
	if err != nil {
		t.Fatal(err, stderr)
	}
	if !strings.Contains(stdout, `"action":"blocked"`) {
		t.Fatalf("no blocked alert: %s", stdout)
	}
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed")
	}
	cmd := exec.Command("tshark", "-n", "-r", out, "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE",
		"-T", "fields", "-e", "tcp.flags.reset", "-e", "tcp.checksum.status", "-e", "ip.checksum.status")
	res, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(strings.TrimSpace(string(res)))
	if len(lines) == 0 || len(lines)%3 != 0 {
		t.Fatalf("tshark output: %q", res)
	}
	for i := 0; i < len(lines); i += 3 {
		if (lines[i] != "1" && lines[i] != "True") || lines[i+1] != "1" || lines[i+2] != "1" {
			t.Errorf("frame %d: reset %s, tcp checksum status %s, ip checksum status %s", i/3+1, lines[i], lines[i+1], lines[i+2])
		}
	}
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
		if err := parse(fs, tc.args); err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		if *rate != tc.rate || !slices.Equal(fs.Args(), tc.rest) && len(tc.rest)+len(fs.Args()) > 0 {
			t.Errorf("%q: rate %v args %q, want %v %q", tc.args, *rate, fs.Args(), tc.rate, tc.rest)
		}
	}
}
