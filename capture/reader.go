package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/vigil-ids/vigil/ncf"
)

// Reader yields the records of a capture file one at a time.
//
// Next returns the next record, or io.EOF at the clean end of the capture.
// The *ncf.Record and its Data belong to the Reader and are valid only
// until the next call to Next. For pcap and pcapng, Time is the packet
// timestamp (UTC), WireLen its original length, Direction Pass and Medium
// follows the link type (see the package documentation). Errors are sticky.
//
// Close releases the file.
type Reader interface {
	Next() (*ncf.Record, error)
	Format() Format
	Close() error
}

// maxSnap caps the capture length accepted from pcap and pcapng files
// (libpcap's maximum snap length), bounding memory whatever the file says.
const maxSnap = 262144

// Open opens a capture file, detecting its format by content. loc is the
// zone of NCF timestamps (nil means UTC); pcap and pcapng carry UTC.
func Open(path string, loc *time.Location) (Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	r, err := newReader(f, loc, f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return r, nil
}

func newReader(r io.Reader, loc *time.Location, c io.Closer) (Reader, error) {
	br := bufio.NewReaderSize(r, 128<<10)
	head, err := br.Peek(DetectLen)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("capture: %w", err)
	}
	f, err := Detect(head)
	if err != nil {
		return nil, err
	}
	switch f {
	case NCF:
		return &ncfReader{r: ncf.NewReader(br, ncf.ReaderConfig{Location: loc}), c: c}, nil
	case PCAP:
		pr, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("capture: pcap header: %w", err)
		}
		if pr.Snaplen() > maxSnap {
			pr.SetSnaplen(maxSnap)
		}
		lt := pr.LinkType()
		if err := checkLinkType(lt); err != nil {
			return nil, err
		}
		return &pcapReader{src: pr, pcap: pr, format: PCAP, c: c, link: lt}, nil
	default:
		nr, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			return nil, fmt.Errorf("capture: pcapng header: %w", err)
		}
		for i := range nr.NInterfaces() {
			intf, _ := nr.Interface(i)
			if err := checkLinkType(intf.LinkType); err != nil {
				return nil, err
			}
		}
		return &pcapReader{src: nr, format: PCAPNG, c: c, mixed: true}, nil
	}
}

type ncfReader struct {
	r *ncf.Reader
	c io.Closer
}

func (r *ncfReader) Next() (*ncf.Record, error) { return r.r.Next() }
func (r *ncfReader) Format() Format             { return NCF }
func (r *ncfReader) Close() error               { return closeIf(r.c) }

func closeIf(c io.Closer) error {
	if c == nil {
		return nil
	}
	if err := c.Close(); err != nil {
		return fmt.Errorf("capture: close: %w", err)
	}
	return nil
}

// packetSource is what pcapgo's pcap and pcapng readers have in common.
type packetSource interface {
	ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

type pcapReader struct {
	src    packetSource
	pcap   *pcapgo.Reader
	format Format
	c      io.Closer
	link   layers.LinkType // pcap; pcapng reads it per packet
	mixed  bool
	rec    ncf.Record
	n      int64
	err    error
	buf    []byte // re-linked frames
}

func (r *pcapReader) Format() Format { return r.format }
func (r *pcapReader) Close() error   { return closeIf(r.c) }

func (r *pcapReader) Next() (*ncf.Record, error) {
	if r.err != nil {
		return nil, r.err
	}
	data, ci, err := r.src.ZeroCopyReadPacketData()
	if err != nil {
		switch {
		case err == io.EOF && ci.CaptureLength == 0:
			r.err = io.EOF
		case err == io.EOF:
			// The file ends right after a packet header.
			r.err = fmt.Errorf("capture: %s packet %d: %w", r.format, r.n+1, io.ErrUnexpectedEOF)
		default:
			r.err = fmt.Errorf("capture: %s packet %d: %w", r.format, r.n+1, err)
		}
		return nil, r.err
	}
	link := r.link
	if r.mixed && len(ci.AncillaryData) > 0 {
		link, _ = ci.AncillaryData[0].(layers.LinkType)
	}
	r.rec.Header = ncf.Header{
		Time:    ci.Timestamp.UTC(),
		WireLen: max(ci.Length, len(data)),
	}
	h := &r.rec.Header
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
			r.err = fmt.Errorf("capture: %s packet %d: %w", r.format, r.n+1, err)
			return nil, r.err
		}
		data = data[n : len(data)-fcs]
		h.WireLen = max(h.WireLen-n-fcs, len(data))
	default:
		h.Medium = ncf.Ethernet
		relinked, err := r.relink(link, data)
		if err != nil {
			r.err = fmt.Errorf("capture: %s packet %d: %w", r.format, r.n+1, err)
			return nil, r.err
		}
		h.WireLen += len(relinked) - len(data)
		data = relinked
	}
	h.DataLen, h.SourceDataLen = len(data), len(data)
	r.rec.Data = data
	r.n++
	return &r.rec, nil
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
func (r *pcapReader) relink(lt layers.LinkType, data []byte) ([]byte, error) {
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
	b := append(r.buf[:0], dst[:]...)
	b = append(b, src[:]...)
	b = binary.BigEndian.AppendUint16(b, etype)
	b = append(b, payload...)
	r.buf = b
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
