package sensor_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/vigil-ids/vigil/alerts"
	"github.com/vigil-ids/vigil/capture"
	"github.com/vigil-ids/vigil/engine"
	"github.com/vigil-ids/vigil/engine/sensor"
	"github.com/vigil-ids/vigil/ncf"
	"github.com/vigil-ids/vigil/rules"
)

// alertSink hands alerts to a channel.
type alertSink chan *alerts.Alert

func (s alertSink) Publish(a *alerts.Alert) { s <- a }

// server starts an engine and a sensor server on 127.0.0.1:0 with cfg.
func server(t *testing.T, rulesYAML string, cfg sensor.Config) (string, alertSink, *sensor.Server) {
	t.Helper()
	addr, sink, srv, _ := startServer(t, rulesYAML, engine.StatefulConfig{}, cfg, nil)
	return addr, sink, srv
}

// startServer starts an engine with stateful settings st and a sensor
// server with cfg on 127.0.0.1:0, whose listener wrap (if not nil)
// wraps.
func startServer(t *testing.T, rulesYAML string, st engine.StatefulConfig, cfg sensor.Config, wrap func(net.Listener) net.Listener) (string, alertSink, *sensor.Server, *engine.Engine) {
	t.Helper()
	set, err := rules.Parse("t.yaml", []byte(rulesYAML))
	if err != nil {
		t.Fatal(err)
	}
	sink := make(alertSink, 1<<16)
	e, err := engine.New(engine.Config{Rules: set, Sink: sink, Workers: 2, Logger: quiet, Stateful: st})
	if err != nil {
		t.Fatal(err)
	}
	e.Start()
	cfg.Engine = e
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	srv, err := sensor.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var l net.Listener
	if l, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if wrap != nil {
		l = wrap(l)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); srv.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		srv.Shutdown(context.Background())
		e.Stop(context.Background())
	})
	return addr, sink, srv, e
}

// telnetNCF is sv-telnet.pcap as an NCF stream.
func telnetNCF(t *testing.T) []byte {
	t.Helper()
	r, err := capture.Open("../../testdata/captures/sv-telnet.pcap", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var buf bytes.Buffer
	w := ncf.NewWriter(&buf, nil)
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		w.Write(&rec.Header, rec.Data)
	}
	w.Flush()
	return buf.Bytes()
}

const synRule = `rules:
  - sid: 1
    name: telnet syn
    condition: tcp.flags.syn && !tcp.flags.ack && tcp.dstport == 23
`

// TestQuietSensorIsEvaluated sends one matching record and keeps the
// connection open: the alert must come without more traffic.
func TestQuietSensorIsEvaluated(t *testing.T) {
	addr, sink, _ := server(t, synRule, sensor.Config{})
	stream := telnetNCF(t)
	first := ncf.HeaderLen + int(binary.LittleEndian.Uint16(stream)) // the SYN
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(stream[:first]); err != nil {
		t.Fatal(err)
	}
	select {
	case a := <-sink:
		if a.SID != 1 || a.PcapCnt != 1 || a.Sensor != c.LocalAddr().String() {
			t.Errorf("alert sid %d pcap_cnt %d sensor %q", a.SID, a.PcapCnt, a.Sensor)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no alert while the sensor stays connected and quiet")
	}
}

// TestAdmission checks the allow-list, the connection cap and configured
// sensor names.
func TestAdmission(t *testing.T) {
	loop := netip.MustParseAddr("127.0.0.1")
	t.Run("allow-list", func(t *testing.T) {
		addr, _, srv := server(t, synRule, sensor.Config{Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
		if !closedByServer(t, addr) {
			t.Error("a sensor outside the allow-list was kept")
		}
		if st := srv.Stats(); st.Refused[sensor.RefusedNotAllowed] != 1 || st.Accepted != 0 {
			t.Errorf("stats %+v", st)
		}
	})
	t.Run("cap and name", func(t *testing.T) {
		addr, sink, srv := server(t, synRule, sensor.Config{MaxConns: 1, Names: map[netip.Addr]string{loop: "dmz"}})
		first, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer first.Close()
		waitFor(t, func() bool { return srv.Stats().Accepted == 1 })
		if !closedByServer(t, addr) {
			t.Error("a second sensor was kept beyond MaxConns 1")
		}
		if _, err := first.Write(telnetNCF(t)); err != nil {
			t.Fatal(err)
		}
		select {
		case a := <-sink:
			if a.Sensor != "dmz" {
				t.Errorf("sensor %q, want the configured name", a.Sensor)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no alert from the admitted sensor")
		}
		if st := srv.Stats(); st.Refused[sensor.RefusedFull] != 1 || len(st.Sensors) != 1 || st.Sensors[0].Name != "dmz" {
			t.Errorf("stats %+v", st)
		}
	})
}

// closedByServer connects and reports whether the server closes the
// connection at once.
func closedByServer(t *testing.T, addr string) bool {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return true
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	_, err = c.Read(make([]byte, 1))
	return err == io.EOF
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
