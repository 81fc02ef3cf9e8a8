package field

import (
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite FIELDS.md from the catalog")

// TestReferenceInSync keeps FIELDS.md, the field reference the docs link
// to, equal to what `vigil fields --markdown` prints.
func TestReferenceInSync(t *testing.T) {
	want := "# Condition fields\n\nGenerated from the catalog (`vigil fields --markdown`; `go test ./rules/field -update` rewrites it).\nNames and meanings are Wireshark's display-filter ones; a field of an absent layer holds its zero value, and a layer name alone is true when the layer is present.\n\n" + preamble + Markdown()
	if *update {
		if err := os.WriteFile("FIELDS.md", []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("FIELDS.md")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Error("FIELDS.md is out of date: run go test ./rules/field -update")
	}
}

// preamble is the part of FIELDS.md that says how tunnels and fields that
// occur several times in a frame are seen, and how display filters and
// either-side names read the fields.
const preamble = `## Tunnels: the inner packet is the one inspected

The decoder goes through PPPoE sessions, GRE (IPv4, IPv6, MPLS, Ethernet bridging 0x6558, ERSPAN types I, II and III, PPTP's PPP),
VXLAN (UDP 4789), Geneve (UDP 6081), MPLS (IPv4, IPv6, Ethernet pseudowires with or without control word), IPv4 and IPv6 inside
IPv4 or IPv6, and Teredo (UDP 3544), at most 8 of them per frame. As in Suricata, the network, transport and application fields
(` + "`ip.*`, `ipv6.*`, `tcp.*`, `udp.*`, `icmp.*`, `arp.*`, `payload`, `src_ip`, `dest_port`, `http.*`, ..." + `) are those of the
innermost packet decoded, and ` + "`eth.*`" + ` is the innermost Ethernet header (the one a VXLAN, Geneve, bridged GRE, ERSPAN or pseudowire
frame carries). The outer layers stay visible:

- ` + "`tunnel.*`" + ` (the names of Suricata's EVE ` + "`tunnel`" + ` object) holds the outermost IP header's addresses, its UDP ports and protocol, and
  how many IP packets enclose the inspected one, whenever that packet travelled inside another IP packet (IP in IP, GRE, ERSPAN,
  VXLAN, Geneve, Teredo). Encapsulations below IP (VLAN, MPLS, PPPoE) are not tunnels: the frame has one IP header.
- the headers crossed keep Wireshark's names: ` + "`ieee8021ad.*`, `vlan.*`, `mpls.*`, `pweth`, `pppoes`, `pppoe.*`, `ppp.*`, `gre.*`, `erspan.*`,\n  `vxlan.*`, `geneve.*`, `teredo`" + `.

Where Wireshark matches ` + "`ip.src`" + ` against every IP header of a tunnelled frame, a condition sees the inner one; write
` + "`tunnel.src_ip`" + ` for the outer one. A tunnel whose header or payload cannot be decoded leaves the outer packet as the one inspected
(and counts a decode error saying why).

## Fields that occur several times in a frame

A frame may carry a header more than once: several 802.1Q tags, an MPLS label stack, nested tunnels. The fields of those headers
marked "one value per header" below keep every value, outermost first, and follow Wireshark 4:

- ` + "`F == v`, `F < v`, `F <= v`, `F > v`, `F >= v` and `F in [...]`" + ` hold when they hold for any value of F (` + "`vlan.id == 300`" + ` matches a
  frame whose 802.1Q tags are 200 and 300);
- ` + "`F != v`" + ` holds when no value of F equals v, as ` + "`!(F == v)`" + ` (Wireshark 4's ` + "`!=`" + `);
- a frame without the header has the one value 0, as any field of an absent layer: ` + "`vlan.id == 0`" + ` is true on an untagged frame;
- anywhere else (arithmetic, a function argument, a message template, threshold ` + "`distinct`" + `) F is its first, outermost value;
- two such fields cannot be compared with each other.

` + "`vlan.*`" + ` holds the 802.1Q tags (EtherType 0x8100, and 0x9100 as Wireshark reads it) of the whole frame, inner Ethernet headers
included; an 802.1ad service tag (0x88a8) is ` + "`ieee8021ad.*`" + `, never ` + "`vlan.id`" + `. ` + "`vlan.count`" + ` counts both kinds of tag, and
` + "`vlan.inner_id`" + ` is the id of the last (innermost) tag of either kind when there are two or more.

` + displayFilters + `## Fields

`

// displayFilters is the section of FIELDS.md on either-side names and
// `wireshark:` rules (rules/dfilter).
const displayFilters = "## Either-side names and display filters\n\n" +
	"`ip.addr`, `ip.host` (ip.src, ip.dst), `ipv6.addr` (ipv6.src, ipv6.dst), `eth.addr` (eth.src, eth.dst), `tcp.port`\n" +
	"(tcp.srcport, tcp.dstport) and `udp.port` (udp.srcport, udp.dstport) stand for both sides, as in Wireshark. A condition may\n" +
	"compare them (`==`, `<`, `<=`, `>`, `>=`, `in`, `contains`, `matches`, `startsWith`, `endsWith`: either side; `!=`: neither\n" +
	"side equals) or pass them to `cidr`: `tcp.port in [22, 23]`, `cidr(ip.addr, \"10.0.0.0/8\")`.\n\n" +
	"A rule may give `wireshark:` instead of `condition:`: a Wireshark 4.0 display filter (wireshark-filter(4)), pasted as it is,\n" +
	"with Wireshark's semantics: a test of a field holds only where the field exists (its layer is present; a string or bytes field\n" +
	"is also non-empty), `==`, `<`, `in`, `contains`, `matches`, `!==` hold for any occurrence of a field (either side, or any value\n" +
	"of a field with one value per header), `!=` and `===` for all of them, `matches` is case-insensitive unless the pattern says\n" +
	"`(?-i)` (patterns are Go regexps). Beyond the fields above it knows `tcp.payload` and `udp.payload` (`payload`, the segment's\n" +
	"own bytes) and `tcp.flags` (`tcp.flags.raw`); `data.data` is the payload no dissector took, as in Wireshark, but Vigil\n" +
	"dissects fewer protocols (DNS, HTTP, TLS, FTP, SSH); `frame` in a byte context is the frame's bytes, and a\n" +
	"slice of a MAC address its bytes (`eth.src[0:3] == 00:11:22`). `tcp.seq`, `tcp.ack` and `tcp.nxtseq` are relative to the\n" +
	"initial sequence numbers of the flow's two directions, as Wireshark shows them (a direction picked up mid-stream starts at 1;\n" +
	"`tcp.ack` is raw on a segment without ACK), in `condition:` too; `tcp.seq_raw` and `tcp.ack_raw` are the numbers on the wire.\n" +
	"`vigil filter 'FILTER' CAPTURE...` prints the frames a filter matches, as `tshark -Y` does; `go doc ./rules/dfilter` lists\n" +
	"the grammar and what is not supported.\n\n"
