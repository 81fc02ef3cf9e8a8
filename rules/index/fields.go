package index

import "github.com/vigil-ids/vigil/rules/field"

// fieldRef is a packet field the index reads: an int, bool or string
// field.Slot, so the index reads the very value the condition reads.
type fieldRef = field.Slot

// textFields are the string fields whose value is expected to be a slice
// of the frame (the decoder aliases them): a literal a condition requires
// in one of them must then occur in the frame bytes. Candidates checks at
// run time that the string really lies inside the frame and otherwise
// takes the rule as a candidate, so this list is about usefulness, not
// soundness. dns.qry.name is left out: the decoder rebuilds it (labels
// become dots) in a buffer of its own.
var textFields = map[string]bool{
	"payload": true, "frame.bytes": true, "tcp.reassembled.data": true,
	"http.request.method": true, "http.request.uri": true, "http.request.version": true,
	"http.response.phrase": true, "http.response.version": true,
	"http.host": true, "http.user_agent": true, "http.content_type": true,
	"http.cookie": true, "http.referer": true, "http.authorization": true,
	"tls.handshake.extensions_server_name": true,
	"ftp.request.command":                  true, "ftp.request.arg": true, "ftp.response.arg": true,
	"ssh.protocol": true,
}
