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

// HeaderError reports an NCF header that cannot be valid. After a
// HeaderError the stream cannot be resynchronised (NCF has no sync marker):
// the caller should drop the connection or stop reading the file.
type HeaderError struct {
	Offset int64  // byte offset of the record's first header byte in the stream
	Field  string // header field at fault, e.g. "month"
	Value  int64  // the value found
	Reason string // what was expected
}

func (e *HeaderError) Error() string {
	return fmt.Sprintf("ncf: bad record header at offset %d: %s = %d: %s", e.Offset, e.Field, e.Value, e.Reason)
}

func truncated(off int64, where string) error {
	return fmt.Errorf("%w: stream ends inside the %s of the record at offset %d", ErrTruncated, where, off)
}
