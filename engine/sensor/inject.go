package sensor

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-ids/vigil/ncf"
)

// injectBatch is the most bytes of queued frames written at once.
const injectBatch = 64 << 10

// injector writes frames back to one sensor for CommView to inject. Inject
// never blocks: the writer goroutine drains a bounded queue, and a frame
// that finds the queue full is dropped and counted. Each write must
// complete within the write timeout; one that does not drops the
// connection (a sensor that does not read), and the frames left are
// counted as failed.
type injector struct {
	c    *conn
	ch   chan []byte
	once sync.Once
	done chan struct{}
	mu   sync.RWMutex // guards ch against send after close
	shut bool

	sent, dropped, failed atomic.Uint64
}

func newInjector(c *conn, queue int) *injector {
	return &injector{c: c, ch: make(chan []byte, queue), done: make(chan struct{})}
}

// Inject queues frame, framed for CommView (2-byte little-endian length,
// then the frame). It copies frame.
func (j *injector) Inject(frame []byte, _ time.Time) bool {
	msg, err := ncf.AppendInjection(make([]byte, 0, len(frame)+2), frame)
	if err != nil {
		j.dropped.Add(1)
		return false
	}
	j.mu.RLock()
	defer j.mu.RUnlock()
	if j.shut {
		j.dropped.Add(1)
		return false
	}
	select {
	case j.ch <- msg:
		return true
	default:
		j.dropped.Add(1)
		return false
	}
}

// run writes queued frames, as many at once as are queued (up to
// injectBatch bytes), and reports each batch to the engine as sent or
// failed.
func (j *injector) run() {
	defer close(j.done)
	eng := j.c.s.cfg.Pipeline
	var batch []byte
	broken := false
	for msg := range j.ch {
		batch = append(batch[:0], msg...)
		n := 1
	gather:
		for len(batch) < injectBatch {
			select {
			case m, ok := <-j.ch:
				if !ok {
					break gather
				}
				batch = append(batch, m...)
				n++
			default:
				break gather
			}
		}
		if !broken {
			j.c.nc.SetWriteDeadline(deadline(j.c.s.cfg.WriteTimeout))
			if _, err := j.c.nc.Write(batch); err != nil {
				broken = true
				j.fail(err)
			}
		}
		if broken {
			j.failed.Add(uint64(n))
			eng.RecordDelivery(0, n)
			continue
		}
		j.sent.Add(uint64(n))
		eng.RecordDelivery(n, 0)
	}
}

// fail drops the connection after a failed write, unless Vigil closed it.
func (j *injector) fail(err error) {
	switch {
	case errors.Is(err, net.ErrClosed):
	case errors.Is(err, os.ErrDeadlineExceeded):
		j.c.drop(DroppedWriteTimeout, err)
	default:
		j.c.drop(DroppedWriteError, err)
	}
}

// close stops accepting frames and waits until the queued ones are written
// or have failed.
func (j *injector) close() {
	j.once.Do(func() {
		j.mu.Lock()
		j.shut = true
		close(j.ch)
		j.mu.Unlock()
	})
	<-j.done
}
