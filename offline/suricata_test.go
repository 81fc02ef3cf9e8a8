package offline

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/vigil-ids/vigil/alerts/eveschema"
	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/rules/defaults"
)

// fidelityRules and fidelitySuricata say the same thing in Vigil's and
// Suricata's rule languages. Sid 5 alerts on packets that carry no
// application message, in flows that had one.
const fidelityRules = `rules:
  - {sid: 1, name: http request, condition: 'http.request.method == "GET"'}
  - {sid: 2, name: http response, condition: http.response.code == 200}
  - {sid: 3, name: tls hello, condition: tls.handshake.type == 1}
  - {sid: 4, name: dns query, condition: 'dns && !dns.flags.response && dns.qry.name contains "info"'}
  - {sid: 5, name: fin, condition: tcp.flags.fin}
`

const fidelitySuricata = `alert http any any -> any any (msg:"http request"; flow:to_server; http.method; content:"GET"; sid:1;)
alert http any any -> any any (msg:"http response"; flow:to_client; http.stat_code; content:"200"; sid:2;)
alert tls any any -> any any (msg:"tls hello"; ssl_state:client_hello; sid:3;)
alert dns any any -> any any (msg:"dns query"; dns.query; content:"info"; sid:4;)
alert tcp any any -> any any (msg:"fin"; flags:F+; sid:5;)
`

// fidelityCaptures are run by both.
var fidelityCaptures = []string{"sv-http-testmyids.pcap", "sv-tls-cert.pcap", "sv-dns-dhcp-sofacy.pcap"}

// TestSuricataFidelity runs the same rules through Vigil and Suricata 7
// (when installed) over three captures and compares, per sid, the first
// alert of each, key by key: app_proto, the flow's start and initiator,
// and every key of the http, tls and dns objects that both write.
// Suricata may raise an alert on a later packet of the same message (it
// inspects a TCP message once acknowledged, on the ACK), so direction and
// the flow counters are compared only when both alerts are on the same
// packet; otherwise Vigil's direction must agree with its packet and its
// flow's initiator.
// Every Vigil alert must also validate against Suricata's EVE schema,
// when that file is present.
func TestSuricataFidelity(t *testing.T) {
	schema, err := eveschema.Load("../" + eveschema.File)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	set, err := rules.LoadFS(fstest.MapFS{"fidelity.yaml": {Data: []byte(fidelityRules)}}, "fidelity.yaml")
	if err != nil {
		t.Fatal(err)
	}
	suricata, _ := exec.LookPath("suricata")
	for _, c := range fidelityCaptures {
		t.Run(c, func(t *testing.T) {
			out, _, err := run(t, Config{Rules: set, Files: []string{captures + c}})
			if err != nil {
				t.Fatal(err)
			}
			vigil := firstPerSID(t, out)
			if len(vigil) == 0 {
				t.Fatal("no alerts")
			}
			if schema != nil {
				for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
					for _, p := range schema.Check([]byte(line)) {
						t.Errorf("schema: %s in %s", p, line)
					}
				}
			}
			if suricata == "" {
				t.Skip("suricata is not installed")
			}
			theirs := firstPerSID(t, runSuricata(t, suricata, captures+c))
			for sid, a := range vigil {
				b, ok := theirs[sid]
				if !ok {
					t.Errorf("sid %d: Suricata raised no alert", sid)
					continue
				}
				for _, d := range eveDiff(a, b) {
					t.Errorf("sid %d (Vigil pcap_cnt %v, Suricata %v): %s", sid, a["pcap_cnt"], b["pcap_cnt"], d)
				}
			}
		})
	}
}

// runSuricata runs Suricata over capture with fidelitySuricata and
// returns its eve.json.
func runSuricata(t *testing.T, suricata, capture string) string {
	t.Helper()
	dir := t.TempDir()
	rulesFile := filepath.Join(dir, "test.rules")
	if err := os.WriteFile(rulesFile, []byte(fidelitySuricata), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, suricata, "-r", capture, "-S", rulesFile, "-l", dir, "-k", "none", "--runmode", "single")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("suricata: %v\n%s", err, out)
	}
	eve, err := os.ReadFile(filepath.Join(dir, "eve.json"))
	if err != nil {
		t.Fatal(err)
	}
	return string(eve)
}

// firstPerSID returns the first alert record of each sid in the JSON
// lines of eve.
func firstPerSID(t *testing.T, eve string) map[int]map[string]any {
	t.Helper()
	first := map[int]map[string]any{}
	sc := bufio.NewScanner(strings.NewReader(eve))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		al, ok := r["alert"].(map[string]any)
		if r["event_type"] != "alert" || !ok {
			continue
		}
		if sid := int(al["signature_id"].(float64)); first[sid] == nil {
			first[sid] = r
		}
	}
	return first
}

// eveDiff lists the compared keys on which Vigil's record a and
// Suricata's b disagree.
func eveDiff(a, b map[string]any) []string {
	var out []string
	differ := func(key string, x, y any) {
		if fmt.Sprint(x) != fmt.Sprint(y) {
			out = append(out, fmt.Sprintf("%s: Vigil %v, Suricata %v", key, x, y))
		}
	}
	differ("app_proto", a["app_proto"], b["app_proto"])
	fa, _ := a["flow"].(map[string]any)
	fb, _ := b["flow"].(map[string]any)
	for _, k := range []string{"start", "src_ip", "dest_ip", "src_port", "dest_port"} {
		differ("flow."+k, fa[k], fb[k])
	}
	if a["pcap_cnt"] == b["pcap_cnt"] {
		differ("direction", a["direction"], b["direction"])
		for _, k := range []string{"pkts_toserver", "pkts_toclient", "bytes_toserver", "bytes_toclient"} {
			differ("flow."+k, fa[k], fb[k])
		}
	} else if fromInitiator := a["src_ip"] == fa["src_ip"] && a["src_port"] == fa["src_port"]; fromInitiator != (a["direction"] == "to_server") {
		out = append(out, fmt.Sprintf("direction %v for a packet from %v:%v in a flow from %v:%v", a["direction"], a["src_ip"], a["src_port"], fa["src_ip"], fa["src_port"]))
	}
	for _, obj := range []string{"http", "tls", "dns"} {
		oa, _ := a[obj].(map[string]any)
		ob, _ := b[obj].(map[string]any)
		if (oa == nil) != (ob == nil) {
			out = append(out, fmt.Sprintf("%s: Vigil %v, Suricata %v", obj, oa, ob))
		}
		for k, v := range oa {
			w, ok := ob[k]
			if k == "query" { // the first question, but tx_id, which counts Suricata's transactions
				v, w = firstWithout(v, "tx_id"), firstWithout(w, "tx_id")
			}
			if ok {
				differ(obj+"."+k, v, w)
			}
		}
	}
	return out
}

// firstWithout returns the first element of the JSON array v without key.
func firstWithout(v any, key string) any {
	a, _ := v.([]any)
	if len(a) == 0 {
		return nil
	}
	m, _ := a[0].(map[string]any)
	delete(m, key)
	return m
}

// TestBuiltinAlertsValidate runs the built-in rules over every public
// capture and validates each alert against Suricata's EVE schema (skipped
// when the schema file is absent).
func TestBuiltinAlertsValidate(t *testing.T) {
	schema, err := eveschema.Load("../" + eveschema.File)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s is absent", eveschema.File)
	}
	if err != nil {
		t.Fatal(err)
	}
	set, err := defaults.Load(false)
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(captures + "*.pcap")
	if err != nil || len(files) < 10 {
		t.Fatalf("%d captures: %v", len(files), err)
	}
	out, _, err := run(t, Config{Rules: set, Files: files})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	kinds := map[string]bool{}
	for _, line := range lines {
		for _, p := range schema.Check([]byte(line)) {
			t.Errorf("%s in %s", p, line)
		}
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		kinds[fmt.Sprint(r["event_type"], " ", r["app_proto"] != nil, " ", r["flow"] != nil)] = true
	}
	t.Logf("%d alerts validated; event_type, app_proto?, flow?: %v", len(lines), kinds)
}

// TestSuricataTunnels runs a rule on every tunnelled packet over the
// tunnel captures through Vigil and (when installed) Suricata 7, which
// alerts on every packet, and compares the tunnel object of the alerts
// on the same frame (Vigil's pcap_cnt, Suricata's tunnel.pcap_cnt) key by
// key, addresses as addresses; each capture must have such a frame. Every
// Vigil alert must carry a tunnel object and validate against Suricata's
// EVE schema.
func TestSuricataTunnels(t *testing.T) {
	schema, err := eveschema.Load("../" + eveschema.File)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	set, err := rules.LoadFS(fstest.MapFS{"t.yaml": {Data: []byte("rules:\n  - {sid: 1, name: tunnelled, condition: tunnel.present}\n")}}, "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	suricata, _ := exec.LookPath("suricata")
	for _, c := range []string{"gre", "erspan", "pptp", "vxlan", "geneve", "teredo", "ipip"} {
		t.Run(c, func(t *testing.T) {
			capture := "../testdata/tunnels/" + c + ".pcap"
			out, _, err := run(t, Config{Rules: set, Files: []string{capture}})
			if err != nil {
				t.Fatal(err)
			}
			vigil := map[float64]map[string]any{}
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				if schema != nil {
					for _, p := range schema.Check([]byte(line)) {
						t.Errorf("schema: %s in %s", p, line)
					}
				}
				var a map[string]any
				if err := json.Unmarshal([]byte(line), &a); err != nil {
					t.Fatal(err)
				}
				tun, ok := a["tunnel"].(map[string]any)
				if !ok || tun["pcap_cnt"] != a["pcap_cnt"] {
					t.Errorf("alert without a tunnel object of its frame: %s", line)
					continue
				}
				vigil[a["pcap_cnt"].(float64)] = tun
			}
			if suricata == "" {
				t.Skip("suricata is not installed")
			}
			dir := t.TempDir()
			rulesFile := filepath.Join(dir, "t.rules")
			if err := os.WriteFile(rulesFile, []byte(`alert ip any any -> any any (msg:"any"; sid:1;)`+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(suricata, "-r", capture, "-S", rulesFile, "-l", dir, "-k", "none", "--runmode", "single")
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("suricata: %v\n%s", err, b)
			}
			eve, err := os.ReadFile(filepath.Join(dir, "eve.json"))
			if err != nil {
				t.Fatal(err)
			}
			common := 0
			for _, line := range strings.Split(strings.TrimSpace(string(eve)), "\n") {
				var b map[string]any
				if err := json.Unmarshal([]byte(line), &b); err != nil {
					t.Fatal(err)
				}
				theirs, ok := b["tunnel"].(map[string]any)
				if !ok {
					continue
				}
				ours, ok := vigil[theirs["pcap_cnt"].(float64)]
				if !ok {
					t.Errorf("frame %v: Suricata wrote a tunnel object, Vigil raised no alert", theirs["pcap_cnt"])
					continue
				}
				common++
				for k, want := range theirs {
					got := ours[k]
					if k == "src_ip" || k == "dest_ip" {
						got, want = canonicalIP(got), canonicalIP(want)
					}
					if got != want {
						t.Errorf("frame %v: tunnel.%s is %v, Suricata %v", theirs["pcap_cnt"], k, got, want)
					}
				}
			}
			if common == 0 {
				t.Errorf("no frame with a tunnel object from both")
			}
			t.Logf("%d frames compared", common)
		})
	}
}

// canonicalIP returns an address's text in one spelling (Suricata writes
// IPv6 addresses in full).
func canonicalIP(v any) any {
	s, _ := v.(string)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.String()
	}
	return v
}
