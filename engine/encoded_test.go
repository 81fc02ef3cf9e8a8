package engine

import (
	"bytes"
	"context"
	"testing"

	"github.com/vigil-ids/vigil/alerts"
)

// publishOnly hides a LineWriter's PublishEncoded: the engine then
// hands it every alert to encode at release, as it did before workers
// encoded alerts.
type publishOnly struct{ l *alerts.LineWriter }

func (p publishOnly) Publish(a *alerts.Alert) { p.l.Publish(a) }

// countEncoded is a LineWriter that counts the alerts handed over
// encoded.
type countEncoded struct {
	*alerts.LineWriter
	n int
}

func (c *countEncoded) PublishEncoded(a *alerts.Alert, data []byte) {
	c.n++ // the release is serial per source, and there is one source at a time
	c.LineWriter.PublishEncoded(a, data)
}

// eveLines runs set over the captures with n workers into a LineWriter,
// seen by the engine as an alerts.EncodedPublisher when encoded is true
// (then some alerts must come encoded), and returns the EVE JSON lines
// written.
func eveLines(t *testing.T, set string, workers int, encoded bool, files ...string) []byte {
	t.Helper()
	var out bytes.Buffer
	lw := alerts.NewLineWriter(&out)
	var sink Sink = publishOnly{lw}
	counted := &countEncoded{LineWriter: lw}
	if encoded {
		sink = counted
	}
	e, err := New(Config{Rules: mustParse(t, set), Sink: sink, Workers: workers, Instance: "t"})
	if err != nil {
		t.Fatal(err)
	}
	e.Start()
	for _, f := range files {
		if _, err := e.RunFile(context.Background(), capDir+f, nil, &frameInjector{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := lw.Flush(); err != nil {
		t.Fatal(err)
	}
	if encoded && counted.n == 0 {
		t.Fatal("no alert came encoded")
	}
	return out.Bytes()
}

// TestEncodedAlertsSameLines checks that alerts encoded by the workers
// (EncodedPublisher) give byte for byte the EVE lines of alerts encoded
// at release, with one worker and several (flow_id differs between
// worker counts): thresholds by source, de-duplication summaries, and
// reset rules, whose alerts the release completes with the frames
// injected.
func TestEncodedAlertsSameLines(t *testing.T) {
	set := mixedRules + `  - sid: 6
    name: reset telnet
    condition: tcp.dstport == 23 && tcp.len > 0
    actions: [reset]
  - sid: 7
    name: echo requests
    condition: icmp.type == 8
    dedup: {track: by_src, seconds: 30}
`
	for _, workers := range []int{1, 2, 4} {
		want := eveLines(t, set, workers, false, mixedCaptures...)
		for _, sub := range []string{`"event_type":"alert"`, `"summary":`, `"injected":`, `"community_id":`} {
			if !bytes.Contains(want, []byte(sub)) {
				t.Fatalf("the reference output has no %s", sub)
			}
		}
		got := eveLines(t, set, workers, true, mixedCaptures...)
		if !bytes.Equal(got, want) {
			gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
			for i := range min(len(gl), len(wl)) {
				if !bytes.Equal(gl[i], wl[i]) {
					t.Fatalf("%d workers, line %d: encoded by the worker\n%s\nencoded at release\n%s", workers, i+1, gl[i], wl[i])
				}
			}
			t.Fatalf("%d workers: %d lines encoded by the workers, %d at release", workers, len(gl), len(wl))
		}
	}
}
