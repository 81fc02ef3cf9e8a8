package engine

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ids/vigil/capture"
)

const oddDir = "../testdata/cases/"

// runOdd runs the rule file of a case over its capture with one worker.
func runOdd(t *testing.T, capture, ruleFile string) (*collectSink, FileStats, *Engine) {
	t.Helper()
	src, err := os.ReadFile(oddDir + ruleFile)
	if err != nil {
		t.Fatal(err)
	}
	sink := &collectSink{}
	e, err := New(Config{Rules: mustParse(t, string(src)), Sink: sink, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	e.Start()
	st, err := e.RunFile(context.Background(), oddDir+capture, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	return sink, st, e
}

// TestOddCaptures runs cases c12, c14 and c17: a bad record does not end
// the run and later records keep their frame numbers, frame.len is the
// original length even below the captured length (as tshark has it), and
// a compressed NCF record is counted and evaluated without being decoded.
func TestOddCaptures(t *testing.T) {
	t.Run("c12", func(t *testing.T) {
		sink, st, _ := runOdd(t, "c12-radiotap-datapad.pcap", "c12-radiotap-datapad.yaml")
		if st.Packets != 3 || st.Skipped != 1 || st.SkippedBy["bad radiotap header"].FirstRecord != 3 {
			t.Fatalf("stats %+v", st)
		}
		if !slices.Contains(sink.keys(), "1202/4") || !slices.Contains(sink.keys(), "1201/4") {
			t.Errorf("alerts %v: frame 4 is read after the bad frame 3, as frame 4", sink.keys())
		}
	})
	t.Run("c14", func(t *testing.T) {
		sink, st, _ := runOdd(t, "c14-truncated.pcap", "c14-truncated.yaml")
		// Not sid 1404, the HTTP request: tshark takes frame 7 for a
		// retransmission of frame 4, which is for stream tracking to tell.
		want := []string{"1401/1", "1401/4", "1401/7", "1402/1", "1402/4", "1402/7", "1403/3", "1403/6", "1404/4", "1405/5", "1406/6", "1406/7"}
		got := slices.DeleteFunc(sink.keys(), func(k string) bool { return k == "1404/7" })
		if !slices.Equal(got, want) || st.Packets != 7 || st.Skipped != 0 {
			t.Errorf("alerts %v (%d packets, %d skipped), want %v", got, st.Packets, st.Skipped, want)
		}
		for _, a := range sink.list {
			if a.SID == 1406 && a.PcapCnt == 6 && a.Message != "frame.len=1 cap_len=48" {
				t.Errorf("frame 6: %q, want tshark's frame.len=1 cap_len=48", a.Message)
			}
		}
	})
	t.Run("c17", func(t *testing.T) {
		sink, st, e := runOdd(t, "c17-ncf-compressed.ncf", "c17-ncf-compressed.yaml")
		if got := sink.keys(); !slices.Equal(got, []string{"1701/2", "1702/1"}) {
			t.Errorf("alerts %v", got)
		}
		for _, a := range sink.list {
			if a.SID == 1702 && a.Message != "eth.type=0 ip=false eth.src= len=265" {
				t.Errorf("compressed record: %q, want no layer and the original length", a.Message)
			}
		}
		if st.Compressed != 1 || e.Stats().Compressed != 1 || e.Stats().DecodeErrors != 0 {
			t.Errorf("stats %+v, engine %+v", st, e.Stats())
		}
	})
}

// TestRunFileErrors: a file that is not a capture is an error with no
// format; a missing one too.
func TestRunFileErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(path, []byte(strings.Repeat("not a capture ", 10)), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := New(Config{Rules: mustParse(t, "rules:\n  - {sid: 1, name: any, condition: frame}\n"), Sink: &collectSink{}, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	e.Start()
	defer e.Stop(context.Background())
	for _, p := range []string{path, path + ".missing"} {
		st, err := e.RunFile(context.Background(), p, nil, nil, nil)
		if err == nil || st.Format != "" || st.Path != p {
			t.Errorf("%s: %+v, %v", p, st, err)
		}
	}
}

// queueInjector takes frames as a queue would and leaves their delivery
// to the test.
type queueInjector struct{ took, refused int }

func (q *queueInjector) Inject(frame []byte, at time.Time) bool {
	if q.took == 3 {
		q.refused++
		return false
	}
	q.took++
	return true
}

// TestResponseAccounting: frames an Injector only queues are counted
// queued, and sent or failed when it reports them; frames a synchronous
// Injector takes are sent at once.
func TestResponseAccounting(t *testing.T) {
	set := mustParse(t, `rules:
  - sid: 1
    name: reset telnet
    condition: tcp.dstport == 23 && tcp.len > 0
    actions: [reset]
`)
	inj := &frameInjector{}
	_, e := runCaptures(t, set, 1, inj, "sv-telnet.pcap")
	if rs := e.Stats().Responses; rs.Queued == 0 || rs.Sent != rs.Queued || rs.Sent != uint64(len(inj.frames)) || rs.Dropped != 0 || rs.Failed != 0 {
		t.Errorf("synchronous injector: %+v, %d frames", rs, len(inj.frames))
	}

	e, err := New(Config{Rules: set, Sink: &collectSink{}, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	e.Start()
	q := &queueInjector{}
	src := e.NewSource(SourceConfig{Name: "s", Injector: q, InjectorQueues: true})
	r, err := capture.Open(capDir+"sv-telnet.pcap", nil)
	if err != nil {
		t.Fatal(err)
	}
	for rec, err := r.Next(); !errors.Is(err, io.EOF); rec, err = r.Next() {
		src.Push(rec)
	}
	r.Close()
	src.Close()
	e.Stop(context.Background())
	e.RecordDelivery(2, 1)
	rs := e.Stats().Responses
	if rs.Queued != 3 || rs.Dropped != uint64(q.refused) || q.refused == 0 || rs.Sent != 2 || rs.Failed != 1 {
		t.Errorf("queueing injector: %+v, refused %d", rs, q.refused)
	}
}
