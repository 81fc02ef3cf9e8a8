package capture

import (
	"bufio"
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

// Writer writes records to a capture file. Write does not retain the
// record. Close flushes buffered output and closes the file; a Writer is
// unusable after Close.
type Writer interface {
	Write(rec *ncf.Record) error
	Close() error
}

// Create creates (or truncates) the file at path and returns a Writer in
// the format its extension names (see FormatFromPath). loc is the zone NCF
// timestamps are written in (nil means UTC).
func Create(path string, loc *time.Location) (Writer, error) {
	f, err := FormatFromPath(path)
	if err != nil {
		return nil, err
	}
	file, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("capture: %w", err)
	}
	w, err := newWriter(file, f, loc, file)
	if err != nil {
		file.Close()
		return nil, err
	}
	return w, nil
}

func newWriter(w io.Writer, f Format, loc *time.Location, c io.Closer) (Writer, error) {
	switch f {
	case NCF:
		return &ncfWriter{w: ncf.NewWriter(w, loc), c: c}, nil
	case PCAP, PCAPNG:
		return &pcapWriter{w: w, format: f, c: c}, nil
	}
	return nil, fmt.Errorf("%w: cannot write %v", ErrUnknownFormat, f)
}

type ncfWriter struct {
	w *ncf.Writer
	c io.Closer
}

func (w *ncfWriter) Write(rec *ncf.Record) error { return w.w.Write(&rec.Header, rec.Data) }

func (w *ncfWriter) Close() error {
	return errors.Join(w.w.Flush(), closeIf(w.c))
}

// pcapWriter writes pcap or pcapng. The file header is written with the
// first record, whose medium decides the pcap link type.
type pcapWriter struct {
	w      io.Writer
	format Format
	c      io.Closer
	bw     *bufio.Writer
	pcap   *pcapgo.Writer
	ng     *pcapgo.NgWriter
	link   layers.LinkType
	intf   map[layers.LinkType]int // pcapng interface per link type
	buf    []byte                  // radiotap + frame
	n      int
}

func linkTypeOf(m ncf.Medium) (layers.LinkType, error) {
	switch m {
	case ncf.Ethernet:
		return layers.LinkTypeEthernet, nil
	case ncf.WiFi:
		return layers.LinkTypeIEEE80211Radio, nil
	case ncf.TokenRing:
		return layers.LinkTypeTokenRing, nil
	}
	return 0, fmt.Errorf("capture: cannot write medium %v", m)
}

func (w *pcapWriter) start(lt layers.LinkType) error {
	if w.format == PCAP {
		w.bw = bufio.NewWriterSize(w.w, 64<<10)
		w.pcap = pcapgo.NewWriter(w.bw)
		w.link = lt
		if err := w.pcap.WriteFileHeader(maxSnap, lt); err != nil {
			return fmt.Errorf("capture: pcap header: %w", err)
		}
		return nil
	}
	intf := pcapgo.DefaultNgInterface
	intf.LinkType = lt
	intf.SnapLength = maxSnap
	ng, err := pcapgo.NewNgWriterInterface(w.w, intf, pcapgo.DefaultNgWriterOptions)
	if err != nil {
		return fmt.Errorf("capture: pcapng header: %w", err)
	}
	w.ng = ng
	w.intf = map[layers.LinkType]int{lt: 0}
	return nil
}

func (w *pcapWriter) Write(rec *ncf.Record) error {
	lt, err := linkTypeOf(rec.Medium)
	if err != nil {
		return err
	}
	if w.pcap == nil && w.ng == nil {
		if err := w.start(lt); err != nil {
			return err
		}
	}
	w.n++
	ci := gopacket.CaptureInfo{Timestamp: rec.Time}
	if w.pcap != nil && lt != w.link {
		return fmt.Errorf("%w: record %d is %v, the file is %s", ErrMixedMedia, w.n, rec.Medium, w.link)
	}
	if w.ng != nil {
		id, ok := w.intf[lt]
		if !ok {
			intf := pcapgo.DefaultNgInterface
			intf.LinkType = lt
			intf.SnapLength = maxSnap
			if id, err = w.ng.AddInterface(intf); err != nil {
				return fmt.Errorf("capture: pcapng interface: %w", err)
			}
			w.intf[lt] = id
		}
		ci.InterfaceIndex = id
	}
	data := rec.Data
	extra := 0
	if lt == layers.LinkTypeIEEE80211Radio {
		w.buf = appendRadiotap(w.buf[:0], &rec.Header)
		extra = len(w.buf)
		w.buf = append(w.buf, data...)
		data = w.buf
	}
	ci.CaptureLength = len(data)
	ci.Length = max(rec.WireLen+extra, len(data))
	if w.pcap != nil {
		err = w.pcap.WritePacket(ci, data)
	} else {
		err = w.ng.WritePacket(ci, data)
	}
	if err != nil {
		return fmt.Errorf("capture: %s record %d: %w", w.format, w.n, err)
	}
	return nil
}

func (w *pcapWriter) Close() error {
	var err error
	if w.pcap == nil && w.ng == nil {
		err = w.start(layers.LinkTypeEthernet)
	}
	if err == nil {
		if w.ng != nil {
			err = w.ng.Flush()
		} else {
			err = w.bw.Flush()
		}
		if err != nil {
			err = fmt.Errorf("capture: flush: %w", err)
		}
	}
	return errors.Join(err, closeIf(w.c))
}

// Convert copies every record of the capture at in to a new capture at
// out, whose format comes from its extension, and returns the number of
// records written. loc is the zone of NCF timestamps on both sides. On
// error the partial output file is removed.
func Convert(in, out string, loc *time.Location) (n int, err error) {
	r, err := Open(in, loc)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	w, err := Create(out, loc)
	if err != nil {
		return 0, err
	}
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err == nil {
			err = w.Write(rec)
		}
		if err != nil {
			w.Close()
			os.Remove(out)
			return n, err
		}
		n++
	}
	if err := w.Close(); err != nil {
		os.Remove(out)
		return n, err
	}
	return n, nil
}
