package gen

import (
	"bytes"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ids/vigil/decode"
	"github.com/vigil-ids/vigil/ncf"
	"github.com/vigil-ids/vigil/rules/field"
)

// write returns cfg's records as an NCF stream with UTC timestamps.
func write(t *testing.T, cfg Config) ([]byte, Stats) {
	t.Helper()
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := ncf.NewWriter(&buf, time.UTC)
	for rec, ok := g.Next(); ok; rec, ok = g.Next() {
		if err := w.Write(&rec.Header, rec.Data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), g.Stats()
}

func TestDeterministic(t *testing.T) {
	a, sa := write(t, Config{Packets: 5000, Seed: 7, HitRate: 0.02})
	b, sb := write(t, Config{Packets: 5000, Seed: 7, HitRate: 0.02})
	if !bytes.Equal(a, b) || sa != sb {
		t.Fatal("same config gave different output")
	}
	c, _ := write(t, Config{Packets: 5000, Seed: 8, HitRate: 0.02})
	if bytes.Equal(a, c) {
		t.Fatal("different seeds gave the same output")
	}
	long, sl := write(t, Config{Packets: 8000, Seed: 7, HitRate: 0.02})
	if !bytes.HasPrefix(long, a) {
		t.Fatal("5000 packets are not a prefix of 8000 with the same seed")
	}
	if sl.Packets != 8000 || sa.Packets != 5000 || int64(len(a)) != sa.Bytes+int64(ncf.HeaderLen*sa.Packets) {
		t.Fatalf("stats %+v for %d bytes", sa, len(a))
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{Packets: -1},
		{Packets: 10, HitRate: -0.1},
		{Packets: 10, HitRate: 1.5},
		{Packets: 10, HitRate: math.NaN()},
		{Packets: 10, Rate: -5},
		{Packets: 10, Rate: math.Inf(1)},
	} {
		if _, err := New(cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("New(%+v) = %v, want ErrConfig", cfg, err)
		}
	}
	path := filepath.Join(t.TempDir(), "bad.ncf")
	if _, err := WriteFile(path, Config{Packets: -1}); !errors.Is(err, ErrConfig) {
		t.Errorf("WriteFile: %v, want ErrConfig", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("WriteFile created %s for a refused config (%v)", path, err)
	}
	g, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := g.Next(); ok {
		t.Fatal("zero packets yielded a record")
	}
}

// TestMix decodes the generated traffic with Vigil's decoder and checks the
// mix: every protocol present, sizes in range, timestamps in order, hit
// share near the configured one.
func TestMix(t *testing.T) {
	const n = 40000
	for _, rate := range []float64{0, 0.01, 0.05} {
		g, err := New(Config{Packets: n, Seed: 3, HitRate: rate, Start: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		dec := decode.New()
		var p field.Packet
		count := map[string]int{}
		var last time.Time
		hits := 0
		for rec, ok := g.Next(); ok; rec, ok = g.Next() {
			if l := len(rec.Data); l < minFrame || l > maxFrame || rec.DataLen != l {
				t.Fatalf("frame %d: %d bytes (DataLen %d)", g.Stats().Packets, l, rec.DataLen)
			}
			if rec.Time.Before(last) {
				t.Fatalf("frame %d: time goes back", g.Stats().Packets)
			}
			last = rec.Time
			if err := dec.Decode(&p, decode.Ethernet, rec.Data); err != nil {
				t.Fatalf("frame %d: %v", g.Stats().Packets, err)
			}
			switch l := len(rec.Data); {
			case l <= 64:
				count["small"]++
			case l >= 1400:
				count["large"]++
			default:
				count["mid"]++
			}
			for name, ok := range map[string]bool{
				"vlan": p.VLAN.Present, "ipv6": p.IPv6.Present, "tcp": p.TCP.Present, "udp": p.UDP.Present,
				"icmp": p.ICMP.Present || p.ICMPv6.Present, "dns": p.DNS.Present, "http.request": p.HTTP.Request.Present,
				"http.response": p.HTTP.Response.Present, "tls.sni": p.TLS.Handshake.ServerName != "",
				"ssh": p.SSH.Present, "syn": p.TCP.Present && p.TCP.Flags.SYN && !p.TCP.Flags.Ack,
			} {
				if ok {
					count[name]++
				}
			}
			uri, ua := strings.ToLower(p.HTTP.Request.URI), strings.ToLower(p.HTTP.UserAgent)
			for _, s := range []string{"/etc/passwd", "/etc/shadow", "etc%2fshadow", "cmd.exe", "/bin/sh", "union%20select", "powershell"} {
				if strings.Contains(uri, s) {
					hits++
					goto counted
				}
			}
			for _, s := range []string{"sqlmap", "nikto", "masscan", "() {", "${jndi:"} {
				if strings.Contains(ua, s) {
					hits++
					break
				}
			}
		counted:
		}
		st := g.Stats()
		if st.Packets != n || hits != st.Hits {
			t.Fatalf("rate %v: %d packets, %d hits decoded, stats %+v", rate, st.Packets, hits, st)
		}
		for _, name := range []string{"small", "mid", "large", "vlan", "ipv6", "tcp", "udp", "icmp", "dns", "http.request", "http.response", "tls.sni", "ssh", "syn"} {
			if count[name] == 0 {
				t.Errorf("rate %v: no %s packet in %d", rate, name, n)
			}
		}
		if share := float64(hits) / n; math.Abs(share-rate) > rate/4+0.0005 {
			t.Errorf("hit share %.4f, want %.4f", share, rate)
		}
		t.Logf("rate %v: %v, %d sessions, mean frame %d bytes", rate, count, st.Sessions, st.Bytes/int64(st.Packets))
	}
}

// TestTshark has Wireshark dissect generated captures (NCF and pcap): no
// frame may be malformed or raise an error-level expert note.
func TestTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed")
	}
	dir := t.TempDir()
	for _, name := range []string{"gen.ncf", "gen.pcap"} {
		path := filepath.Join(dir, name)
		st, err := WriteFile(path, Config{Packets: 4000, Seed: 11, HitRate: 0.03})
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(tshark, "-n", "-r", path, "-T", "fields", "-e", "frame.number").Output()
		if err != nil {
			t.Fatalf("%s: tshark: %v", name, err)
		}
		if got := strings.Count(string(out), "\n"); got != st.Packets {
			t.Fatalf("%s: tshark read %d frames, want %d", name, got, st.Packets)
		}
		cmd := exec.Command(tshark, "-n", "-r", path, "-Y", "_ws.malformed || _ws.expert.severity >= error",
			"-T", "fields", "-e", "frame.number", "-e", "_ws.col.protocol", "-e", "_ws.col.info")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		bad, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: tshark: %v: %s", name, err, stderr.String())
		}
		if len(bad) > 0 {
			t.Errorf("%s: frames tshark flags:\n%s", name, head(string(bad), 20))
		}
	}
}

func head(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

// BenchmarkGenerate is the cost of one generated record.
func BenchmarkGenerate(b *testing.B) {
	g, err := New(Config{Packets: math.MaxInt, Seed: 1, HitRate: 0.01})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var bytes int64
	for b.Loop() {
		rec, _ := g.Next()
		bytes += int64(len(rec.Data))
	}
	b.ReportMetric(float64(bytes)/float64(b.N), "bytes/op")
}
