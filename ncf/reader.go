package ncf

import (
	"bufio"
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
}

// Reader reads NCF records from a stream one at a time without allocating
// per record.
//
// Next returns a *Record that the Reader owns: the Record and its Data slice
// (which aliases the Reader's buffer) are valid only until the next call to
// Next. Copy what must outlive it.
//
// Errors are sticky: once Next has returned an error it returns the same
// error forever. io.EOF means the stream ended cleanly between records; an
// error wrapping ErrTruncated (and io.ErrUnexpectedEOF) means it ended inside
// a record; a *HeaderError means the bytes cannot be an NCF header, and since
// NCF has no sync marker the stream cannot be resynchronised: drop the
// connection or stop reading the file. Other errors come from the underlying
// reader (a read timeout is sticky too).
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
}

// bufSize is the bufio size: one full record plus headroom so that Peek of
// the largest record never fails with bufio.ErrBufferFull.
const bufSize = 128 << 10

// NewReader returns a Reader over r. If r is a *bufio.Reader of at least
// HeaderLen+MaxDataLen bytes it is used as is.
func NewReader(r io.Reader, cfg ReaderConfig) *Reader {
	rd := &Reader{loc: cfg.Location, maxData: cfg.MaxDataLen}
	if rd.loc == nil {
		rd.loc = time.UTC
	}
	if rd.maxData <= 0 || rd.maxData > MaxDataLen {
		rd.maxData = MaxDataLen
	}
	if br, ok := r.(*bufio.Reader); ok && br.Size() >= HeaderLen+MaxDataLen {
		rd.br = br
	} else {
		rd.br = bufio.NewReaderSize(r, bufSize)
	}
	return rd
}

// Offset returns the number of stream bytes consumed by the records
// returned so far.
func (r *Reader) Offset() int64 { return r.off }

// Records returns the number of records returned so far.
func (r *Reader) Records() int64 { return r.n }

// Next returns the next record. See Reader for the validity of the result
// and the meaning of errors.
func (r *Reader) Next() (*Record, error) {
	if r.err != nil {
		return nil, r.err
	}
	var rec *Record
	rec, r.err = r.next()
	if r.err != nil {
		return nil, r.err
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
