package alerts

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"
)

// Spill segment layout. A segment file "<20-digit number>.seg" holds
// records back to back, oldest first; segments are read in number order.
// One record:
//
//	u32 LE  body length
//	u32 LE  CRC-32C (Castagnoli) of the body
//	body:   u16 LE subject length, subject, u16 LE id length, id, JSON data
//
// A record whose length is out of bounds or whose checksum fails ends the
// segment (a torn write after a crash): the records before it are kept.
const (
	segmentExt      = ".seg"
	segmentMaxBytes = 4 << 20 // a segment is sealed (fsync'd) past this size
	recordHeader    = 8
	maxRecordBody   = 8 << 20
	// firstSegment numbers the first segment of an empty folder; numbers
	// below it are left for Close, which writes what it could not deliver
	// in front of the older segments.
	firstSegment = 1 << 32
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// errSpoolFull: the record would take the spool past its byte limit.
var errSpoolFull = errors.New("alerts: spill folder full")

// segment is one spill file.
type segment struct {
	num         uint64
	path        string
	size        int64 // bytes on disk (buffered bytes included while writing)
	records     int   // records in the file
	loaded      bool  // its records were read into memory
	outstanding int   // loaded records not yet delivered
}

// spool keeps records that do not fit in memory in append-only segment
// files. It is not safe for concurrent use: the Publisher guards it.
type spool struct {
	dir    string
	limit  int64
	bytes  int64 // total size of segment files
	segs   []*segment
	unread int // records in segments not yet loaded
	next   uint64
	w      *os.File
	bw     *bufio.Writer
	wseg   *segment
	closed bool
}

// openSpool opens (creating it if needed) the spill folder and indexes the
// segments a previous run left there: they are pending, oldest first.
func openSpool(dir string, limit int64) (*spool, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("alerts: spill folder: %w", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("alerts: spill folder: %w", err)
	}
	s := &spool{dir: dir, limit: limit, next: firstSegment}
	for _, e := range ents {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, segmentExt) {
			continue
		}
		num, err := strconv.ParseUint(strings.TrimSuffix(name, segmentExt), 10, 64)
		if err != nil {
			continue
		}
		seg := &segment{num: num, path: filepath.Join(dir, name)}
		n, size, err := countRecords(seg.path)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			_ = os.Remove(seg.path)
			continue
		}
		seg.records, seg.size = n, size
		s.segs = append(s.segs, seg)
		s.bytes += size
		s.unread += n
		if num >= s.next {
			s.next = num + 1
		}
	}
	slices.SortFunc(s.segs, func(a, b *segment) int {
		switch {
		case a.num < b.num:
			return -1
		case a.num > b.num:
			return 1
		}
		return 0
	})
	return s, nil
}

// countRecords counts the valid records of a segment file.
func countRecords(path string) (n int, size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, fmt.Errorf("alerts: spill segment: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, 0, fmt.Errorf("alerts: spill segment: %w", err)
	}
	err = readRecords(bufio.NewReaderSize(f, 64<<10), func(string, string, []byte) { n++ })
	if err != nil && !errors.Is(err, ErrCorruptSegment) {
		return 0, 0, err
	}
	return n, st.Size(), nil
}

// readRecords calls fn for each valid record of r. It returns nil at a
// clean end, ErrCorruptSegment (wrapped) at a torn or damaged record.
// The data slice passed to fn is freshly allocated and owned by fn.
func readRecords(r *bufio.Reader, fn func(subject, id string, data []byte)) error {
	var hdr [recordHeader]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if err == io.EOF {
				return nil
			}
			if err == io.ErrUnexpectedEOF {
				return fmt.Errorf("%w: truncated record header", ErrCorruptSegment)
			}
			return fmt.Errorf("alerts: spill segment: %w", err)
		}
		n := binary.LittleEndian.Uint32(hdr[0:4])
		if n < 4 || n > maxRecordBody {
			return fmt.Errorf("%w: record length %d", ErrCorruptSegment, n)
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return fmt.Errorf("%w: truncated record", ErrCorruptSegment)
			}
			return fmt.Errorf("alerts: spill segment: %w", err)
		}
		if crc32.Checksum(body, crcTable) != binary.LittleEndian.Uint32(hdr[4:8]) {
			return fmt.Errorf("%w: checksum mismatch", ErrCorruptSegment)
		}
		subject, id, data, ok := splitBody(body)
		if !ok {
			return fmt.Errorf("%w: malformed record", ErrCorruptSegment)
		}
		fn(subject, id, data)
	}
}

func splitBody(b []byte) (subject, id string, data []byte, ok bool) {
	if len(b) < 2 {
		return "", "", nil, false
	}
	n := int(binary.LittleEndian.Uint16(b))
	b = b[2:]
	if len(b) < n+2 {
		return "", "", nil, false
	}
	subject = string(b[:n])
	b = b[n:]
	n = int(binary.LittleEndian.Uint16(b))
	b = b[2:]
	if len(b) < n {
		return "", "", nil, false
	}
	return subject, string(b[:n]), b[n:], true
}

// recordSize is the number of bytes r takes in a segment.
func recordSize(r *record) int64 {
	return int64(recordHeader + 2 + len(r.subject) + 2 + len(r.id) + len(r.data))
}

// appendRecord appends r's segment encoding to dst.
func appendRecord(dst []byte, r *record) []byte {
	body := 2 + len(r.subject) + 2 + len(r.id) + len(r.data)
	start := len(dst)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(body))
	dst = binary.LittleEndian.AppendUint32(dst, 0)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(r.subject)))
	dst = append(dst, r.subject...)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(r.id)))
	dst = append(dst, r.id...)
	dst = append(dst, r.data...)
	binary.LittleEndian.PutUint32(dst[start+4:], crc32.Checksum(dst[start+recordHeader:], crcTable))
	return dst
}

// spillable reports whether r can be written to a segment at all.
func spillable(r *record) bool {
	return len(r.subject) <= 0xffff && len(r.id) <= 0xffff &&
		recordSize(r)-recordHeader <= maxRecordBody
}

// hasUnread reports whether some records on disk are not loaded yet; while
// so, new records must go to disk too, behind them, to keep the order.
func (s *spool) hasUnread() bool { return s.unread > 0 }

// write appends r to the newest segment, starting a new one when needed.
func (s *spool) write(r *record, scratch []byte) ([]byte, error) {
	if s.closed {
		return scratch, ErrClosed
	}
	if !spillable(r) {
		return scratch, fmt.Errorf("alerts: record too large to spill (%d bytes)", recordSize(r))
	}
	size := recordSize(r)
	if s.bytes+size > s.limit {
		return scratch, errSpoolFull
	}
	if s.wseg != nil && s.wseg.size >= segmentMaxBytes {
		if err := s.seal(); err != nil {
			return scratch, err
		}
	}
	if s.wseg == nil {
		if err := s.create(); err != nil {
			return scratch, err
		}
	}
	scratch = appendRecord(scratch[:0], r)
	if _, err := s.bw.Write(scratch); err != nil {
		return scratch, fmt.Errorf("alerts: spill write: %w", err)
	}
	s.wseg.size += size
	s.wseg.records++
	s.bytes += size
	s.unread++
	return scratch, nil
}

func (s *spool) create() error {
	seg := &segment{num: s.next, path: filepath.Join(s.dir, segmentName(s.next))}
	f, err := os.OpenFile(seg.path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("alerts: spill segment: %w", err)
	}
	s.next++
	s.w, s.wseg = f, seg
	if s.bw == nil {
		s.bw = bufio.NewWriterSize(f, 64<<10)
	} else {
		s.bw.Reset(f)
	}
	s.segs = append(s.segs, seg)
	return nil
}

func segmentName(num uint64) string { return fmt.Sprintf("%020d%s", num, segmentExt) }

// flush pushes buffered records of the open segment to the file (no fsync).
func (s *spool) flush() error {
	if s.wseg == nil {
		return nil
	}
	if err := s.bw.Flush(); err != nil {
		return fmt.Errorf("alerts: spill flush: %w", err)
	}
	return nil
}

// seal flushes, fsyncs and closes the open segment.
func (s *spool) seal() error {
	if s.wseg == nil {
		return nil
	}
	err := s.bw.Flush()
	if e := s.w.Sync(); err == nil {
		err = e
	}
	if e := s.w.Close(); err == nil {
		err = e
	}
	s.w, s.wseg = nil, nil
	if err != nil {
		return fmt.Errorf("alerts: spill seal: %w", err)
	}
	return nil
}

// loadNext reads the oldest unread segment whole and returns its records,
// oldest first, each tied to the segment: the file is removed when all of
// them are delivered (done). It returns nil when nothing is unread.
func (s *spool) loadNext() ([]*record, error) {
	var seg *segment
	for _, g := range s.segs {
		if !g.loaded {
			seg = g
			break
		}
	}
	if seg == nil {
		return nil, nil
	}
	if seg == s.wseg {
		if err := s.seal(); err != nil {
			return nil, err
		}
	}
	seg.loaded = true
	s.unread -= seg.records
	f, err := os.Open(seg.path)
	if err != nil {
		s.remove(seg)
		return nil, fmt.Errorf("alerts: spill segment %s: %w (%d alerts lost)", seg.path, err, seg.records)
	}
	defer f.Close()
	recs := make([]*record, 0, seg.records)
	rerr := readRecords(bufio.NewReaderSize(f, 64<<10), func(subject, id string, data []byte) {
		recs = append(recs, newRecord(subject, id, data, seg))
	})
	seg.outstanding = len(recs)
	if seg.outstanding == 0 {
		s.remove(seg)
	}
	if rerr != nil {
		return recs, fmt.Errorf("alerts: spill segment %s: %w (%d of %d alerts read)", seg.path, rerr, len(recs), seg.records)
	}
	return recs, nil
}

// done records the delivery of one record loaded from seg.
func (s *spool) done(seg *segment) {
	if s.closed {
		return
	}
	seg.outstanding--
	if seg.outstanding <= 0 && seg.loaded {
		s.remove(seg)
	}
}

func (s *spool) remove(seg *segment) {
	i := slices.Index(s.segs, seg)
	if i < 0 {
		return
	}
	s.segs = slices.Delete(s.segs, i, i+1)
	s.bytes -= seg.size
	_ = os.Remove(seg.path)
}

// persistFront writes recs (undelivered, oldest first) into a new segment
// numbered before every existing one, fsyncs it, then removes the loaded
// segments (their undelivered records are among recs). The disk limit is
// not applied: these records were already accepted.
func (s *spool) persistFront(recs []*record) error {
	if len(recs) > 0 {
		num := s.next
		if len(s.segs) > 0 {
			num = s.segs[0].num - 1
		}
		seg := &segment{num: num, path: filepath.Join(s.dir, segmentName(num))}
		f, err := os.OpenFile(seg.path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
		if err != nil {
			return fmt.Errorf("alerts: spill segment: %w", err)
		}
		bw := bufio.NewWriterSize(f, 64<<10)
		var buf []byte
		for _, r := range recs {
			if !spillable(r) {
				continue
			}
			buf = appendRecord(buf[:0], r)
			if _, err = bw.Write(buf); err != nil {
				break
			}
			seg.size += int64(len(buf))
			seg.records++
		}
		if err == nil {
			err = bw.Flush()
		}
		if err == nil {
			err = f.Sync()
		}
		if e := f.Close(); err == nil {
			err = e
		}
		if err != nil {
			return fmt.Errorf("alerts: spill on close: %w", err)
		}
		s.segs = slices.Insert(s.segs, 0, seg)
		s.bytes += seg.size
		s.unread += seg.records
	}
	for _, g := range slices.Clone(s.segs) {
		if g.loaded {
			s.remove(g)
		}
	}
	return nil
}

// close seals the open segment; later calls do nothing.
func (s *spool) close() error {
	if s.closed {
		return nil
	}
	err := s.seal()
	s.closed = true
	return err
}

// newRecord builds a record and its NATS message with the Nats-Msg-Id header.
func newRecord(subject, id string, data []byte, seg *segment) *record {
	r := &record{subject: subject, id: id, data: data, seg: seg}
	r.msg = &nats.Msg{Subject: subject, Data: data, Header: nats.Header{nats.MsgIdHdr: []string{id}}}
	return r
}
