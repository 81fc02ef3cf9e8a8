package decode

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// capDir holds the public test captures (pcap and NCF versions).
const capDir = "../testdata/captures"

// ncfHeaderLen is the size of a CommView NCF record header; data_len is
// the little-endian uint16 at offset 0 and the medium the low nibble of
// the byte at offset 16.
const ncfHeaderLen = 24

// capFrame is one frame of a capture file.
type capFrame struct {
	link Link
	data []byte
}

// readNCF reads every record of an NCF file.
func readNCF(tb testing.TB, name string) []capFrame {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(capDir, name))
	if err != nil {
		tb.Fatal(err)
	}
	var out []capFrame
	for len(b) > 0 {
		if len(b) < ncfHeaderLen {
			tb.Fatalf("%s: %d trailing bytes, short of a record header", name, len(b))
		}
		n := int(binary.LittleEndian.Uint16(b))
		if len(b) < ncfHeaderLen+n {
			tb.Fatalf("%s: record of %d bytes cut short", name, n)
		}
		link := Ethernet
		if b[16]&0x0f == 1 {
			link = WiFi
		}
		out = append(out, capFrame{link: link, data: b[ncfHeaderLen : ncfHeaderLen+n]})
		b = b[ncfHeaderLen+n:]
	}
	return out
}

// allCaptures lists the NCF captures under capDir.
func allCaptures(tb testing.TB) []string {
	tb.Helper()
	m, err := filepath.Glob(filepath.Join(capDir, "*.ncf"))
	if err != nil || len(m) == 0 {
		tb.Fatalf("no captures in %s: %v", capDir, err)
	}
	for i := range m {
		m[i] = filepath.Base(m[i])
	}
	return m
}
