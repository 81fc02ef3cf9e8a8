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
// kept; it completes with the last byte of its body. TLS is framed in two
// layers (tlsFrame): records, and the handshake messages they carry.
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
	known   bool   // a message of a known kind started since the framing began
	tls     tlsState
}

// tlsState is the record layer of a TLS direction (RFC 8446 section 5.1,
// RFC 5246 section 6.2.1): handshake records are taken apart into their
// handshake messages, which may span records or share one; other records,
// and handshake records after a ChangeCipherSpec (encrypted), are handed
// out as their 5-byte header once their body is over.
type tlsState struct {
	hdr       [5]byte // the record header being read
	hdrN      uint8   // its bytes so far
	skipping  bool    // the current record's body is not looked at
	encrypted bool    // a ChangeCipherSpec was seen: handshake records are encrypted
	left      int32   // bytes of the current record's body still to come
	msgSkip   int32   // bytes of an oversized handshake message still to skip
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
	if t := &f.tls; f.state == fKnown && f.kind == decode.AppTLS && t.skipping && uint32(t.left) > n {
		t.left -= int32(n)
		f.gapped = true // the record's header is not handed out
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
		if f.kind == decode.AppTLS {
			if r.tlsFrame(f) {
				f.done = true
				return f.buf, true
			}
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
		if f.kind == decode.AppTLS {
			return // records follow records; gapped is the current record's
		}
		f.headOK, f.gapped = false, false
		f.kind, f.state = 0, fUndecided
		if f.skip < 0 {
			f.state, f.skip = fOpaque, 0
		}
	}
}

// Dissected reports whether the direction of the segment last passed to
// Add is framed as an application (DNS, HTTP, TLS, FTP or SSH: a message
// of a known kind started in it, and no gap lost the framing since), once
// NextMessage has taken the segment's messages: its data is that
// protocol's, not undissected data (Wireshark's data.data).
func (r *Reassembler) Dissected() bool {
	return r.last != nil && r.last.fr.known && r.last.fr.state != fResync
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
		f.kind, f.state, f.known = k, fKnown, true
		if k == decode.AppTLS { // the bytes gathered start a record header
			f.tls.hdrN = uint8(copy(f.tls.hdr[:], f.buf))
			f.buf = f.buf[:0]
		}
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
	}
	take, found := 0, false
	switch {
	case need > 0:
		take = need - len(f.buf)
	case f.kind == decode.AppDNS:
		take = 2 - len(f.buf)
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
	case f.kind == decode.AppDNS:
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

// TLS framing: the record header, and a handshake message's header
// (msg_type(1) length(3)).
const (
	tlsRecordHead    = 5
	tlsHandshakeHead = 4
)

// tlsFrame reads TLS records from r.in; it reports true when f.buf holds a
// message to hand out: a handshake message behind a record header made for
// it (type 22, the version of the record that completed the message, the
// message's length), on the segment that completes the message, or the
// header of a record whose body is not decoded, on the segment that ends
// the record. A handshake message over 64 KiB is skipped. A record header
// that is not TLS ends the framing.
func (r *Reassembler) tlsFrame(f *framer) bool {
	t := &f.tls
	const msgHead = tlsRecordHead + tlsHandshakeHead
	for len(r.in) > 0 {
		switch {
		case t.left == 0: // a record header
			n := copy(t.hdr[t.hdrN:], r.in)
			t.hdrN += uint8(n)
			r.in = r.in[n:]
			if t.hdrN < tlsRecordHead {
				return false
			}
			t.hdrN = 0
			typ := t.hdr[0]
			if typ < 20 || typ > 24 || t.hdr[1] != 3 {
				f.state, f.buf = fOpaque, f.buf[:0]
				return false
			}
			t.left = int32(t.hdr[3])<<8 | int32(t.hdr[4])
			t.encrypted = t.encrypted || typ == 20
			t.skipping = typ != 22 || t.encrypted
			if t.skipping {
				// Handshake messages are not interleaved with other
				// records (RFC 8446 5.1): a partial one is dropped.
				f.buf = f.buf[:0]
				if !r.gather(f, t.hdr[:]) {
					f.state = fOpaque
					return false
				}
				if t.left == 0 {
					t.skipping = false
					return true
				}
			}
		case t.skipping:
			n := min(int(t.left), len(r.in))
			t.left -= int32(n)
			r.in = r.in[n:]
			if t.left == 0 {
				t.skipping = false
				if !f.gapped {
					return true
				}
				f.gapped, f.buf = false, f.buf[:0]
			}
		case t.msgSkip > 0:
			n := min(int(t.msgSkip), int(t.left), len(r.in))
			t.msgSkip -= int32(n)
			t.left -= int32(n)
			r.in = r.in[n:]
		default: // handshake message bytes
			if len(f.buf) == 0 && !r.gather(f, t.hdr[:]) { // room for the made header
				f.state = fOpaque
				return false
			}
			need := msgHead - len(f.buf)
			if need <= 0 {
				need += msgLen(f.buf)
			}
			n := min(need, int(t.left), len(r.in))
			if !r.gather(f, r.in[:n]) {
				f.state = fOpaque
				return false
			}
			t.left -= int32(n)
			r.in = r.in[n:]
			if len(f.buf) < msgHead {
				continue
			}
			m := msgLen(f.buf)
			switch {
			case msgHead+m > maxHead:
				t.msgSkip = int32(m - (len(f.buf) - msgHead))
				f.buf = f.buf[:0]
			case len(f.buf) == msgHead+m:
				l := tlsHandshakeHead + m
				f.buf[0], f.buf[1], f.buf[2], f.buf[3], f.buf[4] = 22, t.hdr[1], t.hdr[2], byte(l>>8), byte(l)
				return true
			}
		}
	}
	return false
}

// msgLen returns the body length of the handshake message whose header
// follows the made record header at the start of b.
func msgLen(b []byte) int {
	return int(b[tlsRecordHead+1])<<16 | int(b[tlsRecordHead+2])<<8 | int(b[tlsRecordHead+3])
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
	// An HTTP head ends with LF, CRs, LF; the first LF may be in buf.
	// Between line ends only the next LF matters, and IndexByte finds it
	// many bytes at a time.
	buf := bytes.TrimRight(f.buf, "\r")
	prevLF := len(buf) > 0 && buf[len(buf)-1] == '\n'
	in := r.in
	for i := 0; i < len(in); {
		if prevLF {
			switch in[i] {
			case '\n':
				return i + 1
			case '\r':
				i++
				continue
			}
		}
		j := bytes.IndexByte(in[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
		prevLF = true
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

// requests remembers, in order, which of a connection's HTTP requests not
// yet answered were HEAD requests (the first 64), so that their responses
// are framed without a body.
type requests struct {
	head uint64 // bit i: the i-th request waiting is a HEAD
	n    uint8
}

func (q *requests) push(head bool) {
	if q.n < 64 {
		if head {
			q.head |= 1 << q.n
		}
		q.n++
	}
}

// pop reports whether the oldest request waiting was a HEAD (false when
// none waits: a connection picked up mid-stream).
func (q *requests) pop() bool {
	if q.n == 0 {
		return false
	}
	head := q.head&1 != 0
	q.head >>= 1
	q.n--
	return head
}

// httpBody sets the body that follows the HTTP head in buf: Content-Length
// bytes, a chunked body, none (a request without a length; a response to
// a HEAD request, or a 1xx, 204 or 304 response, whatever their headers
// say: RFC 9110 6.4.1), or, for a response delimited by the end of the
// connection, the rest of the direction, which is then not framed. A
// request is queued on the connection, and a final response (not 1xx)
// answers the oldest, as responses come in the order of the requests
// (RFC 9112 9.3.2).
func (r *Reassembler) httpBody(f *framer) {
	head := f.buf
	response := bytes.HasPrefix(head, []byte("HTTP/"))
	switch q := &r.curConn.heads; {
	case !response:
		q.push(bytes.HasPrefix(head, []byte("HEAD ")))
	case len(head) >= 12 && head[9] == '1':
		return // interim: the final response follows
	case q.pop() || len(head) >= 12 && (string(head[9:12]) == "204" || string(head[9:12]) == "304"):
		return
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
