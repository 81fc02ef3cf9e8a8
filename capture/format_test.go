package capture

import (
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"
)

func TestDetect(t *testing.T) {
	ncfHead, err := os.ReadFile(capturesDir + "sv-arp.ncf")
	if err != nil {
		t.Fatal(err)
	}
	le := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	ncfx := []byte{40, 0, 0, 0, 0xEA, 0x07, 11, 25, 10, 30, 5, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4}
	future := append([]byte{}, ncfHead[:24]...)
	binary.LittleEndian.PutUint16(future[5:], 2300)
	tests := []struct {
		name    string
		head    []byte
		want    Format
		err     error
		errText string
	}{
		{"pcap usec LE", le(0xA1B2C3D4), PCAP, nil, ""},
		{"pcap usec BE", le(0xD4C3B2A1), PCAP, nil, ""},
		{"pcap nsec LE", le(0xA1B23C4D), PCAP, nil, ""},
		{"pcap nsec BE", le(0x4D3CB2A1), PCAP, nil, ""},
		{"pcapng", le(0x0A0D0D0A), PCAPNG, nil, ""},
		{"ncf", ncfHead[:24], NCF, nil, ""},
		{"ncfx", ncfx, 0, ErrNCFX, "NCFX"},
		{"gzip", []byte{0x1f, 0x8b, 8, 0, 0, 0}, 0, ErrUnknownFormat, "gzip"},
		{"empty", nil, 0, ErrUnknownFormat, "empty"},
		{"short", []byte{1, 2, 3, 4, 5}, 0, ErrUnknownFormat, "only 5 bytes"},
		{"text", []byte("GET / HTTP/1.1\r\nHost: example\r\n"), 0, ErrUnknownFormat, "47 45 54"},
		{"ncf year 2300", future, 0, ErrUnknownFormat, "year 2300"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Detect(tt.head)
			if tt.err == nil {
				if err != nil || got != tt.want {
					t.Fatalf("got %v, %v; want %v", got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.errText) {
				t.Fatalf("got %v; want %v containing %q", err, tt.err, tt.errText)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/x.ncf"
	if err := os.WriteFile(path, []byte("not a capture at all, just some text"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path, nil)
	if !errors.Is(err, ErrUnknownFormat) || !strings.Contains(err.Error(), path) {
		t.Fatalf("text file: %v", err)
	}
	if _, err := Open(dir+"/missing.pcap", nil); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestFormatString(t *testing.T) {
	for f, want := range map[Format]string{NCF: "ncf", PCAP: "pcap", PCAPNG: "pcapng", 9: "format(9)"} {
		if f.String() != want {
			t.Fatalf("%d: %q", int(f), f.String())
		}
	}
}
