// Package gen generates synthetic network traffic as NCF records, so
// benchmarks and load tests need no large capture in the repository.
//
// The traffic is a realistic mix on Ethernet (about a tenth of the flows
// tagged 802.1Q, about a sixth over IPv6): TCP sessions with handshakes and
// teardowns carrying HTTP/1.1 requests and responses with real headers and
// bodies, TLS 1.3 handshakes with SNI followed by application data, SSH
// banners and key exchange, DNS queries and answers over UDP, ICMP echo,
// and now and then a SYN scan across many ports. Frames are 60 to 1514
// bytes; every length field is consistent and checksums are valid, so
// Wireshark dissects every frame without a malformed-packet warning.
//
// A configurable share of packets carries what typical IDS rules look for:
// HTTP requests for /etc/passwd or cmd.exe, path traversal, SQL injection,
// scanner user agents (sqlmap, Nikto), Shellshock and Log4Shell strings.
//
// The output depends only on the Config: the same Config gives the same
// bytes, and a run of N packets is a prefix of a run of more packets with
// the same seed.
//
// Of Vigil it imports ncf and capture only.
package gen

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/vigil-ids/vigil/capture"
	"github.com/vigil-ids/vigil/ncf"
)

// Config describes the traffic to generate. The zero value of every field
// but Packets is a documented default.
type Config struct {
	// Packets is the number of records to generate.
	Packets int
	// Seed selects the traffic; equal seeds give equal output.
	Seed uint64
	// HitRate is the share of packets, from 0 to 1, that carry attack
	// content (one hit per attack request). Shares above about 0.25
	// cannot be reached: then every new session is an attack session.
	HitRate float64
	// Start is the timestamp of the first packet (default
	// 2026-01-01T00:00:00Z).
	Start time.Time
	// Rate is the mean packets per second the timestamps advance by
	// (default 100,000); gaps are exponentially distributed, to the
	// microsecond NCF keeps.
	Rate float64
}

// DefaultStart is the timestamp of the first packet when Config.Start is
// zero.
var DefaultStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// DefaultRate is Config.Rate's default.
const DefaultRate = 100000

// concurrency is the number of sessions interleaved at any time.
const concurrency = 24

// Stats counts what a Generator produced so far.
type Stats struct {
	Packets  int   // records
	Bytes    int64 // frame bytes
	Hits     int   // packets carrying attack content
	Sessions int   // sessions started (a scan counts as one)
}

// session is a flow and the packets it still has to send.
type session struct {
	flow
	pkts []packet
	next int
}

// Generator yields the records of one synthetic capture. It is not safe
// for concurrent use.
type Generator struct {
	cfg     Config
	rng     *rand.Rand
	active  []*session
	now     time.Time
	gap     float64 // mean gap in microseconds
	planned int     // hits planned in started sessions
	stats   Stats
	rec     ncf.Record
	buf     []byte
}

// New checks cfg and returns a Generator.
func New(cfg Config) (*Generator, error) {
	if cfg.Packets < 0 {
		return nil, fmt.Errorf("%w: packets %d < 0", ErrConfig, cfg.Packets)
	}
	if !(cfg.HitRate >= 0 && cfg.HitRate <= 1) {
		return nil, fmt.Errorf("%w: hit rate %v not in [0, 1]", ErrConfig, cfg.HitRate)
	}
	if cfg.Rate < 0 || math.IsNaN(cfg.Rate) || math.IsInf(cfg.Rate, 0) {
		return nil, fmt.Errorf("%w: rate %v", ErrConfig, cfg.Rate)
	}
	if cfg.Rate == 0 {
		cfg.Rate = DefaultRate
	}
	if cfg.Start.IsZero() {
		cfg.Start = DefaultStart
	}
	g := &Generator{
		cfg: cfg,
		rng: rand.New(rand.NewPCG(cfg.Seed, 0x76696769)),
		now: cfg.Start.Truncate(time.Microsecond),
		gap: 1e6 / cfg.Rate,
		buf: make([]byte, 0, 2048),
	}
	for range concurrency {
		g.active = append(g.active, g.newSession())
	}
	return g, nil
}

// Next returns the next record, or false when Config.Packets records have
// been returned. The record and its Data belong to the Generator and are
// overwritten by the next call.
func (g *Generator) Next() (*ncf.Record, bool) {
	if g.stats.Packets >= g.cfg.Packets {
		return nil, false
	}
	i := g.rng.IntN(len(g.active))
	s := g.active[i]
	p := &s.pkts[s.next]
	s.next++
	g.buf = s.build(g.buf, p)
	if s.next == len(s.pkts) {
		g.active[i] = g.newSession()
	}
	if g.stats.Packets > 0 {
		g.now = g.now.Add(time.Duration(g.rng.ExpFloat64()*g.gap) * time.Microsecond)
	}
	g.stats.Packets++
	g.stats.Bytes += int64(len(g.buf))
	if p.hit {
		g.stats.Hits++
	}
	dir := ncf.Out
	if p.fromServer {
		dir = ncf.In
	}
	g.rec = ncf.Record{
		Header: ncf.Header{Time: g.now, Medium: ncf.Ethernet, Direction: dir, DataLen: len(g.buf), SourceDataLen: len(g.buf), WireLen: len(g.buf)},
		Data:   g.buf,
	}
	return &g.rec, true
}

// Stats returns the counters so far.
func (g *Generator) Stats() Stats { return g.stats }

// WriteFile generates cfg's records into a new capture file at path, in
// the format its extension names (see capture.Create), with UTC
// timestamps. A cfg that New refuses creates no file.
func WriteFile(path string, cfg Config) (Stats, error) {
	g, err := New(cfg)
	if err != nil {
		return Stats{}, err
	}
	w, err := capture.Create(path, time.UTC)
	if err != nil {
		return Stats{}, err
	}
	for rec, ok := g.Next(); ok; rec, ok = g.Next() {
		if err := w.Write(rec); err != nil {
			w.Close()
			return g.Stats(), fmt.Errorf("gen: %w", err)
		}
	}
	return g.Stats(), w.Close()
}

// Address plan: clients on private networks, servers on documentation and
// well-known public ranges.
var (
	servers4   = []string{"93.184.216.34", "151.101.1.69", "142.250.74.46", "104.16.132.229", "13.107.42.14", "198.51.100.20", "203.0.113.5", "185.199.108.153"}
	servers6   = []string{"2606:4700::6810:84e5", "2a00:1450:4007:80b::200e", "2001:db8:ff::10", "2a04:4e42::81"}
	resolvers4 = []string{"192.168.0.1", "8.8.8.8", "1.1.1.1"}
	resolvers6 = []string{"2001:4860:4860::8888", "2606:4700:4700::1111"}
	scanners   = []string{"198.51.100.66", "203.0.113.99", "185.220.101.4"}
	gatewayMAC = [6]byte{0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e}
)

func (g *Generator) clientAddr(v6 bool) netip.Addr {
	if v6 {
		a := [16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1}
		binary.BigEndian.PutUint64(a[8:], g.rng.Uint64()&0x00000000ffffffff|0x0200_5eff_0000_0000)
		return netip.AddrFrom16(a)
	}
	return netip.AddrFrom4([4]byte{192, 168, byte(g.rng.IntN(4)), byte(2 + g.rng.IntN(250))})
}

// hostMAC derives a stable locally administered MAC from an address.
func hostMAC(a netip.Addr) [6]byte {
	b := a.As16()
	return [6]byte{0x02, 0x42, b[12], b[13], b[14], b[15]}
}

// newFlow returns a flow from a fresh client to server (a text address),
// on port, with realistic TTLs, windows and SYN options.
func (g *Generator) newFlow(proto uint8, v6 bool, server string, port uint16) flow {
	f := flow{proto: proto}
	f.client.addr = g.clientAddr(v6)
	f.client.mac = hostMAC(f.client.addr)
	f.client.port = uint16(32768 + g.rng.IntN(28232))
	f.client.ttl = pick(g.rng, []uint8{64, 64, 128})
	f.server.addr = netip.MustParseAddr(server)
	f.server.mac = gatewayMAC
	f.server.port = port
	f.server.ttl = pick(g.rng, []uint8{52, 57, 116, 119, 243})
	if g.rng.IntN(10) == 0 {
		f.vlan = pick(g.rng, []uint16{10, 100, 200, 300})
	}
	f.ipid = [2]uint16{uint16(g.rng.Uint32()), uint16(g.rng.Uint32())}
	f.seq = [2]uint32{g.rng.Uint32(), g.rng.Uint32()}
	f.window = [2]uint16{pick(g.rng, []uint16{64240, 65535, 502, 1026}), pick(g.rng, []uint16{65160, 29200, 501, 2052})}
	if proto == protoTCP {
		ts := g.rng.Uint32()
		f.synOpts = []byte{2, 4, 0, 0, 4, 2, 8, 10, byte(ts >> 24), byte(ts >> 16), byte(ts >> 8), byte(ts), 0, 0, 0, 0, 1, 3, 3, 7}
		binary.BigEndian.PutUint16(f.synOpts[2:], uint16(f.mss()))
	}
	return f
}

// newSession starts the next session: an attack session when hits are
// behind the configured share, otherwise one drawn from the mix.
func (g *Generator) newSession() *session {
	g.stats.Sessions++
	v6 := g.rng.IntN(6) == 0
	if g.cfg.HitRate > 0 && float64(g.planned) < g.cfg.HitRate*float64(g.stats.Packets+1) {
		n := 1 + g.rng.IntN(5)
		g.planned += n
		return g.attackSession(v6, n)
	}
	switch k := g.rng.IntN(100); {
	case k < 30:
		return g.httpSession(v6)
	case k < 58:
		return g.tlsSession(v6)
	case k < 85:
		return g.dnsSession(v6)
	case k < 93:
		return g.icmpSession(v6)
	case k < 99:
		return g.sshSession(v6)
	default:
		return g.scanSession()
	}
}

// tcp builds the packets of a TCP session.
type tcp struct {
	s   *session
	rng *rand.Rand
}

func (t tcp) add(fromServer bool, flags uint8, payload []byte, hit bool) {
	t.s.pkts = append(t.s.pkts, packet{fromServer: fromServer, flags: flags, payload: payload, hit: hit})
}

func (t tcp) open() {
	t.add(false, synFlag, nil, false)
	t.add(true, synFlag|ackFlag, nil, false)
	t.add(false, ackFlag, nil, false)
}

// send splits data into segments and has the peer acknowledge every
// second one and the last.
func (t tcp) send(fromServer bool, data []byte, hit bool) {
	mss := t.s.mss()
	for n := 0; len(data) > 0; n++ {
		seg := data[:min(mss, len(data))]
		data = data[len(seg):]
		flags := uint8(ackFlag)
		if len(data) == 0 {
			flags |= pshFlag
		}
		t.add(fromServer, flags, seg, hit)
		if n%2 == 1 || len(data) == 0 {
			t.add(!fromServer, ackFlag, nil, false)
		}
	}
}

func (t tcp) close() {
	if t.rng.IntN(10) == 0 {
		t.add(false, rstFlag|ackFlag, nil, false)
		return
	}
	t.add(false, finFlag|ackFlag, nil, false)
	t.add(true, finFlag|ackFlag, nil, false)
	t.add(false, ackFlag, nil, false)
}

func (g *Generator) httpSession(v6 bool) *session {
	s, t := g.httpFlow(v6)
	host := pick(g.rng, domains)
	for i, n := 0, 1+g.rng.IntN(3); i < n; i++ {
		t.add(false, pshFlag|ackFlag, httpRequest(g.rng, host, false), false)
		t.send(true, httpResponse(g.rng), false)
	}
	t.close()
	return s
}

// attackSession sends n attack requests (n hits), each refused with a
// short error response, as scanners and exploit tools see.
func (g *Generator) attackSession(v6 bool, n int) *session {
	s, t := g.httpFlow(v6)
	host := pick(g.rng, domains)
	for range n {
		t.add(false, pshFlag|ackFlag, httpRequest(g.rng, host, true), true)
		t.send(true, httpError(g.rng), false)
	}
	t.close()
	return s
}

func (g *Generator) httpFlow(v6 bool) (*session, tcp) {
	servers := servers4
	if v6 {
		servers = servers6
	}
	port := pick(g.rng, []uint16{80, 80, 80, 8080})
	s := &session{flow: g.newFlow(protoTCP, v6, pick(g.rng, servers), port)}
	t := tcp{s, g.rng}
	t.open()
	return s, t
}

func (g *Generator) tlsSession(v6 bool) *session {
	servers := servers4
	if v6 {
		servers = servers6
	}
	s := &session{flow: g.newFlow(protoTCP, v6, pick(g.rng, servers), pick(g.rng, []uint16{443, 443, 443, 8443}))}
	t := tcp{s, g.rng}
	mss := s.mss()
	t.open()
	t.send(false, clientHello(g.rng, pick(g.rng, domains)), false)
	t.send(true, append(serverHello(g.rng), appData(g.rng, 1200+g.rng.IntN(mss-1200-200))...), false)
	for i, n := 0, 1+g.rng.IntN(4); i < n; i++ {
		t.send(false, appData(g.rng, 60+g.rng.IntN(700)), false)
		for left := bodySize(g.rng); left > 0; left -= mss {
			t.add(true, ackFlag|pshFlag, appData(g.rng, max(min(left, mss), 30)), false)
			if g.rng.IntN(2) == 0 {
				t.add(false, ackFlag, nil, false)
			}
		}
	}
	t.close()
	return s
}

func (g *Generator) sshSession(v6 bool) *session {
	servers := servers4
	if v6 {
		servers = servers6
	}
	s := &session{flow: g.newFlow(protoTCP, v6, pick(g.rng, servers), 22)}
	t := tcp{s, g.rng}
	t.open()
	t.send(true, []byte(pick(g.rng, sshServerBanners)+"\r\n"), false)
	t.send(false, []byte(pick(g.rng, sshClientBanners)+"\r\n"), false)
	t.send(true, kexInit(g.rng), false)
	t.send(false, kexInit(g.rng), false)
	t.close()
	return s
}

func (g *Generator) dnsSession(v6 bool) *session {
	resolvers := resolvers4
	if v6 {
		resolvers = resolvers6
	}
	s := &session{flow: g.newFlow(protoUDP, v6, pick(g.rng, resolvers), 53)}
	for i, n := 0, 1+g.rng.IntN(2); i < n; i++ {
		q, a := dnsPair(g.rng)
		s.pkts = append(s.pkts, packet{payload: q}, packet{fromServer: true, payload: a})
	}
	return s
}

// echoLinux and echoWindows are the payloads of ping on those systems.
var (
	echoLinux = func() []byte {
		b := make([]byte, 56)
		for i := 8; i < 56; i++ {
			b[i] = byte(i)
		}
		return b
	}()
	echoWindows = []byte("abcdefghijklmnopqrstuvwabcdefghi")
)

func (g *Generator) icmpSession(v6 bool) *session {
	servers := servers4
	if v6 {
		servers = servers6
	}
	s := &session{flow: g.newFlow(protoICMP, v6, pick(g.rng, servers), 0)}
	req, rep := uint8(8), uint8(0)
	if v6 {
		req, rep = 128, 129
	}
	payload := echoLinux
	if g.rng.IntN(3) == 0 {
		payload = echoWindows
	}
	id := uint16(g.rng.Uint32())
	for i, n := 0, 1+g.rng.IntN(4); i < n; i++ {
		seq := uint16(i + 1)
		s.pkts = append(s.pkts,
			packet{icmpType: req, icmpID: id, icmpSeq: seq, payload: payload},
			packet{fromServer: true, icmpType: rep, icmpID: id, icmpSeq: seq, payload: payload})
	}
	return s
}

// scanSession is one scanner sending SYNs to many ports of one internal
// host: closed ports answer RST, open ones SYN-ACK (and the scanner resets).
func (g *Generator) scanSession() *session {
	target := g.clientAddr(false)
	f := g.newFlow(protoTCP, false, pick(g.rng, scanners), 0)
	// The scanner is the client side of this flow.
	f.client, f.server = f.server, f.client
	f.client.addr, f.server.addr = f.server.addr, target
	f.client.mac, f.server.mac = gatewayMAC, hostMAC(target)
	f.client.port = uint16(40000 + g.rng.IntN(20000))
	f.client.ttl = pick(g.rng, []uint8{37, 49, 53})
	f.server.ttl = 64
	f.synOpts = []byte{2, 4, 0x05, 0xb4}
	f.window = [2]uint16{1024, 29200}
	s := &session{flow: f}
	first := uint16(1 + g.rng.IntN(1000))
	for i, n := 0, 30+g.rng.IntN(120); i < n; i++ {
		port := first + uint16(i)
		s.pkts = append(s.pkts, packet{flags: synFlag, dport: port})
		if g.rng.IntN(15) == 0 {
			s.pkts = append(s.pkts, packet{fromServer: true, flags: synFlag | ackFlag, dport: port}, packet{flags: rstFlag, dport: port})
		} else {
			s.pkts = append(s.pkts, packet{fromServer: true, flags: rstFlag | ackFlag, dport: port})
		}
	}
	return s
}
