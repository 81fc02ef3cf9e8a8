package respond

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"os"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/vigil-ids/vigil/rules/field"
)

const captures = "../../testdata/captures/"

// readFrames returns every frame of a pcap file.
func readFrames(tb testing.TB, name string) [][]byte {
	tb.Helper()
	f, err := os.Open(captures + name)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	var frames [][]byte
	for {
		data, _, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return frames
		}
		if err != nil {
			tb.Fatal(err)
		}
		frames = append(frames, data)
	}
}

// frameN returns frame number n (1-based, as tshark counts) of a capture.
func frameN(tb testing.TB, name string, n int) []byte {
	tb.Helper()
	frames := readFrames(tb, name)
	if n < 1 || n > len(frames) {
		tb.Fatalf("%s has %d frames, want frame %d", name, len(frames), n)
	}
	return frames[n-1]
}

// oldQinQAs8021Q returns data, or a copy of it whose VLAN tags of
// EtherType 0x9100 read 0x8100.
func oldQinQAs8021Q(data []byte) []byte {
	out := data
	for off := 12; off+4 <= len(data); off += 4 {
		switch binary.BigEndian.Uint16(data[off:]) {
		case 0x9100:
			if &out[0] == &data[0] {
				out = bytes.Clone(data)
			}
			binary.BigEndian.PutUint16(out[off:], 0x8100)
		case 0x8100, 0x88a8:
		default:
			return out
		}
	}
	return out
}

// offsetIn is the offset of sub in data; sub must alias data.
func offsetIn(data, sub []byte) int { return cap(data) - cap(sub) }

// fillPacket fills a Packet from a frame the way the decoder does, using
// gopacket to find the offsets and values (a test stand-in for the
// engine's decoder). gopacket does not read a VLAN tag of EtherType
// 0x9100, which the decoder (as Wireshark) and Build read as 802.1Q: the
// Packet is then of a copy of the frame with 0x8100 in its place.
func fillPacket(data []byte) *field.Packet {
	data = oldQinQAs8021Q(data)
	p := &field.Packet{}
	p.Reset()
	p.Meta.Raw = data
	pkt := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.DecodeOptions{NoCopy: true, Lazy: false})
	for _, l := range pkt.Layers() {
		switch l := l.(type) {
		case *layers.Ethernet:
			p.Eth.Present = true
			p.Eth.Type = int(l.EthernetType)
		case *layers.Dot1Q:
			p.Meta.VLANTags++
			p.VLAN.Present = true
			p.VLAN.Count++
			if p.VLAN.Count == 1 {
				p.VLAN.ID = int(l.VLANIdentifier)
			}
		case *layers.IPv4:
			p.IP.Present = true
			p.Meta.L3 = offsetIn(data, l.Contents)
			p.Meta.Src, _ = netipFrom(l.SrcIP)
			p.Meta.Dst, _ = netipFrom(l.DstIP)
			p.Meta.IPProto = int(l.Protocol)
			p.Meta.Fragment = l.FragOffset != 0
			p.IP.TTL = int(l.TTL)
			p.IP.Flags.MF = l.Flags&layers.IPv4MoreFragments != 0
		case *layers.IPv6:
			p.IPv6.Present = true
			p.Meta.L3 = offsetIn(data, l.Contents)
			p.Meta.Src, _ = netipFrom(l.SrcIP)
			p.Meta.Dst, _ = netipFrom(l.DstIP)
			p.Meta.IPProto = int(l.NextHeader)
		case *layers.IPv6Fragment:
			p.Meta.IPProto = int(l.NextHeader)
			p.Meta.Fragment = l.FragmentOffset != 0
			if !p.Meta.Fragment && len(l.Payload) > 0 {
				// gopacket stops at a fragment; the decoder goes on
				// into the first fragment's transport header.
				p.Meta.L4 = offsetIn(data, l.Payload)
			}
		case *layers.TCP:
			p.Meta.L4 = offsetIn(data, l.Contents)
			p.Meta.IPProto = 6
			p.TCP = field.TCP{
				Present: true, SrcPort: int(l.SrcPort), DstPort: int(l.DstPort),
				Seq: int(l.Seq), SeqRaw: int(l.Seq), Ack: int(l.Ack), AckRaw: int(l.Ack),
				Window: int(l.Window), Len: len(l.Payload), HdrLen: int(l.DataOffset) * 4,
			}
			p.TCP.Flags = field.TCPFlags{FIN: l.FIN, SYN: l.SYN, Reset: l.RST, Push: l.PSH, Ack: l.ACK}
			if len(l.Payload) > 0 {
				p.Meta.PayloadOff = offsetIn(data, l.Payload)
			}
		case *layers.UDP:
			p.Meta.L4 = offsetIn(data, l.Contents)
			p.Meta.IPProto = 17
			p.UDP = field.UDP{Present: true, SrcPort: int(l.SrcPort), DstPort: int(l.DstPort)}
		case *layers.ICMPv4:
			p.Meta.L4 = offsetIn(data, l.Contents)
			p.ICMP = field.ICMP{Present: true, Type: int(l.TypeCode.Type()), Code: int(l.TypeCode.Code())}
		case *layers.ICMPv6:
			p.Meta.L4 = offsetIn(data, l.Contents)
			p.Meta.IPProto = 58
			p.ICMPv6 = field.ICMPv6{Present: true, Type: int(l.TypeCode.Type()), Code: int(l.TypeCode.Code())}
		}
	}
	return p
}

func netipFrom(ip []byte) (netip.Addr, bool) {
	a, ok := netip.AddrFromSlice(ip)
	return a.Unmap(), ok
}
