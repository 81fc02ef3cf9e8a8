package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/vigil-ids/vigil/capture"
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
	err = pushAll(ctx, r, src, progress)
	src.Close() // what was read is evaluated, even after an error
	if err != nil {
		err = fmt.Errorf("%s: %w", path, err)
	}
	return src.Stats(), err
}

// pushAll pushes every record of r into src.
func pushAll(ctx context.Context, r capture.Reader, src *Source, progress func(n int)) error {
	for n := 1; ; n++ {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("record %d: %w", n, err)
		}
		src.Push(rec)
		if n%65536 == 0 {
			if progress != nil {
				progress(n)
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
}
