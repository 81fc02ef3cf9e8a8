package main

// Helpers of the process-level tests: the vigil binary is built once in
// TestMain and every test runs it as separate processes on 127.0.0.1.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-ids/vigil/alerts"
)

// vigilBin is the binary built by TestMain.
var vigilBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vigil-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	vigilBin = filepath.Join(dir, "vigil")
	build := exec.Command("go", "build", "-o", vigilBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building vigil:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const captures = "../../testdata/captures/"

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// lockedBuf is an output stream that tests read while the process writes.
type lockedBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// proc is a running vigil (or other) process.
type proc struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	stdout lockedBuf
	stderr lockedBuf
	done   chan struct{}
	err    error
}

// start runs bin with args; the process is killed at the end of the test
// if it still runs.
func start(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, name: filepath.Base(bin) + " " + strings.Join(args[:min(len(args), 1)], " "), done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", p.name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("%s stderr:\n%s", p.name, tail(p.stderr.String(), 4000))
		}
	})
	return p
}

func vigil(t *testing.T, args ...string) *proc { return start(t, vigilBin, args...) }

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// waitStderr waits until the process's stderr matches re and returns the
// first submatches.
func (p *proc) waitStderr(re *regexp.Regexp, timeout time.Duration) []string {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if m := re.FindStringSubmatch(p.stderr.String()); m != nil {
			return m
		}
		select {
		case <-p.done:
			if m := re.FindStringSubmatch(p.stderr.String()); m != nil {
				return m
			}
			p.t.Fatalf("%s exited (%v) before its stderr matched %q:\n%s", p.name, p.err, re, tail(p.stderr.String(), 4000))
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: stderr did not match %q within %s:\n%s", p.name, re, timeout, tail(p.stderr.String(), 4000))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.cmd.Process.Kill()
		<-p.done
		p.t.Fatalf("%s did not exit within %s", p.name, timeout)
	}
	return p.cmd.ProcessState.ExitCode()
}

// signal sends sig to the process.
func (p *proc) signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signalling %s: %v", p.name, err)
	}
}

// stop sends SIGINT and waits for a clean exit.
func (p *proc) stop(timeout time.Duration) {
	p.t.Helper()
	p.signal(syscall.SIGINT)
	if code := p.wait(timeout); code != 0 {
		p.t.Fatalf("%s exited with %d after SIGINT:\n%s", p.name, code, tail(p.stderr.String(), 4000))
	}
}

var runningRE = regexp.MustCompile(`msg="vigil running" listen=(\S+)`)

// daemon starts `vigil run` with an embedded NATS server on free ports and
// returns it with its sensor address and NATS URL.
func startRun(t *testing.T, args ...string) (p *proc, listen, natsURL string) {
	t.Helper()
	np := freePort(t)
	natsURL = fmt.Sprintf("nats://127.0.0.1:%d", np)
	all := append([]string{"run", "--listen", "127.0.0.1:0", "--nats-listen", fmt.Sprintf("127.0.0.1:%d", np),
		"--data-dir", t.TempDir()}, args...)
	p = vigil(t, all...)
	m := p.waitStderr(runningRE, 20*time.Second)
	return p, m[1], natsURL
}

// hit is what identifies an alert across runs: the rule and the packet.
type hit struct {
	sid, cnt int
}

func (h hit) String() string { return fmt.Sprintf("%d@%d", h.sid, h.cnt) }

// multiset sorts hits so two lists compare as multisets.
func multiset(hs []hit) []hit {
	out := append([]hit(nil), hs...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].sid != out[j].sid {
			return out[i].sid < out[j].sid
		}
		return out[i].cnt < out[j].cnt
	})
	return out
}

func sameHits(a, b []hit) bool {
	a, b = multiset(a), multiset(b)
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// parseAlerts decodes JSON lines of alerts.
func parseAlerts(t *testing.T, out string) []*alerts.Alert {
	t.Helper()
	var list []*alerts.Alert
	// The subscriber may be mid-line: only complete lines count.
	out = out[:strings.LastIndexByte(out, '\n')+1]
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		a, err := alerts.Decode(line)
		if err != nil {
			t.Fatalf("decoding alert %q: %v", line, err)
		}
		list = append(list, a)
	}
	return list
}

func hitsOf(list []*alerts.Alert) []hit {
	out := make([]hit, len(list))
	for i, a := range list {
		out[i] = hit{a.SID, a.PcapCnt}
	}
	return out
}

// offlineHits runs `vigil test` and returns the alerts it prints.
func offlineHits(t *testing.T, rulesArgs []string, files ...string) []hit {
	t.Helper()
	return hitsOf(parseAlerts(t, offlineJSON(t, rulesArgs, files...)))
}

// offlineJSON runs `vigil test` and returns what it prints: the alerts as
// JSON lines.
func offlineJSON(t *testing.T, rulesArgs []string, files ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append(append([]string{"test", "--quiet"}, rulesArgs...), files...)
	cmd := exec.CommandContext(ctx, vigilBin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("vigil %v: %v\n%s", args, err, stderr.String())
	}
	return string(out)
}

// replayOnce runs `vigil replay` to completion and returns the records sent.
func replayOnce(t *testing.T, to string, args ...string) int {
	t.Helper()
	p := vigil(t, append([]string{"replay", "--to", to, "--linger", "200ms"}, args...)...)
	if code := p.wait(60 * time.Second); code != 0 {
		t.Fatalf("replay exited %d:\n%s", code, p.stderr.String())
	}
	return recordsSent(t, p.stderr.String())
}

var sentRE = regexp.MustCompile(`(\d+) records \(\d+ bytes\) sent`)

func recordsSent(t *testing.T, stderr string) int {
	t.Helper()
	m := sentRE.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("replay did not report what it sent:\n%s", stderr)
	}
	var n int
	fmt.Sscan(m[1], &n)
	return n
}

// eventually polls cond every 50 ms until it holds or timeout passes.
func eventually(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// writeFile writes content to dir/name and returns the path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
