package ncf

import (
	"errors"
	"fmt"
	"io"
)

// ErrTruncated reports a stream that ended inside a record (or inside an
// injection frame). It wraps io.ErrUnexpectedEOF, so errors.Is(err,
// io.ErrUnexpectedEOF) holds too.
var ErrTruncated = fmt.Errorf("ncf: truncated record: %w", io.ErrUnexpectedEOF)

// ErrEmptyFrame reports an injection frame of length zero, which CommView
// cannot inject and which AppendInjection refuses to produce.
var ErrEmptyFrame = errors.New("ncf: empty injection frame")

// ErrFrameTooLong reports a frame longer than the format can carry
// (MaxDataLen for NCF records, MaxInjectLen for injection frames).
var ErrFrameTooLong = errors.New("ncf: frame too long")

// HeaderError reports an NCF header that cannot be valid. NCF has no sync
// marker: after a HeaderError from a Reader the stream cannot be trusted,
// and the caller should drop the connection (a file is read with
// ReaderConfig.Resume instead, which skips and reports a *SkipError).
type HeaderError struct {
	Offset int64  // byte offset of the record's first header byte in the stream
	Field  string // header field at fault, e.g. "month"
	Value  int64  // the value found
	Reason string // what was expected
}

// Error names the offset, the field, its value and what was expected.
func (e *HeaderError) Error() string {
	return fmt.Sprintf("ncf: bad record header at offset %d: %s = %d: %s", e.Offset, e.Field, e.Value, e.Reason)
}

// SkipError reports bytes that a Reader with ReaderConfig.Resume skipped
// after a bad header; the Reader has resumed after them, so Next may be
// called again. It unwraps to the *HeaderError of the bad header.
type SkipError struct {
	// Offset is the stream offset of the first byte skipped: the bad
	// header's.
	Offset int64
	// Len is the number of bytes skipped, at least 1.
	Len int64
	// Header is why the header at Offset was refused.
	Header *HeaderError
	// Resync is false when one record was skipped by its data_len, and
	// true when its data_len could not be trusted: the Reader scanned to
	// the next plausible record, or to the end of the stream.
	Resync bool
}

// Error says where, how many bytes and why.
func (e *SkipError) Error() string {
	how := "its record"
	if e.Resync {
		how = "up to the next plausible record"
	}
	return fmt.Sprintf("ncf: skipped %d bytes at offset %d (%s): %s = %d: %s", e.Len, e.Offset, how, e.Header.Field, e.Header.Value, e.Header.Reason)
}

// Unwrap returns the *HeaderError of the bad header.
func (e *SkipError) Unwrap() error { return e.Header }

func truncated(off int64, where string) error {
	return fmt.Errorf("%w: stream ends inside the %s of the record at offset %d", ErrTruncated, where, off)
}
