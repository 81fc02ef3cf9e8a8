package sensor

import (
	"bufio"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-ids/vigil/ncf"
)

// injector writes frames back to one sensor for CommView to inject. Inject
// never blocks: the writer goroutine drains a bounded queue, and a frame
// that finds the queue full is dropped and counted.
type injector struct {
	nc   net.Conn
	ch   chan []byte
	once sync.Once
	done chan struct{}
	mu   sync.RWMutex // guards ch against send after close
	shut bool

	sent, dropped, failed atomic.Uint64
}

func newInjector(nc net.Conn, queue int) *injector {
	return &injector{nc: nc, ch: make(chan []byte, queue), done: make(chan struct{})}
}

// Inject queues frame, framed for CommView (2-byte little-endian length,
// then the frame). It copies frame.
func (j *injector) Inject(frame []byte, _ time.Time) bool {
	msg, err := ncf.AppendInjection(make([]byte, 0, len(frame)+2), frame)
	if err != nil {
		j.failed.Add(1)
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

// run writes queued frames, flushing whenever the queue runs empty.
func (j *injector) run() {
	defer close(j.done)
	w := bufio.NewWriterSize(j.nc, 64<<10)
	broken := false
	for msg := range j.ch {
		if broken {
			j.failed.Add(1)
			continue
		}
		if _, err := w.Write(msg); err != nil {
			broken = true
			j.failed.Add(1)
			continue
		}
		j.sent.Add(1)
		if len(j.ch) == 0 {
			if err := w.Flush(); err != nil {
				broken = true
			}
		}
	}
	if !broken {
		w.Flush()
	}
}

// close stops accepting frames and waits until the queued ones are written.
func (j *injector) close() {
	j.once.Do(func() {
		j.mu.Lock()
		j.shut = true
		close(j.ch)
		j.mu.Unlock()
	})
	<-j.done
}
