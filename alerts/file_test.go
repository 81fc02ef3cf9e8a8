package alerts

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestFileRotation: File appends to what the file held, one line per
// alert; after the file is renamed, Reopen starts a new file at the path
// and the renamed one keeps its lines.
func TestFileRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "eve.json")
	if err := os.WriteFile(path, []byte("earlier\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	golden := goldenAlerts()
	f.Publish(golden[0])
	f.Publish(golden[1])
	rotated := path + ".1"
	if err := os.Rename(path, rotated); err != nil {
		t.Fatal(err)
	}
	f.Publish(golden[2]) // still into the renamed file, as with Suricata before its SIGHUP
	if err := f.Reopen(); err != nil {
		t.Fatal(err)
	}
	f.Publish(golden[3])
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	line := func(a *Alert) string { return string(a.AppendJSON(nil)) + "\n" }
	for p, want := range map[string]string{
		rotated: "earlier\n" + line(golden[0]) + line(golden[1]) + line(golden[2]),
		path:    line(golden[3]),
	} {
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, []byte(want)) {
			t.Errorf("%s:\n got %s\nwant %s", filepath.Base(p), got, want)
		}
	}
}

// TestFileReopenFails: a path that cannot be opened again leaves the old
// file in use.
func TestFileReopenFails(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "eve.json")
	if err := os.Mkdir(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	moved := filepath.Join(dir, "moved")
	if err := os.Rename(filepath.Dir(path), moved); err != nil {
		t.Fatal(err)
	}
	if err := f.Reopen(); err == nil {
		t.Error("Reopen into a missing folder: no error")
	}
	f.Publish(goldenAlerts()[0])
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(moved, "eve.json")); len(got) == 0 {
		t.Error("the alert after a failed Reopen was lost")
	}
}
