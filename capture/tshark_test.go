package capture

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ids/vigil/ncf"
)

// tshark runs tshark in UTC and returns its field output.
func tshark(t *testing.T, path string, fields ...string) string {
	t.Helper()
	args := []string{"-n", "-r", path, "-T", "fields"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	cmd := exec.Command("tshark", args...)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark -r %s: %v: %s", path, err, stderr.String())
	}
	return string(out)
}

func needTshark(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed")
	}
}

// TestTsharkReadsVigilOutput checks that Wireshark reads what Vigil writes
// exactly as it reads the original pcap.
func TestTsharkReadsVigilOutput(t *testing.T) {
	needTshark(t)
	dir := t.TempDir()
	fields := []string{"frame.number", "frame.cap_len", "frame.time_epoch"}
	for _, name := range []string{"sv-http-rst-malware", "zeek-http-dvwa"} {
		t.Run(name, func(t *testing.T) {
			base := capturesDir + name
			want := tshark(t, base+".pcap", fields...)
			if strings.Count(want, "\n") < 3 {
				t.Fatalf("tshark printed too little: %q", want)
			}
			for _, c := range []struct{ in, out string }{
				{base + ".pcap", name + ".ncf"},
				{base + ".ncf", name + ".pcap"},
				{base + ".ncf", name + ".pcapng"},
			} {
				out := filepath.Join(dir, c.out)
				if _, err := Convert(c.in, out, nil); err != nil {
					t.Fatal(err)
				}
				if got := tshark(t, out, fields...); got != want {
					t.Fatalf("%s: tshark output differs from the original pcap's:\n%.300s\nwant\n%.300s", c.out, got, want)
				}
			}
		})
	}
}

// TestTsharkWiFiFields checks the radio fields Vigil writes, in NCF and as
// radiotap in pcap, against Wireshark's reading of them.
func TestTsharkWiFiFields(t *testing.T) {
	needTshark(t)
	dir := t.TempDir()
	// An 802.11 null-function data frame, no FCS.
	body := []byte{0x48, 0x01, 0, 0, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6, 0, 1, 2, 3, 4, 5, 0x10, 0}
	base := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	hs := []ncf.Header{
		{Time: base, Medium: ncf.WiFi, Rate: 108, Band: ncf.Band11G, Channel: 6, SignalDBm: 40, NoiseDBm: 95},
		{Time: base.Add(time.Second), Medium: ncf.WiFi, Rate: 22, Band: ncf.Band11B, Channel: 11, SignalDBm: 70, NoiseDBm: 90},
		{Time: base.Add(2 * time.Second), Medium: ncf.WiFi, Rate: 12, Band: ncf.Band11A, Channel: 36, SignalDBm: 55, NoiseDBm: 100},
	}
	want := "6\t54\t-40\t-95\n11\t11\t-70\t-90\n36\t6\t-55\t-100\n"
	for _, name := range []string{"wifi.ncf", "wifi.pcap", "wifi.pcapng"} {
		path := filepath.Join(dir, name)
		w, err := Create(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range hs {
			if err := w.Write(&ncf.Record{Header: hs[i], Data: body}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		got := tshark(t, path, "wlan_radio.channel", "wlan_radio.data_rate", "wlan_radio.signal_dbm", "wlan_radio.noise_dbm")
		if got != want {
			t.Fatalf("%s: tshark reads\n%s\nwant\n%s", name, got, want)
		}
	}
}
