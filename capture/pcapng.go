package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/vigil-ids/vigil/ncf"
)

// pcapng block types and layout.
const (
	blockSHB       = 0x0A0D0D0A
	blockIDB       = 1
	blockOPB       = 2 // obsolete packet block
	blockSPB       = 3
	blockNRB       = 4
	blockISB       = 5
	blockEPB       = 6
	blockJournal   = 9
	blockDSB       = 10
	blockCustom    = 0x00000BAD
	blockCustomNC  = 0x40000BAD
	byteOrderMagic = 0x1A2B3C4D
	ngMajor        = 1
	blockMinLen    = 12 // type, length, length
	// maxBlock is the longest block read, Wireshark's limit: a packet of
	// maxSnap bytes in an enhanced packet block, with 128 KiB for options.
	// Wireshark refuses a file with a longer one; here it cannot be
	// trusted (see ngReader).
	maxBlock = 32 + maxSnap + 128<<10

	optEnd      = 0
	optTSResol  = 9
	optTSOffset = 14
)

// ngReader reads pcapng. Each block's length frames it: a block whose
// length is impossible (below 12, not a multiple of 4, above maxBlock) or
// differs from its trailing copy cannot be trusted, and the reader scans
// for the next block of a known type whose lengths agree. A well-framed
// packet block that cannot be read (see BadRecord) is skipped by its
// length.
type ngReader struct {
	stream
	order   binary.ByteOrder
	ifaces  []ngIface // of the current section
	section error     // why the current section's packets cannot be read
	last    time.Time // time of the last packet, for simple packet blocks
}

// ngIface is an interface description of the current section.
type ngIface struct {
	link   layers.LinkType
	snap   uint32
	units  uint64 // timestamp units per second
	offset int64  // if_tsoffset, seconds
	reason string // why its packets cannot be read, with err
	err    error
}

func newNgReader(s stream) (Reader, error) {
	r := &ngReader{stream: s}
	// The section header and the interfaces declared before the first
	// packet: a file none of them can be read from is refused now, as a
	// pcap file of a link type Vigil cannot read is.
	for first := true; ; first = false {
		r.release()
		b, _ := r.br.Peek(4)
		if len(b) < 4 || !first && r.order.Uint32(b) != blockIDB {
			break
		}
		typ, body, err := r.block()
		if err != nil {
			return nil, fmt.Errorf("capture: pcapng header: %w", err)
		}
		if err := r.header(typ, body); err != nil {
			return nil, fmt.Errorf("capture: pcapng header: %w", err)
		}
		if r.section != nil {
			return nil, fmt.Errorf("capture: pcapng header: %w", r.section)
		}
	}
	if len(r.ifaces) > 0 {
		for _, ifc := range r.ifaces {
			if ifc.err == nil {
				return r, nil
			}
		}
		return nil, r.ifaces[0].err
	}
	return r, nil
}

func (r *ngReader) Next() (*ncf.Record, error) {
	if r.err != nil {
		return nil, r.err
	}
	for {
		r.release()
		typ, body, err := r.block()
		if err != nil {
			return r.done(nil, err)
		}
		switch typ {
		case blockSHB, blockIDB:
			if err := r.header(typ, body); err != nil {
				return r.done(nil, err)
			}
		case blockEPB, blockOPB, blockSPB:
			return r.packet(typ, body)
		}
	}
}

// block frames the block at the current position and returns its type and
// body, consumed at the next call. A block that cannot be framed is
// skipped by scanning (a *BadRecord), a truncated one ends the file.
func (r *ngReader) block() (uint32, []byte, error) {
	b, err := r.br.Peek(blockMinLen)
	if len(b) < blockMinLen {
		return 0, nil, r.short(len(b), err)
	}
	typ, order := uint32(blockSHB), r.order // the file starts with one (Detect)
	if order != nil {
		typ = order.Uint32(b)
	}
	if typ == blockSHB {
		if order = orderOf(b[8:]); order == nil {
			return 0, nil, r.scan(fmt.Errorf("section header byte-order magic % x", b[8:12]), r.blockAt)
		}
	}
	total := order.Uint32(b[4:])
	if total < blockMinLen || total%4 != 0 || total > maxBlock {
		return 0, nil, r.scan(fmt.Errorf("block type %#x of length %d", typ, total), r.blockAt)
	}
	n := int(total)
	b, err = r.br.Peek(n)
	if len(b) < n {
		return 0, nil, r.short(len(b), err)
	}
	if trail := order.Uint32(b[n-4:]); trail != total {
		return 0, nil, r.scan(fmt.Errorf("block type %#x of length %d ends with length %d", typ, total, trail), r.blockAt)
	}
	r.pending = n
	if typ == blockSHB {
		r.order = order
	}
	return typ, b[8 : n-4 : n-4], nil
}

// orderOf returns the byte order a section header's byte-order magic b
// gives, or nil.
func orderOf(b []byte) binary.ByteOrder {
	switch binary.LittleEndian.Uint32(b) {
	case byteOrderMagic:
		return binary.LittleEndian
	case bits.ReverseBytes32(byteOrderMagic):
		return binary.BigEndian
	}
	return nil
}

// blockAt reports whether a block of a known type, whose lengths agree,
// starts at the current position.
func (r *ngReader) blockAt() (bool, error) {
	b, err := r.br.Peek(blockMinLen)
	if len(b) < blockMinLen {
		return false, peekShort(err)
	}
	order := r.order
	if binary.LittleEndian.Uint32(b) == blockSHB { // the same in either order
		if order = orderOf(b[8:]); order == nil {
			return false, nil
		}
	} else if order == nil {
		return false, nil
	}
	switch order.Uint32(b) {
	case blockSHB, blockIDB, blockOPB, blockSPB, blockNRB, blockISB, blockEPB, blockJournal, blockDSB, blockCustom, blockCustomNC:
	default:
		return false, nil
	}
	total := order.Uint32(b[4:])
	if total < blockMinLen || total%4 != 0 || total > maxBlock {
		return false, nil
	}
	b, err = r.br.Peek(int(total))
	if len(b) < int(total) {
		if errors.Is(err, io.EOF) {
			return false, nil // a block the file cuts short is no anchor
		}
		return false, err
	}
	return order.Uint32(b[total-4:]) == total, nil
}

// header takes a section header or an interface description block.
func (r *ngReader) header(typ uint32, body []byte) error {
	if typ == blockSHB {
		r.ifaces, r.section = r.ifaces[:0], nil
		if len(body) < 8 {
			r.section = fmt.Errorf("section header block of %d bytes", len(body)+blockMinLen)
		} else if v := r.order.Uint16(body[4:]); v != ngMajor {
			r.section = fmt.Errorf("section of major version %d, want %d", v, ngMajor)
		}
		return nil
	}
	r.ifaces = append(r.ifaces, r.iface(body))
	return nil
}

// iface reads an interface description block's body.
func (r *ngReader) iface(body []byte) ngIface {
	ifc := ngIface{units: 1000000}
	if len(body) < 8 {
		ifc.reason, ifc.err = reasonInterface, fmt.Errorf("interface description block of %d bytes", len(body)+blockMinLen)
		return ifc
	}
	ifc.link = layers.LinkType(r.order.Uint16(body))
	ifc.snap = r.order.Uint32(body[4:])
	if err := checkLinkType(ifc.link); err != nil {
		ifc.reason, ifc.err = reasonLinkType, err
	}
	for opts := body[8:]; len(opts) >= 4; {
		code, n := r.order.Uint16(opts), int(r.order.Uint16(opts[2:]))
		if code == optEnd || 4+n > len(opts) {
			break
		}
		v := opts[4 : 4+n]
		switch {
		case code == optTSResol && n >= 1:
			if units, ok := tsUnits(v[0]); ok {
				ifc.units = units
			} else if ifc.err == nil {
				ifc.reason, ifc.err = reasonTSResol, fmt.Errorf("if_tsresol %#x", v[0])
			}
		case code == optTSOffset && n >= 8:
			ifc.offset = int64(r.order.Uint64(v))
		}
		opts = opts[min(len(opts), 4+(n+3)&^3):]
	}
	return ifc
}

// tsUnits returns the timestamp units per second of an if_tsresol value:
// 10^v, or 2^(v&0x7F) when the top bit is set.
func tsUnits(v byte) (uint64, bool) {
	if v&0x80 != 0 {
		e := v & 0x7F
		return 1 << e, e < 64
	}
	if v > 19 {
		return 0, false
	}
	u := uint64(1)
	for range v {
		u *= 10
	}
	return u, true
}

// time converts a packet's timestamp in the interface's units.
func (ifc *ngIface) time(hi, lo uint32) time.Time {
	ts := uint64(hi)<<32 | uint64(lo)
	sec, frac := ts/ifc.units, ts%ifc.units
	h, l := bits.Mul64(frac, uint64(time.Second))
	ns, _ := bits.Div64(h, l, ifc.units) // frac < units: no overflow
	return time.Unix(int64(sec)+ifc.offset, int64(ns))
}

// packet reads an enhanced, simple or obsolete packet block's body.
func (r *ngReader) packet(typ uint32, body []byte) (*ncf.Record, error) {
	n := r.pending
	if r.section != nil {
		return nil, r.bad(n, reasonSection, r.section)
	}
	var id, hi, lo, caplen, orig uint32
	var data []byte
	if typ == blockSPB {
		if len(body) < 4 {
			return nil, r.bad(n, reasonBlockShort, fmt.Errorf("simple packet block of %d bytes", len(body)+blockMinLen))
		}
		orig = r.order.Uint32(body)
		caplen = min(orig, uint32(len(body)-4))
		if len(r.ifaces) > 0 && r.ifaces[0].snap > 0 {
			caplen = min(caplen, r.ifaces[0].snap)
		}
		data = body[4 : 4+caplen]
	} else {
		if len(body) < 20 {
			return nil, r.bad(n, reasonBlockShort, fmt.Errorf("packet block of %d bytes", len(body)+blockMinLen))
		}
		if typ == blockOPB {
			id = uint32(r.order.Uint16(body)) // then 2 bytes of drop count
		} else {
			id = r.order.Uint32(body)
		}
		hi, lo = r.order.Uint32(body[4:]), r.order.Uint32(body[8:])
		caplen, orig = r.order.Uint32(body[12:]), r.order.Uint32(body[16:])
		if uint64(caplen) > uint64(len(body)-20) {
			return nil, r.bad(n, reasonBlockShort, fmt.Errorf("capture length %d in a block of %d bytes", caplen, n))
		}
		data = body[20 : 20+caplen : 20+caplen]
	}
	if int64(id) >= int64(len(r.ifaces)) {
		return nil, r.bad(n, reasonInterface, fmt.Errorf("interface %d of %d", id, len(r.ifaces)))
	}
	ifc := &r.ifaces[id]
	if ifc.err != nil {
		return nil, r.bad(n, ifc.reason, ifc.err)
	}
	if typ != blockSPB { // a simple packet has no time: it takes the last one's
		r.last = ifc.time(hi, lo)
	}
	return r.finish(ifc.link, data, r.last, int(orig))
}
