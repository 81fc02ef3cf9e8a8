package engine

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/vigil-ids/vigil/alerts"
	"github.com/vigil-ids/vigil/rules"
)

// RunInlineTests runs the inline tests of every rule in set (PRODUCT.md §3:
// a capture and the frames or count the rule must match). Each capture is
// run once through a one-worker engine with the whole set, so thresholds
// and flowbits behave as in production; a test counts the rule's alerts,
// not de-duplication summaries. It returns one error per failed test,
// located at the test in its rule file.
func RunInlineTests(ctx context.Context, set *rules.Set, zone *time.Location) []*rules.Error {
	byCapture := map[string][]*rules.Rule{}
	var captures []string
	for _, r := range set.Rules {
		for _, t := range r.Tests {
			if _, ok := byCapture[t.Capture]; !ok {
				captures = append(captures, t.Capture)
			}
			if !slices.Contains(byCapture[t.Capture], r) {
				byCapture[t.Capture] = append(byCapture[t.Capture], r)
			}
		}
	}
	var errs []*rules.Error
	for _, path := range captures {
		frames, err := alertFrames(ctx, set, path, zone)
		for _, r := range byCapture[path] {
			for _, t := range r.Tests {
				if t.Capture != path {
					continue
				}
				if err != nil {
					errs = append(errs, testError(t, fmt.Sprintf("inline test of sid %d: %v", r.SID, err)))
					continue
				}
				if msg := checkTest(t, frames[r.SID]); msg != "" {
					errs = append(errs, testError(t, fmt.Sprintf("inline test of sid %d failed: %s", r.SID, msg)))
				}
			}
		}
	}
	return errs
}

func testError(t rules.Test, msg string) *rules.Error {
	return &rules.Error{File: t.Pos.File, Line: t.Pos.Line, Col: t.Pos.Col, Msg: msg}
}

// checkTest compares the frames a rule alerted on with what t expects.
func checkTest(t rules.Test, got []int) string {
	if t.Frames != nil {
		want := slices.Clone(t.Frames)
		slices.Sort(want)
		if !slices.Equal(want, got) {
			return fmt.Sprintf("want frames %v, got %v", want, got)
		}
	}
	if t.HasCount && len(got) != t.Count {
		return fmt.Sprintf("want %d matches, got %d (frames %v)", t.Count, len(got), got)
	}
	return ""
}

// alertFrames runs set over one capture and returns, per sid, the sorted
// frame numbers of its alerts.
func alertFrames(ctx context.Context, set *rules.Set, path string, zone *time.Location) (map[int][]int, error) {
	sink := &frameSink{frames: map[int][]int{}}
	e, err := New(Config{Rules: set, Sink: sink, Workers: 1})
	if err != nil {
		return nil, err
	}
	e.Start()
	_, runErr := e.RunFile(ctx, path, zone, nil, nil)
	if err := e.Stop(ctx); err != nil {
		return nil, err
	}
	for _, f := range sink.frames {
		slices.Sort(f)
	}
	return sink.frames, runErr
}

// frameSink collects alert frame numbers by sid.
type frameSink struct {
	mu     sync.Mutex
	frames map[int][]int
}

func (s *frameSink) Publish(a *alerts.Alert) {
	if a.Summary != nil {
		return
	}
	s.mu.Lock()
	s.frames[a.SID] = append(s.frames[a.SID], a.PcapCnt)
	s.mu.Unlock()
}
