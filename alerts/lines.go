package alerts

import (
	"bufio"
	"io"
	"sync"
)

// LineWriter writes alerts as EVE JSON lines (AppendJSON and a newline),
// in the order Publish is called, through a 64 KiB buffer. It is safe for
// concurrent use and satisfies the same Publish method as *Publisher, so
// an offline run and a live one hand alerts to the same kind of sink.
type LineWriter struct {
	mu  sync.Mutex
	w   *bufio.Writer
	buf []byte
	err error
}

// NewLineWriter returns a LineWriter on w. Nothing reaches w for sure
// before Flush.
func NewLineWriter(w io.Writer) *LineWriter {
	return &LineWriter{w: bufio.NewWriterSize(w, 64<<10)}
}

// Publish writes a as one line. A write error is kept for Flush; a is not
// retained.
func (l *LineWriter) Publish(a *Alert) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = a.AppendJSON(l.buf[:0])
	l.buf = append(l.buf, '\n')
	if _, err := l.w.Write(l.buf); err != nil && l.err == nil {
		l.err = err
	}
}

// PublishEncoded writes data, a's AppendJSON output, as one line
// (EncodedPublisher). data is not retained.
func (l *LineWriter) PublishEncoded(_ *Alert, data []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(append(l.buf[:0], data...), '\n')
	if _, err := l.w.Write(l.buf); err != nil && l.err == nil {
		l.err = err
	}
}

// Flush writes the buffered lines to the underlying writer and returns its
// error, or else the first error of an earlier Publish.
func (l *LineWriter) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.w.Flush(); err != nil {
		return err
	}
	return l.err
}
