package ncf

import (
	"encoding/binary"
	"strconv"
	"time"
)

// HeaderLen is the size of an NCF record header in bytes.
const HeaderLen = 24

// MaxDataLen is the largest body an NCF record can carry (data_len is 16 bits).
const MaxDataLen = 65535

// Flag bits of header byte 16.
const (
	flagMediumMask = 0x0F
	flagDecrypted  = 0x10
	flagBroken     = 0x20
	flagCompressed = 0x40
	flagReserved   = 0x80
)

// Medium is the capture medium of a record (bits 0-3 of the flags byte).
type Medium uint8

// Media defined by NCF.
const (
	Ethernet  Medium = 0
	WiFi      Medium = 1
	TokenRing Medium = 2
	// LinuxSLL is no NCF medium: a Linux cooked capture frame (pcap link
	// type 113) as capture.OpenCooked reads it, for a decoder that reads
	// its header. An NCF writer refuses it.
	LinuxSLL Medium = 0x0F
)

// String returns "ethernet", "wifi", "tokenring" or "linux-sll" ("medium(N)"
// otherwise).
func (m Medium) String() string {
	switch m {
	case Ethernet:
		return "ethernet"
	case WiFi:
		return "wifi"
	case TokenRing:
		return "tokenring"
	case LinuxSLL:
		return "linux-sll"
	}
	return "medium(" + strconv.Itoa(int(m)) + ")"
}

// Direction is the direction of an Ethernet or Token Ring frame as seen by
// the capturing machine. WiFi records always have Pass: their byte 21 is the
// high byte of the rate.
type Direction uint8

// Directions defined by NCF.
const (
	Pass Direction = 0
	In   Direction = 1
	Out  Direction = 2
)

// String returns "pass", "in" or "out" ("direction(N)" for values NCF does
// not define).
func (d Direction) String() string {
	switch d {
	case Pass:
		return "pass"
	case In:
		return "in"
	case Out:
		return "out"
	}
	return "direction(" + strconv.Itoa(int(d)) + ")"
}

// Band bits (header byte 19, WiFi).
const (
	Band11A       = 0x01
	Band11B       = 0x02
	Band11G       = 0x04
	Band11ATurbo  = 0x08
	BandSuperG    = 0x10
	Band4_9GHz    = 0x20
	Band11N5GHz   = 0x40
	Band11N2_4GHz = 0x80
)

// Header is a decoded NCF record header.
type Header struct {
	DataLen       int // bytes of body
	SourceDataLen int // body length before compression; DataLen if not compressed
	Version       uint8
	// Time is built from the date/time fields and microseconds, read in the
	// configured zone of the capturing machine.
	Time      time.Time
	Medium    Medium
	Decrypted bool // WiFi: the frame was decrypted by CommView
	Broken    bool // bad CRC
	// Compressed marks a body compressed by CommView (flag 0x40), whose
	// scheme is undocumented: Data is returned untouched and is not a
	// frame. SourceDataLen is then the frame's length before compression.
	Compressed    bool
	SignalPercent uint8
	// Rate is the raw WiFi rate in 0.5 Mbit/s units (byte 18, plus byte 21
	// as high byte for WiFi); see RateMbps.
	Rate      uint16
	Band      uint8 // Band* bits
	Channel   uint8
	Direction Direction // Ethernet and Token Ring only
	SignalDBm uint8     // absolute value as stored: -SignalDBm dBm
	NoiseDBm  uint8     // absolute value as stored: -NoiseDBm dBm
	// WireLen is the frame's original length on the wire, in bytes. NCF
	// does not keep it, so NCF records have WireLen == DataLen, or
	// SourceDataLen for a compressed record; readers of other capture
	// formats set it from their original length, which may be smaller
	// than DataLen when a file says so (Wireshark keeps both as well).
	WireLen int
}

// RateMbps returns Rate in Mbit/s.
func (h *Header) RateMbps() float64 { return float64(h.Rate) / 2 }

// parseHeader decodes and validates b (HeaderLen bytes). maxData is the
// largest acceptable data_len, off the record's offset for errors.
func parseHeader(h *Header, b []byte, loc *time.Location, maxData int, off int64) *HeaderError {
	_ = b[HeaderLen-1]
	bad := func(field string, v int64, reason string) *HeaderError {
		return &HeaderError{Offset: off, Field: field, Value: v, Reason: reason}
	}
	dataLen := int(binary.LittleEndian.Uint16(b[0:2]))
	srcLen := int(binary.LittleEndian.Uint16(b[2:4]))
	flags := b[16]
	switch {
	case b[4] != 0:
		return bad("version", int64(b[4]), "must be 0")
	case b[7] < 1 || b[7] > 12:
		return bad("month", int64(b[7]), "must be 1-12")
	case b[8] < 1 || b[8] > 31:
		return bad("day", int64(b[8]), "must be 1-31")
	case b[9] > 23:
		return bad("hours", int64(b[9]), "must be 0-23")
	case b[10] > 59:
		return bad("minutes", int64(b[10]), "must be 0-59")
	case b[11] > 60:
		return bad("seconds", int64(b[11]), "must be 0-60")
	case flags&flagReserved != 0:
		return bad("flags", int64(flags), "reserved bit 0x80 set")
	case flags&flagMediumMask > uint8(TokenRing):
		return bad("medium", int64(flags&flagMediumMask), "must be 0 (ethernet), 1 (wifi) or 2 (tokenring)")
	case dataLen > maxData:
		return bad("data_len", int64(dataLen), "exceeds the limit of "+strconv.Itoa(maxData))
	case flags&flagCompressed == 0 && srcLen < dataLen:
		return bad("source_data_len", int64(srcLen), "smaller than data_len without the compressed flag")
	}
	usec := binary.LittleEndian.Uint32(b[12:16])
	if usec >= 1000000 {
		return bad("microseconds", int64(usec), "must be below 1000000")
	}
	year := int(binary.LittleEndian.Uint16(b[5:7]))
	h.DataLen = dataLen
	h.SourceDataLen = srcLen
	h.Version = b[4]
	h.Time = time.Date(year, time.Month(b[7]), int(b[8]), int(b[9]), int(b[10]), int(b[11]), int(usec)*1000, loc)
	h.Medium = Medium(flags & flagMediumMask)
	h.Decrypted = flags&flagDecrypted != 0
	h.Broken = flags&flagBroken != 0
	h.Compressed = flags&flagCompressed != 0
	h.SignalPercent = b[17]
	h.Band = b[19]
	h.Channel = b[20]
	if h.Medium == WiFi {
		h.Rate = uint16(b[18]) | uint16(b[21])<<8
		h.Direction = Pass
	} else {
		h.Rate = uint16(b[18])
		h.Direction = Direction(b[21])
	}
	h.SignalDBm = b[22]
	h.NoiseDBm = b[23]
	h.WireLen = dataLen
	if h.Compressed {
		h.WireLen = srcLen
	}
	return nil
}

// Plausible year and signal range of a header CommView writes.
const (
	plausibleMinYear, plausibleMaxYear = 1970, 2100
	plausibleMaxSignal                 = 100
)

// Plausible reports whether h, a header that parsed, looks like one
// CommView writes: a year in 1970-2100 and a signal level of at most 100%.
// These are the checks Wireshark adds to the field checks to recognise
// NCF by content; a resuming Reader applies them to find records again
// after a bad header.
func (h *Header) Plausible() bool {
	y := h.Time.Year()
	return y >= plausibleMinYear && y <= plausibleMaxYear && h.SignalPercent <= plausibleMaxSignal
}

// putHeader encodes h into b (HeaderLen bytes) with t already in the
// writer's zone. The caller has checked the lengths.
func putHeader(b []byte, h *Header, t time.Time, dataLen, srcLen int) {
	_ = b[HeaderLen-1]
	binary.LittleEndian.PutUint16(b[0:2], uint16(dataLen))
	binary.LittleEndian.PutUint16(b[2:4], uint16(srcLen))
	b[4] = 0
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	binary.LittleEndian.PutUint16(b[5:7], uint16(year))
	b[7] = uint8(month)
	b[8] = uint8(day)
	b[9] = uint8(hour)
	b[10] = uint8(minute)
	b[11] = uint8(sec)
	binary.LittleEndian.PutUint32(b[12:16], uint32(t.Nanosecond()/1000))
	flags := uint8(h.Medium) & flagMediumMask
	if h.Decrypted {
		flags |= flagDecrypted
	}
	if h.Broken {
		flags |= flagBroken
	}
	if h.Compressed {
		flags |= flagCompressed
	}
	b[16] = flags
	b[17] = h.SignalPercent
	b[18] = uint8(h.Rate)
	b[19] = h.Band
	b[20] = h.Channel
	if h.Medium == WiFi {
		b[21] = uint8(h.Rate >> 8)
	} else {
		b[21] = uint8(h.Direction)
	}
	b[22] = h.SignalDBm
	b[23] = h.NoiseDBm
}
