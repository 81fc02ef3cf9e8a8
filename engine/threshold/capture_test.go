package threshold

import (
	"bufio"
	"bytes"
	"net/netip"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/rules/field"
)

// synEvent is one TCP SYN (without ACK) as tshark reports it.
type synEvent struct {
	ns       int64
	src, dst string
}

// tsharkSYNs lists the SYNs of a capture with tshark, the independent
// oracle of these tests.
func tsharkSYNs(t *testing.T, path string) []synEvent {
	t.Helper()
	bin, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed")
	}
	out, err := exec.Command(bin, "-n", "-r", path, "-Y", "tcp.flags.syn==1 && tcp.flags.ack==0",
		"-T", "fields", "-e", "frame.time_epoch", "-e", "ip.src", "-e", "ip.dst").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	var evs []synEvent
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 3 {
			t.Fatalf("tshark line %q", sc.Text())
		}
		evs = append(evs, synEvent{epochNanos(t, f[0]), f[1], f[2]})
	}
	return evs
}

// epochNanos parses "1234567890.123456789" exactly.
func epochNanos(t *testing.T, s string) int64 {
	sec, frac, _ := strings.Cut(s, ".")
	frac = (frac + "000000000")[:9]
	a, err1 := strconv.ParseInt(sec, 10, 64)
	b, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("bad epoch %q", s)
	}
	return a*1e9 + b
}

// referenceAlerts is the naive reference count, written apart from
// Tracker: for each source, windows are cut from the sorted times (a
// window starts at the first time not inside the previous window and
// covers [start, start+seconds)); in a window holding n matches, or n
// distinct destinations when distinct is set, limit alerts min(n, count)
// times, both once if n >= count, threshold floor(n/count) times.
func referenceAlerts(evs []synEvent, typ string, count, seconds int, distinct bool) int {
	bySrc := map[string][]synEvent{}
	for _, e := range evs {
		bySrc[e.src] = append(bySrc[e.src], e)
	}
	win := int64(seconds) * 1e9
	total := 0
	for _, es := range bySrc {
		sort.SliceStable(es, func(i, j int) bool { return es[i].ns < es[j].ns })
		for i := 0; i < len(es); {
			start := es[i].ns
			n, seen := 0, map[string]bool{}
			j := i
			for ; j < len(es) && es[j].ns-start < win; j++ {
				if !distinct {
					n++
				} else if !seen[es[j].dst] {
					seen[es[j].dst] = true
					n++
				}
			}
			switch typ {
			case "limit":
				total += min(n, count)
			case "both":
				if n >= count {
					total++
				}
			case "threshold":
				total += n / count
			}
			i = j
		}
	}
	return total
}

// syns decodes a capture with gopacket and returns the SYN packets as the
// engine would hand them over (addresses and packet time filled).
func syns(t *testing.T, path string) []field.Packet {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []field.Packet
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		pk := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
		ip, ok1 := pk.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		tcp, ok2 := pk.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if !ok1 || !ok2 || !tcp.SYN || tcp.ACK {
			continue
		}
		var p field.Packet
		p.Reset()
		p.Meta.Src, _ = netip.AddrFromSlice(ip.SrcIP.To4())
		p.Meta.Dst, _ = netip.AddrFromSlice(ip.DstIP.To4())
		p.Frame.Time = ci.Timestamp
		p.TCP.DstPort = int(tcp.DstPort)
		out = append(out, p)
	}
	return out
}

// TestCaptures runs SYN rules with thresholds tracked by source over the
// scan and brute-force captures and compares the number of alerts with
// the reference computed from tshark's view of the same packets.
func TestCaptures(t *testing.T) {
	captures := []string{"zeek-ssh-bruteforce", "zeek-ftp-bruteforce", "sv-syn-flood", "zeek-nmap-host-sweep"}
	specs := []rules.Threshold{
		{Type: rules.TypeBoth, Track: rules.BySrc, Count: 5, Window: 60 * time.Second},
		{Type: rules.TypeLimit, Track: rules.BySrc, Count: 5, Window: 60 * time.Second},
		{Type: rules.TypeThreshold, Track: rules.BySrc, Count: 5, Window: 60 * time.Second},
		{Type: rules.TypeBoth, Track: rules.BySrc, Count: 10, Window: 20 * time.Second},
		{Type: rules.TypeThreshold, Track: rules.BySrc, Count: 3, Window: 5 * time.Second},
		{Type: rules.TypeLimit, Track: rules.BySrc, Count: 2, Window: time.Second},
		{Type: rules.TypeBoth, Track: rules.BySrc, Count: 5, Window: 60 * time.Second, DistinctName: "ip.dst"},
		{Type: rules.TypeLimit, Track: rules.BySrc, Count: 3, Window: 10 * time.Second, DistinctName: "ip.dst"},
	}
	for _, name := range captures {
		path := "../../testdata/captures/" + name + ".pcap"
		evs := tsharkSYNs(t, path)
		pkts := syns(t, path)
		if len(pkts) != len(evs) || len(evs) == 0 {
			t.Fatalf("%s: gopacket sees %d SYNs, tshark %d", name, len(pkts), len(evs))
		}
		for _, spec := range specs {
			want := referenceAlerts(evs, spec.Type.String(), spec.Count, int(spec.Window/time.Second), spec.DistinctName != "")
			tr := NewTracker(0)
			got := 0
			for i := range pkts {
				p := &pkts[i]
				var v uint64
				if spec.DistinctName != "" {
					a := p.Meta.Dst.As4()
					v = uint64(a[0])<<24 | uint64(a[1])<<16 | uint64(a[2])<<8 | uint64(a[3])
				}
				if tr.Allow(2000001, &spec, KeyFor(spec.Track, p, 0), v, p.Frame.Time) {
					got++
				}
			}
			t.Logf("%s: %s count %d window %v distinct %q: %d alerts over %d SYNs",
				name, spec.Type, spec.Count, spec.Window, spec.DistinctName, got, len(evs))
			if got != want {
				t.Errorf("%s: %+v: %d alerts, reference %d", name, spec, got, want)
			}
		}
	}
}
