package flow

import (
	"encoding/binary"
	"math/bits"

	"github.com/vigil-ids/vigil/decode"
	"github.com/vigil-ids/vigil/rules/field"
)

const (
	mulA = 0x9e3779b97f4a7c15
	mulB = 0xbf58476d1ce4e5b9
	mulC = 0x94d049bb133111eb
)

// mix is a 64-bit finalizer (splitmix64).
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= mulB
	x ^= x >> 27
	x *= mulC
	x ^= x >> 31
	return x
}

// step folds one 64-bit word into h.
func step(h, w uint64) uint64 {
	return bits.RotateLeft64((h^w)*mulA, 31)
}

// endpointHash hashes one side of a flow: its address and port.
func endpointHash(a *[16]byte, port uint16) uint64 {
	h := step(0, binary.LittleEndian.Uint64(a[:8]))
	h = step(h, binary.LittleEndian.Uint64(a[8:]))
	h = step(h, uint64(port))
	return mix(h)
}

// Hash returns a direction-symmetric hash of p's flow: both directions of
// a flow give the same value. It covers the VLAN ids (field.VLANKey), the IP
// protocol and the {address, port} pair of both sides (ports are 0 for
// protocols other than TCP and UDP). The engine uses it to pin every
// packet of a flow to the same worker; it is deterministic across runs
// and processes.
//
// A packet without IP hashes by its Ethernet address pair (also
// symmetric) when p.Eth is present and p.Meta.Raw holds the Ethernet
// header, and to 0 otherwise. Hash does not allocate.
func Hash(p *field.Packet) uint64 { return hash(p, true) }

// PairHash is Hash without the ports and the IP protocol: every packet
// between two hosts (in one VLAN set) gives the same value, whatever the
// flow, so IP fragments, which carry no ports, go with the rest of their
// flow. A cluster ingest process partitions packets by it.
func PairHash(p *field.Packet) uint64 { return hash(p, false) }

func hash(p *field.Packet, ports bool) uint64 {
	vlan := vlanBits(p.VLANKey())
	if !p.Meta.Src.IsValid() || !p.Meta.Dst.IsValid() {
		if !p.Eth.Present || len(p.Meta.Raw) < 12 {
			return 0
		}
		var a, b [16]byte
		copy(b[:6], p.Meta.Raw[0:6])
		copy(a[:6], p.Meta.Raw[6:12])
		return combine(endpointHash(&a, 0), endpointHash(&b, 0), vlan<<16|0xffff)
	}
	a := p.Meta.Src.As16()
	b := p.Meta.Dst.As16()
	if !ports {
		return pairHash(&a, &b, vlan)
	}
	return ipHash(&a, &b, uint16(p.SrcPort), uint16(p.DestPort), uint8(p.Meta.IPProto), vlan)
}

// HashPeek returns Hash of the packet whose flow decode.PeekFlow read
// into k: the same value, from the frame's headers alone.
func HashPeek(k *decode.FlowPeek) uint64 {
	return ipHash(&k.Src, &k.Dst, k.SrcPort, k.DstPort, k.Proto, vlanBits(k.VLAN))
}

// PairHashPeek returns PairHash of the packet whose flow decode.PeekFlow
// read into k.
func PairHashPeek(k *decode.FlowPeek) uint64 { return pairHash(&k.Src, &k.Dst, vlanBits(k.VLAN)) }

// vlanBits packs a VLANKey's three 12-bit ids.
func vlanBits(k field.VLANKey) uint64 {
	return uint64(k[0]&0xfff) | uint64(k[1]&0xfff)<<12 | uint64(k[2]&0xfff)<<24
}

// ipHash hashes the flow of an IP packet; vlan is its vlanBits.
func ipHash(a, b *[16]byte, aPort, bPort uint16, proto uint8, vlan uint64) uint64 {
	return combine(endpointHash(a, aPort), endpointHash(b, bPort), vlan<<16|uint64(proto))
}

// pairHash hashes the address pair of an IP packet; vlan is its vlanBits.
func pairHash(a, b *[16]byte, vlan uint64) uint64 {
	return combine(endpointHash(a, 0), endpointHash(b, 0), vlan<<16)
}

// combine joins two endpoint hashes independently of their order.
func combine(x, y, extra uint64) uint64 {
	if x > y {
		x, y = y, x
	}
	h := step(extra, x)
	h = step(h, y)
	return mix(h)
}
