package sensor_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigil-ids/vigil/alerts"
	"github.com/vigil-ids/vigil/alerts/natsserver"
	"github.com/vigil-ids/vigil/engine"
	"github.com/vigil-ids/vigil/engine/sensor"
	"github.com/vigil-ids/vigil/ncf"
	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/tools/gen"
)

// benchRules is a generated pack of n rules (gen.Rules) plus extra.
func benchRules(tb testing.TB, n int, extra string) *rules.Set {
	tb.Helper()
	set, err := rules.Parse("bench.yaml", []byte(gen.Rules(n, 42)+extra))
	if err != nil {
		tb.Fatal(err)
	}
	return set
}

// stream is an NCF byte stream and the offset where each record ends.
type stream struct {
	data []byte
	ends []int
}

// records returns the byte range of records [i, j).
func (s *stream) records(i, j int) []byte {
	start := 0
	if i > 0 {
		start = s.ends[i-1]
	}
	return s.data[start:s.ends[j-1]]
}

var (
	trafficOnce sync.Once
	traffic     stream
)

// benchTraffic is 50,000 generated packets with no attack content, as an
// NCF stream, built once.
func benchTraffic(tb testing.TB) *stream {
	trafficOnce.Do(func() {
		g, err := gen.New(gen.Config{Packets: 50000, Seed: 5})
		if err != nil {
			panic(err)
		}
		var buf bytes.Buffer
		w := ncf.NewWriter(&buf, time.UTC)
		for rec, ok := g.Next(); ok; rec, ok = g.Next() {
			if err := w.Write(&rec.Header, rec.Data); err != nil {
				panic(err)
			}
			if err := w.Flush(); err != nil {
				panic(err)
			}
			traffic.ends = append(traffic.ends, buf.Len())
		}
		traffic.data = buf.Bytes()
	})
	return &traffic
}

// countSink counts alerts.
type countSink struct{ n atomic.Uint64 }

func (s *countSink) Publish(*alerts.Alert) { s.n.Add(1) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// live is an engine behind a sensor server on 127.0.0.1:0.
type live struct {
	e      *engine.Engine
	srv    *sensor.Server
	addr   string
	cancel context.CancelFunc
	done   chan error
}

func startLive(tb testing.TB, set *rules.Set, sink engine.Sink) *live {
	tb.Helper()
	e, err := engine.New(engine.Config{Rules: set, Sink: sink, Overload: engine.Block, Logger: quiet})
	if err != nil {
		tb.Fatal(err)
	}
	e.Start()
	srv, err := sensor.New(sensor.Config{Engine: e, Logger: quiet})
	if err != nil {
		tb.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	lv := &live{e: e, srv: srv, addr: l.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { lv.done <- srv.Serve(ctx, l) }()
	return lv
}

// waitIdle waits until n sensors were accepted and none is connected any
// more: every record they sent has been evaluated.
func (lv *live) waitIdle(tb testing.TB, n uint64) {
	tb.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		st := lv.srv.Stats()
		if st.Accepted >= n && len(st.Sensors) == 0 {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("sensors still connected: %+v", st)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

func (lv *live) stop(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := lv.srv.Shutdown(ctx); err != nil {
		tb.Fatal(err)
	}
	lv.cancel()
	if err := <-lv.done; err != nil {
		tb.Fatal(err)
	}
	if err := lv.e.Stop(ctx); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkLiveThroughput streams generated traffic from one sensor over
// loopback, as fast as the engine takes it (overload policy block), into
// an engine with 100 rules. One op is one record; records/s and Gbit/s
// are of the NCF stream read from the socket.
func BenchmarkLiveThroughput(b *testing.B) {
	tr := benchTraffic(b)
	sink := &countSink{}
	lv := startLive(b, benchRules(b, 100, ""), sink)
	defer lv.stop(b)
	conn, err := net.Dial("tcp", lv.addr)
	if err != nil {
		b.Fatal(err)
	}
	var sent int64
	b.ReportAllocs()
	b.ResetTimer()
	for left := b.N; left > 0; {
		n := min(left, len(tr.ends))
		chunk := tr.records(0, n)
		if _, err := conn.Write(chunk); err != nil {
			b.Fatal(err)
		}
		sent += int64(len(chunk))
		left -= n
	}
	conn.Close()
	lv.waitIdle(b, 1)
	b.StopTimer()
	secs := b.Elapsed().Seconds()
	b.SetBytes(sent / int64(b.N))
	b.ReportMetric(float64(b.N)/secs, "records/s")
	b.ReportMetric(float64(sent)*8/secs/1e9, "Gbit/s")
	if st := lv.e.Stats(); st.Packets != uint64(b.N) || st.Drops != 0 {
		b.Fatalf("engine stats %+v after %d records", st, b.N)
	}
}

// probePort and probeMark identify latency probes: UDP datagrams the
// probe rule alerts on.
const (
	probePort = 9999
	probeMark = "VIGIL-LATENCY-PROBE"
	probeRule = "  - sid: 1\n    name: latency probe\n    condition: 'udp.dstport == 9999 && payload contains \"" + probeMark + "\"'\n"
	// probeEvery is the spacing of probes in the packet stream.
	probeEvery = 50
	// liveRate is the fixed packet rate of the latency benchmark.
	liveRate = 50000
)

// probeFrame is an Ethernet/IPv4/UDP frame carrying probeMark.
func probeFrame() []byte {
	payload := []byte(probeMark)
	f := []byte{0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00}
	f = append(f, 0x45, 0)
	f = binary.BigEndian.AppendUint16(f, uint16(20+8+len(payload)))
	f = append(f, 0, 1, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2)
	f = binary.BigEndian.AppendUint16(f, 40000)
	f = binary.BigEndian.AppendUint16(f, probePort)
	f = binary.BigEndian.AppendUint16(f, uint16(8+len(payload)))
	f = append(f, 0, 0)
	f = append(f, payload...)
	for len(f) < 60 {
		f = append(f, 0)
	}
	return f
}

// probeStream is benchTraffic with a probe every probeEvery records.
func probeStream(tb testing.TB) *stream {
	tr := benchTraffic(tb)
	var s stream
	var buf bytes.Buffer
	w := ncf.NewWriter(&buf, time.UTC)
	probe := probeFrame()
	hdr := ncf.Header{Time: gen.DefaultStart, Medium: ncf.Ethernet, Direction: ncf.In}
	for i := range tr.ends {
		if i%probeEvery == probeEvery-1 {
			if err := w.Write(&hdr, probe); err != nil {
				tb.Fatal(err)
			}
		} else {
			buf.Write(tr.records(i, i+1))
		}
		if err := w.Flush(); err != nil {
			tb.Fatal(err)
		}
		s.ends = append(s.ends, buf.Len())
	}
	s.data = buf.Bytes()
	return &s
}

// BenchmarkLiveLatency sends generated traffic from one sensor at a fixed
// 50,000 packets/s over loopback into an engine with 100 rules whose
// alerts go to an embedded NATS server through an alerts.Publisher (core
// NATS or JetStream). Every 50th packet is a probe the probe rule alerts
// on; a subscriber in the same process measures the time from writing the
// probe to the socket to receiving its alert (matched by pcap_cnt). One op
// is one packet at the fixed rate; p50/p99 are in microseconds.
func BenchmarkLiveLatency(b *testing.B) {
	for _, js := range []bool{false, true} {
		name := "core"
		if js {
			name = "jetstream"
		}
		b.Run(name, func(b *testing.B) { benchLatency(b, js) })
	}
}

func benchLatency(b *testing.B, useJS bool) {
	ps := probeStream(b)
	ns, err := natsserver.StartServer(natsserver.ServerConfig{Listen: "127.0.0.1:0", DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer ns.Shutdown()
	pubConn, err := nats.Connect(ns.ClientURL(), nats.ReconnectBufSize(-1))
	if err != nil {
		b.Fatal(err)
	}
	defer pubConn.Close()
	if useJS {
		js, err := jetstream.New(pubConn)
		if err != nil {
			b.Fatal(err)
		}
		if err := alerts.EnsureStream(js, alerts.StreamName, alerts.StreamSubjects(alerts.DefaultPrefix), alerts.DefaultRetention); err != nil {
			b.Fatal(err)
		}
	}
	pub, err := alerts.NewPublisher(alerts.PublisherConfig{Conn: pubConn, JetStream: useJS, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}

	// sendAt[pcap_cnt] is when the probe with that number was written.
	total := b.N
	sendAt := make([]atomic.Int64, total+1)
	var mu sync.Mutex
	var lat []time.Duration
	got := make(chan struct{}, total+1)
	subConn, err := nats.Connect(ns.ClientURL())
	if err != nil {
		b.Fatal(err)
	}
	defer subConn.Close()
	sub, err := subConn.Subscribe(alerts.DefaultPrefix+".>", func(m *nats.Msg) {
		now := time.Now().UnixNano()
		var a struct {
			PcapCnt int `json:"pcap_cnt"`
		}
		if json.Unmarshal(m.Data, &a) != nil || a.PcapCnt <= 0 || a.PcapCnt > total {
			return
		}
		if t := sendAt[a.PcapCnt].Load(); t != 0 {
			mu.Lock()
			lat = append(lat, time.Duration(now-t))
			mu.Unlock()
			got <- struct{}{}
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := subConn.Flush(); err != nil {
		b.Fatal(err)
	}

	lv := startLive(b, benchRules(b, 100, probeRule), pub)
	conn, err := net.Dial("tcp", lv.addr)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	// Pace: every tick write the records that are due by now, in one write.
	probes := 0
	start := time.Now()
	for sent := 0; sent < total; {
		due := min(total, int(time.Since(start).Seconds()*liveRate)+1)
		if due > sent {
			now := time.Now().UnixNano()
			for n := sent + 1; n <= due; n++ {
				if i := (n - 1) % len(ps.ends); i%probeEvery == probeEvery-1 {
					sendAt[n].Store(now)
					probes++
				}
			}
			// Records [sent, due) of the endless probe stream.
			for sent < due {
				i := sent % len(ps.ends)
				j := min(len(ps.ends), i+(due-sent))
				if _, err := conn.Write(ps.records(i, j)); err != nil {
					b.Fatal(err)
				}
				sent += j - i
			}
		}
		time.Sleep(100 * time.Microsecond)
	}
	// The sensor ends: its last partial batches are evaluated.
	conn.Close()
	timeout := time.After(30 * time.Second)
	for range probes {
		select {
		case <-got:
		case <-timeout:
			b.Fatalf("%d of %d probe alerts received; engine %+v, publisher %+v", len(lat), probes, lv.e.Stats(), pub.Stats())
		}
	}
	b.StopTimer()
	lv.waitIdle(b, 1)
	lv.stop(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := pub.Close(ctx); err != nil {
		b.Fatal(err)
	}
	if st := lv.e.Stats(); st.Drops != 0 || st.Packets != uint64(total) {
		b.Fatalf("engine stats %+v after %d packets", st, total)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lat) == 0 {
		return // too few packets for a probe
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) }
	b.ReportMetric(q(0.50), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
	b.ReportMetric(float64(len(lat)), "probes")
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "packets/s")
}
