package gen

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// PeerForms are the ways a content test is written that PeerRules knows,
// each with its Suricata 7 equivalent:
//
//	icontains   icontains(payload, "x")           content:"x"; nocase;
//	lower       lower(payload) contains "x"       content:"x"; nocase;
//	startswith  payload startsWith "x"            content:"x"; startswith;
//	slice       payload[0:n] contains "x"         content:"x"; depth:n;
//	regex       payload matches "x[0-9]{1,3}y"    content:"x"; pcre:"/x[0-9]{1,3}y/";
var PeerForms = []string{"icontains", "lower", "startswith", "slice", "regex"}

// PeerRules returns the same n rules twice, as a Vigil rule file and as
// Suricata rules, for comparing the two on one capture: half header rules
// (ports, TCP flags, ICMP type and code, sizes), half content rules in the
// given form of PeerForms, a third of those tied to a service port. Most
// literals are rare words with a number; one content rule in twenty looks
// for attack text the generated traffic carries, so both alert. Sids
// start at 200000; the same form, n and seed give the same rules.
func PeerRules(form string, n int, seed uint64) (vigil, suricata string, err error) {
	if !slices.Contains(PeerForms, form) {
		return "", "", fmt.Errorf("unknown rule form %q (want one of %s)", form, strings.Join(PeerForms, ", "))
	}
	rng := rand.New(rand.NewPCG(seed, 2))
	hits := []string{"/etc/passwd", "sqlmap", "union%20select", "Nikto", "cmd.exe", "jndi:ldap", "/bin/sh", "masscan"}
	var v, s strings.Builder
	v.WriteString("rules:\n")
	for i := range n {
		sid := 200000 + i
		port := 1024 + rng.IntN(60000)
		var cond, sur string
		switch k := rng.IntN(10); {
		case k < 2:
			cond = fmt.Sprintf("tcp.dstport == %d && tcp.flags.syn && !tcp.flags.ack", port)
			sur = fmt.Sprintf("tcp any any -> any %d (flags:S;", port)
		case k < 3:
			size := 100 + rng.IntN(400)
			cond = fmt.Sprintf("udp.dstport == %d && udp.length > %d", port, size+8)
			sur = fmt.Sprintf("udp any any -> any %d (dsize:>%d;", port, size)
		case k < 4:
			t, c := 13+rng.IntN(5), rng.IntN(3)
			cond = fmt.Sprintf("icmp.type == %d && icmp.code == %d", t, c)
			sur = fmt.Sprintf("icmp any any -> any any (itype:%d; icode:%d;", t, c)
		case k < 5:
			cond = fmt.Sprintf("tcp.srcport == %d && tcp.len > 1000", port)
			sur = fmt.Sprintf("tcp any %d -> any any (dsize:>1000;", port)
		default:
			lit := fmt.Sprintf("%s%d", pick(rng, words), rng.IntN(10000))
			if rng.IntN(20) == 0 {
				lit = pick(rng, hits)
			}
			cond, sur = peerContent(rng, form, lit)
			if rng.IntN(3) == 0 {
				p := pick(rng, []int{80, 8080, 443, 21, 25, 445})
				cond = fmt.Sprintf("tcp.dstport == %d && %s", p, cond)
				sur = fmt.Sprintf("tcp any any -> any %d (%s", p, sur)
			} else {
				cond = "tcp && " + cond
				sur = "tcp any any -> any any (" + sur
			}
		}
		fmt.Fprintf(&v, "  - sid: %d\n    name: peer %d\n    condition: '%s'\n", sid, i, cond)
		fmt.Fprintf(&s, "alert %s msg:\"peer %d\"; sid:%d; rev:1;)\n", sur, i, sid)
	}
	return v.String(), s.String(), nil
}

// peerContent returns a content test of lit in form, as a Vigil condition
// and as Suricata options.
func peerContent(rng *rand.Rand, form, lit string) (cond, sur string) {
	c := suricataContent(lit)
	switch form {
	case "icontains":
		return fmt.Sprintf("icontains(payload, %q)", lit), c + " nocase;"
	case "lower":
		return fmt.Sprintf("lower(payload) contains %q", strings.ToLower(lit)), c + " nocase;"
	case "startswith":
		return fmt.Sprintf("payload startsWith %q", lit), c + " startswith;"
	case "slice":
		depth := len(lit) + rng.IntN(64)
		return fmt.Sprintf("payload[0:%d] contains %q", depth, lit), fmt.Sprintf("%s depth:%d;", c, depth)
	}
	re := quoteRegex(lit) + "[0-9]{1,3}" + pick(rng, []string{"x", "[a-f]", "\\\\s"})
	return fmt.Sprintf("payload matches \"%s\"", re), fmt.Sprintf("%s pcre:\"/%s/\";", c, strings.ReplaceAll(re, `\\`, `\`))
}

// suricataContent writes lit as a Suricata content option, bytes other
// than letters, digits and a few safe signs in |hex|.
func suricataContent(lit string) string {
	var b strings.Builder
	b.WriteString(`content:"`)
	for i := 0; i < len(lit); i++ {
		c := lit[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(" ./_-=?&%", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "|%02x|", c)
		}
	}
	b.WriteString(`";`)
	return b.String()
}

// quoteRegex escapes lit for a regex inside a YAML single-quoted, expr
// double-quoted string: each metacharacter gets a backslash, doubled for
// expr.
func quoteRegex(lit string) string {
	var b strings.Builder
	for _, c := range lit {
		if strings.ContainsRune(`\.+*?()|[]{}^$/`, c) {
			b.WriteString(`\\`)
		}
		b.WriteRune(c)
	}
	return b.String()
}
