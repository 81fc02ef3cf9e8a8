package capture

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
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

// Create returns a Writer of a new capture file at path, in the format
// its extension names (see FormatFromPath). loc is the zone NCF timestamps
// are written in (nil means UTC).
//
// The records go to a temporary file beside path (".NAME.tmp*"), which
// Close renames to path once everything is written, so no reader of path
// ever sees a partial capture and a file at path, which may be an input
// of the same run, is replaced only by a complete one. After a failed
// Write, or when Close fails, the temporary file is removed and path is
// left as it was.
func Create(path string, loc *time.Location) (Writer, error) {
	w, err := create(path, loc)
	if err != nil {
		return nil, err // not a nil *fileWriter in a non-nil Writer
	}
	return w, nil
}

// create is Create with the concrete Writer, which Convert can abort.
func create(path string, loc *time.Location) (*fileWriter, error) {
	f, err := FormatFromPath(path)
	if err != nil {
		return nil, err
	}
	tmp, err := createTemp(path)
	if err != nil {
		return nil, err
	}
	w, err := newWriter(tmp, f, loc, nil)
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, err
	}
	return &fileWriter{Writer: w, tmp: tmp, path: path}, nil
}

// createTemp creates the temporary file for path beside it, with the mode
// a new file gets (0666 less the umask, as tshark -w and cp give), not
// os.CreateTemp's 0600, since it becomes path. An error names path, not
// the temporary name.
func createTemp(path string) (*os.File, error) {
	dir, base := filepath.Split(path)
	for range 100 {
		name := filepath.Join(dir, "."+base+".tmp"+strconv.FormatUint(rand.Uint64(), 36))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, fmt.Errorf("capture: cannot create %s: %w", path, err)
		}
		return f, nil
	}
	return nil, fmt.Errorf("capture: cannot create %s: no free temporary name beside it", path)
}

// fileWriter is a Writer on a temporary file that Close renames to path.
type fileWriter struct {
	Writer
	tmp    *os.File
	path   string
	failed bool // a Write failed: Close discards the file
}

func (w *fileWriter) Write(rec *ncf.Record) error {
	err := w.Writer.Write(rec)
	if err != nil {
		w.failed = true
	}
	return err
}

// Close flushes, then renames the temporary file to path, or removes it
// when a Write or the flush failed.
func (w *fileWriter) Close() error {
	err := errors.Join(w.Writer.Close(), closeIf(w.tmp))
	if err == nil && w.failed {
		err = fmt.Errorf("capture: %s not written: an earlier write failed", w.path)
	}
	if err == nil {
		if rerr := os.Rename(w.tmp.Name(), w.path); rerr != nil {
			err = fmt.Errorf("capture: %w", rerr)
		}
	}
	if err != nil {
		os.Remove(w.tmp.Name())
	}
	return err
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
	case ncf.LinuxSLL:
		return layers.LinkTypeLinuxSLL, nil
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
// records written. loc is the zone of NCF timestamps on both sides. in
// and out must be different files; out is written as Create says, so on
// any error no file at out is created or changed.
func Convert(in, out string, loc *time.Location) (n int, err error) {
	if err := NotInput(out, in); err != nil {
		return 0, err
	}
	r, err := Open(in, loc)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	w, err := create(out, loc)
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
			w.failed = true // discard the temporary file
			w.Close()
			return n, err
		}
		n++
	}
	return n, w.Close()
}

// NotInput returns an error when the output path out names the same file
// as one of the inputs (by path, another spelling, or a link): writing it
// would replace or extend an input. A missing out is no error.
func NotInput(out string, inputs ...string) error {
	so, err := os.Stat(out)
	if err != nil {
		return nil // no file there yet
	}
	for _, in := range inputs {
		if si, err := os.Stat(in); err == nil && os.SameFile(so, si) {
			return fmt.Errorf("capture: %s is the input %s; write to another path", out, in)
		}
	}
	return nil
}
