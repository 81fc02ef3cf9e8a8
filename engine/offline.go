package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/vigil-ids/vigil/engine/capture"
)

// RunFile pushes every record of the capture file at path (NCF, pcap or
// pcapng, detected by content) through a new Source named after the file,
// and returns once all of them have been evaluated. zone is the time zone
// of NCF timestamps (nil means UTC). progress, if not nil, is called now
// and then with the number of records read so far.
func (e *Engine) RunFile(ctx context.Context, path string, zone *time.Location, inj Injector, progress func(n int)) (SourceStats, error) {
	r, err := capture.Open(path, zone)
	if err != nil {
		return SourceStats{}, err
	}
	defer r.Close()
	src := e.NewSource(SourceConfig{Name: filepath.Base(path), Filename: path, Injector: inj})
	defer src.Close()
	for n := 1; ; n++ {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			src.Close()
			return src.Stats(), fmt.Errorf("%s: record %d: %w", path, n, err)
		}
		src.Push(rec)
		if n%65536 == 0 {
			if progress != nil {
				progress(n)
			}
			if ctx.Err() != nil {
				return src.Stats(), ctx.Err()
			}
		}
	}
	src.Close()
	return src.Stats(), nil
}
