package decode

import (
	"bytes"
	"unsafe"
)

// tcpApp decodes the application message starting the TCP payload pl.
func (d *Decoder) tcpApp(pl []byte, sport, dport int) {
	switch TCPAppKind(pl, sport, dport) {
	case AppDNS:
		// DNS over TCP: a 2-byte length, then the message. A segment
		// that does not start a message is not reported as malformed.
		if len(pl) >= 2+12 {
			d.dns(pl[2:], false)
		}
	case AppFTP:
		d.ftp(pl, dport == 21)
	case AppTLS:
		d.tls(pl)
	case AppSSH:
		d.p.SSH.Present = true
		d.p.SSH.Protocol = str(pl[:lineEnd(pl)])
	case AppHTTP:
		d.http(pl)
	}
}

// lineEnd returns the length of b's first line without its CR LF or LF;
// len(b) when b holds no LF.
func lineEnd(b []byte) int {
	i := bytes.IndexByte(b, '\n')
	switch {
	case i < 0:
		return len(b)
	case i > 0 && b[i-1] == '\r':
		return i - 1
	}
	return i
}

// nextLine returns b's first line (without CR LF) and the rest after the
// LF; ok is false when b holds no complete line.
func nextLine(b []byte) (line, rest []byte, ok bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return nil, b, false
	}
	j := i
	if j > 0 && b[j-1] == '\r' {
		j--
	}
	return b[:j], b[i+1:], true
}

// dns decodes a DNS message m; it reports false when m is too short for
// the header or the first question's name is malformed.
func (d *Decoder) dns(m []byte, mdns bool) bool {
	if len(m) < 12 {
		return false
	}
	s := &d.p.DNS
	s.Present = true
	s.ID = be16(m)
	f := be16(m[2:])
	s.Flags.Response = f&0x8000 != 0
	s.Flags.Opcode = f >> 11 & 0xf
	s.Flags.Authoritative = f&0x0400 != 0
	s.Flags.Truncated = f&0x0200 != 0
	s.Flags.RecDesired = f&0x0100 != 0
	s.Flags.RecAvail = f&0x0080 != 0
	s.Flags.Rcode = f & 0xf
	s.Count.Queries = be16(m[4:])
	s.Count.Answers = be16(m[6:])
	s.Count.AuthRR = be16(m[8:])
	s.Count.AddRR = be16(m[10:])
	if s.Count.Queries == 0 {
		return true
	}
	name, next, ok := d.dnsName(m, 12)
	if !ok {
		return false
	}
	s.Qry.Name = name
	if next+4 <= len(m) {
		s.Qry.Type = be16(m[next:])
		s.Qry.Class = be16(m[next+2:])
		if mdns { // the top bit is the unicast-response flag
			s.Qry.Class &= 0x7fff
		}
	}
	return true
}

// dnsName decodes the (possibly compressed) name at off in m into
// Meta.Name, dot-separated without a trailing dot ("<Root>" for the root,
// as Wireshark shows it), and returns the offset after the name at off.
func (d *Decoder) dnsName(m []byte, off int) (name string, next int, ok bool) {
	buf := d.p.Meta.Name[:]
	n, pos, jumps := 0, off, 0
	next = -1
	for {
		if pos >= len(m) {
			return "", 0, false
		}
		l := int(m[pos])
		switch l & 0xc0 {
		case 0xc0: // compression pointer
			if pos+1 >= len(m) || jumps == maxDNSJumps {
				return "", 0, false
			}
			if next < 0 {
				next = pos + 2
			}
			jumps++
			pos = (l&0x3f)<<8 | int(m[pos+1])
			continue
		case 0x00:
		default: // 0x40 and 0x80 label types are obsolete or unused
			return "", 0, false
		}
		if l == 0 {
			if next < 0 {
				next = pos + 1
			}
			break
		}
		if pos+1+l > len(m) {
			return "", 0, false
		}
		if n > 0 {
			if n == len(buf) {
				return "", 0, false
			}
			buf[n] = '.'
			n++
		}
		if n+l > len(buf)-1 { // a name has at most 255 bytes
			return "", 0, false
		}
		n += copy(buf[n:], m[pos+1:pos+1+l])
		pos += 1 + l
	}
	if n == 0 {
		return "<Root>", next, true
	}
	return unsafe.String(&buf[0], n), next, true
}

// httpMethods are the request methods recognised at the start of a TCP
// payload.
var httpMethods = [...]string{
	"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "CONNECT", "TRACE", "PATCH",
	"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH",
}

// http decodes an HTTP/1.x request or status line completed in pl, and
// the headers that follow it in pl.
func (d *Decoder) http(pl []byte) {
	if len(pl) < 5 || !maybeHTTP(pl[0]) {
		return
	}
	line, rest, ok := nextLine(pl)
	if !ok {
		return
	}
	h := &d.p.HTTP
	if hasPrefix(line, "HTTP/1.") {
		// HTTP/1.x SP 3DIGIT [SP phrase]
		if len(line) < 12 || line[8] != ' ' || !isDigit(line[9]) || !isDigit(line[10]) || !isDigit(line[11]) ||
			(len(line) > 12 && line[12] != ' ') {
			return
		}
		h.Present = true
		h.Response.Present = true
		h.Response.Version = str(line[:8])
		h.Response.Code = int(line[9]-'0')*100 + int(line[10]-'0')*10 + int(line[11]-'0')
		if len(line) > 13 {
			h.Response.Phrase = str(line[13:])
		}
	} else {
		sp := bytes.IndexByte(line, ' ')
		if sp < 3 || !isMethod(line[:sp]) {
			return
		}
		last := bytes.LastIndexByte(line, ' ')
		switch {
		case last > sp && hasPrefix(line[last+1:], "HTTP/"):
			h.Request.URI = str(line[sp+1 : last])
			h.Request.Version = str(line[last+1:])
		case last == sp && sp+1 < len(line): // HTTP/0.9 simple request: no version
			h.Request.URI = str(line[sp+1:])
		default:
			return
		}
		h.Present = true
		h.Request.Present = true
		h.Request.Method = str(line[:sp])
	}
	for {
		line, rest, ok = nextLine(rest)
		if !ok || len(line) == 0 {
			return
		}
		c := bytes.IndexByte(line, ':')
		if c <= 0 {
			continue
		}
		v := str(trimSpace(line[c+1:]))
		switch name := line[:c]; len(name) {
		case 4:
			if equalFold(name, "host") {
				h.Host = v
			}
		case 10:
			if equalFold(name, "user-agent") {
				h.UserAgent = v
			}
		case 12:
			if equalFold(name, "content-type") {
				h.ContentType = v
			}
		case 6:
			if equalFold(name, "cookie") {
				h.Cookie = v
			}
		case 7:
			if equalFold(name, "referer") {
				h.Referer = v
			}
		case 13:
			if equalFold(name, "authorization") {
				h.Authorization = v
			}
		}
	}
}

// maybeHTTP reports whether c can start a request method or "HTTP/".
func maybeHTTP(c byte) bool {
	switch c {
	case 'G', 'P', 'H', 'D', 'O', 'C', 'T', 'M', 'L', 'U', 'S':
		return true
	}
	return false
}

func isMethod(m []byte) bool {
	for _, k := range httpMethods {
		if string(m) == k {
			return true
		}
	}
	return false
}

// TLS handshake types whose body starts with a protocol version.
const (
	tlsClientHello = 1
	tlsServerHello = 2
	tlsHandshake   = 22
	extServerName  = 0
	maxTLSRecord   = 1<<14 + 2048
)

// tls decodes the TLS record header at the start of pl and, for a
// handshake record, its first message's type, version and SNI.
func (d *Decoder) tls(pl []byte) {
	rlen := be16(pl[3:])
	if pl[2] > 4 || rlen == 0 || rlen > maxTLSRecord {
		return
	}
	t := &d.p.TLS
	t.Present = true
	t.Record.ContentType = int(pl[0])
	t.Record.Version = be16(pl[1:])
	if pl[0] != tlsHandshake {
		return
	}
	rec := pl[5:min(len(pl), 5+rlen)]
	if len(rec) < 4 {
		return
	}
	hlen := int(rec[1])<<16 | be16(rec[2:])
	if 4+hlen > rlen { // an encrypted handshake message (Finished)
		return
	}
	typ := int(rec[0])
	body := rec[4:min(len(rec), 4+hlen)]
	if typ == tlsClientHello || typ == tlsServerHello {
		if len(body) < 2 || body[0] != 3 {
			return
		}
		t.Handshake.Version = be16(body)
	}
	t.Handshake.Type = typ
	if typ == tlsClientHello {
		t.Handshake.ServerName = str(sni(body))
	}
}

// sni returns the host name of a ClientHello body's server_name
// extension, or nil.
func sni(b []byte) []byte {
	// version(2) random(32) session_id<1> cipher_suites<2> compression<1> extensions<2>
	pos := 34
	if len(b) < pos+1 {
		return nil
	}
	pos += 1 + int(b[pos])
	if len(b) < pos+2 {
		return nil
	}
	pos += 2 + be16(b[pos:])
	if len(b) < pos+1 {
		return nil
	}
	pos += 1 + int(b[pos])
	if len(b) < pos+2 {
		return nil
	}
	end := min(len(b), pos+2+be16(b[pos:]))
	pos += 2
	for pos+4 <= end {
		typ, l := be16(b[pos:]), be16(b[pos+2:])
		pos += 4
		if pos+l > end {
			return nil
		}
		if typ == extServerName {
			// server_name_list<2>: name_type(1) host_name<2>
			e := b[pos : pos+l]
			if len(e) < 5 || e[2] != 0 {
				return nil
			}
			n := be16(e[3:])
			if 5+n > len(e) {
				return nil
			}
			return e[5 : 5+n]
		}
		pos += l
	}
	return nil
}

// ftp decodes an FTP command (toServer) or reply line at the start of pl.
func (d *Decoder) ftp(pl []byte, toServer bool) {
	f := &d.p.FTP
	f.Present = true
	line := pl[:lineEnd(pl)]
	if toServer {
		n := 0
		for n < len(line) && n < 5 && isLetter(line[n]) {
			n++
		}
		if n < 3 || n > 4 || (n < len(line) && line[n] != ' ') {
			return
		}
		f.Request.Present = true
		f.Request.Command = str(line[:n])
		if n+1 < len(line) {
			f.Request.Arg = str(line[n+1:])
		}
		return
	}
	if len(line) < 3 || !isDigit(line[0]) || !isDigit(line[1]) || !isDigit(line[2]) ||
		(len(line) > 3 && line[3] != ' ' && line[3] != '-') {
		return
	}
	f.Response.Present = true
	f.Response.Code = int(line[0]-'0')*100 + int(line[1]-'0')*10 + int(line[2]-'0')
	if len(line) > 4 {
		f.Response.Arg = str(line[4:])
	}
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func hasPrefix(b []byte, s string) bool { return len(b) >= len(s) && string(b[:len(s)]) == s }

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// equalFold reports whether b equals the lower-case ASCII s, ignoring case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
