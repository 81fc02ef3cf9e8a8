package offline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ids/vigil/engine"
	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/rules/defaults"
)

const captures = "../testdata/captures/"

// run runs cfg with the alerts collected and returns them.
func run(t *testing.T, cfg Config) (string, *Result, error) {
	t.Helper()
	var out strings.Builder
	cfg.Out = &out
	res, err := Run(context.Background(), cfg)
	return out.String(), res, err
}

// TestRunIsDeterministic runs the built-in rules twice over the same
// captures: the output must be byte-identical, and not empty.
func TestRunIsDeterministic(t *testing.T) {
	set, err := defaults.Load(false)
	if err != nil {
		t.Fatal(err)
	}
	files := []string{captures + "zeek-ftp-bruteforce.pcap", captures + "sv-http-testmyids.ncf", captures + "sv-syn-flood.pcap"}
	first, res, err := run(t, Config{Rules: set, Files: files})
	if err != nil {
		t.Fatal(err)
	}
	second, _, err := run(t, Config{Rules: set, Files: files})
	if err != nil {
		t.Fatal(err)
	}
	if first == "" || first != second {
		t.Fatalf("outputs differ or are empty (%d and %d bytes)", len(first), len(second))
	}
	if n := strings.Count(first, "\n"); n < 30 || uint64(n) != res.Stats.Alerts {
		t.Errorf("%d alert lines, %d alerts counted; want the same, at least 30", n, res.Stats.Alerts)
	}
	if len(res.Rules) != len(set.Rules) {
		t.Errorf("%d rule stats for %d rules", len(res.Rules), len(set.Rules))
	}
}

// resetRule resets telnet data.
const resetRule = `rules:
  - sid: 1
    name: reset telnet data
    condition: tcp.dstport == 23 && tcp.len > 0
    actions: [reset]
`

// TestSaveInjectedReadByTshark: the frames a reset rule would send are
// written to a pcap that tshark reads as TCP resets with good checksums
// (checksum status 1 is "Good").
func TestSaveInjectedReadByTshark(t *testing.T) {
	set, err := rules.Parse("reset.yaml", []byte(resetRule))
	if err != nil {
		t.Fatal(err)
	}
	saved := filepath.Join(t.TempDir(), "sent.pcap")
	out, _, err := run(t, Config{Rules: set, Files: []string{captures + "sv-telnet.pcap"}, SaveInjected: saved})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"action":"blocked"`) {
		t.Fatalf("no blocked alert: %s", out)
	}
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed")
	}
	cmd := exec.Command("tshark", "-n", "-r", saved, "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE",
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

// TestRunErrors: a capture that cannot be read does not stop the run: the
// ones after it are run, their alerts written and counted, and the error
// wraps ErrUnreadable and names it. A SaveInjected file that cannot be
// created stops the run before it starts.
func TestRunErrors(t *testing.T) {
	set, err := rules.Parse("reset.yaml", []byte(resetRule))
	if err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.pcap")
	out, res, err := run(t, Config{Rules: set, Files: []string{captures + "sv-telnet.pcap", missing, captures + "sv-telnet.pcap"}})
	if !errors.Is(err, ErrUnreadable) || !strings.Contains(err.Error(), "missing.pcap") {
		t.Errorf("Run: %v, want ErrUnreadable naming missing.pcap", err)
	}
	if res == nil || res.Stats.Packets != 2*92 || uint64(strings.Count(out, "\n")) != res.Stats.Alerts || res.Stats.Alerts == 0 {
		t.Fatalf("result %+v with %d alert lines; want both readable captures' 184 packets and their alerts", res, strings.Count(out, "\n"))
	}
	if len(res.Files) != 3 || res.Files[1].Err == nil || res.Files[1].Format != "" || res.Files[2].Err != nil || res.Files[2].Packets != 92 {
		t.Errorf("files %+v", res.Files)
	}
	bad := filepath.Join(t.TempDir(), "sent.txt")
	if _, res, err = run(t, Config{Rules: set, Files: []string{captures + "sv-telnet.pcap"}, SaveInjected: bad}); err == nil || res != nil {
		t.Errorf("SaveInjected %s: result %v, error %v; want no result and an error", bad, res, err)
	}
	if _, err := os.Stat(bad); err == nil {
		t.Errorf("%s was created", bad)
	}
}

// TestSkippedRecords: records that cannot be read are skipped, counted
// per file and reason in the Result, and listed by WriteFiles with the
// first one's record and offset; the run is not an error.
func TestSkippedRecords(t *testing.T) {
	set, err := rules.Parse("any.yaml", []byte("rules:\n  - {sid: 1, name: any frame, condition: frame}\n"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(captures + "sv-telnet.ncf")
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.ncf")
	if err := os.WriteFile(cut, data[:len(data)-10], 0o644); err != nil {
		t.Fatal(err)
	}
	files := []string{"../testdata/cases/c12-radiotap-datapad.pcap", cut, "../testdata/cases/c17-ncf-compressed.ncf"}
	_, res, err := run(t, Config{Rules: set, Files: files})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stats.Skipped != 2 || res.Stats.Compressed != 1 || res.Stats.Packets != 3+91+2 {
		t.Errorf("stats %+v", res.Stats)
	}
	var w strings.Builder
	if err := res.WriteSummary(&w, SummaryOptions{Quiet: true}); err != nil {
		t.Fatal(err)
	}
	want := files[0] + ": 1 of 4 records skipped: 1 bad radiotap header (first: record 3 at byte 268)\n" +
		cut + ": 1 of 92 records skipped: 1 truncated record (first: record 92 at byte "
	if !strings.HasPrefix(w.String(), want) || strings.Count(w.String(), "\n") != 2 {
		t.Errorf("WriteSummary, quiet:\n%s\nwant it to start with\n%s", w.String(), want)
	}
	var summary strings.Builder
	res.WriteSummary(&summary, SummaryOptions{})
	if !strings.HasPrefix(summary.String(), w.String()) || !strings.Contains(summary.String(), " rule errors, 2 records skipped, 1 compressed records not decoded, 1 rules, ") {
		t.Errorf("summary:\n%s", summary.String())
	}
}

// TestWriteSummary: without profile only rules that matched or failed are
// listed, in rule order; with profile all of them, the slowest first; the
// last line has the totals.
func TestWriteSummary(t *testing.T) {
	res := &Result{
		Stats: engine.Stats{Packets: 1000, Alerts: 7, DecodeErrors: 1, RuleErrors: 2},
		Rules: []engine.RuleStats{
			{SID: 1, Name: "quiet", Evaluations: 1000, Time: 2 * time.Millisecond},
			{SID: 2, Name: "loud", Evaluations: 1000, Matches: 7, Alerts: 7, Time: time.Millisecond},
			{SID: 3, Name: "broken", Evaluations: 10, Errors: 2, Time: 3 * time.Millisecond},
		},
		Elapsed: 2 * time.Second,
	}
	sids := func(out string) string {
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if f := strings.Fields(l); len(f) == 9 && f[0] != "SID" {
				got = append(got, f[0]+"="+f[len(f)-1])
			}
		}
		return strings.Join(got, " ")
	}
	var plain, profile strings.Builder
	if err := res.WriteSummary(&plain, SummaryOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := res.WriteSummary(&profile, SummaryOptions{Profile: true}); err != nil {
		t.Fatal(err)
	}
	if got := sids(plain.String()); got != "2=loud 3=broken" {
		t.Errorf("rows %q, want 2=loud 3=broken:\n%s", got, plain.String())
	}
	if got := sids(profile.String()); got != "3=broken 1=quiet 2=loud" {
		t.Errorf("profile rows %q, want 3=broken 1=quiet 2=loud:\n%s", got, profile.String())
	}
	const total = "1000 packets, 7 alerts, 1 decode errors, 2 rule errors, 3 rules, 2s (500 packets/s)\n"
	if !strings.HasSuffix(plain.String(), total) {
		t.Errorf("totals:\n%s\nwant a last line %q", plain.String(), total)
	}
	if !strings.Contains(plain.String(), " 3ms   300000 broken\n") {
		t.Errorf("the broken rule's time and ns/eval are not 3ms and 300000:\n%s", plain.String())
	}
	if !strings.Contains(plain.String(), " 1000    100.00% ") || !strings.Contains(plain.String(), " 10      1.00% ") {
		t.Errorf("the share of packets evaluated is not 100%% for loud and 1%% for broken:\n%s", plain.String())
	}
	if res.Rules[0].SID != 1 {
		t.Error("WriteSummary with profile reordered the Result's rules")
	}
}

// TestEveLog: the EVE file receives the alerts written to Out, appended to
// what it held; a capture given as the EVE file is refused, untouched.
func TestEveLog(t *testing.T) {
	set, err := rules.Parse("reset.yaml", []byte(resetRule))
	if err != nil {
		t.Fatal(err)
	}
	eve := filepath.Join(t.TempDir(), "eve.json")
	if err := os.WriteFile(eve, []byte("earlier\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, Config{Rules: set, Files: []string{captures + "sv-telnet.pcap"}, EveLog: eve})
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(eve)
	if err != nil {
		t.Fatal(err)
	}
	if out == "" || string(got) != "earlier\n"+out {
		t.Errorf("eve.json holds %d bytes, want the %d bytes of stdout after the earlier line", len(got), len(out))
	}

	input := filepath.Join(t.TempDir(), "in.pcap")
	data, err := os.ReadFile(captures + "sv-telnet.pcap")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(input, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := run(t, Config{Rules: set, Files: []string{input}, EveLog: input}); err == nil || !strings.HasPrefix(err.Error(), "--eve-log: ") {
		t.Errorf("the input as the EVE file: %v, want an error naming --eve-log", err)
	}
	if _, _, err := run(t, Config{Rules: set, Files: []string{input}, EveLog: "/nonexistent/dir/eve.json"}); err == nil || !strings.HasPrefix(err.Error(), "--eve-log: ") {
		t.Errorf("an EVE file in a missing folder: %v, want an error naming --eve-log", err)
	}
	if after, _ := os.ReadFile(input); !bytes.Equal(after, data) {
		t.Error("the input was changed")
	}
}

// TestCaptureOrder: a capture of later traffic run first must not change
// the flows of the next: sv-telnet is one telnet connection whichever
// capture comes before it (each capture is a sensor with its own clock).
func TestCaptureOrder(t *testing.T) {
	set, err := rules.Parse("telnet.yaml", []byte("rules:\n  - sid: 1\n    name: telnet\n    condition: tcp.port == 23\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, before := range []string{"sv-http-testmyids.pcap", "sv-dns-dhcp-sofacy.pcap"} {
		out, _, err := run(t, Config{Rules: set, Files: []string{captures + before, captures + "sv-telnet.pcap"}})
		if err != nil {
			t.Fatal(err)
		}
		flows := map[string]bool{}
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			var a struct {
				FlowID json.Number `json:"flow_id"`
			}
			if err := json.Unmarshal([]byte(l), &a); err != nil {
				t.Fatal(err)
			}
			flows[a.FlowID.String()] = true
		}
		if n := strings.Count(out, "\n"); n != 92 || len(flows) != 1 {
			t.Errorf("after %s: %d alerts in %d flows, want 92 in 1", before, n, len(flows))
		}
	}
}
