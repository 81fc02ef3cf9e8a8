package gen

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Rules returns a rule file of n generated rules shaped like a real rule
// pack: about 60% header rules (ports, protocols, TTLs, ICMP types, TCP
// flags) and 40% content rules (a 4–20 byte literal beside a port or the
// HTTP layer), which seldom match. Sids start at 100000. The same n and
// seed give the same file.
func Rules(n int, seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, 1))
	words := []string{"passwd", "cmd.exe", "/etc/shadow", "select%20", "union select", "<script>", "powershell", "wget http", "/bin/sh", "base64_decode", "eval(", "xp_cmdshell", "../../", "%00", "jndi:ldap", "User-Agent: sqlmap", "nikto", "masscan", "() { :;};", "/cgi-bin/"}
	var b strings.Builder
	b.WriteString("rules:\n")
	for i := range n {
		port := 1024 + rng.IntN(60000)
		var cond string
		switch k := rng.IntN(10); {
		case k < 2:
			cond = fmt.Sprintf("tcp.dstport == %d && tcp.flags.syn && !tcp.flags.ack", port)
		case k < 3:
			cond = fmt.Sprintf("udp.dstport == %d && udp.length > %d", port, 100+rng.IntN(400))
		case k < 4:
			cond = fmt.Sprintf("ip.ttl == %d && ip.proto == 6 && tcp.dstport == %d", 1+rng.IntN(4), port)
		case k < 5:
			cond = fmt.Sprintf("icmp.type == %d && icmp.code == %d", 13+rng.IntN(5), rng.IntN(3))
		case k < 6:
			cond = fmt.Sprintf("tcp.srcport == %d && tcp.len > 1000", port)
		case k < 8:
			lit := fmt.Sprintf("%s%d", words[rng.IntN(len(words))], rng.IntN(1000))
			cond = fmt.Sprintf("tcp.dstport == %d && payload contains %q", []int{80, 8080, 443, 21, 25, 445}[rng.IntN(6)], lit)
		default:
			lit := fmt.Sprintf("%s%d", words[rng.IntN(len(words))], rng.IntN(1000))
			cond = fmt.Sprintf("http.request && icontains(http.request.uri, %q)", lit)
		}
		fmt.Fprintf(&b, "  - sid: %d\n    name: generated %d\n    condition: '%s'\n", 100000+i, i, cond)
	}
	return b.String()
}
