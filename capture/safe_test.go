package capture

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// copyCapture copies a test capture into a new folder and returns its path.
func copyCapture(t *testing.T, name string) (string, []byte) {
	t.Helper()
	data, err := os.ReadFile(capturesDir + name)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, data
}

// names lists the files of dir.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// TestConvertNeverTouchesItsInput converts a capture onto itself, by the
// same path, another spelling of it, and a hard link: each is refused and
// the input keeps its bytes.
func TestConvertNeverTouchesItsInput(t *testing.T) {
	in, data := copyCapture(t, "sv-telnet.pcap")
	dir := filepath.Dir(in)
	link := filepath.Join(dir, "link.pcap")
	if err := os.Link(in, link); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{in, filepath.Join(dir, ".", "sv-telnet.pcap"), link} {
		if _, err := Convert(in, out, nil); err == nil {
			t.Errorf("Convert(%s, %s) accepted the same file", in, out)
		}
		if got, _ := os.ReadFile(in); !bytes.Equal(got, data) {
			t.Fatalf("Convert onto %s changed the input", out)
		}
	}
	if got := names(t, dir); !slices.Equal(got, []string{"link.pcap", "sv-telnet.pcap"}) {
		t.Errorf("files left: %v", got)
	}
}

// TestFailedConvertKeepsOutput converts a capture cut mid-record onto an
// existing file: the error is returned, the existing file keeps its
// bytes, and no temporary file is left.
func TestFailedConvertKeepsOutput(t *testing.T) {
	in, data := copyCapture(t, "sv-telnet.ncf")
	if err := os.WriteFile(in, data[:len(data)-5], 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(in)
	out := filepath.Join(dir, "old.pcap")
	if err := os.WriteFile(out, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Convert(in, out, nil); err == nil {
		t.Fatal("a truncated input converted without error")
	}
	if got, _ := os.ReadFile(out); string(got) != "keep me" {
		t.Errorf("the existing output became %d bytes", len(got))
	}
	if got := names(t, dir); !slices.Equal(got, []string{"old.pcap", "sv-telnet.ncf"}) {
		t.Errorf("files left: %v", got)
	}
}

// TestCreateReplacesOnClose: until Close the path keeps its old content;
// Close puts the complete capture there and leaves no temporary file.
func TestCreateReplacesOnClose(t *testing.T) {
	in, _ := copyCapture(t, "sv-arp.ncf")
	dir := filepath.Dir(in)
	out := filepath.Join(dir, "out.pcapng")
	if err := os.WriteFile(out, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	n, err := Convert(in, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(out, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := 0
	for ; ; got++ {
		if _, err := r.Next(); err != nil {
			break
		}
	}
	if got != n || n == 0 {
		t.Errorf("%d records read back, %d written", got, n)
	}
	if got := names(t, dir); !slices.Equal(got, []string{"out.pcapng", "sv-arp.ncf"}) {
		t.Errorf("files left: %v", got)
	}
	w, err := create(out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(out); len(data) == 0 {
		t.Error("Create truncated the file before Close")
	}
	w.failed = true
	if err := w.Close(); err == nil {
		t.Error("Close after a failed write reported no error")
	}
	if got := names(t, dir); !slices.Equal(got, []string{"out.pcapng", "sv-arp.ncf"}) {
		t.Errorf("files left after a failed write: %v", got)
	}
}

// TestInjectFileRefusesAnInput: the file of injected frames may not be one
// of the captures the run reads.
func TestInjectFileRefusesAnInput(t *testing.T) {
	in, data := copyCapture(t, "sv-telnet.pcap")
	other := filepath.Join(filepath.Dir(in), "other.pcap")
	if _, err := CreateInjectFile(in, nil, other, in); err == nil {
		t.Fatal("an input accepted as the injected-frames file")
	}
	if got, _ := os.ReadFile(in); !bytes.Equal(got, data) {
		t.Fatal("the input changed")
	}
	f, err := CreateInjectFile(other, nil, in)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestCreatedFileMode: an output gets the mode of a new file (0666 less
// the umask, as tshark -w gives it), not a temporary file's 0600; a
// folder that does not exist is named by the output path, not the
// temporary one.
func TestCreatedFileMode(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	out := filepath.Join(t.TempDir(), "out.pcap")
	w, err := Create(out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("output mode %v (%v), want -rw-r--r--", fi.Mode(), err)
	}
	missing := filepath.Join(t.TempDir(), "no", "out.pcap")
	if _, err := Create(missing, nil); err == nil || !strings.Contains(err.Error(), "cannot create "+missing+": ") || strings.Contains(err.Error(), ".tmp") {
		t.Errorf("error %v, want it to name %s and not the temporary file", err, missing)
	}
}
