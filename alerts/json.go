package alerts

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends the alert as one EVE-compatible JSON object (no
// trailing newline) to dst and returns the extended slice. Keys come in a
// fixed order:
//
//	timestamp, event_type (EventAlert, EventSummary with a summary),
//	schema_version, sensor, flow_id, community_id (when set), pcap_cnt,
//	pcap_filename (when set), src_ip, src_port, dest_ip, dest_port, proto
//	(addresses and proto when set, ports when not 0, as Suricata omits
//	them for ARP and ICMP),
//	direction (when set), app_proto (when set),
//	alert {action, gid, signature_id, rev, signature, category, severity,
//	       metadata {tags} (when there are tags)},
//	tunnel {src_ip, src_port, dest_ip, dest_port, proto, depth,
//	        pcap_cnt (when not 0), pkt_src} (when set),
//	http {hostname, url, http_user_agent, http_content_type, http_refer,
//	      http_method, protocol, status; each when set} (when set),
//	tls {sni, version; each when set} (when set),
//	dns {version (2), query [{type, id, rrname, rrtype, tx_id, opcode}]}
//	    for a query or dns {version (2), answer {type, id, flags, qr, rd,
//	    ra (each flag when true), opcode, rrname, rrtype, rcode}} for a
//	    response (when set),
//	flow {pkts_toserver, pkts_toclient, bytes_toserver, bytes_toclient,
//	      start, src_ip, dest_ip, src_port, dest_port} (when set),
//	vigil {severity (word), ncf_direction (when set), message (when set),
//	       id (when set), injected [{direction, type, seq, ack}] (when any),
//	       arp {opcode, src_mac, src_ip, dest_mac, dest_ip} (when set)},
//	summary {count, first_seen, last_seen} (when set).
//
// This is the layout eveRecord describes, written by hand because it runs
// once per alert on the output path: the tests hold it to eveRecord.
// Strings are escaped as encoding/json does (quotes, backslashes, control
// characters, U+2028 and U+2029); invalid UTF-8 becomes U+FFFD. With a dst
// of sufficient capacity AppendJSON does not allocate.
func (a *Alert) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"timestamp":`...)
	dst = appendTime(dst, a.Timestamp)
	dst = append(dst, `,"event_type":`...)
	if a.Summary != nil {
		dst = appendString(dst, EventSummary)
	} else {
		dst = appendString(dst, EventAlert)
	}
	dst = append(dst, `,"schema_version":`...)
	dst = strconv.AppendInt(dst, SchemaVersion, 10)
	dst = append(dst, `,"sensor":`...)
	dst = appendString(dst, a.Sensor)
	dst = append(dst, `,"flow_id":`...)
	dst = strconv.AppendUint(dst, a.FlowID, 10)
	dst = appendKey(dst, "community_id", a.CommunityID)
	dst = append(dst, `,"pcap_cnt":`...)
	dst = strconv.AppendInt(dst, int64(a.PcapCnt), 10)
	dst = appendKey(dst, "pcap_filename", a.PcapFilename)
	dst = appendKey(dst, "src_ip", a.SrcIP)
	dst = appendPort(dst, "src_port", a.SrcPort)
	dst = appendKey(dst, "dest_ip", a.DestIP)
	dst = appendPort(dst, "dest_port", a.DestPort)
	dst = appendKey(dst, "proto", a.Proto)
	dst = appendKey(dst, "direction", a.Direction)
	dst = appendKey(dst, "app_proto", a.AppProto)

	dst = append(dst, `,"alert":{"action":`...)
	dst = appendString(dst, a.Action)
	dst = append(dst, `,"gid":`...)
	dst = strconv.AppendInt(dst, int64(a.GID), 10)
	dst = append(dst, `,"signature_id":`...)
	dst = strconv.AppendInt(dst, int64(a.SID), 10)
	dst = append(dst, `,"rev":`...)
	dst = strconv.AppendInt(dst, int64(a.Rev), 10)
	dst = append(dst, `,"signature":`...)
	dst = appendString(dst, a.Signature)
	dst = append(dst, `,"category":`...)
	dst = appendString(dst, a.Category)
	dst = append(dst, `,"severity":`...)
	dst = strconv.AppendInt(dst, int64(a.Severity), 10)
	if len(a.Tags) > 0 {
		dst = append(dst, `,"metadata":{"tags":[`...)
		for i, t := range a.Tags {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, t)
		}
		dst = append(dst, "]}"...)
	}
	dst = append(dst, '}')
	if t := a.Tunnel; t != nil {
		dst = append(dst, `,"tunnel":{"src_ip":`...)
		dst = appendString(dst, t.SrcIP)
		dst = append(dst, `,"src_port":`...)
		dst = strconv.AppendInt(dst, int64(t.SrcPort), 10)
		dst = append(dst, `,"dest_ip":`...)
		dst = appendString(dst, t.DestIP)
		dst = append(dst, `,"dest_port":`...)
		dst = strconv.AppendInt(dst, int64(t.DestPort), 10)
		dst = append(dst, `,"proto":`...)
		dst = appendString(dst, t.Proto)
		dst = append(dst, `,"depth":`...)
		dst = strconv.AppendInt(dst, int64(t.Depth), 10)
		if t.PcapCnt != 0 {
			dst = append(dst, `,"pcap_cnt":`...)
			dst = strconv.AppendInt(dst, int64(t.PcapCnt), 10)
		}
		dst = append(dst, `,"pkt_src":"`+PktSrcWire+`"}`...)
	}
	dst = a.appendApp(dst)
	if f := a.Flow; f != nil {
		dst = append(dst, `,"flow":{"pkts_toserver":`...)
		dst = strconv.AppendInt(dst, int64(f.PktsToServer), 10)
		dst = append(dst, `,"pkts_toclient":`...)
		dst = strconv.AppendInt(dst, int64(f.PktsToClient), 10)
		dst = append(dst, `,"bytes_toserver":`...)
		dst = strconv.AppendInt(dst, int64(f.BytesToServer), 10)
		dst = append(dst, `,"bytes_toclient":`...)
		dst = strconv.AppendInt(dst, int64(f.BytesToClient), 10)
		dst = append(dst, `,"start":`...)
		dst = appendTime(dst, f.Start)
		dst = append(dst, `,"src_ip":`...)
		dst = appendString(dst, f.SrcIP)
		dst = append(dst, `,"dest_ip":`...)
		dst = appendString(dst, f.DestIP)
		dst = append(dst, `,"src_port":`...)
		dst = strconv.AppendInt(dst, int64(f.SrcPort), 10)
		dst = append(dst, `,"dest_port":`...)
		dst = strconv.AppendInt(dst, int64(f.DestPort), 10)
		dst = append(dst, '}')
	}

	dst = append(dst, `,"vigil":{"severity":`...)
	dst = appendString(dst, a.SeverityWord)
	dst = appendKey(dst, "ncf_direction", a.NCFDirection)
	dst = appendKey(dst, "message", a.Message)
	dst = appendKey(dst, "id", a.ID)
	if len(a.Injected) > 0 {
		dst = append(dst, `,"injected":[`...)
		for i := range a.Injected {
			in := &a.Injected[i]
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"direction":`...)
			dst = appendString(dst, in.Direction)
			dst = append(dst, `,"type":`...)
			dst = appendString(dst, in.Type)
			dst = append(dst, `,"seq":`...)
			dst = strconv.AppendUint(dst, uint64(in.Seq), 10)
			dst = append(dst, `,"ack":`...)
			dst = strconv.AppendUint(dst, uint64(in.Ack), 10)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	if r := a.ARP; r != nil {
		dst = append(dst, `,"arp":{"opcode":`...)
		dst = strconv.AppendInt(dst, int64(r.Opcode), 10)
		dst = append(dst, `,"src_mac":`...)
		dst = appendString(dst, r.SrcMAC)
		dst = append(dst, `,"src_ip":`...)
		dst = appendString(dst, r.SrcIP)
		dst = append(dst, `,"dest_mac":`...)
		dst = appendString(dst, r.DestMAC)
		dst = append(dst, `,"dest_ip":`...)
		dst = appendString(dst, r.DestIP)
		dst = append(dst, '}')
	}
	dst = append(dst, '}')

	if s := a.Summary; s != nil {
		dst = append(dst, `,"summary":{"count":`...)
		dst = strconv.AppendInt(dst, int64(s.Count), 10)
		dst = append(dst, `,"first_seen":`...)
		dst = appendTime(dst, s.FirstSeen)
		dst = append(dst, `,"last_seen":`...)
		dst = appendTime(dst, s.LastSeen)
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// appendApp appends the http, tls and dns objects that are set.
func (a *Alert) appendApp(dst []byte) []byte {
	if h := a.HTTP; h != nil {
		dst = append(dst, `,"http":{`...)
		n := len(dst)
		dst = appendKey(dst, "hostname", h.Hostname)
		dst = appendKey(dst, "url", h.URL)
		dst = appendKey(dst, "http_user_agent", h.UserAgent)
		dst = appendKey(dst, "http_content_type", h.ContentType)
		dst = appendKey(dst, "http_refer", h.Referer)
		dst = appendKey(dst, "http_method", h.Method)
		dst = appendKey(dst, "protocol", h.Protocol)
		if h.Status != 0 {
			dst = append(dst, `,"status":`...)
			dst = strconv.AppendInt(dst, int64(h.Status), 10)
		}
		dst = closeObject(dst, n)
	}
	if t := a.TLS; t != nil {
		dst = append(dst, `,"tls":{`...)
		n := len(dst)
		dst = appendKey(dst, "sni", t.SNI)
		dst = appendKey(dst, "version", t.Version)
		dst = closeObject(dst, n)
	}
	if d := a.DNS; d != nil {
		if d.Response {
			dst = append(dst, `,"dns":{"version":2,"answer":{"type":"answer","id":`...)
		} else {
			dst = append(dst, `,"dns":{"version":2,"query":[{"type":"query","id":`...)
		}
		dst = strconv.AppendInt(dst, int64(d.ID), 10)
		if d.Response {
			dst = append(dst, `,"flags":"`...)
			dst = strconv.AppendUint(dst, uint64(d.Flags), 16)
			dst = append(dst, `","qr":true`...)
			for _, f := range dnsFlags {
				if d.Flags&f.bit != 0 {
					dst = append(dst, `,"`+f.key+`":true`...)
				}
			}
			dst = append(dst, `,"opcode":`...)
			dst = strconv.AppendInt(dst, int64(d.Opcode), 10)
		}
		dst = append(dst, `,"rrname":`...)
		dst = appendString(dst, d.RRName)
		dst = append(dst, `,"rrtype":`...)
		dst = appendString(dst, d.RRType)
		if d.Response {
			dst = append(dst, `,"rcode":`...)
			dst = appendString(dst, d.Rcode)
			dst = append(dst, "}}"...)
		} else {
			dst = append(dst, `,"tx_id":0,"opcode":`...)
			dst = strconv.AppendInt(dst, int64(d.Opcode), 10)
			dst = append(dst, "}]}"...)
		}
	}
	return dst
}

// dnsFlags are the header flags a DNS answer object names when set.
var dnsFlags = []struct {
	key string
	bit uint16
}{{"rd", 0x0100}, {"ra", 0x0080}}

// appendKey appends ,"key":"value" (a JSON string), or nothing when value
// is empty.
func appendKey(dst []byte, key, value string) []byte {
	if value == "" {
		return dst
	}
	dst = append(dst, ',', '"')
	dst = append(dst, key...)
	dst = append(dst, '"', ':')
	return appendString(dst, value)
}

// appendPort appends ,"key":port, or nothing when port is 0.
func appendPort(dst []byte, key string, port int) []byte {
	if port == 0 {
		return dst
	}
	dst = append(dst, ',', '"')
	dst = append(dst, key...)
	dst = append(dst, '"', ':')
	return strconv.AppendInt(dst, int64(port), 10)
}

// closeObject ends an object whose members appendKey wrote from offset n:
// the first member's leading comma goes.
func closeObject(dst []byte, n int) []byte {
	if len(dst) > n {
		dst = append(dst[:n], dst[n+1:]...)
	}
	return append(dst, '}')
}

// appendTime appends t in TimeLayout as a JSON string. The layout has only
// digits and punctuation, so no escaping is needed.
func appendTime(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst = t.AppendFormat(dst, TimeLayout)
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"

// safe[b] is true for the ASCII bytes that appear in a JSON string as they
// are.
var safe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

// appendString appends s as a quoted JSON string, escaping as encoding/json
// does (without its HTML escaping) and replacing invalid UTF-8 with U+FFFD.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if safe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// U+2028 and U+2029 are valid JSON but end lines in JavaScript.
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
