package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/vigil-ids/vigil/ncf"
)

// Format is a capture file format.
type Format int

// Capture formats.
const (
	NCF Format = iota
	PCAP
	PCAPNG
)

// String returns "ncf", "pcap" or "pcapng".
func (f Format) String() string {
	switch f {
	case NCF:
		return "ncf"
	case PCAP:
		return "pcap"
	case PCAPNG:
		return "pcapng"
	}
	return fmt.Sprintf("format(%d)", int(f))
}

// Errors returned (wrapped, with details) by Detect, the readers and the
// writers.
var (
	// ErrUnknownFormat: the content is not NCF, pcap or pcapng.
	ErrUnknownFormat = errors.New("capture: unknown capture format")
	// ErrNCFX: the content is CommView for WiFi's extended format.
	ErrNCFX = errors.New("capture: NCFX (CommView for WiFi extended format) is not supported; save the capture as NCF or pcapng")
	// ErrLinkType: a pcap or pcapng link type that cannot be read as Ethernet or 802.11.
	ErrLinkType = errors.New("capture: unsupported link type")
	// ErrMixedMedia: a pcap file cannot hold records of different media.
	ErrMixedMedia = errors.New("capture: a pcap file holds one link type; records of another medium need pcapng")
	// ErrRadiotap: a malformed radiotap header in an 802.11 capture.
	ErrRadiotap = errors.New("capture: malformed radiotap header")
)

// DetectLen is the number of leading bytes Detect needs to recognise every
// format (fewer suffice for pcap and pcapng).
const DetectLen = ncf.HeaderLen

const (
	magicPcapNG        = 0x0A0D0D0A
	magicPcapMicroLE   = 0xA1B2C3D4
	magicPcapMicroBE   = 0xD4C3B2A1
	magicPcapNanoLE    = 0xA1B23C4D
	magicPcapNanoBE    = 0x4D3CB2A1
	minYear, maxYear   = 1970, 2100
	maxSignalPercent   = 100
	gzip1, gzip2       = 0x1f, 0x8b
	detectShowMaxBytes = 16
)

// Detect recognises a capture format from its first bytes (DetectLen or
// the whole input if shorter): a pcap magic number (microsecond or
// nanosecond, either byte order), a pcapng section header block, or a
// plausible first NCF record header (a valid header with a year in
// 1970-2100 and a signal level of at most 100%, the checks Wireshark makes).
// NCFX is refused with ErrNCFX; anything else is ErrUnknownFormat with a
// description of what was seen.
func Detect(head []byte) (Format, error) {
	if len(head) == 0 {
		return 0, fmt.Errorf("%w: empty input", ErrUnknownFormat)
	}
	if len(head) >= 4 {
		switch binary.LittleEndian.Uint32(head) {
		case magicPcapMicroLE, magicPcapMicroBE, magicPcapNanoLE, magicPcapNanoBE:
			return PCAP, nil
		case magicPcapNG:
			return PCAPNG, nil
		}
	}
	if len(head) >= 2 && head[0] == gzip1 && head[1] == gzip2 {
		return 0, fmt.Errorf("%w: gzip-compressed data; decompress it first", ErrUnknownFormat)
	}
	if len(head) < ncf.HeaderLen {
		return 0, fmt.Errorf("%w: only %d bytes (% x), shorter than any capture header", ErrUnknownFormat, len(head), head)
	}
	h, err := ncf.CheckHeader(head)
	if err == nil {
		y := h.Time.Year()
		if y >= minYear && y <= maxYear && h.SignalPercent <= maxSignalPercent {
			return NCF, nil
		}
		err = fmt.Errorf("year %d, signal %d%%", y, h.SignalPercent)
	}
	if ncf.LooksLikeNCFX(head) {
		return 0, ErrNCFX
	}
	n := min(len(head), detectShowMaxBytes)
	return 0, fmt.Errorf("%w: first bytes % x are no pcap or pcapng magic and no plausible NCF header (%v)", ErrUnknownFormat, head[:n], err)
}

// FormatFromPath returns the format named by a file's extension: .ncf,
// .pcap (also .cap) or .pcapng (any case).
func FormatFromPath(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".ncf":
		return NCF, nil
	case ".pcap", ".cap":
		return PCAP, nil
	case ".pcapng":
		return PCAPNG, nil
	}
	return 0, fmt.Errorf("%w: cannot tell the format of %q from its extension (want .ncf, .pcap or .pcapng)", ErrUnknownFormat, filepath.Base(path))
}
