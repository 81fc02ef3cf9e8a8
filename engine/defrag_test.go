package engine

import (
	"context"
	"maps"
	"os"
	"slices"
	"testing"

	"github.com/vigil-ids/vigil/decode/defrag"
	"github.com/vigil-ids/vigil/rules"
)

const defragDir = "testdata/defrag/"

// TestDefragCases runs the defragmentation captures through the engine as
// `vigil test` does, pcap and NCF, with one and three workers, and checks
// the frames each rule alerts on (testdata/defrag/README.md) and the
// defragmentation counters.
func TestDefragCases(t *testing.T) {
	for _, tc := range []struct {
		name string
		want map[int][]int
		defrag.Stats
	}{
		{name: "c06-ipfrag", want: map[int][]int{601: {2}, 602: {4}, 603: {1, 2, 3, 4}},
			Stats: defrag.Stats{Fragments: 4, Reassembled: 2, TinyFirst: 1}},
		{name: "defrag-mixed", want: map[int][]int{611: {2}, 612: {8}, 613: {7, 8}, 614: {1, 4, 5}, 615: {6}, 616: nil, 617: {7}, 618: {8}},
			Stats: defrag.Stats{Fragments: 7, Reassembled: 2, Overlaps: 1, TinyFirst: 1}},
	} {
		src, err := os.ReadFile(defragDir + tc.name + ".yaml")
		if err != nil {
			t.Fatal(err)
		}
		set, err := rules.Parse(tc.name+".yaml", src)
		if err != nil {
			t.Fatal(err)
		}
		for _, ext := range []string{".pcap", ".ncf"} {
			for _, workers := range []int{1, 3} {
				sink := &collectSink{}
				e, err := New(Config{Rules: set, Sink: sink, Workers: workers})
				if err != nil {
					t.Fatal(err)
				}
				e.Start()
				if _, err := e.RunFile(context.Background(), defragDir+tc.name+ext, nil, nil, nil); err != nil {
					t.Fatal(err)
				}
				if err := e.Stop(context.Background()); err != nil {
					t.Fatal(err)
				}
				got := map[int][]int{}
				for _, a := range sink.list {
					got[a.SID] = append(got[a.SID], a.PcapCnt)
				}
				for sid, frames := range tc.want {
					slices.Sort(got[sid])
					if !slices.Equal(got[sid], frames) {
						t.Errorf("%s%s, %d workers: sid %d alerted on %v, want %v", tc.name, ext, workers, sid, got[sid], frames)
					}
				}
				if extra := slices.DeleteFunc(slices.Collect(maps.Keys(got)), func(sid int) bool { _, ok := tc.want[sid]; return ok }); len(extra) > 0 {
					t.Errorf("%s%s: unexpected sids %v", tc.name, ext, extra)
				}
				if s := e.Stats().Defrag; s != tc.Stats {
					t.Errorf("%s%s, %d workers: defrag stats %+v, want %+v", tc.name, ext, workers, s, tc.Stats)
				}
			}
		}
	}
}
