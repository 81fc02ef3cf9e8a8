package capture

import (
	"sync"
	"time"

	"github.com/vigil-ids/vigil/ncf"
)

// InjectFile records frames sent toward the wire (the responses an IDS
// injects through a sensor) in a capture file, each as an outgoing
// (ncf.Out) Ethernet record. It is safe for concurrent use.
type InjectFile struct {
	mu  sync.Mutex
	w   Writer
	err error
}

// CreateInjectFile creates the capture file at path in the format its
// extension names, written as Create says; it refuses a path that is one
// of inputs, the captures the same run reads. loc is the zone NCF
// timestamps are written in (nil means UTC).
func CreateInjectFile(path string, loc *time.Location, inputs ...string) (*InjectFile, error) {
	if err := NotInput(path, inputs...); err != nil {
		return nil, err
	}
	w, err := Create(path, loc)
	if err != nil {
		return nil, err
	}
	return &InjectFile{w: w}, nil
}

// Inject writes frame as a record stamped at, and reports whether it was
// written; the first write error is kept for Close. frame is not retained.
func (f *InjectFile) Inject(frame []byte, at time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	rec := ncf.Record{Header: ncf.Header{Time: at, WireLen: len(frame), Medium: ncf.Ethernet, Direction: ncf.Out}, Data: frame}
	if err := f.w.Write(&rec); err != nil {
		if f.err == nil {
			f.err = err
		}
		return false
	}
	return true
}

// Close flushes and closes the file. It returns the first error of an
// earlier Inject, or else the error of closing.
func (f *InjectFile) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	err := f.w.Close()
	if f.err != nil {
		return f.err
	}
	return err
}
