package engine

import (
	"math"
	"strings"
	"time"

	"github.com/vigil-ids/vigil/alerts"
	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/rules/field"
)

// newAlert builds the alert of rule r on packet p of flow flowID, whose
// application protocol so far is flowApp (flow.Table.App). Strings are
// copied: p is reused for the next packet.
func newAlert(r *rules.Rule, p *field.Packet, src *Source, flowID uint64, flowApp string) *alerts.Alert {
	a := &alerts.Alert{
		Timestamp:    p.Frame.Time,
		Sensor:       src.cfg.Name,
		FlowID:       flowID,
		PcapCnt:      p.Frame.Number,
		PcapFilename: src.cfg.Filename,
		SrcIP:        strings.Clone(p.SrcIP),
		SrcPort:      p.SrcPort,
		DestIP:       strings.Clone(p.DestIP),
		DestPort:     p.DestPort,
		Proto:        strings.Clone(p.Proto),
		NCFDirection: p.NCF.Direction,
		AppProto:     flowApp,
		Action:       alerts.ActionAllowed,
		GID:          1,
		SID:          r.SID,
		Rev:          r.Rev,
		Signature:    r.Name,
		Category:     r.Category,
		Severity:     r.Severity.EVE(),
		SeverityWord: r.Severity.String(),
		Tags:         r.Tags,
		ID:           alerts.ID(src.cfg.Origin.Instance, src.cfg.Origin.Source, p.Frame.Number, r.SID),
	}
	if r.Message != nil {
		a.Message = r.Message.Render(p)
	}
	addFlow(a, p)
	addApp(a, p)
	if r := &p.ARP; r.Present {
		a.ARP = &alerts.ARP{Opcode: r.Opcode, SrcMAC: strings.Clone(r.Src.HWMac), SrcIP: strings.Clone(r.Src.ProtoIPv4),
			DestMAC: strings.Clone(r.Dst.HWMac), DestIP: strings.Clone(r.Dst.ProtoIPv4)}
	}
	if t := &p.Tunnel; t.Present {
		a.Tunnel = &alerts.Tunnel{SrcIP: strings.Clone(t.SrcIP), DestIP: strings.Clone(t.DestIP), SrcPort: t.SrcPort,
			DestPort: t.DestPort, Proto: strings.Clone(t.Proto), Depth: t.Depth, PcapCnt: p.Frame.Number}
	}
	return a
}

// addFlow sets the alert's direction and flow object from p.Flow, as
// Suricata 7 writes them: the flow's initiator is the client, and the
// counters include p.
func addFlow(a *alerts.Alert, p *field.Packet) {
	f := &p.Flow
	if !f.Present {
		return
	}
	a.Direction = alerts.ToServer
	fl := &alerts.Flow{
		PktsToServer: f.PktsToServer, PktsToClient: f.PktsToClient,
		BytesToServer: f.BytesToServer, BytesToClient: f.BytesToClient,
		Start: p.Frame.Time.Add(-time.Duration(math.Round(f.Age * 1e9))),
		SrcIP: a.SrcIP, DestIP: a.DestIP, SrcPort: a.SrcPort, DestPort: a.DestPort,
	}
	if f.ToClient {
		a.Direction = alerts.ToClient
		fl.SrcIP, fl.DestIP, fl.SrcPort, fl.DestPort = a.DestIP, a.SrcIP, a.DestPort, a.SrcPort
	}
	a.Flow = fl
}

// appProto names the application protocol of the message p holds, ""
// when it holds none.
func appProto(p *field.Packet) string {
	switch {
	case p.HTTP.Present:
		return "http"
	case p.TLS.Present:
		return "tls"
	case p.DNS.Present:
		return "dns"
	case p.FTP.Present:
		return "ftp"
	case p.SSH.Present:
		return "ssh"
	}
	return ""
}

// addApp sets the http, tls or dns object from the application message p
// holds, if any, and app_proto when the flow had none yet.
func addApp(a *alerts.Alert, p *field.Packet) {
	if a.AppProto == "" {
		a.AppProto = appProto(p)
	}
	switch {
	case p.HTTP.Present:
		h := &p.HTTP
		a.HTTP = &alerts.HTTP{
			Hostname: strings.Clone(h.Host), URL: strings.Clone(h.Request.URI), UserAgent: strings.Clone(h.UserAgent),
			ContentType: strings.Clone(h.ContentType), Referer: strings.Clone(h.Referer),
			Method: strings.Clone(h.Request.Method), Protocol: strings.Clone(h.Request.Version),
		}
		if h.Response.Present {
			a.HTTP.Protocol, a.HTTP.Status = strings.Clone(h.Response.Version), h.Response.Code
		}
	case p.TLS.Present:
		a.TLS = &alerts.TLS{SNI: strings.Clone(p.TLS.Handshake.ServerName), Version: alerts.TLSVersion(0)}
		if p.TLS.Handshake.Type == 2 { // the ServerHello names the negotiated version
			a.TLS.Version = alerts.TLSVersion(p.TLS.Handshake.Version)
		}
	case p.DNS.Present:
		d := &p.DNS
		a.DNS = &alerts.DNS{
			Response: d.Flags.Response, ID: d.ID, RRName: strings.Clone(d.Qry.Name), RRType: alerts.DNSType(d.Qry.Type),
			Opcode: d.Flags.Opcode, Flags: dnsFlags(&d.Flags), Rcode: alerts.DNSRcode(d.Flags.Rcode),
		}
	}
}

// dnsFlags rebuilds the DNS header's flags word from the decoded flags
// (the Z, AD and CD bits are not decoded and stay 0).
func dnsFlags(f *field.DNSFlags) uint16 {
	w := uint16(f.Opcode&0xf)<<11 | uint16(f.Rcode&0xf)
	for _, b := range []struct {
		set bool
		bit uint16
	}{{f.Response, 0x8000}, {f.Authoritative, 0x0400}, {f.Truncated, 0x0200}, {f.RecDesired, 0x0100}, {f.RecAvail, 0x0080}} {
		if b.set {
			w |= b.bit
		}
	}
	return w
}
