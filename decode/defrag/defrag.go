// Package defrag puts fragmented IPv4 and IPv6 datagrams back together,
// so that rules see a datagram's transport and application layers on the
// fragment that completes it, as Wireshark shows them.
//
// Sources:
//   - RFC 791 (IPv4: identification, fragment offset in 8-byte units,
//     the More Fragments flag; a datagram is keyed by source, destination,
//     protocol and identification);
//   - RFC 8200 §4.5 (IPv6 fragment header; the unfragmentable part ends
//     at the fragment header, the fragmentable part starts with the header
//     its Next Header names; a datagram is keyed by source, destination and
//     identification; at most 65,535 bytes of fragmentable part);
//   - RFC 5722 (IPv6 overlapping fragments are an error: the whole datagram
//     is discarded; exact duplicates may be dropped alone, as RFC 8200
//     allows);
//   - RFC 1858 (tiny fragment attack: a first fragment too short to hold
//     the transport header; overlapping fragment attack);
//   - Suricata's defrag engine (defrag.c, defrag-config): the target-based
//     overlap policies of Novak's "Target-Based Fragmentation Reassembly",
//     a 60 s timeout and a memory cap; and its key, which adds the frame's
//     VLAN ids to the RFC's (so does Vigil: field.VLANKey, the flow
//     table's too).
//
// # Overlap policy
//
// IPv4 overlaps are resolved as BSD does, Suricata's default policy: a
// fragment's data is kept where it overlaps a fragment that starts at or
// after it, and yields to earlier data where an already received fragment
// starts at or before its own offset. BSD is the behaviour of most hosts
// an IDS watches after Linux (whose "first" answer differs only for
// fragments starting at the same offset) and matches Suricata, whose
// alerts Vigil is compared with. An overlap whose data differs from what
// it covers is an anomaly and is counted. IPv6 follows RFC 5722: any
// overlap other than an exact duplicate drops the datagram.
//
// # Bounds
//
// Every datagram holds at most Config.MaxFragments fragments and 65,535
// bytes of reassembled payload; beyond either it is dropped. A datagram
// incomplete Config.Timeout after its first fragment (packet time) is
// dropped. The bytes held by all datagrams of one Defragmenter, spare
// buffers included, stay under Config.Memcap: the oldest datagrams are
// evicted to make room. A dropped datagram leaves a marker that swallows
// its later fragments until the timeout, so the rest of an attack is not
// reassembled as a new datagram. Every drop is counted in Counters.
//
// A Defragmenter is used by one goroutine; its buffers are reused, so it
// allocates nothing per fragment once warm.
package defrag

import (
	"encoding/binary"
	"slices"
	"sync/atomic"
	"time"

	"github.com/vigil-ids/vigil/rules/field"
)

// Defaults of Config.
const (
	DefaultTimeout      = 60 * time.Second
	DefaultMaxFragments = 256
	DefaultMemcap       = 32 << 20
)

// MaxPayload is the largest reassembled IP payload, in bytes: the IPv4
// total length and the IPv6 payload length are 16-bit fields.
const MaxPayload = 65535

// Config bounds a Defragmenter. Zero fields take the defaults.
type Config struct {
	// Timeout is how long, in packet time, a datagram may wait for its
	// missing fragments after its first one arrived (default 60 s).
	Timeout time.Duration
	// MaxFragments is the most fragments one datagram may have, duplicates
	// and overlaps included (default 256).
	MaxFragments int
	// Memcap is the most bytes the Defragmenter holds for datagrams,
	// buffers and bookkeeping together (default 32 MiB).
	Memcap int
}

func (c Config) withDefaults() Config {
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxFragments <= 0 {
		c.MaxFragments = DefaultMaxFragments
	}
	if c.Memcap <= 0 {
		c.Memcap = DefaultMemcap
	}
	return c
}

// Counters are the cumulative counts of one or more Defragmenters; they
// may be shared and read from any goroutine.
type Counters struct {
	fragments, reassembled, invalid, overlaps, tinyFirst atomic.Uint64
	tooMany, oversize, timeouts, memcap                  atomic.Uint64
}

// Stats is a snapshot of Counters. Every count but Fragments and
// Reassembled is an anomaly.
type Stats struct {
	// Fragments is the number of IP fragments taken.
	Fragments uint64 `json:"fragments"`
	// Reassembled is the number of datagrams completed.
	Reassembled uint64 `json:"reassembled"`
	// Invalid counts fragments that cannot be used: a header cut short by
	// the capture, data missing from the capture, a non-last fragment whose
	// length is not a multiple of 8, or lengths that contradict the
	// datagram's last fragment (the datagram is then dropped).
	Invalid uint64 `json:"invalid"`
	// Overlaps counts fragments overlapping earlier ones with different
	// data (IPv4, resolved by the BSD policy) or overlapping at all but as
	// an exact duplicate (IPv6, the datagram is dropped).
	Overlaps uint64 `json:"overlaps"`
	// TinyFirst counts first fragments too short to hold their transport
	// header (TCP 20 bytes, UDP, ICMP and ICMPv6 8 bytes; RFC 1858).
	TinyFirst uint64 `json:"tiny_first"`
	// TooMany counts datagrams dropped for having more than MaxFragments
	// fragments.
	TooMany uint64 `json:"too_many_fragments"`
	// Oversize counts datagrams dropped for a payload beyond MaxPayload.
	Oversize uint64 `json:"oversize"`
	// Timeouts counts datagrams still incomplete after the timeout.
	Timeouts uint64 `json:"timeouts"`
	// Memcap counts datagrams evicted, or fragments refused, to stay
	// under the memory cap.
	Memcap uint64 `json:"memcap"`
}

// Stats returns the counts so far.
func (c *Counters) Stats() Stats {
	return Stats{
		Fragments:   c.fragments.Load(),
		Reassembled: c.reassembled.Load(),
		Invalid:     c.invalid.Load(),
		Overlaps:    c.overlaps.Load(),
		TinyFirst:   c.tinyFirst.Load(),
		TooMany:     c.tooMany.Load(),
		Oversize:    c.oversize.Load(),
		Timeouts:    c.timeouts.Load(),
		Memcap:      c.memcap.Load(),
	}
}

// Datagram is a reassembled datagram.
type Datagram struct {
	// Proto is the protocol of the payload: the IPv4 protocol, or the Next
	// Header of the first fragment's IPv6 fragment header.
	Proto int
	// Payload is the reassembled IP payload: from the transport header
	// (IPv4) or from the first header after the fragment header (IPv6) to
	// the end of the datagram. It belongs to the Defragmenter and is valid
	// until its next call.
	Payload []byte
}

// key names a datagram (RFC 791, RFC 8200) within its VLANs.
type key struct {
	src, dst [16]byte
	id       uint32
	vlan     field.VLANKey
	proto    uint8 // IPv4 only
	v6       bool
}

// span is the part of the payload one fragment carried, [off, end).
type span struct{ off, end int32 }

// datagram is one datagram being reassembled.
type datagram struct {
	key          key
	created      int64 // packet time of the first fragment seen, Unix ns
	older, newer *datagram
	frags        []span // sorted by off
	buf          []byte // payload so far, valid where frags cover it
	total        int    // payload length once the last fragment came, else -1
	proto        uint8  // from the first fragment
	first, dead  bool   // the first fragment came; dropped, swallowing the rest
	taken        int    // fragments taken, duplicates included
	charged      int    // bytes counted against the memory cap
}

// datagramCost is what one datagram costs besides its buffers: the
// struct (144 bytes), its share of the map (48-byte slots; under the churn
// of a flood, measured at up to 260 bytes an entry) and its pointer in the
// spare list, rounded up.
const datagramCost = 512

// Defragmenter reassembles the fragments of one packet source. It is not
// safe for concurrent use; its Counters are.
type Defragmenter struct {
	cfg     Config
	c       *Counters
	timeout int64
	live    map[key]*datagram
	// oldest and newest end the list of live datagrams by creation time:
	// timeouts and evictions take from the oldest end.
	oldest, newest *datagram
	spare          []*datagram // released datagrams, buffers kept
	mem            int         // bytes charged: live and spare datagrams
}

// New returns a Defragmenter bounded by cfg that counts into c.
func New(cfg Config, c *Counters) *Defragmenter {
	cfg = cfg.withDefaults()
	return &Defragmenter{cfg: cfg, c: c, timeout: int64(cfg.Timeout), live: make(map[key]*datagram)}
}

// IP protocol numbers, and the most IPv6 extension headers walked before
// the fragment header.
const (
	protoHopByHop = 0
	protoICMP     = 1
	protoTCP      = 6
	protoUDP      = 17
	protoRouting  = 43
	protoFragment = 44
	protoAH       = 51
	protoICMPv6   = 58
	protoDstOpts  = 60
	maxIPv6Ext    = 8
)

// fragment is one parsed fragment.
type fragment struct {
	key   key
	off   int
	more  bool
	data  []byte
	proto uint8
}

// Add takes one captured IP packet, ip, starting at its IPv4 or IPv6
// header, captured at now in a frame with VLAN ids vlan: fragments of
// different VLANs belong to different datagrams, as in Suricata. When ip
// is a fragment that completes its datagram, Add returns the datagram and
// true. Otherwise (a fragment that completes nothing, a dropped or invalid
// one, or a packet that is no fragment) it returns false. ip is not kept.
func (d *Defragmenter) Add(ip []byte, vlan field.VLANKey, now time.Time) (Datagram, bool) {
	var f fragment
	var ok bool
	switch {
	case len(ip) > 0 && ip[0]>>4 == 4:
		f, ok = d.parse4(ip)
	case len(ip) > 0 && ip[0]>>4 == 6:
		f, ok = d.parse6(ip)
	}
	if !ok {
		return Datagram{}, false
	}
	f.key.vlan = vlan
	return d.add(&f, now.UnixNano())
}

// parse4 reads an IPv4 fragment; ok is false for a packet that is no
// fragment and for an invalid one (counted).
func (d *Defragmenter) parse4(ip []byte) (f fragment, ok bool) {
	if len(ip) < 20 {
		return f, false
	}
	fo := binary.BigEndian.Uint16(ip[6:])
	f.off, f.more = int(fo&0x1fff)*8, fo&0x2000 != 0
	if f.off == 0 && !f.more {
		return f, false
	}
	d.c.fragments.Add(1)
	ihl, total := int(ip[0]&0xf)*4, int(binary.BigEndian.Uint16(ip[2:]))
	if ihl < 20 || total < ihl || len(ip) < total {
		d.c.invalid.Add(1)
		return f, false
	}
	copy(f.key.src[:4], ip[12:16])
	copy(f.key.dst[:4], ip[16:20])
	f.key.id = uint32(binary.BigEndian.Uint16(ip[4:]))
	f.key.proto = ip[9]
	f.proto = ip[9]
	f.data = ip[ihl:total]
	return f, true
}

// parse6 reads an IPv6 fragment: the header, the extension headers of the
// unfragmentable part, then the fragment header.
func (d *Defragmenter) parse6(ip []byte) (f fragment, ok bool) {
	if len(ip) < 40 {
		return f, false
	}
	end := 40 + int(binary.BigEndian.Uint16(ip[4:]))
	nh, pos := ip[6], 40
	for range maxIPv6Ext {
		if pos+8 > len(ip) {
			return f, false
		}
		switch nh {
		case protoHopByHop, protoRouting, protoDstOpts:
			nh, pos = ip[pos], pos+(int(ip[pos+1])+1)*8
			continue
		case protoAH:
			nh, pos = ip[pos], pos+(int(ip[pos+1])+2)*4
			continue
		case protoFragment:
		default:
			return f, false
		}
		fo := binary.BigEndian.Uint16(ip[pos+2:])
		f.off, f.more = int(fo&0xfff8), fo&1 != 0
		if f.off == 0 && !f.more { // an atomic fragment stands alone (RFC 6946)
			return f, false
		}
		d.c.fragments.Add(1)
		if end > len(ip) || pos+8 > end {
			d.c.invalid.Add(1)
			return f, false
		}
		f.key.v6 = true
		copy(f.key.src[:], ip[8:24])
		copy(f.key.dst[:], ip[24:40])
		f.key.id = binary.BigEndian.Uint32(ip[pos+4:])
		f.proto = ip[pos]
		f.data = ip[pos+8 : end]
		return f, true
	}
	return f, false
}

// add files fragment f, received at packet time now (Unix ns).
func (d *Defragmenter) add(f *fragment, now int64) (Datagram, bool) {
	d.expire(now)
	end := f.off + len(f.data)
	if f.more && len(f.data)%8 != 0 || len(f.data) == 0 {
		d.c.invalid.Add(1)
		return Datagram{}, false
	}
	g := d.live[f.key]
	if g == nil {
		if g = d.open(f.key, now); g == nil {
			return Datagram{}, false
		}
	}
	if g.dead {
		return Datagram{}, false
	}
	g.taken++
	switch {
	case g.taken > d.cfg.MaxFragments:
		d.c.tooMany.Add(1)
		d.kill(g)
		return Datagram{}, false
	case end > MaxPayload:
		d.c.oversize.Add(1)
		d.kill(g)
		return Datagram{}, false
	case g.total >= 0 && (end > g.total || !f.more && end != g.total),
		!f.more && g.maxEnd() > end:
		d.c.invalid.Add(1)
		d.kill(g)
		return Datagram{}, false
	}
	if f.off == 0 && f.more && len(f.data) < minTransport(f.proto) {
		d.c.tinyFirst.Add(1)
	}
	if !d.grow(g, end) {
		d.c.memcap.Add(1)
		d.kill(g)
		return Datagram{}, false
	}
	if !d.insert(g, f, end) {
		return Datagram{}, false
	}
	if f.off == 0 {
		g.first, g.proto = true, f.proto
	}
	if !f.more {
		g.total = end
	}
	if !g.complete() {
		return Datagram{}, false
	}
	d.c.reassembled.Add(1)
	out := Datagram{Proto: int(g.proto), Payload: g.buf[:g.total]}
	d.release(g)
	return out, true
}

// minTransport is the length of the header a first fragment of protocol
// proto must hold whole, 0 when none is checked.
func minTransport(proto uint8) int {
	switch proto {
	case protoTCP:
		return 20
	case protoUDP, protoICMP, protoICMPv6:
		return 8
	}
	return 0
}

// insert writes f's data into g under the overlap policy; it reports
// false when f adds nothing (an exact duplicate) or dropped g.
func (d *Defragmenter) insert(g *datagram, f *fragment, end int) bool {
	off := f.off
	differs, overlaps := false, false
	keep := off // BSD: data before keep yields to fragments starting at or before off
	at := len(g.frags)
	for i, s := range g.frags {
		so, se := int(s.off), int(s.end)
		if so > off && at == len(g.frags) {
			at = i
		}
		if se <= off || so >= end {
			continue
		}
		if so == off && se == end && string(g.buf[off:end]) == string(f.data) {
			return false // exact duplicate
		}
		overlaps = true
		lo, hi := max(so, off), min(se, end)
		if string(g.buf[lo:hi]) != string(f.data[lo-off:hi-off]) {
			differs = true
		}
		if so <= off {
			keep = max(keep, se)
		}
	}
	if overlaps && g.key.v6 {
		d.c.overlaps.Add(1) // RFC 5722
		d.kill(g)
		return false
	}
	if differs {
		d.c.overlaps.Add(1)
	}
	if keep < end {
		copy(g.buf[keep:end], f.data[keep-off:])
	}
	g.frags = append(g.frags, span{})
	copy(g.frags[at+1:], g.frags[at:])
	g.frags[at] = span{int32(off), int32(end)}
	return true
}

// maxEnd is the end of g's furthest fragment.
func (g *datagram) maxEnd() int {
	m := 0
	for _, s := range g.frags {
		m = max(m, int(s.end))
	}
	return m
}

// complete reports whether g's fragments cover its whole payload.
func (g *datagram) complete() bool {
	if g.total < 0 || !g.first {
		return false
	}
	reach := 0
	for _, s := range g.frags {
		if int(s.off) > reach {
			return false
		}
		reach = max(reach, int(s.end))
	}
	return reach >= g.total
}

// open starts datagram k at packet time now, or returns nil when the
// memory cap leaves no room for it.
func (d *Defragmenter) open(k key, now int64) *datagram {
	var g *datagram
	if n := len(d.spare); n > 0 {
		g = d.spare[n-1]
		d.spare[n-1] = nil
		d.spare = d.spare[:n-1]
	} else {
		if !d.reserve(datagramCost, nil) {
			d.c.memcap.Add(1)
			return nil
		}
		g = &datagram{charged: datagramCost}
	}
	g.key, g.created, g.total, g.proto = k, now, -1, 0
	g.first, g.dead, g.taken = false, false, 0
	g.frags, g.buf = g.frags[:0], g.buf[:0]
	g.older, g.newer = d.newest, nil
	if d.newest != nil {
		d.newest.newer = g
	} else {
		d.oldest = g
	}
	d.newest = g
	d.live[k] = g
	return g
}

// grow makes g's buffer and fragment list large enough for a fragment
// ending at end; it reports false when the memory cap does not allow it.
func (d *Defragmenter) grow(g *datagram, end int) bool {
	if end > cap(g.buf) {
		// slices.Grow rounds the capacity up to the allocator's size
		// class, so what is charged is what the heap holds.
		buf := slices.Grow(g.buf[:len(g.buf):len(g.buf)], min(max(end, 2*cap(g.buf), 512), MaxPayload)-len(g.buf))
		if !d.reserve(cap(buf)-cap(g.buf), g) {
			return false
		}
		g.charged += cap(buf) - cap(g.buf)
		g.buf = buf
	}
	g.buf = g.buf[:max(end, len(g.buf))]
	if len(g.frags) == cap(g.frags) {
		frags := slices.Grow(g.frags, min(max(8, 2*cap(g.frags)), d.cfg.MaxFragments)-len(g.frags))
		const spanSize = 8
		if !d.reserve((cap(frags)-cap(g.frags))*spanSize, g) {
			return false
		}
		g.charged += (cap(frags) - cap(g.frags)) * spanSize
		g.frags = frags
	}
	return true
}

// reserve makes room for n more bytes under the cap, dropping spare
// datagrams, then evicting the oldest live ones other than keep; it
// reports false when that is not enough. The caller charges the bytes.
func (d *Defragmenter) reserve(n int, keep *datagram) bool {
	for d.mem+n > d.cfg.Memcap {
		if k := len(d.spare); k > 0 {
			d.mem -= d.spare[k-1].charged
			d.spare[k-1] = nil
			d.spare = d.spare[:k-1]
			continue
		}
		g := d.oldest
		if g == keep {
			g = g.newer
		}
		if g == nil {
			return false
		}
		if !g.dead {
			d.c.memcap.Add(1)
		}
		d.unlink(g)
		d.mem -= g.charged
	}
	d.mem += n
	return true
}

// expire drops the datagrams older than the timeout at packet time now.
func (d *Defragmenter) expire(now int64) {
	for g := d.oldest; g != nil && now-g.created > d.timeout; g = d.oldest {
		if !g.dead {
			d.c.timeouts.Add(1)
		}
		d.release(g)
	}
}

// kill drops g's data and keeps it as a marker that swallows g's later
// fragments until it expires.
func (d *Defragmenter) kill(g *datagram) {
	g.dead = true
	g.frags, g.buf = g.frags[:0], g.buf[:0]
}

// unlink takes g out of the live map and list.
func (d *Defragmenter) unlink(g *datagram) {
	delete(d.live, g.key)
	if g.older != nil {
		g.older.newer = g.newer
	} else {
		d.oldest = g.newer
	}
	if g.newer != nil {
		g.newer.older = g.older
	} else {
		d.newest = g.older
	}
	g.older, g.newer = nil, nil
}

// release unlinks g and keeps it, buffers and all, for reuse.
func (d *Defragmenter) release(g *datagram) {
	d.unlink(g)
	d.spare = append(d.spare, g)
}
