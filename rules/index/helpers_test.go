package index

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/vigil-ids/vigil/decode"
	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/rules/field"
)

// capDir holds the public test captures.
const capDir = "../../testdata/captures"

// tunnelDir holds a capture per encapsulation (VLAN stacks, MPLS, GRE,
// VXLAN, ...): frames whose fields have several values.
const tunnelDir = "../../testdata/tunnels"

// loadPackets decodes every frame of the Ethernet pcaps named (all of
// them, and those of tunnelDir, when names is empty) into packets that
// stay valid: each Packet is decoded in place in the returned slice and
// its frame is kept. Names are relative to capDir.
func loadPackets(tb testing.TB, names ...string) []field.Packet {
	tb.Helper()
	if len(names) == 0 {
		for _, dir := range []string{capDir, tunnelDir} {
			m, err := filepath.Glob(filepath.Join(dir, "*.pcap"))
			if err != nil || len(m) == 0 {
				tb.Fatalf("no captures in %s: %v", dir, err)
			}
			for _, p := range m {
				rel, _ := filepath.Rel(capDir, p)
				names = append(names, rel)
			}
		}
	}
	var frames [][]byte
	for _, name := range names {
		f, err := os.Open(filepath.Join(capDir, name))
		if err != nil {
			tb.Fatal(err)
		}
		r, err := pcapgo.NewReader(f)
		if err != nil {
			f.Close()
			tb.Fatalf("%s: %v", name, err)
		}
		if r.LinkType() != layers.LinkTypeEthernet {
			f.Close()
			continue
		}
		for {
			data, _, err := r.ReadPacketData()
			if err != nil {
				break
			}
			frames = append(frames, data)
		}
		f.Close()
	}
	pkts := make([]field.Packet, len(frames))
	dec := decode.New()
	var earlier string
	for i, fr := range frames {
		_ = dec.Decode(&pkts[i], decode.Ethernet, fr) // a malformed frame is still a packet
		pkts[i].Frame.Number = i + 1
		earlier = withStream(&pkts[i], earlier)
	}
	return pkts
}

// withStream gives a TCP packet with payload a stream view, as the engine
// does: the last bytes of earlier (the previous TCP payload) followed by
// its own payload, in a buffer of its own (Meta.Stream); and, for every
// other such packet, application fields decoded from a copy of its
// payload (Meta.App), as the engine does for a message of the stream. It
// returns the payload, the next packet's earlier.
func withStream(p *field.Packet, earlier string) string {
	if !p.TCP.Present || p.Payload == "" {
		return earlier
	}
	earlier = earlier[max(0, len(earlier)-16):]
	view := strings.Clone(earlier + p.Payload)
	p.Meta.Stream, p.Meta.StreamTail = view, true
	p.TCP.Reassembled = field.TCPReassembled{Data: view, NewLength: len(p.Payload)}
	if len(p.Payload)%2 == 0 {
		decode.New().DecodeTCPApp(p, []byte(p.Payload), p.TCP.SrcPort, p.TCP.DstPort)
	}
	return p.Payload
}

// parse compiles one rule per condition; exceptions (may be nil) holds a
// YAML flow sequence of exceptions per rule, "" for none.
func parse(tb testing.TB, conds []string, exceptions []string) []*rules.Rule {
	tb.Helper()
	var b strings.Builder
	b.WriteString("rules:\n")
	for i, c := range conds {
		fmt.Fprintf(&b, "  - sid: %d\n    name: r%d\n    condition: |-\n      %s\n", i+1, i+1, c)
		if exceptions != nil && exceptions[i] != "" {
			fmt.Fprintf(&b, "    exceptions: %s\n", exceptions[i])
		}
	}
	set, err := rules.Parse("gen.yaml", []byte(b.String()))
	if err != nil {
		tb.Fatalf("%v", err)
	}
	return set.Rules
}

// gen writes random conditions from pieces of real traffic.
type gen struct {
	r       *rand.Rand
	samples []string // payloads seen in the captures
	ports   []int
	addrs   []string // IPv4 and IPv6 source addresses seen
}

func newGen(seed uint64, pkts []field.Packet) *gen {
	g := &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	seen := map[int]bool{}
	for i := range pkts {
		p := &pkts[i]
		if len(p.Payload) > 0 && len(g.samples) < 4000 {
			g.samples = append(g.samples, p.Payload)
		}
		if a := p.SrcIP; a != "" && len(g.addrs) < 200 && !slices.Contains(g.addrs, a) {
			g.addrs = append(g.addrs, strings.Clone(a))
		}
		for _, port := range []int{p.TCP.DstPort, p.TCP.SrcPort, p.UDP.DstPort, p.UDP.SrcPort} {
			if port != 0 && !seen[port] && len(g.ports) < 500 {
				seen[port] = true
				g.ports = append(g.ports, port)
			}
		}
	}
	return g
}

func (g *gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g *gen) port() int {
	if g.r.IntN(4) == 0 || len(g.ports) == 0 {
		return g.r.IntN(65536)
	}
	return g.ports[g.r.IntN(len(g.ports))]
}

// literal returns bytes that occur in some payload (most of the time) or
// random ones, lo..hi bytes long.
func (g *gen) literal(lo, hi int) string {
	n := lo + g.r.IntN(hi-lo+1)
	if g.r.IntN(5) > 0 && len(g.samples) > 0 {
		s := g.samples[g.r.IntN(len(g.samples))]
		if len(s) >= n {
			i := g.r.IntN(len(s) - n + 1)
			return s[i : i+n]
		}
		return s
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789 /.-_"[g.r.IntN(51)]
	}
	return string(b)
}

// quote writes s as an expr string: a plain literal when printable ASCII,
// hex("...") otherwise.
func quote(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return fmt.Sprintf("hex(%q)", fmt.Sprintf("%x", s))
		}
	}
	return strconv.Quote(s)
}

// randCase flips the case of some letters, for icontains.
func (g *gen) randCase(s string) string {
	b := []byte(s)
	for i, c := range b {
		if g.r.IntN(2) == 0 {
			switch {
			case c >= 'a' && c <= 'z':
				b[i] = c - 32
			case c >= 'A' && c <= 'Z':
				b[i] = c + 32
			}
		}
	}
	return string(b)
}

// header returns a test of header fields.
func (g *gen) header() string {
	switch g.r.IntN(26) {
	case 0:
		return fmt.Sprintf("tcp.dstport == %d", g.port())
	case 1:
		return fmt.Sprintf("tcp.srcport == %d", g.port())
	case 2:
		return fmt.Sprintf("udp.dstport == %d", g.port())
	case 3:
		return fmt.Sprintf("udp.srcport == %d", g.port())
	case 4:
		return fmt.Sprintf("tcp.dstport in [%d, %d, %d]", g.port(), g.port(), g.port())
	case 5:
		return fmt.Sprintf("ip.proto == %s", g.pick("1", "6", "17", "47", "0"))
	case 6:
		return fmt.Sprintf("icmp.type == %d", g.r.IntN(14))
	case 7:
		return fmt.Sprintf("ip.ttl %s %d", g.pick(">", ">=", "<", "<=", "==", "!="), g.r.IntN(256))
	case 8:
		return g.pick("tcp.flags.syn", "tcp.flags.syn == 1", "tcp.flags.ack == true", "tcp.flags.reset", "tcp.flags.fin == false")
	case 9:
		return g.pick("tcp", "udp", "dns", "http", "http.request", "tls", "icmp", "ipv6", "arp", "vlan", "ftp", "ssh", "frame", "eth", "ip")
	case 10:
		return fmt.Sprintf("eth.type == %s", g.pick("0x0800", "0x86dd", "0x0806", "2048"))
	case 11:
		return fmt.Sprintf("vlan.id %s %d", g.pick("==", "==", "!=", ">", "<=", ">="), g.pick2(1200, 0, 10, 100, 3, 200, 300, 400))
	case 12:
		return "tcp.dstport == 0"
	case 13:
		return fmt.Sprintf("dns.qry.type == %d", g.pick2(1, 28, 12, 16, 0))
	case 14:
		return fmt.Sprintf("%s == %d", g.pick("src_port", "dest_port"), g.port())
	case 15:
		return fmt.Sprintf("tcp.len %s %d", g.pick(">", ">=", "<", "=="), g.r.IntN(4))
	case 16:
		return fmt.Sprintf("frame.len > %d", g.r.IntN(1500))
	case 17:
		return fmt.Sprintf("ipv6.nxt == %d", g.pick2(6, 17, 58, 44, 0))
	case 18:
		return fmt.Sprintf("udp.dstport in %d..%d", g.r.IntN(1000), 1000+g.r.IntN(60000))
	case 19:
		return fmt.Sprintf("%d < tcp.window_size_value", g.r.IntN(3)-1)
	case 20:
		return fmt.Sprintf("icmpv6.type in [%d, %d]", 128+g.r.IntN(10), 133+g.r.IntN(5))
	case 21: // fields with a value per header
		return fmt.Sprintf("%s == %d", g.pick("mpls.label", "mpls.ttl", "ieee8021ad.id"), g.pick2(0, 29, 100, 200, 300, 63, 64))
	case 22:
		return fmt.Sprintf("%s in [%d, %d]", g.pick("gre.proto", "ppp.protocol"), g.pick2(0x0800, 0x86dd, 0x21, 0x57), g.pick2(0x6558, 0x88be, 0xc021, 0))
	case 23:
		return fmt.Sprintf("%s == %d", g.pick("vxlan.vni", "geneve.vni", "gre.key", "erspan.spanid", "pppoe.session_id"), g.pick2(0, 5, 6, 7, 42, 77, 0x1234))
	case 24:
		return g.pick("tunnel", "gre", "vxlan", "mpls", "pweth", "pppoes", "teredo", "tunnel.depth > 0")
	}
	return fmt.Sprintf("arp.opcode == %d", g.r.IntN(3))
}

func (g *gen) pick2(xs ...int) int { return xs[g.r.IntN(len(xs))] }

// content returns a test of payload text.
func (g *gen) content() string {
	l := g.literal(1, 20)
	switch g.r.IntN(24) {
	case 0, 1, 2:
		return "payload contains " + quote(l)
	case 3:
		return "frame contains " + quote(l)
	case 4:
		return "payload startsWith " + quote(l)
	case 5:
		return "payload endsWith " + quote(l)
	case 6:
		return "icontains(payload, " + quote(g.randCase(l)) + ")"
	case 7:
		return "icontains(frame, " + quote(g.randCase(l)) + ")"
	case 8:
		return "http.request.uri contains " + quote(g.literal(1, 6))
	case 9:
		return fmt.Sprintf("http.request.method == %q", g.pick("GET", "POST", "HEAD", "get", ""))
	case 10:
		return `http.request.method in ["GET", "PUT"]`
	case 11:
		return "dns.qry.name contains " + quote(g.pick("google", "com", ".", "www.", "a"))
	case 12:
		return "hasPrefix(payload, " + quote(l) + ")"
	case 13:
		if g.r.IntN(2) == 0 {
			return "tcp.reassembled.data contains " + quote(l)
		}
		return "lower(payload) contains " + quote(strings.ToLower(l))
	case 14:
		return "http.host endsWith " + quote(g.literal(1, 5))
	case 15:
		return "upper(payload) contains " + quote(strings.ToUpper(l))
	case 16:
		return fmt.Sprintf("lower(payload[%d:%d]) %s %s", g.r.IntN(3), 4+g.r.IntN(40), g.pick("contains", "startsWith", "=="), quote(strings.ToLower(l)))
	case 17:
		return fmt.Sprintf("payload[%d:%d] %s %s", g.r.IntN(3), 4+g.r.IntN(40), g.pick("contains", "endsWith", "=="), quote(l))
	case 18:
		return fmt.Sprintf("lower(http.request.method) in [%q, %q]", g.pick("get", "post", "GET"), g.pick("head", "put", ""))
	case 19, 20:
		return fmt.Sprintf("%s matches %q", g.pick("payload", "frame", "lower(payload)", "http.request.uri"), g.regex(l))
	case 22:
		return fmt.Sprintf("any([%s, %s], {%s})", quote(l), quote(g.literal(2, 8)), g.pick("payload contains #", "icontains(frame, #)", "http.request.uri startsWith #", "lower(payload) contains lower(#)"))
	case 21:
		if len(g.addrs) > 0 {
			a := g.addrs[g.r.IntN(len(g.addrs))]
			return fmt.Sprintf("%s %s %q", g.pick("ip.src", "ip.dst", "ipv6.src", "src_ip", "dest_ip", "arp.src.proto_ipv4"), g.pick("==", "==", "contains", "startsWith"), a[:len(a)-g.r.IntN(2)])
		}
	}
	return "ssh.protocol startsWith " + quote(g.pick("SSH-2.0", "SSH-1", "ssh"))
}

// regex returns a regular expression built around literal l, in the
// forms rule authors write.
func (g *gen) regex(l string) string {
	q := regexp.QuoteMeta(l)
	switch g.r.IntN(8) {
	case 0:
		return "(?i)" + q
	case 1:
		return q + ".*" + regexp.QuoteMeta(g.literal(1, 6))
	case 2:
		return "^(" + q + "|" + regexp.QuoteMeta(g.literal(1, 8)) + ")"
	case 3:
		return "[0-9a-f]+" + q
	case 4:
		return q + "\\s*[=:]?\\d{2,}"
	case 5:
		return "(?i)(" + regexp.QuoteMeta(g.randCase(l)) + ")+x?"
	case 6:
		return "(" + q + ")?" + g.pick("y", "[a-c]", ".", "(ab|cd)")
	}
	return q
}

// cond returns a random condition of the given depth.
func (g *gen) cond(depth int) string {
	if depth == 0 {
		switch g.r.IntN(10) {
		case 0:
			return g.pick("true", "false")
		case 1, 2, 3, 4:
			return g.header()
		}
		return g.content()
	}
	switch g.r.IntN(10) {
	case 0, 1, 2, 3, 4:
		return "(" + g.cond(depth-1) + ") && (" + g.cond(depth-1) + ")"
	case 5, 6:
		return "(" + g.cond(depth-1) + ") || (" + g.cond(depth-1) + ")"
	case 7:
		return "!(" + g.cond(depth-1) + ")"
	case 8:
		return "not (" + g.cond(depth-1) + ") and " + g.cond(0)
	}
	return g.cond(0)
}

// exception returns a YAML exceptions list, or "".
func (g *gen) exception() string {
	switch g.r.IntN(8) {
	case 0:
		return fmt.Sprintf("[{field: tcp.srcport, values: [%d]}]", g.port())
	case 1:
		return `[{field: ip.src, values: ["10.0.0.0/8"]}, {field: http.request.method, values: [GET]}]`
	}
	return ""
}
