package engine

import (
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// analysisFilters are the sequence analysis fields, in Wireshark's names.
var analysisFilters = []string{"tcp.analysis.retransmission", "tcp.analysis.out_of_order", "tcp.analysis.lost_segment"}

// analysisKnownDiffs are the frames where a filter of analysisFilters
// differs from tshark, by capture, filter, and why.
var analysisKnownDiffs = map[string]string{
	// A RST closes the flow, and the SYN after it (frame 6, the same ISN
	// resent with FIN and URG) starts a new flow, as in Suricata; Wireshark
	// keeps the conversation, and calls the SYN a retransmission.
	"sv-urgent11-cve-2019-12260.pcap tcp.analysis.retransmission": "[] [6]",
}

// analysisCaptures are the public captures where tshark flags a segment
// (every one with an analysis event) and two long TCP captures where it
// flags none.
var analysisCaptures = []string{
	"sv-http-rst-malware.pcap", "sv-telnet.pcap", "sv-urgent11-cve-2019-12260.pcap", "sv-zerologon.pcap",
	"zeek-ftp-bruteforce.pcap", "zeek-http-bro-org.pcap", "zeek-http-dvwa.pcap",
	"sv-tls-cert.pcap", "sv-ssh-hassh.pcap",
}

// TestTCPAnalysisTshark checks tcp.analysis.retransmission, out_of_order
// and lost_segment against tshark on analysisCaptures: each must match
// exactly the frames tshark's filter does, but for analysisKnownDiffs.
func TestTCPAnalysisTshark(t *testing.T) {
	bin, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed")
	}
	var src strings.Builder
	src.WriteString("rules:\n")
	for i, f := range analysisFilters {
		fmt.Fprintf(&src, "  - {sid: %d, name: %s, condition: %s}\n", i+1, f, f)
	}
	set := mustParse(t, src.String())
	seen := map[string]int{}
	for n, name := range analysisCaptures {
		file := capDir + name
		args := []string{"-n", "-r", file, "-T", "fields", "-E", "separator=,", "-e", "frame.number"}
		for _, f := range analysisFilters {
			args = append(args, "-e", f)
		}
		out, err := exec.Command(bin, args...).Output()
		if err != nil {
			t.Fatalf("tshark %s: %v", file, err)
		}
		want := map[string][]int{}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			cols := strings.Split(line, ",")
			frame, _ := strconv.Atoi(cols[0])
			for i, c := range cols[1:] {
				if c != "" {
					want[strconv.Itoa(i+1)] = append(want[strconv.Itoa(i+1)], frame)
					seen[analysisFilters[i]]++
				}
			}
		}
		workers := 1 + n%2 // one or two, in turn
		got := caseFrames(t, set, workers, file, nil)
		for i, f := range analysisFilters {
			sid := strconv.Itoa(i + 1)
			if slices.Equal(got[sid], want[sid]) {
				continue
			}
			diff := fmt.Sprint(got[sid], " ", want[sid])
			if analysisKnownDiffs[name+" "+f] != diff {
				t.Errorf("%s, %d workers: %s matches %v, tshark %v", name, workers, f, got[sid], want[sid])
			}
		}
	}
	for _, f := range analysisFilters {
		if seen[f] == 0 {
			t.Errorf("no capture has %s: the test checks nothing", f)
		}
	}
	t.Logf("frames tshark flags: %v", seen)
}
