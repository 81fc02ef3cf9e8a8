package index

import "github.com/vigil-ids/vigil/rules/field"

// fieldRef is a packet field the index reads: an int, bool or string
// field.Slot, so the index reads the very value the condition reads.
type fieldRef = field.Slot

// textFields are the string fields whose value is expected to be a slice
// of one of the index's text areas: the frame (the decoder aliases them),
// the engine's stream buffers, or the decoder's buffers for address text
// and dns.qry.name (whose labels it rebuilds with dots). A literal a
// condition requires in one of them must then occur in that area; so
// `ip.src == "10.0.0.7"` is filed under the literal "10.0.0.7" at the
// start of ip.src. Candidates checks at run time that the string really
// lies inside an area and otherwise takes the rule as a candidate, so
// this list is about usefulness, not soundness.
var textFields = map[string]bool{
	"dns.qry.name": true,
	"ip.src":       true, "ip.dst": true, "ipv6.src": true, "ipv6.dst": true, "src_ip": true, "dest_ip": true,
	"eth.src": true, "eth.dst": true, "arp.src.proto_ipv4": true, "arp.dst.proto_ipv4": true,
	"tunnel.src_ip": true, "tunnel.dest_ip": true,
	"payload": true, "frame.bytes": true, "tcp.reassembled.data": true,
	"http.request.method": true, "http.request.uri": true, "http.request.version": true,
	"http.response.phrase": true, "http.response.version": true,
	"http.host": true, "http.user_agent": true, "http.content_type": true,
	"http.cookie": true, "http.referer": true, "http.authorization": true,
	"tls.handshake.extensions_server_name": true,
	"ftp.request.command":                  true, "ftp.request.arg": true, "ftp.response.arg": true,
	"ssh.protocol": true,
}
