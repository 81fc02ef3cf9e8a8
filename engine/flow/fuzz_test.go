package flow

import (
	"net/netip"
	"testing"
	"time"
)

// FuzzTable drives a tiny table with packets made from the input (4
// bytes each: source, ports, flags, time step) and checks after each
// that every held flow is reachable through the index, the table holds
// at most MaxFlows flows, and both directions of a flow share its ID.
func FuzzTable(f *testing.F) {
	f.Add([]byte{1, 2, 0x02, 1, 2, 1, 0x12, 1, 1, 2, 0x10, 1, 3, 3, 0x04, 200})
	f.Add([]byte{0, 0, 0, 0, 255, 255, 255, 255, 7, 7, 7, 7})
	f.Fuzz(fuzzBody)
}

func fuzzBody(t *testing.T, data []byte) {
	{
		tab := NewTable(Config{MaxFlows: 5, TCPIdle: 3 * time.Second, UDPIdle: time.Second, TCPClosed: time.Second})
		now := t0
		for len(data) >= 4 {
			b := data[:4]
			data = data[4:]
			src := netip.AddrFrom4([4]byte{10, 0, 0, b[0] & 7})
			dst := netip.AddrFrom4([4]byte{10, 0, 0, b[0] >> 5})
			proto := 6
			if b[2]&0x80 != 0 {
				proto = 17
			}
			now = now.Add(time.Duration(b[3]) * 20 * time.Millisecond)
			p := pkt(proto, src.String(), int(b[1]&3), dst.String(), int(b[1]>>6), 0)
			p.Frame.Time = now
			p.TCP.Flags.FIN = b[2]&0x01 != 0
			p.TCP.Flags.SYN = b[2]&0x02 != 0
			p.TCP.Flags.Reset = b[2]&0x04 != 0
			p.TCP.Flags.Ack = b[2]&0x10 != 0
			p.TCP.Len = int(b[2]>>5) & 3
			id := tab.Update(p, 0)
			if id == 0 || !p.Flow.Present {
				t.Fatal("no flow for an IP packet")
			}
			if _, ok := tab.Bits(id); !ok {
				t.Fatal("returned id not held")
			}
			r := pkt(proto, dst.String(), int(b[1]>>6), src.String(), int(b[1]&3), 0)
			r.Frame.Time = now
			r.TCP.Flags.Ack = true
			if rid := tab.Update(r, 0); rid != id && !(p.Flow.State == "closed") {
				t.Fatalf("reverse direction id %x, forward %x", rid, id)
			}
			checkHeld(t, tab, 5)
		}
	}
}
