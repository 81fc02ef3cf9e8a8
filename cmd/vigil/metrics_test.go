package main

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TestMetrics checks the Prometheus endpoint of `vigil run`: after a
// replay, the packet counter equals the records sent and per-rule
// counters are exported.
func TestMetrics(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	d, listen, _ := startRun(t, "--metrics", addr)
	defer d.stop(10 * time.Second)
	sent := replayOnce(t, listen, "../../testdata/captures/sv-telnet.pcap")

	packets := regexp.MustCompile(`(?m)^vigil_packets_total (\S+)$`)
	var body string
	ok := eventually(10*time.Second, func() bool {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		m := packets.FindStringSubmatch(body)
		if m == nil {
			return false
		}
		n, _ := strconv.ParseFloat(m[1], 64)
		return int(n) == sent
	})
	if !ok {
		t.Fatalf("vigil_packets_total never reached %d:\n%s", sent, body)
	}
	for _, want := range []string{`vigil_rule_matches_total{sid="2100201"} 1`, "vigil_alerts_total 3", "vigil_sensors_connected"} {
		if !regexp.MustCompile(regexp.QuoteMeta(want)).MatchString(body) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
