package capture

import (
	"encoding/binary"
	"fmt"

	"github.com/vigil-ids/vigil/ncf"
)

// Radiotap fields used here (bit numbers of the first present word).
const (
	rtTSFT    = 0
	rtFlags   = 1
	rtRate    = 2
	rtChannel = 3
	rtFHSS    = 4
	rtSignal  = 5
	rtNoise   = 6
	rtExt     = 31

	rtFlagFCS     = 0x10
	rtFlagDataPad = 0x20 // padding between the 802.11 header and its body, to 4 bytes
	rtFlagBadFCS  = 0x40
	fcsLen        = 4

	chanTurbo = 0x0010
	chanCCK   = 0x0020
	chanOFDM  = 0x0040
	chan2GHz  = 0x0080
	chan5GHz  = 0x0100
)

// rtFields gives alignment and size of the radiotap fields 0-6, which are
// the only ones read: they precede every other field in the data.
var rtFields = [rtNoise + 1]struct{ align, size int }{
	rtTSFT: {8, 8}, rtFlags: {1, 1}, rtRate: {1, 1}, rtChannel: {2, 4},
	rtFHSS: {1, 2}, rtSignal: {1, 1}, rtNoise: {1, 1},
}

// parseRadiotap reads the radiotap header at the start of frame into h
// (Rate, Channel, Band, SignalDBm, NoiseDBm, Broken) and returns where the
// 802.11 frame starts and the length of the FCS that ends the frame (0
// or 4). The 802.11 frame starts after the radiotap header, unless its
// flags announce data padding: then the 802.11 header is moved, inside
// frame, over the padding that followed it, and starts that much later,
// so that frame[skip:len(frame)-fcs] is the frame as sent.
func parseRadiotap(frame []byte, h *ncf.Header) (skip, fcs int, err error) {
	if len(frame) < 8 {
		return 0, 0, fmt.Errorf("%w: %d bytes", ErrRadiotap, len(frame))
	}
	if frame[0] != 0 {
		return 0, 0, fmt.Errorf("%w: version %d", ErrRadiotap, frame[0])
	}
	rtLen := int(binary.LittleEndian.Uint16(frame[2:4]))
	if rtLen < 8 || rtLen > len(frame) {
		return 0, 0, fmt.Errorf("%w: length %d for a %d-byte frame", ErrRadiotap, rtLen, len(frame))
	}
	hdr := frame[:rtLen]
	present := binary.LittleEndian.Uint32(hdr[4:8])
	// Skip any further present words.
	off := 8
	for w := present; w&(1<<rtExt) != 0; {
		if off+4 > rtLen {
			return 0, 0, fmt.Errorf("%w: present bitmaps run past its length", ErrRadiotap)
		}
		w = binary.LittleEndian.Uint32(hdr[off:])
		off += 4
	}
	pad := false
	for bit := 0; bit <= rtNoise; bit++ {
		if present&(1<<bit) == 0 {
			continue
		}
		f := rtFields[bit]
		off = (off + f.align - 1) &^ (f.align - 1)
		if off+f.size > rtLen {
			return 0, 0, fmt.Errorf("%w: field %d runs past its length", ErrRadiotap, bit)
		}
		v := hdr[off : off+f.size]
		switch bit {
		case rtFlags:
			h.Broken = v[0]&rtFlagBadFCS != 0
			if v[0]&rtFlagFCS != 0 && len(frame)-rtLen >= fcsLen {
				fcs = fcsLen
			}
			pad = v[0]&rtFlagDataPad != 0
		case rtRate:
			h.Rate = uint16(v[0])
		case rtChannel:
			freq := int(binary.LittleEndian.Uint16(v))
			flags := binary.LittleEndian.Uint16(v[2:])
			h.Channel, h.Band = channelOf(freq, flags)
		case rtSignal:
			h.SignalDBm = absDBm(int8(v[0]))
		case rtNoise:
			h.NoiseDBm = absDBm(int8(v[0]))
		}
		off += f.size
	}
	skip = rtLen
	if w := frame[rtLen : len(frame)-fcs]; pad {
		hdr := wlanDataHeaderLen(w)
		if n := (hdr+3)&^3 - hdr; n > 0 && len(w) >= hdr+n {
			copy(w[n:], w[:hdr])
			skip += n
		}
	}
	return skip, fcs, nil
}

// wlanDataHeaderLen returns the length of the 802.11 header of w when it
// is a data frame (the only frames with a body that data padding moves):
// 24 bytes, 30 with four addresses, 2 more for QoS control and 4 more for
// HT control (QoS data with the Order bit); 0 for other frames.
func wlanDataHeaderLen(w []byte) int {
	if len(w) < 2 || w[0]>>2&3 != 2 {
		return 0
	}
	n := 24
	if w[1]&0x03 == 0x03 { // ToDS and FromDS
		n = 30
	}
	if w[0]&0x80 != 0 { // QoS subtype
		n += 2
		if w[1]&0x80 != 0 { // Order: HT control follows
			n += 4
		}
	}
	return n
}

func absDBm(v int8) uint8 {
	if v < 0 {
		return uint8(-int(v))
	}
	return uint8(v)
}

// channelOf maps a frequency in MHz and radiotap channel flags to an 802.11
// channel number and NCF band bits.
func channelOf(freq int, flags uint16) (channel, band uint8) {
	var ch int
	switch {
	case freq == 2484:
		ch = 14
	case freq >= 2407 && freq < 2484:
		ch = (freq - 2407) / 5
	case freq >= 5000 && freq < 6000:
		ch = (freq - 5000) / 5
	case freq >= 4900 && freq < 5000:
		ch = (freq - 4000) / 5
	}
	if ch < 0 || ch > 255 {
		ch = 0
	}
	switch {
	case freq >= 4900 && freq < 5000:
		band = ncf.Band4_9GHz
	case flags&chan5GHz != 0 || freq >= 5000:
		band = ncf.Band11A
		if flags&chanTurbo != 0 {
			band = ncf.Band11ATurbo
		}
	case flags&chanCCK != 0:
		band = ncf.Band11B
	case flags&chan2GHz != 0 || (freq >= 2400 && freq < 2500):
		band = ncf.Band11G
	}
	return uint8(ch), band
}

// frequencyOf maps an NCF channel and band to a frequency in MHz and
// radiotap channel flags.
func frequencyOf(channel, band uint8) (freq int, flags uint16) {
	ch := int(channel)
	switch {
	case band&ncf.Band4_9GHz != 0:
		return 4000 + 5*ch, chan5GHz | chanOFDM
	case band&(ncf.Band11A|ncf.Band11ATurbo|ncf.Band11N5GHz) != 0, band == 0 && ch > 14:
		flags = chan5GHz | chanOFDM
		if band&ncf.Band11ATurbo != 0 {
			flags |= chanTurbo
		}
		return 5000 + 5*ch, flags
	}
	flags = chan2GHz | chanOFDM
	if band&ncf.Band11B != 0 {
		flags = chan2GHz | chanCCK
	}
	if ch == 14 {
		return 2484, flags
	}
	return 2407 + 5*ch, flags
}

// appendRadiotap appends a radiotap header for h's radio fields to dst.
func appendRadiotap(dst []byte, h *ncf.Header) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0)
	var present uint32
	pad := func(align int) {
		for (len(dst)-start)%align != 0 {
			dst = append(dst, 0)
		}
	}
	if h.Broken {
		present |= 1 << rtFlags
		dst = append(dst, rtFlagBadFCS)
	}
	if h.Rate > 0 && h.Rate <= 0xFF {
		present |= 1 << rtRate
		dst = append(dst, uint8(h.Rate))
	}
	if h.Channel != 0 {
		present |= 1 << rtChannel
		pad(2)
		freq, flags := frequencyOf(h.Channel, h.Band)
		dst = binary.LittleEndian.AppendUint16(dst, uint16(freq))
		dst = binary.LittleEndian.AppendUint16(dst, flags)
	}
	if h.SignalDBm != 0 {
		present |= 1 << rtSignal
		dst = append(dst, negDBm(h.SignalDBm))
	}
	if h.NoiseDBm != 0 {
		present |= 1 << rtNoise
		dst = append(dst, negDBm(h.NoiseDBm))
	}
	binary.LittleEndian.PutUint16(dst[start+2:], uint16(len(dst)-start))
	binary.LittleEndian.PutUint32(dst[start+4:], present)
	return dst
}

// negDBm turns NCF's absolute dBm value into radiotap's signed byte,
// clamped to -128.
func negDBm(abs uint8) byte {
	v := min(int(abs), 128)
	return byte(-v)
}
