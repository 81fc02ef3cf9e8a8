package decode

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/vigil-ids/vigil/rules/field"
)

// TestCapturesDecodeCleanly decodes every frame of every capture: the
// captures are well-formed (snap-truncated payloads are not errors), so
// no frame may return an error, and the decoded offsets must be
// consistent with the frame.
func TestCapturesDecodeCleanly(t *testing.T) {
	d := New()
	var p field.Packet
	for _, name := range allCaptures(t) {
		for i, f := range readNCF(t, name) {
			p.Reset()
			if err := d.Decode(&p, f.link, f.data); err != nil {
				t.Errorf("%s frame %d: %v", name, i+1, err)
			}
			checkInvariants(t, &p, f.data)
		}
	}
}

// checkInvariants checks what must hold for any decoded frame.
func checkInvariants(t *testing.T, p *field.Packet, frame []byte) {
	t.Helper()
	m := p.Meta
	if len(m.Raw) != len(frame) || p.Frame.CapLen != len(frame) || p.Frame.Bytes != string(frame) {
		t.Fatalf("frame fields do not describe the frame")
	}
	if m.L3 >= len(frame) || m.L4 >= len(frame) || m.PayloadOff >= len(frame) || (m.L4 >= 0 && m.L4 < m.L3) {
		t.Fatalf("offsets L3 %d L4 %d payload %d out of a %d-byte frame", m.L3, m.L4, m.PayloadOff, len(frame))
	}
	if m.PayloadOff >= 0 && string(frame[m.PayloadOff:m.PayloadOff+len(p.Payload)]) != p.Payload {
		t.Fatalf("payload does not sit at offset %d", m.PayloadOff)
	}
	if (m.PayloadOff < 0) != (p.Payload == "") {
		t.Fatalf("payload offset %d with a %d-byte payload", m.PayloadOff, len(p.Payload))
	}
	if p.IP.Present && (p.SrcIP != p.IP.Src || m.Src.String() != p.IP.Src || m.Dst.String() != p.IP.Dst) {
		t.Fatalf("IPv4 addresses disagree: %q %q %v %v", p.IP.Src, p.SrcIP, m.Src, m.Dst)
	}
	if p.IPv6.Present && (p.SrcIP != p.IPv6.Src || m.Src.String() != p.IPv6.Src || m.Dst.String() != p.IPv6.Dst) {
		t.Fatalf("IPv6 addresses disagree: %q %q %v %v", p.IPv6.Src, p.SrcIP, m.Src, m.Dst)
	}
	if p.TCP.Present && p.TCP.Len < len(p.Payload) {
		t.Fatalf("tcp.len %d below the payload's %d bytes", p.TCP.Len, len(p.Payload))
	}
}

// TestDecodeNoAllocs checks that decoding allocates nothing, over every
// frame of every capture, tunnel captures included, with and without
// DeferText.
func TestDecodeNoAllocs(t *testing.T) {
	frames := everyFrame(t)
	d, lazy := New(), New()
	lazy.DeferText = true
	p := new(field.Packet)
	i := 0
	allocs := testing.AllocsPerRun(len(frames), func() {
		f := frames[i%len(frames)]
		i++
		_ = d.Decode(p, f.link, f.data)
		_ = lazy.Decode(p, f.link, f.data)
		lazy.AddressText(p)
	})
	if allocs != 0 {
		t.Fatalf("%.2f allocations per frame, want 0", allocs)
	}
}

// TestDecodeOwnsItsFields decodes into a packet whose every field is set,
// and checks the result equals a decode into a fresh packet, except for
// the fields the engine owns, which Decode must leave alone.
func TestDecodeOwnsItsFields(t *testing.T) {
	d := New()
	for _, name := range []string{"zeek-http-bro-org.ncf", "sv-dns-vlan-1200.ncf", "sv-arp.ncf", "zeek-ipv6-frag-dns.ncf"} {
		for i, f := range readNCF(t, name)[:6] {
			var dirty, clean field.Packet
			fill(reflect.ValueOf(&dirty).Elem())
			clean.Reset()
			errDirty := d.Decode(&dirty, f.link, f.data)
			errClean := d.Decode(&clean, f.link, f.data)
			if (errDirty == nil) != (errClean == nil) {
				t.Fatalf("%s frame %d: errors differ: %v / %v", name, i+1, errDirty, errClean)
			}
			// The engine's fields survive.
			if dirty.Sensor != "x" || dirty.NCF.Medium != "x" || !dirty.Flow.Present || dirty.Frame.Len != 7 || dirty.Frame.Number != 7 || dirty.Frame.Time.IsZero() {
				t.Fatalf("%s frame %d: Decode changed an engine field", name, i+1)
			}
			dirty.Sensor, dirty.NCF, dirty.Flow = clean.Sensor, clean.NCF, clean.Flow
			dirty.Frame.Len, dirty.Frame.Number, dirty.Frame.Time = clean.Frame.Len, clean.Frame.Number, clean.Frame.Time
			dirty.Meta.Scratch, dirty.Meta.Name = clean.Meta.Scratch, clean.Meta.Name
			if !reflect.DeepEqual(dirty, clean) {
				t.Fatalf("%s frame %d: a decoded field kept a stale value:\n dirty %+v\n clean %+v", name, i+1, dirty, clean)
			}
		}
	}
}

// fill sets every settable field under v to a non-zero value.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		switch v.Type() {
		case reflect.TypeOf(time.Time{}):
			v.Set(reflect.ValueOf(time.Unix(1, 0)))
			return
		case reflect.TypeOf(field.Meta{}.Src):
			v.Set(reflect.ValueOf(field.Meta{}.Src).Convert(v.Type()))
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Field(i).CanSet() {
				fill(v.Field(i))
			}
		}
	case reflect.String:
		v.SetString("x")
	case reflect.Int:
		v.SetInt(7)
	case reflect.Float64:
		v.SetFloat(7)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Slice:
		v.Set(reflect.ValueOf([]byte("x")))
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			fill(v.Index(i))
		}
	case reflect.Uint8:
		v.SetUint(7)
	}
}

// TestTruncatedFrames cuts real frames at every length: decoding must not
// panic, must keep the invariants, must report a cut inside the headers as
// ErrTruncated, and what it decodes must agree with the whole frame.
func TestTruncatedFrames(t *testing.T) {
	cases := []struct {
		capture string
		frame   int // 1-based
		what    string
	}{
		{"sv-http-testmyids.ncf", 4, "HTTP GET over IPv4/TCP"},
		{"sv-dns-vlan-1200.ncf", 1, "DNS query over UDP in an 802.1Q tag"},
		{"sv-tls-cert.ncf", 9, "TLS ClientHello"},
		{"sv-http-ipv6.ncf", 5, "HTTP GET over IPv6"},
		{"zeek-ipv6-frag-dns.ncf", 6, "first IPv6 fragment of a DNS response"},
		{"zeek-vlan-mpls-mixed.ncf", 2, "MPLS-labelled TCP"},
		{"zeek-ftp-bruteforce.ncf", 4, "FTP"},
		{"sv-icmp-ssh.ncf", 18, "SSH banner"},
		{"sv-arp.ncf", 1, "ARP request"},
	}
	d := New()
	var full, p field.Packet
	for _, c := range cases {
		frames := readNCF(t, c.capture)
		if c.frame > len(frames) {
			t.Fatalf("%s has no frame %d", c.capture, c.frame)
		}
		f := frames[c.frame-1]
		full.Reset()
		if err := d.Decode(&full, f.link, f.data); err != nil {
			t.Fatalf("%s frame %d (%s): %v", c.capture, c.frame, c.what, err)
		}
		// A cut before hdrEnd, the end of the deepest header, is an error;
		// in a first fragment only a cut before the transport header is.
		var hdrEnd int
		switch {
		case full.IPv6.Fragment.More || full.IP.Flags.MF:
			hdrEnd = full.Meta.L4
		case full.TCP.Present:
			hdrEnd = full.Meta.L4 + full.TCP.HdrLen
		case full.UDP.Present:
			hdrEnd = full.Meta.L4 + 8
		case full.ICMP.Present || full.ICMPv6.Present:
			hdrEnd = full.Meta.L4 + 4
		case full.ARP.Present:
			hdrEnd = full.Meta.L3 + 28
		default:
			t.Fatalf("%s: no header end for this frame", c.what)
		}
		for n := 0; n < len(f.data); n++ {
			cut := f.data[:n:n]
			p.Reset()
			err := d.Decode(&p, f.link, cut)
			checkInvariants(t, &p, cut)
			if allocs := testing.AllocsPerRun(1, func() { d.Decode(&p, f.link, cut) }); allocs != 0 {
				t.Errorf("%s cut at %d: %v allocations", c.what, n, allocs)
			}
			if n < hdrEnd && !errors.Is(err, ErrTruncated) {
				t.Errorf("%s cut at %d of %d (headers end at %d): error %v, want ErrTruncated", c.what, n, len(f.data), hdrEnd, err)
			}
			if p.Eth.Present && (p.Eth.Src != full.Eth.Src || p.Eth.Dst != full.Eth.Dst || p.Eth.Type != 0 && p.Eth.Type != full.Eth.Type) {
				t.Errorf("%s cut at %d: eth %+v, whole frame %+v", c.what, n, p.Eth, full.Eth)
			}
			v6, fullV6 := p.IPv6, full.IPv6
			if v6.Fragment == (field.IPv6Fragment{}) { // cut before the fragment header
				fullV6.Fragment, fullV6.FragHdr = v6.Fragment, v6.FragHdr
			}
			if p.IP.Present && p.IP != full.IP || v6.Present && v6 != fullV6 {
				t.Errorf("%s cut at %d: IP header differs from the whole frame's", c.what, n)
			}
			if p.TCP.Present && p.TCP != full.TCP || p.UDP.Present && p.UDP != full.UDP {
				t.Errorf("%s cut at %d: transport header differs from the whole frame's", c.what, n)
			}
			if p.VLAN != full.VLAN && p.VLAN.Present {
				t.Errorf("%s cut at %d: vlan differs", c.what, n)
			}
		}
	}
}

// everyFrame returns the frames of every capture and tunnel capture.
func everyFrame(t *testing.T) []capFrame {
	var frames []capFrame
	for _, name := range allCaptures(t) {
		frames = append(frames, readNCF(t, name)...)
	}
	for _, f := range tunnelFrames(t) {
		frames = append(frames, f...)
	}
	return frames
}

// TestDeferText decodes every frame of every capture and tunnel capture,
// whole and cut short, with DeferText into a packet reused across frames:
// before AddressText each address text must have its final length, and
// after it the packet must equal an ordinary decode.
func TestDeferText(t *testing.T) {
	frames := everyFrame(t)
	eager, lazy := New(), New()
	lazy.DeferText = true
	var pl field.Packet
	for i, f := range frames {
		for _, n := range []int{len(f.data), len(f.data) * 2 / 3, 40} {
			if n > len(f.data) {
				continue
			}
			sameDeferred(t, eager, lazy, &pl, f.link, f.data[:n])
			if t.Failed() {
				t.Fatalf("frame %d of %d, cut at %d", i+1, len(frames), n)
			}
		}
	}
}

// sameDeferred decodes frame with eager into a fresh packet and with lazy
// (DeferText) into pl, and checks they agree as TestDeferText says.
func sameDeferred(t *testing.T, eager, lazy *Decoder, pl *field.Packet, link Link, frame []byte) {
	t.Helper()
	var pe field.Packet
	pe.Reset()
	errE, errL := eager.Decode(&pe, link, frame), lazy.Decode(pl, link, frame)
	if (errE == nil) != (errL == nil) {
		t.Errorf("errors differ: %v / %v", errE, errL)
		return
	}
	for _, name := range TextFields {
		s, ok := field.Lookup(name)
		if !ok {
			t.Fatalf("TextFields names %s, not a field", name)
		}
		if a, b := s.String(&pe), s.String(pl); len(a) != len(b) {
			t.Errorf("%s: %q before AddressText has length %d, want %d", name, b, len(b), len(a))
		}
	}
	lazy.AddressText(pl)
	if got, want := withoutBuffers(pl), withoutBuffers(&pe); !reflect.DeepEqual(got, want) {
		t.Errorf("deferred text differs:\n got %+v\nwant %+v", got, want)
	}
}

// withoutBuffers is a copy of *p without the buffers that back its
// strings (Meta.Scratch, Meta.Name), so that packets compare by their
// fields: the copy's strings still read p's buffers.
func withoutBuffers(p *field.Packet) field.Packet {
	c := *p
	c.Meta.Scratch, c.Meta.Name = [field.ScratchLen]byte{}, [len(c.Meta.Name)]byte{}
	return c
}

// TestIPv6TextLen checks ipv6TextLen against netip on addresses with
// zero runs of every length at every place, and IPv4-mapped ones.
func TestIPv6TextLen(t *testing.T) {
	groups := []uint16{0, 1, 0x1f, 0x1ff, 0xffff, 0x100, 0x1000}
	r := rand.New(rand.NewPCG(1, 2))
	check := func(b [16]byte) {
		a := netip.AddrFrom16(b)
		if got, want := ipv6TextLen(a), len(a.String()); got != want {
			t.Fatalf("%s: ipv6TextLen %d, want %d", a, got, want)
		}
	}
	for range 20000 {
		var b [16]byte
		for i := 0; i < 8; i++ {
			g := groups[r.IntN(len(groups))]
			if r.IntN(2) == 0 {
				g = 0
			}
			b[2*i], b[2*i+1] = byte(g>>8), byte(g)
		}
		check(b)
		b = [16]byte{10: 0xff, 11: 0xff}
		for i := 12; i < 16; i++ {
			b[i] = []byte{0, 9, 10, 99, 100, 255}[r.IntN(6)]
		}
		check(b)
	}
}
