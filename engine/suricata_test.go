package engine

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/vigil-ids/vigil/alerts"
	"github.com/vigil-ids/vigil/rules"
)

// svDir holds the suricata-verify expectations (expected.json per test).
const svDir = capDir + "suricata-verify/"

// svRuleDir holds the hand translations of the suricata-verify rules.
const svRuleDir = "testdata/suricata/"

// svVerdict says how Vigil's count relates to Suricata's for one check.
type svVerdict int

const (
	svExact          svVerdict = iota // Vigil's count must equal Suricata's
	svDiffers                         // Vigil's count is svCheck.vigil, not Suricata's
	svNotExpressible                  // no Vigil rule can say it; skipped
)

// svCheck is one alert check of a suricata-verify test (a sid and, in
// expected.json, Suricata's count) with Vigil's side of it.
type svCheck struct {
	sid     int       // 0: all alerts (Suricata's sid null)
	verdict svVerdict // how the counts relate
	vigil   int       // Vigil's count, for svDiffers only
	reason  string    // why the counts differ or the rule cannot be written; a note for svExact
}

// svCase is one suricata-verify test folder.
type svCase struct {
	dir    string    // folder under svDir
	rules  string    // translated rule file under svRuleDir; "" when nothing is run
	skip   string    // why a folder with no alert check is not run
	checks []svCheck // one per alert check of expected.json, in any order
}

// svCases translates every suricata-verify folder. Suricata's counts come
// from expected.json; only Vigil's side is written here.
var svCases = []svCase{
	{dir: "alert-testmyids", rules: "alert-testmyids.yaml", checks: []svCheck{
		{sid: 0, reason: "content on an ip rule: the string is inside one segment"},
	}},
	{dir: "arp__detect-arp-03-vlan", rules: "arp__detect-arp-03-vlan.yaml", checks: []svCheck{
		{sid: 1, reason: "ARP inside 802.1Q"},
	}},
	{dir: "bug-2158", rules: "bug-2158.yaml", checks: []svCheck{
		{sid: 0, reason: "one query to the C2 name; dns_query read as dns.qry.name"},
		{sid: 223344, reason: "header bytes via u32(payload, 2)"},
	}},
	{dir: "bug-4663-03", rules: "bug-4663-03.yaml", checks: []svCheck{
		{sid: 1, reason: "drop is not expressible; noalert as a suppress entry"},
	}},
	{dir: "community-id-ipv6", skip: "no rules, no alert check (checks tls and flow records)"},
	{dir: "datasets-06-state-long", skip: "no alert check (checks the dataset state file); dataset:set has no Vigil equivalent"},
	{dir: "dcerpc__zerologon", rules: "dcerpc__zerologon.yaml", checks: []svCheck{
		{sid: 20166330, reason: "the request PDU read from a payload that starts it; the 2 TCP retransmissions of a request already seen are left out (tcp.reassembled.new_length > 0), as Suricata parses each PDU of the stream once"},
		{sid: 20166331, reason: "opnum read at payload offset 22; endswith on the segment"},
	}},
	{dir: "decode-arp-2", skip: "no rules, no alert check (checks arp records)"},
	{dir: "defrag__bug-6887-defrag-eth-vlan-ipv4-tcp-syn", rules: "defrag__bug-6887-defrag-eth-vlan-ipv4-tcp-syn.yaml", checks: []svCheck{
		{sid: 1, reason: "the SYN reassembled from IPv4 fragments inside 802.1Q"},
	}},
	{dir: "detect-itype-prefilter", rules: "detect-itype-prefilter.yaml", checks: []svCheck{
		{sid: 1}, {sid: 2}, {sid: 3}, {sid: 4}, {sid: 5},
	}},
	{dir: "detect-ttl", rules: "detect-ttl.yaml", checks: []svCheck{
		{sid: 1},
	}},
	{dir: "detect-vlan-id", rules: "detect-vlan-id.yaml", checks: []svCheck{
		{sid: 1}, {sid: 2, reason: "vlan.id == 300 holds when any tag is 300"}, {sid: 3},
		{sid: 4, reason: "middle tag read from the frame bytes"},
		{sid: 5, reason: "middle tag read from the frame bytes"},
		{sid: 6, reason: "vlan.id != 500 holds when no tag is 500"}, {sid: 7, reason: "third tag read from the frame bytes"},
		{sid: 8, reason: "middle tag read from the frame bytes"},
		{sid: 9, reason: "vlan.id >= 200 holds when any tag is"}, {sid: 10, reason: "all tags above 100: no tag at or below 100"}, {sid: 11},
	}},
	{dir: "detect-vlan-layers", rules: "detect-vlan-layers.yaml", checks: []svCheck{
		{sid: 1}, {sid: 2}, {sid: 3}, {sid: 4},
	}},
	{dir: "exception-policy-defrag-01", rules: "exception-policy-defrag-01.yaml", checks: []svCheck{
		{sid: 0, verdict: svDiffers, vigil: 1,
			reason: "Suricata drops the flow on a simulated defrag memcap; Vigil has no exception policy and sees the echo request reassembled"},
	}},
	{dir: "firewall__tcp-session-syn-flood-drop-precedence", rules: "firewall__tcp-session-syn-flood-drop-precedence.yaml", checks: []svCheck{
		{sid: 1002, verdict: svDiffers, vigil: 1,
			reason: "no detection_filter (alert on every match after the 100th); threshold type both alerts once"},
		{sid: 1001, verdict: svNotExpressible,
			reason: "accept:hook firewall rule with tcp.session has no Vigil equivalent (accept rules never alert)"},
	}},
	{dir: "flowbit-oring", rules: "flowbit-oring.yaml", checks: []svCheck{
		{sid: 4, reason: "flowbits OR as isset() || isset(); http_header as http.host"},
	}},
	{dir: "http-ipv6", checks: []svCheck{
		{sid: 0, verdict: svNotExpressible,
			reason: "app-layer-event:http.request_header_host_invalid and flowint have no Vigil equivalent"},
	}},
	{dir: "issue-3341-tcphdr-01", rules: "issue-3341-tcphdr-01.yaml", checks: []svCheck{
		{sid: 1, reason: "tcp.hdr read from the frame bytes after Ethernet and IPv4"},
	}},
	{dir: "issue-5466-alert-then-pass-01", rules: "issue-5466-alert-then-pass-01.yaml", checks: []svCheck{
		{sid: 1, reason: "drop is not expressible; noalert as a suppress entry"},
		{sid: 2, reason: "pass stops the flow's inspection: a flowbit set on the first match"},
	}},
	{dir: "rfb-protocol-3.8", skip: "no rules, no alert check (checks rfb and flow records)"},
	{dir: "ssh-hassh", rules: "ssh-hassh.yaml", checks: []svCheck{
		{sid: 1, verdict: svNotExpressible, reason: "ssh.hassh is an MD5 of KEXINIT lists: Vigil neither parses KEXINIT nor hashes"},
		{sid: 2, verdict: svNotExpressible, reason: "ssh.hassh.server is an MD5 of KEXINIT lists: Vigil neither parses KEXINIT nor hashes"},
		{sid: 3, reason: "the content is a contiguous name-list of the client KEXINIT segment"},
		{sid: 4, reason: "the content is a contiguous name-list of the server KEXINIT segment"},
	}},
	{dir: "tcp-rst-unacked-stream-10", skip: "no rules, no alert check (checks fileinfo, http and stats records)"},
	{dir: "telnet__telnet-01", rules: "telnet__telnet-01.yaml", checks: []svCheck{
		{sid: 1, reason: "the command line is inside one segment; its TCP retransmission is left out (!tcp.analysis.retransmission), as Suricata inspects the stream's data once"},
	}},
	{dir: "tls__tls-cert-issuer", checks: []svCheck{
		{sid: 1, verdict: svNotExpressible, reason: "tls.cert_issuer needs certificate parsing; Vigil's TLS fields stop at the ClientHello"},
	}},
}

// svExpected is the part of expected.json the test reads.
type svExpected struct {
	Capture        string `json:"capture"`
	ExpectedAlerts []struct {
		SID       *int           `json:"sid"`
		Count     int            `json:"count"`
		AlsoMatch map[string]any `json:"also_match"`
	} `json:"expected_alerts"`
}

// svRow is one line of the summary table.
type svRow struct {
	test, sid, suricata, vigil, agreement string
}

// TestSuricataVerify runs hand translations of the suricata-verify rules
// over the captures those tests use and compares Vigil's alert count per
// sid with Suricata's, exactly where the semantics allow it; where they
// differ, Vigil's own count is pinned with the reason, and what cannot be
// written as a Vigil rule is skipped with the reason. A summary table is
// logged at the end.
func TestSuricataVerify(t *testing.T) {
	dirs, err := os.ReadDir(svDir)
	if err != nil {
		t.Fatal(err)
	}
	var onDisk, inTable []string
	for _, d := range dirs {
		if d.IsDir() {
			onDisk = append(onDisk, d.Name())
		}
	}
	for _, c := range svCases {
		inTable = append(inTable, c.dir)
	}
	slices.Sort(inTable)
	if !slices.Equal(onDisk, inTable) {
		t.Fatalf("suricata-verify folders %v, table %v: every folder needs a case", onDisk, inTable)
	}

	var rows []svRow
	for _, c := range svCases {
		t.Run(c.dir, func(t *testing.T) {
			runSVCase(t, c, func(r svRow) { rows = append(rows, r) })
		})
	}

	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "test\tsid\tsuricata\tvigil\tagreement")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.test, r.sid, r.suricata, r.vigil, r.agreement)
	}
	tw.Flush()
	t.Logf("suricata-verify summary:\n%s", b.String())
}

// runSVCase runs one folder's checks as subtests and passes each
// summary row to add, skipped ones included.
func runSVCase(t *testing.T, c svCase, add func(svRow)) {
	raw, err := os.ReadFile(svDir + c.dir + "/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var exp svExpected
	if err := json.Unmarshal(raw, &exp); err != nil {
		t.Fatalf("expected.json: %v", err)
	}

	if c.skip != "" {
		if len(exp.ExpectedAlerts) != 0 || len(c.checks) != 0 {
			t.Fatalf("skipped as %q but expected.json has %d alert checks", c.skip, len(exp.ExpectedAlerts))
		}
		add(svRow{c.dir, "-", "-", "-", "not run: " + c.skip})
		t.Skipf("not run: %s", c.skip)
	}

	// Table and expected.json must list the same sids.
	var expSIDs, tabSIDs []int
	for _, e := range exp.ExpectedAlerts {
		expSIDs = append(expSIDs, svSID(e.SID))
	}
	for _, ch := range c.checks {
		tabSIDs = append(tabSIDs, ch.sid)
	}
	slices.Sort(expSIDs)
	slices.Sort(tabSIDs)
	if !slices.Equal(expSIDs, tabSIDs) {
		t.Fatalf("expected.json checks sids %v, table %v", expSIDs, tabSIDs)
	}

	var sink *collectSink
	if c.rules != "" {
		src, err := os.ReadFile(svRuleDir + c.rules)
		if err != nil {
			t.Fatal(err)
		}
		set, err := rules.Parse(c.rules, src)
		if err != nil {
			t.Fatal(err)
		}
		pcap := strings.TrimSuffix(exp.Capture, ".ncf") + ".pcap"
		sink, _ = runCaptures(t, set, 1, nil, pcap)
	}

	for _, e := range exp.ExpectedAlerts {
		sid := svSID(e.SID)
		ch := c.checks[slices.IndexFunc(c.checks, func(ch svCheck) bool { return ch.sid == sid })]
		row := svRow{test: c.dir, sid: "all", suricata: fmt.Sprint(e.Count), vigil: "-"}
		if sid != 0 {
			row.sid = fmt.Sprint(sid)
		}
		t.Run(fmt.Sprintf("sid=%s", row.sid), func(t *testing.T) {
			if ch.verdict == svNotExpressible {
				row.agreement = "not expressible: " + ch.reason
				t.Skipf("not expressible: %s", ch.reason)
			}
			if sink == nil {
				t.Fatal("no translated rule file for an expressible check")
			}
			got, unchecked := svCount(sink.list, sid, e.AlsoMatch)
			row.vigil = fmt.Sprint(got)
			note := ch.reason
			if len(unchecked) > 0 {
				n := "also_match " + strings.Join(unchecked, ", ") + " not compared (not in Vigil alerts)"
				if note != "" {
					note += "; " + n
				} else {
					note = n
				}
			}
			switch ch.verdict {
			case svExact:
				row.agreement = "exact"
				if note != "" {
					row.agreement += " (" + note + ")"
				}
				if got != e.Count {
					row.agreement = "MISMATCH: expected exact agreement"
					t.Errorf("sid %s: Vigil %d alerts, Suricata %d %s", row.sid, got, e.Count, note)
				}
			case svDiffers:
				row.agreement = "differs: " + note
				if ch.vigil == e.Count {
					t.Fatalf("table: a difference must have a Vigil count other than Suricata's %d", e.Count)
				}
				if got != ch.vigil {
					row.agreement = fmt.Sprintf("CHANGED: Vigil %d, table %d (%s)", got, ch.vigil, note)
					t.Errorf("sid %s: Vigil %d alerts, table says %d (Suricata %d; %s)", row.sid, got, ch.vigil, e.Count, ch.reason)
				}
			}
		})
		add(row)
	}
}

// svSID is a check's sid, 0 for Suricata's null (all alerts).
func svSID(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// svCount counts the non-summary alerts of sid (every sid when 0) that
// satisfy also, the check's extra EVE conditions. It returns the keys of
// also that Vigil alerts do not carry, which are not compared.
func svCount(list []*alerts.Alert, sid int, also map[string]any) (int, []string) {
	var unchecked []string
	for k := range also {
		if _, ok := svAlsoMatch(&alerts.Alert{}, k, also[k]); !ok {
			unchecked = append(unchecked, k)
		}
	}
	slices.Sort(unchecked)
	n := 0
	for _, a := range list {
		if a.Summary != nil || (sid != 0 && a.SID != sid) {
			continue
		}
		ok := true
		for k, v := range also {
			if m, known := svAlsoMatch(a, k, v); known && !m {
				ok = false
			}
		}
		if ok {
			n++
		}
	}
	return n, unchecked
}

// svAlsoMatch reports whether a satisfies the EVE condition key == want
// and whether Vigil alerts carry key at all. JSON numbers are float64.
func svAlsoMatch(a *alerts.Alert, key string, want any) (match, known bool) {
	eq := func(got any) bool { return svText(got) == svText(want) }
	switch key {
	case "pcap_cnt":
		return eq(a.PcapCnt), true
	case "src_ip":
		return eq(a.SrcIP), true
	case "src_port":
		return eq(a.SrcPort), true
	case "dest_ip":
		return eq(a.DestIP), true
	case "dest_port":
		return eq(a.DestPort), true
	case "alert.signature":
		return eq(a.Signature), true
	case "alert":
		sub, ok := want.(map[string]any)
		if !ok {
			return false, false
		}
		match = true
		for k, v := range sub {
			m, kn := svAlsoMatch(a, "alert."+k, v)
			if !kn {
				return false, false
			}
			match = match && m
		}
		return match, true
	case "alert.gid":
		return eq(a.GID), true
	case "alert.signature_id":
		return eq(a.SID), true
	case "alert.rev":
		return eq(a.Rev), true
	case "alert.category":
		return eq(a.Category), true
	case "alert.severity":
		return eq(a.Severity), true
	case "alert.action":
		return eq(a.Action), true
	}
	return false, false
}

// svText formats an EVE value for comparison; JSON numbers (float64) print
// as integers when they are whole, as Go ints do.
func svText(v any) string {
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}
