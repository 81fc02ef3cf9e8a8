package capture

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/vigil-ids/vigil/ncf"
)

// Reader yields the records of a capture file one at a time.
//
// Next returns the next record, or io.EOF at the end of the capture. The
// *ncf.Record and its Data belong to the Reader and are valid only until
// the next call to Next. For pcap and pcapng, Time is the packet
// timestamp (UTC), WireLen its original length as the file gives it (it
// may be below DataLen, as Wireshark also reports), Direction Pass and
// Medium follows the link type (see the package documentation).
//
// A record that cannot be read is skipped: Next returns a *BadRecord, has
// resumed after it, and may be called again. A truncated final record is
// a *BadRecord too, and io.EOF follows it. Any other error is a read error
// of the file; it is sticky and ends the capture.
//
// Offset is the number of bytes of the file consumed so far: the file
// header, the records returned and the bytes skipped; at io.EOF it is the
// size of the file.
//
// Close releases the file.
type Reader interface {
	Next() (*ncf.Record, error)
	Format() Format
	Offset() int64
	Close() error
}

// maxSnap caps the capture length of a pcap or pcapng packet (libpcap's
// maximum snap length, also Wireshark's for these link types): a pcap
// record header above it cannot be trusted.
const maxSnap = 262144

// Read buffers, sized so that a record or block and what is looked at
// after it are always looked at in place: NCF's largest record and the
// header after it (within ncfBufSize), a pcap record of maxSnap bytes
// between two record headers, the largest pcapng block.
const (
	ncfBufSize    = 128 << 10
	pcapBufSize   = 2*pcapRecHdrLen + maxSnap
	pcapngBufSize = maxBlock
)

// Open opens a capture file, detecting its format by content. loc is the
// zone of NCF timestamps (nil means UTC); pcap and pcapng carry UTC. A
// file that is not a capture Vigil can read (an unknown format, NCFX, a
// pcap link type it cannot read, a pcapng file none of whose first
// interfaces it can read) is an error here.
func Open(path string, loc *time.Location) (Reader, error) { return open(path, loc, false) }

// OpenCooked opens a capture file as Open does, except that Linux cooked
// (SLL, link type 113) frames are not re-linked to Ethernet: they come as
// captured, with their 16-byte SLL header and Medium ncf.LinuxSLL, for a
// reader of that header (the engine's decoder, as Wireshark's sll.*
// fields). NCF cannot hold such records.
func OpenCooked(path string, loc *time.Location) (Reader, error) { return open(path, loc, true) }

func open(path string, loc *time.Location, cooked bool) (Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	r, err := newReader(f, loc, f, cooked)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return r, nil
}

func newReader(r io.Reader, loc *time.Location, c io.Closer, cooked bool) (Reader, error) {
	var buf [DetectLen]byte
	n, err := io.ReadFull(r, buf[:])
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("capture: %w", err)
	}
	head := buf[:n]
	f, err := Detect(head)
	if err != nil {
		return nil, err
	}
	size := map[Format]int{NCF: ncfBufSize, PCAP: pcapBufSize, PCAPNG: pcapngBufSize}[f]
	br := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(head), r), size)
	s := stream{br: br, c: c, format: f, cooked: cooked}
	switch f {
	case NCF:
		return &ncfReader{stream: s, r: ncf.NewReader(br, ncf.ReaderConfig{Location: loc, Resume: true})}, nil
	case PCAP:
		return newPcapReader(s)
	default:
		return newNgReader(s)
	}
}

// BadRecord reports a record a Reader skipped. The Reader has resumed
// after it, so Next may be called again (after a truncated final record it
// returns io.EOF).
//
// Reason is one of a fixed set of short phrases, the same for every
// record skipped for that reason, so callers can count by it:
//
//	truncated record                  the file ends inside the record (any format)
//	bad record header                 NCF: a header field is out of range; the record is skipped by its data_len
//	lost framing                      a record (NCF, pcap) or block (pcapng) length cannot be trusted; the
//	                                  bytes up to the next plausible record or block are skipped
//	packet longer than its block      pcapng: a packet block's capture length runs past the block
//	undeclared interface              pcapng: a packet names an interface its section has not described
//	unsupported link type             pcapng: a packet of an interface whose link type Vigil cannot read
//	unsupported timestamp resolution  pcapng: a packet of an interface whose if_tsresol is out of range
//	unsupported section               pcapng: a packet in a section of an unknown major version
//	bad radiotap header               an 802.11 frame whose radiotap header is malformed or longer than the frame
//	bad link header                   a Linux cooked or loopback frame shorter than its header, or a raw IP frame that is neither IPv4 nor IPv6
//
// The error unwraps to Err: a truncation wraps io.ErrUnexpectedEOF, a
// skipped NCF header is an *ncf.SkipError, a malformed radiotap header
// wraps ErrRadiotap.
type BadRecord struct {
	// Format is the capture's format.
	Format Format
	// Record is the record's number in the file, from 1, counting every
	// packet record before it, returned or skipped; a stretch skipped to
	// find records again counts as one.
	Record int64
	// Offset is the byte offset of its first byte in the file; Len is the
	// number of bytes skipped.
	Offset, Len int64
	// Reason says why, in a few words (see above).
	Reason string
	// Err gives the details.
	Err error
}

// Reasons of BadRecord.
const (
	reasonTruncated  = "truncated record"
	reasonNCFHeader  = "bad record header"
	reasonLost       = "lost framing"
	reasonBlockShort = "packet longer than its block"
	reasonInterface  = "undeclared interface"
	reasonLinkType   = "unsupported link type"
	reasonTSResol    = "unsupported timestamp resolution"
	reasonSection    = "unsupported section"
	reasonRadiotap   = "bad radiotap header"
	reasonLink       = "bad link header"
)

// Error names the format, the record, its offset, the reason and the
// details.
func (e *BadRecord) Error() string {
	return fmt.Sprintf("capture: %s record %d at offset %d skipped (%s): %v", e.Format, e.Record, e.Offset, e.Reason, e.Err)
}

// Unwrap returns Err.
func (e *BadRecord) Unwrap() error { return e.Err }

// stream is what the readers of every format share: the buffered file,
// the offset and record accounting, and the record handed out.
type stream struct {
	br      *bufio.Reader
	c       io.Closer
	format  Format
	off     int64 // offset of the first byte not yet consumed
	pending int   // bytes of the last record or block, consumed at the next call
	n       int64 // records returned or skipped
	err     error // sticky: io.EOF or a read error
	rec     ncf.Record
	buf     []byte // re-linked frames
	cooked  bool   // SLL frames stay as captured (OpenCooked)
}

func (s *stream) Format() Format { return s.format }
func (s *stream) Offset() int64  { return s.off + int64(s.pending) }
func (s *stream) Close() error   { return closeIf(s.c) }

// release consumes the last record or block returned.
func (s *stream) release() {
	if s.pending > 0 {
		s.br.Discard(s.pending) // buffered: cannot fail
		s.off += int64(s.pending)
		s.pending = 0
	}
}

// done passes a result of a format's next on: it numbers records and skips
// and makes io.EOF and read errors sticky.
func (s *stream) done(rec *ncf.Record, err error) (*ncf.Record, error) {
	if err == nil {
		s.n++
		return rec, nil
	}
	if _, ok := err.(*BadRecord); !ok {
		s.err = err
	}
	return nil, err
}

// bad returns a *BadRecord for the record at the current offset, of n
// bytes, which the next call consumes.
func (s *stream) bad(n int, reason string, err error) *BadRecord {
	s.n++
	s.pending = n
	return &BadRecord{Format: s.format, Record: s.n, Offset: s.off, Len: int64(n), Reason: reason, Err: err}
}

// short handles a record or block of which only n bytes could be peeked:
// io.EOF when the file ends cleanly before it, a truncated record (then
// io.EOF) when it ends inside it, the read error otherwise.
func (s *stream) short(n int, err error) error {
	if !errors.Is(err, io.EOF) {
		return fmt.Errorf("capture: %s: read at offset %d: %w", s.format, s.off, err)
	}
	if n == 0 {
		return io.EOF
	}
	s.err = io.EOF // after the truncated record
	return s.bad(n, reasonTruncated, fmt.Errorf("the file ends %d bytes into it: %w", n, io.ErrUnexpectedEOF))
}

// scan skips a record whose framing cannot be trusted: it discards bytes
// one at a time until found reports a record at the current position, or
// until the file ends (found returns io.EOF when too few bytes remain to
// tell), and returns a *BadRecord for the bytes skipped. why says what was
// wrong with the record. At least one byte of it must be buffered.
func (s *stream) scan(why error, found func() (bool, error)) error {
	start := s.off
	for {
		s.br.Discard(1)
		s.off++
		ok, err := found()
		if errors.Is(err, io.EOF) {
			k := s.br.Buffered()
			s.br.Discard(k)
			s.off += int64(k)
			break
		}
		if err != nil {
			return fmt.Errorf("capture: %s: read at offset %d: %w", s.format, s.off, err)
		}
		if ok {
			break
		}
	}
	s.n++
	return &BadRecord{Format: s.format, Record: s.n, Offset: start, Len: s.off - start, Reason: reasonLost, Err: why}
}

// peekShort turns the error of a short Peek into io.EOF when the file
// ended, for scan's found functions.
func peekShort(err error) error {
	if errors.Is(err, io.EOF) {
		return io.EOF
	}
	return err
}

// ncfReader reads NCF with ncf.Reader, resuming after bad headers.
type ncfReader struct {
	stream
	r *ncf.Reader
}

func (r *ncfReader) Offset() int64 { return r.r.Offset() + r.off }

func (r *ncfReader) Next() (*ncf.Record, error) {
	if r.err != nil {
		return nil, r.err
	}
	rec, err := r.r.Next()
	if err == nil {
		return r.done(rec, nil)
	}
	var se *ncf.SkipError
	switch {
	case errors.As(err, &se):
		reason := reasonNCFHeader
		if se.Resync {
			reason = reasonLost
		}
		r.n++
		return nil, &BadRecord{Format: NCF, Record: r.n, Offset: se.Offset, Len: se.Len, Reason: reason, Err: se}
	case errors.Is(err, ncf.ErrTruncated):
		// The rest of the file is in the buffer: ncf.Reader saw its end.
		tail := r.br.Buffered()
		r.br.Discard(tail)
		r.off = int64(tail) // on top of r.r.Offset()
		r.n++
		r.err = io.EOF
		return nil, &BadRecord{Format: NCF, Record: r.n, Offset: r.r.Offset(), Len: int64(tail), Reason: reasonTruncated, Err: err}
	}
	return r.done(nil, err)
}

func closeIf(c io.Closer) error {
	if c == nil {
		return nil
	}
	if err := c.Close(); err != nil {
		return fmt.Errorf("capture: close: %w", err)
	}
	return nil
}

// finish fills the stream's record from a packet of link type link,
// captured at ts, origLen bytes long on the wire: the medium, the radiotap
// fields (the header and a trailing FCS stripped), or a synthetic Ethernet
// header for the link types re-linked. A frame it cannot take is a
// *BadRecord. The packet's bytes (data) are consumed at the next call.
func (s *stream) finish(link layers.LinkType, data []byte, ts time.Time, origLen int) (*ncf.Record, error) {
	s.rec.Header = ncf.Header{Time: ts.UTC(), WireLen: origLen}
	h := &s.rec.Header
	switch link {
	case layers.LinkTypeEthernet:
		h.Medium = ncf.Ethernet
	case layers.LinkTypeTokenRing:
		h.Medium = ncf.TokenRing
	case layers.LinkTypeIEEE802_11:
		h.Medium = ncf.WiFi
	case layers.LinkTypeIEEE80211Radio:
		h.Medium = ncf.WiFi
		n, fcs, err := parseRadiotap(data, h)
		if err != nil {
			return nil, s.bad(s.pending, reasonRadiotap, err)
		}
		data = data[n : len(data)-fcs]
		h.WireLen = max(origLen-n-fcs, 0)
	case linkSLL:
		if s.cooked {
			h.Medium = ncf.LinuxSLL
			break
		}
		fallthrough
	default:
		h.Medium = ncf.Ethernet
		relinked, err := s.relink(link, data)
		if err != nil {
			return nil, s.bad(s.pending, reasonLink, err)
		}
		h.WireLen = max(origLen+len(relinked)-len(data), 0)
		data = relinked
	}
	h.DataLen, h.SourceDataLen = len(data), len(data)
	s.rec.Data = data
	return s.done(&s.rec, nil)
}

// Link types re-linked to Ethernet.
const (
	linkNull    = layers.LinkTypeNull
	linkLoop    = layers.LinkType(108)
	linkSLL     = layers.LinkTypeLinuxSLL
	linkRaw     = layers.LinkTypeRaw // 101
	linkIPv4    = layers.LinkTypeIPv4
	linkIPv6    = layers.LinkTypeIPv6
	ethHdrLen   = 14
	sllHdrLen   = 16
	nullHdrLen  = 4
	sllBcast    = 1
	etherIPv4   = 0x0800
	etherIPv6   = 0x86DD
	sllAddrLen6 = 6
)

var (
	macSrc   = [6]byte{2, 0, 0, 0, 0, 1}
	macDst   = [6]byte{2, 0, 0, 0, 0, 2}
	macBcast = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
)

func checkLinkType(lt layers.LinkType) error {
	switch lt {
	case layers.LinkTypeEthernet, layers.LinkTypeTokenRing, layers.LinkTypeIEEE802_11,
		layers.LinkTypeIEEE80211Radio, linkNull, linkLoop, linkSLL, linkRaw, linkIPv4, linkIPv6:
		return nil
	}
	return fmt.Errorf("%w: %s (%d); readable link types are Ethernet (1), Token Ring (6), 802.11 (105), 802.11 with radiotap (127), and, re-linked to Ethernet, NULL (0), LOOP (108), raw IP (101, 228, 229) and Linux cooked SLL (113)",
		ErrLinkType, lt, int(lt))
}

// relink replaces the link header of a non-Ethernet frame by a synthetic
// Ethernet header, in the reader's reused buffer.
func (s *stream) relink(lt layers.LinkType, data []byte) ([]byte, error) {
	dst, src := macDst, macSrc
	var etype uint16
	var payload []byte
	switch lt {
	case linkSLL:
		if len(data) < sllHdrLen {
			return nil, fmt.Errorf("capture: %d-byte Linux cooked frame is shorter than its header", len(data))
		}
		if binary.BigEndian.Uint16(data[0:2]) == sllBcast {
			dst = macBcast
		}
		if binary.BigEndian.Uint16(data[4:6]) == sllAddrLen6 {
			copy(src[:], data[6:12])
		}
		etype = binary.BigEndian.Uint16(data[14:16])
		payload = data[sllHdrLen:]
	case linkNull, linkLoop:
		if len(data) < nullHdrLen {
			return nil, fmt.Errorf("capture: %d-byte loopback frame is shorter than its header", len(data))
		}
		payload = data[nullHdrLen:]
		etype = ipEtherType(payload)
	case linkRaw, linkIPv4, linkIPv6:
		payload = data
		etype = ipEtherType(payload)
	default:
		return nil, fmt.Errorf("%w: %s (%d)", ErrLinkType, lt, int(lt))
	}
	if etype == 0 {
		return nil, fmt.Errorf("capture: %s frame holds neither IPv4 nor IPv6", lt)
	}
	b := append(s.buf[:0], dst[:]...)
	b = append(b, src[:]...)
	b = binary.BigEndian.AppendUint16(b, etype)
	b = append(b, payload...)
	s.buf = b
	return b, nil
}

func ipEtherType(p []byte) uint16 {
	if len(p) == 0 {
		return 0
	}
	switch p[0] >> 4 {
	case 4:
		return etherIPv4
	case 6:
		return etherIPv6
	}
	return 0
}
