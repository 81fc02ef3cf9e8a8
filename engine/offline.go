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

// FileStats is what RunFile read from one capture file.
type FileStats struct {
	// Path is the file as given.
	Path string `json:"path"`
	// Format is "ncf", "pcap" or "pcapng", and empty when the file could
	// not be opened as a capture.
	Format string `json:"format,omitempty"`
	// SourceStats counts what was pushed and skipped.
	SourceStats
	// SkippedBy counts the records skipped, by reason (the Reason of
	// capture.BadRecord); SourceStats.Skipped is their total.
	SkippedBy map[string]Skips `json:"skipped_by,omitempty"`
}

// Skips counts the records of a file skipped for one reason, and locates
// the first of them.
type Skips struct {
	// Count is the number of records skipped.
	Count uint64 `json:"count"`
	// FirstRecord is the first one's number in the file (from 1, as
	// frame.number counts).
	FirstRecord int64 `json:"first_record"`
	// FirstOffset is the first one's byte offset in the file.
	FirstOffset int64 `json:"first_offset"`
}

// RunFile pushes every record of the capture file at path (NCF, pcap or
// pcapng, detected by content) through a new Source named after the file,
// and returns once all of them have been evaluated. zone is the time zone
// of NCF timestamps (nil means UTC). progress, if not nil, is called now
// and then with the number of records read so far.
//
// A record that cannot be read is skipped: it keeps its number
// (Source.Skip), is counted by reason in FileStats.SkippedBy, and reading
// resumes after it; a truncated final record ends the file the same way.
// The error is that of a file that could not be opened as a capture
// (FileStats.Format is then empty), of a read error that cut it short, or
// ctx's; what was read is evaluated either way.
func (e *Engine) RunFile(ctx context.Context, path string, zone *time.Location, inj Injector, progress func(n int)) (FileStats, error) {
	st := FileStats{Path: path}
	r, err := capture.OpenCooked(path, zone)
	if err != nil {
		return st, err
	}
	defer r.Close()
	st.Format = r.Format().String()
	src := e.NewSource(SourceConfig{Name: filepath.Base(path), Filename: path, Injector: inj, Synchronous: true})
	err = pushAll(ctx, r, src, &st, progress)
	src.Close() // what was read is evaluated, even after an error
	st.SourceStats = src.Stats()
	if err != nil {
		err = fmt.Errorf("%s: %w", path, err)
	}
	return st, err
}

// pushAll pushes every record of r into src, and skips and counts in st
// those that cannot be read.
func pushAll(ctx context.Context, r capture.Reader, src *Source, st *FileStats, progress func(n int)) error {
	var bad *capture.BadRecord // outside the loop: errors.As moves it to the heap
	for n := 1; ; n++ {
		rec, err := r.Next()
		switch {
		case err == nil:
			src.Push(rec)
		case errors.As(err, &bad):
			src.Skip()
			st.skip(bad)
		case errors.Is(err, io.EOF):
			return nil
		default:
			return fmt.Errorf("after %d records: %w", n-1, err)
		}
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

// skip counts a skipped record.
func (st *FileStats) skip(bad *capture.BadRecord) {
	if st.SkippedBy == nil {
		st.SkippedBy = map[string]Skips{}
	}
	s, ok := st.SkippedBy[bad.Reason]
	if !ok {
		s.FirstRecord, s.FirstOffset = bad.Record, bad.Offset
	}
	s.Count++
	st.SkippedBy[bad.Reason] = s
}
