package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"

	"github.com/vigil-ids/vigil/alerts"
	"github.com/vigil-ids/vigil/rules"
)

// filter selects alerts by the query parameters severity (a severity
// word), sensor (its name), sid, addr (an address or CIDR that the source
// or destination address is, or is in) and q (text the alert's JSON
// contains, ignoring case). Severity, sensor and sid select by subject,
// the others by reading each alert.
type filter struct {
	severity, sensor string
	sid              int
	addr             netip.Prefix // invalid: any
	text             []byte       // lower case; nil: any
}

// parseFilter reads a filter from the query q.
func parseFilter(q url.Values) (filter, error) {
	f := filter{severity: q.Get("severity"), sensor: q.Get("sensor")}
	if f.severity != "" {
		if err := rules.CheckSeverity(f.severity); err != nil {
			return f, err
		}
	}
	if s := q.Get("sid"); s != "" {
		sid, err := strconv.Atoi(s)
		if err != nil || sid < 1 {
			return f, fmt.Errorf("sid %q is not a rule id", s)
		}
		f.sid = sid
	}
	if s := q.Get("addr"); s != "" {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return f, fmt.Errorf("addr %q is neither an address nor a CIDR", s)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		f.addr = p.Masked()
	}
	if s := q.Get("q"); s != "" {
		f.text = bytes.ToLower([]byte(s))
	}
	return f, nil
}

// subject is the alert subject the filter reads.
func (f filter) subject(prefix string) string {
	return alerts.FilterSubject(prefix, f.sensor, f.severity, f.sid)
}

// keep reports whether an alert read from subject passes the rest of the
// filter.
func (f filter) keep(st alerts.Stored) bool {
	if f.text != nil && !bytes.Contains(bytes.ToLower(st.Data), f.text) {
		return false
	}
	if !f.addr.IsValid() {
		return true
	}
	var a struct {
		Src  string `json:"src_ip"`
		Dest string `json:"dest_ip"`
	}
	if json.Unmarshal(st.Data, &a) != nil {
		return false
	}
	for _, s := range []string{a.Src, a.Dest} {
		if ip, err := netip.ParseAddr(s); err == nil && f.addr.Contains(ip) {
			return true
		}
	}
	return false
}
