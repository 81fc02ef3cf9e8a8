package alerts

import (
	"errors"
	"os"
	"sync"
)

// File appends alerts to an EVE log file, as Suricata's eve.json output
// does, for file-based pipelines (Filebeat, EveBox, Splunk forwarders):
// one AppendJSON line per alert, written with one write on a file opened
// for appending, so a reader never sees half a line from one writer and a
// file rotated away still ends at a line. Reopen reopens the path, for
// logrotate (rename the file, then SIGHUP the daemon). File is safe for
// concurrent use and has the same Publish method as *Publisher.
type File struct {
	mu   sync.Mutex
	path string
	f    *os.File
	buf  []byte
	err  error // the first write error, for Close
}

// OpenFile opens path for appending, creating it (mode 0640) if missing.
func OpenFile(path string) (*File, error) {
	f, err := openAppend(path)
	if err != nil {
		return nil, err
	}
	return &File{path: path, f: f}, nil
}

func openAppend(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
}

// Publish appends a as one line. A write error is kept for Close; a is not
// retained.
func (l *File) Publish(a *Alert) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(a.AppendJSON(l.buf[:0]), '\n')
	if _, err := l.f.Write(l.buf); err != nil && l.err == nil {
		l.err = err
	}
}

// PublishEncoded appends data, a's AppendJSON output, as one line
// (EncodedPublisher). data is not retained.
func (l *File) PublishEncoded(_ *Alert, data []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(append(l.buf[:0], data...), '\n')
	if _, err := l.f.Write(l.buf); err != nil && l.err == nil {
		l.err = err
	}
}

// Reopen closes the file and opens its path again (a new file when the
// old one was renamed). If the path cannot be opened, the old file stays
// in use and the error is returned.
func (l *File) Reopen() error {
	f, err := openAppend(l.path)
	if err != nil {
		return err
	}
	l.mu.Lock()
	old := l.f
	l.f = f
	l.mu.Unlock()
	return old.Close()
}

// Close closes the file and returns the first write error, if any, or the
// error of closing.
func (l *File) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return errors.Join(l.err, l.f.Close())
}

// Publishers hands each alert to every member in turn, so an engine with
// one sink feeds several (NATS and an EVE file, say). Each member must
// not keep the alert, as Publisher, LineWriter and File do not.
type Publishers []interface{ Publish(*Alert) }

// Publish hands a to each member.
func (ps Publishers) Publish(a *Alert) {
	for _, p := range ps {
		p.Publish(a)
	}
}

// PublishEncoded hands a and data, its AppendJSON output, to each
// member: with PublishEncoded to those that are EncodedPublishers, with
// Publish to the others.
func (ps Publishers) PublishEncoded(a *Alert, data []byte) {
	for _, p := range ps {
		if ep, ok := p.(EncodedPublisher); ok {
			ep.PublishEncoded(a, data)
		} else {
			p.Publish(a)
		}
	}
}

// EncodedPublisher is a sink that also takes alerts already encoded,
// so that the goroutines that make alerts can encode them in parallel
// and hand the sink, which writes in order, only bytes to copy or queue.
// LineWriter, File, Publisher and Publishers are EncodedPublishers.
type EncodedPublisher interface {
	// PublishEncoded publishes a, whose AppendJSON output (without a
	// newline) is data. It may keep data, which its caller must not
	// change afterwards; it must not change a or data.
	PublishEncoded(a *Alert, data []byte)
}
