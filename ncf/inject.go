package ncf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// MaxInjectLen is the largest frame an injection record can carry (its
// length prefix is 16 bits).
const MaxInjectLen = 65535

// injectHeaderLen is the size of the length prefix of an injection frame.
const injectHeaderLen = 2

// AppendInjection appends frame to dst as an injection record (a 2-byte
// little-endian length, then the frame) and returns the extended slice. It
// refuses an empty frame (ErrEmptyFrame) and one longer than MaxInjectLen
// (ErrFrameTooLong); dst is returned unchanged with the error.
func AppendInjection(dst, frame []byte) ([]byte, error) {
	if len(frame) == 0 {
		return dst, ErrEmptyFrame
	}
	if len(frame) > MaxInjectLen {
		return dst, fmt.Errorf("%w: %d bytes, an injection frame holds at most %d", ErrFrameTooLong, len(frame), MaxInjectLen)
	}
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(frame)))
	return append(dst, frame...), nil
}

// InjectionReader reads injection records (what Vigil sends to CommView),
// without allocating per frame. It is the CommView side of the codec, used
// by the replay tool and by tests.
//
// The slice Next returns aliases the reader's buffer and is valid until the
// next call. Errors are sticky: io.EOF at a clean end, an error wrapping
// ErrTruncated inside a frame, ErrEmptyFrame for a zero length prefix.
type InjectionReader struct {
	br      *bufio.Reader
	pending int
	err     error
}

// NewInjectionReader returns an InjectionReader over r.
func NewInjectionReader(r io.Reader) *InjectionReader {
	br, ok := r.(*bufio.Reader)
	if !ok || br.Size() < injectHeaderLen+MaxInjectLen {
		br = bufio.NewReaderSize(r, bufSize)
	}
	return &InjectionReader{br: br}
}

// Next returns the next injected frame.
func (r *InjectionReader) Next() ([]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.pending > 0 {
		r.br.Discard(r.pending)
		r.pending = 0
	}
	b, err := r.br.Peek(injectHeaderLen)
	if err != nil {
		r.err = injectShort(len(b), err, "length prefix")
		return nil, r.err
	}
	n := int(binary.LittleEndian.Uint16(b))
	if n == 0 {
		r.err = ErrEmptyFrame
		return nil, r.err
	}
	total := injectHeaderLen + n
	b, err = r.br.Peek(total)
	if err != nil {
		r.err = injectShort(len(b), err, "frame")
		return nil, r.err
	}
	r.pending = total
	return b[injectHeaderLen:total:total], nil
}

func injectShort(n int, err error, where string) error {
	if errors.Is(err, io.EOF) {
		if n == 0 {
			return io.EOF
		}
		return fmt.Errorf("%w: stream ends inside an injection %s", ErrTruncated, where)
	}
	return err
}
