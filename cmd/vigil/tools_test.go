package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ids/vigil/capture"
)

// frames returns each record's time and bytes as text.
func frames(t *testing.T, path string) []string {
	t.Helper()
	r, err := capture.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []string
	for {
		rec, err := r.Next()
		if err != nil {
			return out
		}
		out = append(out, rec.Time.Format(time.RFC3339Nano)+" "+string(rec.Data))
	}
}

// TestGenAndConvert runs `vigil gen` twice with one seed (same bytes),
// converts the capture to pcap and back (same frames), runs the default
// rules over it (the attack share raises alerts), and checks that a
// generated rule pack loads with the count asked for.
func TestGenAndConvert(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.ncf"), filepath.Join(dir, "b.ncf")
	for _, out := range []string{a, b} {
		if _, stderr, err := runCLI(t, "gen", "--packets", "3000", "--seed", "9", "--hit-rate", "0.05", out); err != nil {
			t.Fatal(err, stderr)
		}
	}
	da, _ := os.ReadFile(a)
	db, _ := os.ReadFile(b)
	if len(da) == 0 || !bytes.Equal(da, db) {
		t.Fatalf("same seed, different captures (%d and %d bytes)", len(da), len(db))
	}
	if n := len(frames(t, a)); n != 3000 {
		t.Fatalf("%d records, want 3000", n)
	}
	pcap, back := filepath.Join(dir, "a.pcap"), filepath.Join(dir, "back.ncf")
	for _, args := range [][]string{{"convert", a, pcap}, {"convert", pcap, back}} {
		if _, stderr, err := runCLI(t, args...); err != nil {
			t.Fatal(err, stderr)
		}
	}
	// pcap keeps frames and times, not NCF's direction byte.
	if fa, fb := frames(t, a), frames(t, back); !slices.Equal(fa, fb) {
		t.Error("ncf → pcap → ncf changed frames or timestamps")
	}
	stdout, stderr, err := runCLI(t, "test", a)
	if err != nil {
		t.Fatal(err, stderr)
	}
	if n := strings.Count(stdout, "\n"); n < 10 {
		t.Errorf("%d alerts on a capture with 5%% attack packets", n)
	}
	pack := filepath.Join(dir, "pack.yaml")
	if _, stderr, err := runCLI(t, "gen", "--packets", "10", "--rules", pack, "--rule-count", "250", filepath.Join(dir, "c.ncf")); err != nil {
		t.Fatal(err, stderr)
	}
	if _, stderr, err := runCLI(t, "lint", "--no-tests", pack); err != nil || !strings.HasPrefix(stderr, "250 rules OK") {
		t.Errorf("the generated pack: %v %s", err, stderr)
	}
}

// TestFieldsCommand checks that `vigil fields` lists the catalog and the
// functions, and --markdown the reference table.
func TestFieldsCommand(t *testing.T) {
	out, _, err := runCLI(t, "fields")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"tcp.dstport", "dns.qry.name", "tls.handshake.extensions_server_name", "cidr(", "icontains("} {
		if !strings.Contains(out, want) {
			t.Errorf("vigil fields lacks %q", want)
		}
	}
	md, _, err := runCLI(t, "fields", "--markdown")
	if err != nil || !strings.HasPrefix(md, "| name | type | meaning |") {
		t.Errorf("markdown: %v %q", err, md[:min(len(md), 60)])
	}
}
