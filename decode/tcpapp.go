package decode

import "github.com/vigil-ids/vigil/rules/field"

// AppKind is the application protocol a TCP payload carries, as the
// decoder tells it from the ports and the payload's first bytes.
type AppKind uint8

// Application kinds.
const (
	AppNone AppKind = iota // none the decoder knows
	AppDNS                 // DNS over TCP: a 2-byte length, then the message
	AppFTP                 // FTP command or reply lines
	AppTLS                 // TLS records
	AppSSH                 // an SSH identification line
	AppHTTP                // HTTP/1.x messages
)

// TCPAppKind returns the kind of application message that pl, the start of
// a TCP payload between ports sport and dport, begins.
func TCPAppKind(pl []byte, sport, dport int) AppKind {
	switch {
	case isDNSPort(sport) || isDNSPort(dport):
		return AppDNS
	case sport == 21 || dport == 21:
		return AppFTP
	case len(pl) >= 5 && pl[0] >= 20 && pl[0] <= 24 && pl[1] == 3:
		return AppTLS
	case len(pl) >= 4 && pl[0] == 'S' && pl[1] == 'S' && pl[2] == 'H' && pl[3] == '-':
		return AppSSH
	case len(pl) > 0 && maybeHTTP(pl[0]):
		return AppHTTP
	}
	return AppNone
}

// DecodeTCPApp decodes msg, one application message of a TCP stream
// between ports sport and dport (an HTTP header block, a DNS message with
// its length, a TLS record, an FTP or SSH line), into p's application
// fields (dns, http, tls, ftp, ssh), replacing those Decode set from the
// packet; an empty msg just clears them. Strings alias msg, and
// p.Meta.App is set to it. It never panics and does not allocate.
func (d *Decoder) DecodeTCPApp(p *field.Packet, msg []byte, sport, dport int) {
	clearApp(p)
	p.Meta.App = str(msg)
	if len(msg) == 0 {
		return
	}
	d.p, d.lean = p, false
	d.tcpApp(msg, sport, dport)
	d.p = nil
}

// clearApp zeroes the application layers, as clearDecoded does.
func clearApp(p *field.Packet) {
	if p.DNS.Present {
		p.DNS = field.DNS{}
	}
	if p.HTTP.Present {
		p.HTTP = field.HTTP{}
	}
	if p.TLS.Present {
		p.TLS = field.TLS{}
	}
	if p.FTP.Present {
		p.FTP = field.FTP{}
	}
	if p.SSH.Present {
		p.SSH = field.SSH{}
	}
}
