package alerts

import "strconv"

// dnsTypes names DNS RR types as Suricata's EVE does.
var dnsTypes = map[int]string{
	1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 13: "HINFO", 15: "MX", 16: "TXT", 28: "AAAA",
	33: "SRV", 35: "NAPTR", 41: "OPT", 43: "DS", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY", 50: "NSEC3",
	64: "SVCB", 65: "HTTPS", 99: "SPF", 252: "AXFR", 255: "ANY", 257: "CAA",
}

// DNSType returns the EVE name of DNS RR type t ("A", "AAAA", ...), or its
// number for a type without one.
func DNSType(t int) string {
	if s, ok := dnsTypes[t]; ok {
		return s
	}
	return strconv.Itoa(t)
}

var dnsRcodes = [...]string{"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"}

// DNSRcode returns the EVE name of DNS reply code c ("NOERROR",
// "NXDOMAIN", ...), or its number for a code without one.
func DNSRcode(c int) string {
	if c >= 0 && c < len(dnsRcodes) {
		return dnsRcodes[c]
	}
	return strconv.Itoa(c)
}

// TLSVersion returns the EVE name of a TLS protocol version word (0x0303:
// "TLS 1.2"), as Suricata writes it, or "UNDETERMINED".
func TLSVersion(v int) string {
	switch v {
	case 0x0200:
		return "SSLv2"
	case 0x0300:
		return "SSLv3"
	case 0x0301:
		return "TLSv1"
	case 0x0302:
		return "TLS 1.1"
	case 0x0303:
		return "TLS 1.2"
	case 0x0304:
		return "TLS 1.3"
	}
	return "UNDETERMINED"
}
