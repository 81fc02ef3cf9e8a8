package ncf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"time"
)

// Record is one NCF record: its decoded header and its body.
type Record struct {
	Header
	Data []byte // the frame (compressed if Header.Compressed), len(Data) == DataLen
}

// ReaderConfig configures a Reader. The zero value reads UTC timestamps
// and accepts bodies up to MaxDataLen.
type ReaderConfig struct {
	// Location is the zone of the capturing machine's clock; nil means UTC.
	Location *time.Location
	// MaxDataLen caps data_len; records above it are a *HeaderError.
	// Zero or a value above MaxDataLen means MaxDataLen.
	MaxDataLen int
	// Resume makes the Reader go on after a bad header instead of
	// stopping, for files: Next returns a *SkipError for the bytes it
	// skipped and the next call resumes. Without it (live streams) a bad
	// header is a sticky *HeaderError.
	Resume bool
}

// Reader reads NCF records from a stream one at a time without allocating
// per record.
//
// Next returns a *Record that the Reader owns: the Record and its Data slice
// (which aliases the Reader's buffer) are valid only until the next call to
// Next. Copy what must outlive it.
//
// Errors are sticky, but for *SkipError: once Next has returned another
// error it returns the same error forever. io.EOF means the stream ended
// cleanly between records; an error wrapping ErrTruncated (and
// io.ErrUnexpectedEOF) means it ended inside a record; a *HeaderError
// means the bytes cannot be an NCF header, and since NCF has no sync
// marker the stream cannot be trusted after it: drop the connection. Other
// errors come from the underlying reader (a read timeout is sticky too).
//
// With ReaderConfig.Resume, a bad header is not the end. NCF's data_len is
// authoritative: when the record a bad header frames is followed by a
// plausible header (Header.Plausible) or by the end of the stream, that one
// record is skipped. Otherwise the data_len cannot be trusted either: the
// Reader scans forward, byte by byte, to the first plausible header whose
// record is followed by another plausible header or by the end of the
// stream, and resumes there (or skips to the end when there is none). Next
// returns a *SkipError for what was skipped; the following call resumes.
//
// Checks are per field: a day past the end of its month (Feb 31) is
// normalised by time.Date rather than refused, the year is not checked, and
// a record with data_len 0 is accepted, as Wireshark does.
type Reader struct {
	br      *bufio.Reader
	loc     *time.Location
	maxData int
	rec     Record
	off     int64
	n       int64
	err     error
	pending int // bytes of the previous record still to discard
	resume  bool
}

// bufSize is the bufio size: one full record plus headroom so that Peek of
// the largest record never fails with bufio.ErrBufferFull.
const bufSize = 128 << 10

// minBufSize is the smallest bufio a Reader takes as is: the largest
// record and the header after it, which resuming looks at.
const minBufSize = 2*HeaderLen + MaxDataLen

// NewReader returns a Reader over r. If r is a *bufio.Reader of at least
// 2*HeaderLen+MaxDataLen bytes it is used as is.
func NewReader(r io.Reader, cfg ReaderConfig) *Reader {
	rd := &Reader{loc: cfg.Location, maxData: cfg.MaxDataLen, resume: cfg.Resume}
	if rd.loc == nil {
		rd.loc = time.UTC
	}
	if rd.maxData <= 0 || rd.maxData > MaxDataLen {
		rd.maxData = MaxDataLen
	}
	if br, ok := r.(*bufio.Reader); ok && br.Size() >= minBufSize {
		rd.br = br
	} else {
		rd.br = bufio.NewReaderSize(r, bufSize)
	}
	return rd
}

// Offset returns the number of stream bytes consumed by the records
// returned and the bytes skipped so far.
func (r *Reader) Offset() int64 { return r.off }

// Records returns the number of records returned so far.
func (r *Reader) Records() int64 { return r.n }

// Next returns the next record. See Reader for the validity of the result
// and the meaning of errors.
func (r *Reader) Next() (*Record, error) {
	if r.err != nil {
		return nil, r.err
	}
	rec, err := r.next()
	if err != nil {
		if _, skipped := err.(*SkipError); !skipped {
			r.err = err
		}
		return nil, err
	}
	r.n++
	return rec, nil
}

// next peeks the record in the bufio buffer; the previous record is
// discarded first, so the returned Data stays valid until the next call.
func (r *Reader) next() (*Record, error) {
	if r.pending > 0 {
		// Discard of buffered bytes cannot fail.
		r.br.Discard(r.pending)
		r.pending = 0
	}
	hb, err := r.br.Peek(HeaderLen)
	if err != nil {
		return nil, r.shortErr(len(hb), err, "header")
	}
	if herr := parseHeader(&r.rec.Header, hb, r.loc, r.maxData, r.off); herr != nil {
		if r.resume {
			return nil, r.skip(herr)
		}
		return nil, herr
	}
	total := HeaderLen + r.rec.DataLen
	b, err := r.br.Peek(total)
	if err != nil {
		return nil, r.shortErr(len(b), err, "body")
	}
	r.rec.Data = b[HeaderLen:total:total]
	r.pending = total
	r.off += int64(total)
	return &r.rec, nil
}

// shortErr turns a short read of n bytes into io.EOF (nothing read at a
// record boundary), a truncation error, or the underlying error.
func (r *Reader) shortErr(n int, err error, where string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		if n == 0 && where == "header" {
			return io.EOF
		}
		return truncated(r.off, where)
	}
	return err
}

// skip passes over the bad header herr found at the current offset, and
// over its record or up to the next plausible one (see Reader), and
// reports what it skipped. An error of the underlying reader while looking
// ahead is returned instead, and ends the stream.
func (r *Reader) skip(herr *HeaderError) error {
	hb, _ := r.br.Peek(HeaderLen) // buffered: the header was just parsed
	total := HeaderLen + int(binary.LittleEndian.Uint16(hb))
	ok, err := r.plausibleAt(total)
	if err != nil {
		return err
	}
	if ok {
		r.br.Discard(total)
		return r.skipped(herr, int64(total), false)
	}
	var n int64
	for {
		r.br.Discard(1) // at least a header's worth is buffered here
		n++
		b, err := r.br.Peek(HeaderLen)
		if len(b) < HeaderLen {
			if !errors.Is(err, io.EOF) {
				r.off += n
				return err
			}
			r.br.Discard(len(b)) // no record after the bad header
			return r.skipped(herr, n+int64(len(b)), true)
		}
		var h Header
		if parseHeader(&h, b, r.loc, r.maxData, 0) != nil || !h.Plausible() {
			continue
		}
		if ok, err := r.plausibleAt(HeaderLen + h.DataLen); err != nil {
			r.off += n
			return err
		} else if ok {
			return r.skipped(herr, n, true)
		}
	}
}

// plausibleAt reports whether a plausible header starts k bytes ahead in
// the buffer, or the stream ends exactly there.
func (r *Reader) plausibleAt(k int) (bool, error) {
	b, err := r.br.Peek(k + HeaderLen)
	if len(b) < k+HeaderLen {
		if errors.Is(err, io.EOF) {
			return len(b) == k, nil
		}
		return false, err
	}
	var h Header
	return parseHeader(&h, b[k:], r.loc, r.maxData, 0) == nil && h.Plausible(), nil
}

// skipped accounts for the n bytes from the current offset that skip has
// discarded.
func (r *Reader) skipped(herr *HeaderError, n int64, resync bool) *SkipError {
	e := &SkipError{Offset: r.off, Len: n, Header: herr, Resync: resync}
	r.off += n
	return e
}
