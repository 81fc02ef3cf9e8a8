package stream

import (
	"bytes"

	"github.com/vigil-ids/vigil/decode"
)

// Application framing of a direction.
const (
	fUndecided uint8 = iota // at the start of a message, kind not yet known
	fOpaque                 // not framed (unknown protocol, or framing lost)
	fKnown                  // framed as kind
	fResync                 // after a gap: a message starts with the next data of a known kind
)

// Limits on a message's head (what is kept and decoded).
const (
	maxHead = maxBuf // bytes of an HTTP header block, DNS message or TLS record
	maxLine = 8192   // bytes of an FTP or SSH line
)

// Chunked body states.
const (
	chunkNone    uint8 = iota
	chunkSize          // reading a chunk-size line
	chunkData          // skipping chunk data
	chunkDataEnd       // skipping the CRLF after chunk data
	chunkTrailer       // reading trailer lines up to an empty one
)

// framer splits one direction into application messages. A message is a
// head, gathered in buf and handed out, and a body, counted off and not
// kept; it completes with the last byte of its body.
type framer struct {
	state   uint8
	kind    decode.AppKind
	headOK  bool   // buf holds the whole head
	buf     []byte // the head, in a pooled buffer
	skip    int    // body bytes still to skip
	chunk   uint8  // chunked body state
	lineLen int    // bytes of the current chunk or trailer line
	size    int    // chunk size being read
	done    bool   // buf was handed out: clear it first
	gapped  bool   // bytes of the body were lost: the message is not handed out
}

// resetFramer drops what f gathered: the next byte starts a message.
func (r *Reassembler) resetFramer(f *framer) {
	if cap(f.buf) > 0 {
		r.put(f.buf)
	}
	*f = framer{}
}

// gapFramer accounts for n bytes of the direction skipped at a gap. Inside
// a body of known length the framing holds: the bytes are counted off, and
// the message, incomplete, is not handed out (tshark never completes it).
// Elsewhere the framing is lost: it resumes with the first data that
// starts a message of a known kind (a segment starting a response, say).
func (r *Reassembler) gapFramer(f *framer, n uint32) {
	if f.state == fKnown && f.headOK && f.chunk == chunkNone && f.skip >= 0 && uint32(f.skip) >= n {
		f.skip -= int(n)
		f.gapped = true
		return
	}
	r.resetFramer(f)
	f.state = fResync
}

// NextMessage returns the next application message that the segment last
// passed to Add completed in its direction: the message's head (HTTP
// request or status line and headers, a DNS message with its length
// prefix, a TLS record or its header, an FTP or SSH line), for
// decode.DecodeTCPApp. sport and dport are the segment's ports. Call it
// until it returns false; the head is valid until the next call. A
// message completes on the segment that delivers its last byte (an HTTP
// message's body included), as tshark shows it. A direction whose start
// is no known protocol, or whose framing fails (a head over 64 KiB, an
// HTTP body delimited by the end of the connection), is not framed any
// further.
func (r *Reassembler) NextMessage(sport, dport int) ([]byte, bool) {
	h := r.cur
	if h == nil {
		return nil, false
	}
	f := &h.fr
	r.nextFrame(f)
	for len(r.in) > 0 {
		if f.state == fOpaque {
			r.in = nil
			f.buf = f.buf[:0]
			break
		}
		if (f.state == fUndecided || f.state == fResync) && !r.decide(f, sport, dport) {
			continue
		}
		if !f.headOK {
			if !r.head(f) || f.state == fOpaque {
				continue
			}
		}
		if !r.body(f) {
			continue
		}
		f.done = true
		if f.gapped {
			r.nextFrame(f)
			continue
		}
		return f.buf, true
	}
	if !f.done && len(f.buf) == 0 && cap(f.buf) > 0 {
		r.put(f.buf) // nothing gathered: hold no buffer while idle
		f.buf = nil
	}
	return nil, false
}

// nextFrame readies f for the next message once one was handed out.
func (r *Reassembler) nextFrame(f *framer) {
	if f.done {
		f.done = false
		f.buf = f.buf[:0]
		f.headOK, f.gapped = false, false
		f.kind, f.state = 0, fUndecided
		if f.skip < 0 {
			f.state, f.skip = fOpaque, 0
		}
	}
}

// appPeek is how many bytes of a message tell its kind (a TLS record
// header).
const appPeek = 5

// decide sets f's kind from the ports or, failing them, from the first
// appPeek bytes of the message (some of them gathered in buf already);
// it reports false when it gathered r.in to wait for more bytes.
func (r *Reassembler) decide(f *framer, sport, dport int) bool {
	k := decode.TCPAppKind(nil, sport, dport)
	if k == decode.AppNone {
		if len(f.buf)+len(r.in) < appPeek && f.state != fResync {
			if !r.gather(f, r.in) {
				f.state = fOpaque
			}
			r.in = nil
			return false
		}
		peek := append(r.peek[:0], f.buf...)
		peek = append(peek, r.in[:min(len(r.in), appPeek-len(f.buf))]...)
		k = decode.TCPAppKind(peek, sport, dport)
	}
	switch {
	case k != decode.AppNone:
		f.kind, f.state = k, fKnown
	case f.state == fResync:
		r.in = nil // not the start of a message: wait for one
		return false
	default:
		f.state = fOpaque
	}
	return true
}

// head gathers the head from r.in; it reports whether it is complete (or
// the framing failed, f.state then fOpaque) and sets the body to skip.
func (r *Reassembler) head(f *framer) bool {
	need := 0 // head length when known, else 0
	switch f.kind {
	case decode.AppDNS:
		if len(f.buf) >= 2 {
			need = 2 + (int(f.buf[0])<<8 | int(f.buf[1]))
		}
	case decode.AppTLS:
		if len(f.buf) >= 5 {
			if f.buf[0] < 20 || f.buf[0] > 24 || f.buf[1] != 3 {
				f.state = fOpaque
				return true
			}
			need = 5
			if n := int(f.buf[3])<<8 | int(f.buf[4]); f.buf[0] == 22 {
				need += n // a handshake record is decoded whole
			} else {
				f.skip = n
			}
		}
	}
	take, found := 0, false
	switch {
	case need > 0:
		take = need - len(f.buf)
	case f.kind == decode.AppDNS:
		take = 2 - len(f.buf)
	case f.kind == decode.AppTLS:
		take = 5 - len(f.buf)
	default: // up to the end of a line or of a header block
		take = len(r.in)
		if i := r.headEnd(f); i >= 0 {
			take, found = i, true
		}
	}
	take = min(take, len(r.in))
	if need > maxHead || len(f.buf)+take > maxHead || !r.gather(f, r.in[:take]) {
		f.state = fOpaque
		return true
	}
	r.in = r.in[take:]
	switch {
	case need > 0:
		f.headOK = len(f.buf) == need
	case f.kind == decode.AppDNS || f.kind == decode.AppTLS:
		return false // the length is known now: go on
	case found:
		f.headOK = true
	case f.kind != decode.AppHTTP && len(f.buf) > maxLine:
		f.state = fOpaque
		return true
	}
	if f.headOK && f.kind == decode.AppHTTP {
		r.httpBody(f)
	}
	return f.headOK
}

// headEnd returns how many bytes of r.in complete a line-framed head
// (FTP, SSH: one line; HTTP: up to an empty line), -1 if none do.
func (r *Reassembler) headEnd(f *framer) int {
	if f.kind != decode.AppHTTP {
		if i := bytes.IndexByte(r.in, '\n'); i >= 0 {
			return i + 1
		}
		return -1
	}
	// An HTTP head ends with LF (CR) LF; the first LF may be in buf.
	prevLF := len(f.buf) > 0 && f.buf[len(f.buf)-1] == '\n' ||
		len(f.buf) > 1 && f.buf[len(f.buf)-1] == '\r' && f.buf[len(f.buf)-2] == '\n'
	for i, c := range r.in {
		switch c {
		case '\n':
			if prevLF {
				return i + 1
			}
			prevLF = true
		case '\r':
		default:
			prevLF = false
		}
	}
	return -1
}

// gather appends b to f's head buffer, moving to a larger pooled buffer as
// needed; false when the memory cap refuses.
func (r *Reassembler) gather(f *framer, b []byte) bool {
	if len(f.buf)+len(b) > cap(f.buf) {
		nb, ok := r.get(min(max(len(f.buf)+len(b), 2*cap(f.buf)), maxBuf)) // head() keeps len(f.buf)+len(b) <= maxHead == maxBuf
		if !ok {
			return false
		}
		nb = append(nb, f.buf...)
		if cap(f.buf) > 0 {
			r.put(f.buf)
		}
		f.buf = nb
	}
	f.buf = append(f.buf, b...)
	return true
}

// httpBody sets the body that follows the HTTP head in buf: Content-Length
// bytes, a chunked body, none (a request without a length, a 1xx, 204 or
// 304 response), or, for a response delimited by the end of the
// connection, the rest of the direction, which is then not framed.
func (r *Reassembler) httpBody(f *framer) {
	head := f.buf
	response := bytes.HasPrefix(head, []byte("HTTP/"))
	if response && len(head) >= 12 {
		if code := head[9:12]; code[0] == '1' || string(code) == "204" || string(code) == "304" {
			return
		}
	}
	length, chunked := -1, false
	for rest := head; len(rest) > 0; {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		c := bytes.IndexByte(line, ':')
		if c <= 0 {
			continue
		}
		name, v := line[:c], bytes.TrimSpace(line[c+1:])
		switch {
		case bytes.EqualFold(name, []byte("content-length")):
			n := 0
			for _, d := range v {
				if d < '0' || d > '9' || n > 1<<40 {
					n = -1
					break
				}
				n = n*10 + int(d-'0')
			}
			length = n
		case bytes.EqualFold(name, []byte("transfer-encoding")):
			chunked = containsFold(v, "chunked")
		}
	}
	switch {
	case chunked:
		f.chunk, f.size, f.lineLen = chunkSize, 0, 0
	case length >= 0:
		f.skip = length
	case response:
		f.skip = -1 // the body runs to the end of the connection
	}
}

// body skips the message body in r.in; it reports whether it is over.
func (r *Reassembler) body(f *framer) bool {
	if f.skip < 0 {
		return true // handed out now; the rest of the direction is body
	}
	for len(r.in) > 0 || f.skip == 0 && f.chunk == chunkNone {
		if f.skip > 0 {
			n := min(f.skip, len(r.in))
			f.skip -= n
			r.in = r.in[n:]
			continue
		}
		if f.chunk == chunkNone {
			return true
		}
		c := r.in[0]
		r.in = r.in[1:]
		switch f.chunk {
		case chunkSize:
			switch {
			case c == '\n':
				if f.size == 0 {
					f.chunk, f.lineLen = chunkTrailer, 0
				} else {
					f.chunk, f.skip = chunkDataEnd, f.size
				}
				f.size = 0
			case f.lineLen >= 0 && hexDigit(c) >= 0 && f.size < 1<<40:
				f.size = f.size<<4 | hexDigit(c)
			default:
				f.lineLen = -1 // an extension or whitespace: the size is read
			}
		case chunkDataEnd:
			if c == '\n' {
				f.chunk, f.lineLen = chunkSize, 0
			}
		case chunkTrailer:
			switch {
			case c == '\n' && f.lineLen == 0:
				f.chunk = chunkNone
				return true
			case c == '\n':
				f.lineLen = 0
			case c != '\r':
				f.lineLen++
			}
		}
	}
	return false
}

// containsFold reports whether b contains the lower-case ASCII s,
// ignoring case.
func containsFold(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if bytes.EqualFold(b[i:i+len(s)], []byte(s)) {
			return true
		}
	}
	return false
}

func hexDigit(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c|0x20 >= 'a' && c|0x20 <= 'f':
		return int(c|0x20-'a') + 10
	}
	return -1
}
