package ncf

import (
	"bufio"
	"fmt"
	"io"
	"time"
)

// Writer writes NCF records (an .ncf file or a CommView-style stream).
// Output is buffered: call Flush when done.
type Writer struct {
	bw  *bufio.Writer
	loc *time.Location
	hdr [HeaderLen]byte
}

// NewWriter returns a Writer that writes timestamps as wall-clock time in
// loc (nil means UTC).
func NewWriter(w io.Writer, loc *time.Location) *Writer {
	if loc == nil {
		loc = time.UTC
	}
	return &Writer{bw: bufio.NewWriterSize(w, 64<<10), loc: loc}
}

// Write writes one record with header fields from h and body data.
// DataLen is len(data); SourceDataLen is len(data) too unless h.Compressed,
// in which case h.SourceDataLen is written as given. h.Version, h.DataLen
// and h.WireLen are ignored. Write does not retain data.
func (w *Writer) Write(h *Header, data []byte) error {
	if len(data) > MaxDataLen {
		return fmt.Errorf("%w: %d bytes, NCF holds at most %d", ErrFrameTooLong, len(data), MaxDataLen)
	}
	if h.Medium > TokenRing {
		return fmt.Errorf("ncf: cannot write medium %d", h.Medium)
	}
	src := len(data)
	if h.Compressed {
		if h.SourceDataLen < 0 || h.SourceDataLen > MaxDataLen {
			return fmt.Errorf("ncf: source_data_len %d out of range", h.SourceDataLen)
		}
		src = h.SourceDataLen
	}
	t := h.Time.In(w.loc)
	if y := t.Year(); y < 0 || y > 65535 {
		return fmt.Errorf("ncf: year %d cannot be written", y)
	}
	putHeader(w.hdr[:], h, t, len(data), src)
	if _, err := w.bw.Write(w.hdr[:]); err != nil {
		return fmt.Errorf("ncf: write: %w", err)
	}
	if _, err := w.bw.Write(data); err != nil {
		return fmt.Errorf("ncf: write: %w", err)
	}
	return nil
}

// Flush writes buffered records to the underlying writer.
func (w *Writer) Flush() error {
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("ncf: flush: %w", err)
	}
	return nil
}
