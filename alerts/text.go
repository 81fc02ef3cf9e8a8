package alerts

import (
	"net"
	"strconv"
	"strings"
)

// FormatText renders an alert as one readable line, for `vigil alerts`:
//
//	2026-11-25T10:00:00.123456+0000 [high] 1000001:1 Telnet connection attempt 10.0.0.5:51000 -> 10.0.0.9:23 TCP sensor=10.0.0.7:51234 pcap_cnt=42 allowed
//
// An alert with an http, tls or dns object adds its main keys
// (http="GET example.com/x HTTP/1.1" status=200, tls="example.org TLS 1.2",
// dns="example.com A" rcode=NXDOMAIN); a TLS version not negotiated yet
// (a ClientHello: EVE's "UNDETERMINED") is left out, and a hello without
// a server name reads tls="no SNI". A tunnelled packet's alert adds its
// outer packet: tunnel="GRE 203.0.113.1 -> 203.0.113.2". An ARP alert
// shows the ARP
// addresses instead of IP ones:
// "10.204.1.5 (18:60:24:8d:97:ba) -> 0.0.0.0 (00:00:00:00:00:00) ARP request".
//
// Summaries add "(N alerts)", injected responses "injected=tcp-rst,...",
// and a rendered message follows as msg="...". Control characters in any
// string are shown escaped so a hostile field cannot forge lines.
func FormatText(a *Alert) string {
	var b strings.Builder
	b.Grow(160)
	b.WriteString(a.Timestamp.Format(TimeLayout))
	b.WriteString(" [")
	sev := a.SeverityWord
	if sev == "" {
		sev = "sev" + strconv.Itoa(a.Severity)
	}
	b.WriteString(clean(sev))
	b.WriteString("] ")
	b.WriteString(strconv.Itoa(a.SID))
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(a.Rev))
	b.WriteByte(' ')
	b.WriteString(clean(a.Signature))
	b.WriteByte(' ')
	if r := a.ARP; r != nil {
		b.WriteString(clean(r.SrcIP) + " (" + clean(r.SrcMAC) + ") -> " + clean(r.DestIP) + " (" + clean(r.DestMAC) + ") ARP " + arpOp(r.Opcode))
	} else {
		b.WriteString(endpoint(a.SrcIP, a.SrcPort))
		b.WriteString(" -> ")
		b.WriteString(endpoint(a.DestIP, a.DestPort))
		b.WriteByte(' ')
		b.WriteString(clean(a.Proto))
	}
	b.WriteString(" sensor=")
	b.WriteString(clean(a.Sensor))
	b.WriteString(" pcap_cnt=")
	b.WriteString(strconv.Itoa(a.PcapCnt))
	b.WriteByte(' ')
	b.WriteString(clean(a.Action))
	switch {
	case a.HTTP != nil:
		b.WriteString(" http=" + strconv.Quote(strings.TrimSpace(a.HTTP.Method+" "+a.HTTP.Hostname+a.HTTP.URL+" "+a.HTTP.Protocol)))
		if a.HTTP.Status != 0 {
			b.WriteString(" status=" + strconv.Itoa(a.HTTP.Status))
		}
	case a.TLS != nil:
		tls := a.TLS.SNI
		if a.TLS.Version != TLSVersion(0) {
			tls = strings.TrimSpace(tls + " " + a.TLS.Version)
		}
		if tls == "" {
			tls = "no SNI"
		}
		b.WriteString(" tls=" + strconv.Quote(tls))
	case a.DNS != nil:
		b.WriteString(" dns=" + strconv.Quote(a.DNS.RRName+" "+a.DNS.RRType))
		if a.DNS.Response {
			b.WriteString(" rcode=" + clean(a.DNS.Rcode))
		}
	}
	if t := a.Tunnel; t != nil {
		b.WriteString(" tunnel=" + strconv.Quote(t.Proto+" "+endpoint(t.SrcIP, t.SrcPort)+" -> "+endpoint(t.DestIP, t.DestPort)))
	}
	if a.Summary != nil {
		b.WriteString(" (")
		b.WriteString(strconv.Itoa(a.Summary.Count))
		b.WriteString(" alerts)")
	}
	if len(a.Injected) > 0 {
		b.WriteString(" injected=")
		for i, in := range a.Injected {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(clean(in.Type))
		}
	}
	if a.Message != "" {
		b.WriteString(" msg=")
		b.WriteString(strconv.Quote(a.Message))
	}
	return b.String()
}

func endpoint(ip string, port int) string {
	ip = clean(ip)
	if port == 0 {
		return ip
	}
	return net.JoinHostPort(ip, strconv.Itoa(port))
}

// clean returns s with control characters and invalid UTF-8 escaped.
func clean(s string) string {
	q := strconv.Quote(s)
	if len(q) == len(s)+2 && !strings.ContainsRune(s, '"') {
		return s
	}
	return q[1 : len(q)-1]
}

// arpOp names an ARP opcode.
func arpOp(op int) string {
	switch op {
	case 1:
		return "request"
	case 2:
		return "reply"
	}
	return "opcode " + strconv.Itoa(op)
}
