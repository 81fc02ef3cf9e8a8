package offline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/vigil-ids/vigil/alerts"
	"github.com/vigil-ids/vigil/engine"
	"github.com/vigil-ids/vigil/rules"
)

// Filter writes the numbers of the frames that the Wireshark display
// filter matches, one a line in frame order, as `tshark -r CAPTURE -Y
// FILTER -T fields -e frame.number` does; with several captures, each
// line is "CAPTURE:NUMBER", capture after capture. The frames go through
// the whole engine (IP and TCP reassembly), so an application field
// matches on the frame that completes its message, as in tshark. A filter
// that cannot be compiled is a [rules.ErrorList]; captures are read as
// Run reads them, and one that cannot be read does not stop the others
// (the error returned then wraps ErrUnreadable).
func Filter(ctx context.Context, w io.Writer, filter string, files []string) error {
	set, err := rules.ParseFilter(filter)
	if err != nil {
		return err
	}
	sink := &frameSink{frames: map[string][]int{}}
	e, err := engine.New(engine.Config{Rules: set, Sink: sink, Workers: 1, Instance: "filter"})
	if err != nil {
		return err
	}
	e.Start()
	var unreadable []error
	for _, path := range files {
		if _, err := e.RunFile(ctx, path, nil, nil, nil); err != nil && ctx.Err() == nil {
			unreadable = append(unreadable, err)
		}
		if ctx.Err() != nil {
			break
		}
	}
	runErr := errors.Join(ctx.Err(), e.Stop(context.Background()))
	if len(unreadable) > 0 {
		runErr = errors.Join(runErr, fmt.Errorf("%w: %w", ErrUnreadable, errors.Join(unreadable...)))
	}
	for _, path := range files {
		frames := sink.frames[path]
		slices.Sort(frames)
		for _, n := range slices.Compact(frames) {
			if len(files) > 1 {
				fmt.Fprintf(w, "%s:", path)
			}
			if _, err := fmt.Fprintln(w, n); err != nil {
				return errors.Join(runErr, err)
			}
		}
	}
	return runErr
}

// frameSink keeps the frame numbers of the alerts, by capture.
type frameSink struct {
	mu     sync.Mutex
	frames map[string][]int
}

func (s *frameSink) Publish(a *alerts.Alert) {
	s.mu.Lock()
	s.frames[a.PcapFilename] = append(s.frames[a.PcapFilename], a.PcapCnt)
	s.mu.Unlock()
}
