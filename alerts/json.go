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
//	timestamp, event_type ("alert"), schema_version, sensor, flow_id,
//	community_id (when set), pcap_cnt, pcap_filename (when set), src_ip,
//	src_port, dest_ip, dest_port, proto, direction,
//	alert {action, gid, signature_id, rev, signature, category, severity,
//	       metadata {tags} (when there are tags)},
//	vigil {severity (word), message (when set), id (when set),
//	       injected [{direction, type, seq, ack}] (when any)},
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
	dst = append(dst, `,"event_type":"alert","schema_version":`...)
	dst = strconv.AppendInt(dst, SchemaVersion, 10)
	dst = append(dst, `,"sensor":`...)
	dst = appendString(dst, a.Sensor)
	dst = append(dst, `,"flow_id":`...)
	dst = strconv.AppendUint(dst, a.FlowID, 10)
	if a.CommunityID != "" {
		dst = append(dst, `,"community_id":`...)
		dst = appendString(dst, a.CommunityID)
	}
	dst = append(dst, `,"pcap_cnt":`...)
	dst = strconv.AppendInt(dst, int64(a.PcapCnt), 10)
	if a.PcapFilename != "" {
		dst = append(dst, `,"pcap_filename":`...)
		dst = appendString(dst, a.PcapFilename)
	}
	dst = append(dst, `,"src_ip":`...)
	dst = appendString(dst, a.SrcIP)
	dst = append(dst, `,"src_port":`...)
	dst = strconv.AppendInt(dst, int64(a.SrcPort), 10)
	dst = append(dst, `,"dest_ip":`...)
	dst = appendString(dst, a.DestIP)
	dst = append(dst, `,"dest_port":`...)
	dst = strconv.AppendInt(dst, int64(a.DestPort), 10)
	dst = append(dst, `,"proto":`...)
	dst = appendString(dst, a.Proto)
	dst = append(dst, `,"direction":`...)
	dst = appendString(dst, a.Direction)

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

	dst = append(dst, `,"vigil":{"severity":`...)
	dst = appendString(dst, a.SeverityWord)
	if a.Message != "" {
		dst = append(dst, `,"message":`...)
		dst = appendString(dst, a.Message)
	}
	if a.ID != "" {
		dst = append(dst, `,"id":`...)
		dst = appendString(dst, a.ID)
	}
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
