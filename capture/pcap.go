package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/vigil-ids/vigil/ncf"
)

// pcap file layout.
const (
	pcapFileHdrLen = 24
	pcapRecHdrLen  = 16
	pcapMajor      = 2
	// pcapMaxOrigLen bounds the original length of a record header that
	// scanning takes for a record (see plausible).
	pcapMaxOrigLen = 1 << 20
)

// pcapReader reads pcap. The record header's capture length frames the
// record: it is trusted up to maxSnap, whatever the file's snap length
// (Wireshark reads such records too), also when it exceeds the original
// length (kept as WireLen) or is zero (an empty record). A capture length
// above maxSnap cannot be trusted: the reader scans for the next plausible
// record header (plausible), confirmed by the one after it or by the end
// of the file.
type pcapReader struct {
	stream
	order binary.ByteOrder
	nano  bool
	link  layers.LinkType
}

func newPcapReader(s stream) (Reader, error) {
	h, err := s.br.Peek(pcapFileHdrLen)
	if len(h) < pcapFileHdrLen {
		return nil, fmt.Errorf("capture: pcap header: %d bytes: %w", len(h), err)
	}
	r := &pcapReader{stream: s, order: binary.LittleEndian}
	switch binary.LittleEndian.Uint32(h) {
	case magicPcapMicroBE:
		r.order = binary.BigEndian
	case magicPcapNanoLE:
		r.nano = true
	case magicPcapNanoBE:
		r.order, r.nano = binary.BigEndian, true
	}
	if v := r.order.Uint16(h[4:]); v != pcapMajor {
		return nil, fmt.Errorf("capture: pcap header: major version %d, want %d", v, pcapMajor)
	}
	// The low 16 bits are the link type; the others are FCS flags.
	r.link = layers.LinkType(r.order.Uint32(h[20:]) & 0xFFFF)
	if err := checkLinkType(r.link); err != nil {
		return nil, err
	}
	r.br.Discard(pcapFileHdrLen)
	r.off = pcapFileHdrLen
	return r, nil
}

func (r *pcapReader) Next() (*ncf.Record, error) {
	if r.err != nil {
		return nil, r.err
	}
	r.release()
	h, err := r.br.Peek(pcapRecHdrLen)
	if len(h) < pcapRecHdrLen {
		return r.done(nil, r.short(len(h), err))
	}
	caplen := r.order.Uint32(h[8:])
	if caplen > maxSnap {
		why := fmt.Errorf("capture length %d above %d", caplen, maxSnap)
		return r.done(nil, r.scan(why, r.recordAt))
	}
	n := pcapRecHdrLen + int(caplen)
	b, err := r.br.Peek(n) // may move the buffered bytes: h is stale now
	if len(b) < n {
		return r.done(nil, r.short(len(b), err))
	}
	r.pending = n
	h = b[:pcapRecHdrLen]
	sec, frac := int64(r.order.Uint32(h)), int64(r.order.Uint32(h[4:]))
	if !r.nano {
		frac *= 1000
	}
	return r.finish(r.link, b[pcapRecHdrLen:n:n], time.Unix(sec, frac), int(r.order.Uint32(h[12:])))
}

// plausible returns the capture length of the record header h and whether
// a record scanned for may start with it: a fraction of a second in
// range, a capture length of 1 to maxSnap bytes and at most the original
// length, itself at most pcapMaxOrigLen. Zero-filled stretches fail it.
func (r *pcapReader) plausible(h []byte) (int, bool) {
	frac, caplen, orig := r.order.Uint32(h[4:]), r.order.Uint32(h[8:]), r.order.Uint32(h[12:])
	limit := uint32(1000000)
	if r.nano {
		limit = 1000000000
	}
	return int(caplen), frac < limit && caplen >= 1 && caplen <= maxSnap && caplen <= orig && orig <= pcapMaxOrigLen
}

// recordAt reports whether a plausible record starts at the current
// position, followed by another or by the end of the file.
func (r *pcapReader) recordAt() (bool, error) {
	b, err := r.br.Peek(pcapRecHdrLen)
	if len(b) < pcapRecHdrLen {
		return false, peekShort(err)
	}
	caplen, ok := r.plausible(b)
	if !ok {
		return false, nil
	}
	next := pcapRecHdrLen + caplen
	b, err = r.br.Peek(next + pcapRecHdrLen)
	if len(b) < next+pcapRecHdrLen {
		if errors.Is(err, io.EOF) {
			return len(b) == next, nil
		}
		return false, err
	}
	_, ok = r.plausible(b[next:])
	return ok, nil
}
