package index

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-ids/vigil/decode"
	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/rules/field"
)

func TestExplain(t *testing.T) {
	tests := []struct {
		cond    string
		keys    string
		indexed bool
		why     string
	}{
		{cond: "tcp.dstport == 23", keys: "tcp.dstport==23", indexed: true},
		{cond: "tcp && tcp.dstport == 23", keys: "tcp.dstport==23 (then tcp.present)", indexed: true},
		{cond: "23 == tcp.dstport && tcp.flags.syn && ip.ttl > 1", keys: "tcp.dstport==23 (then tcp.flags.syn && ip.ttl!=0)", indexed: true},
		{cond: "tcp.dstport in [80, 443]", keys: "(tcp.dstport==80 || tcp.dstport==443)", indexed: true},
		{cond: "udp.dstport == 53 || tcp.dstport == 53", keys: "(udp.dstport==53 || tcp.dstport==53)", indexed: true},
		{cond: "tcp && payload contains \"passwd\"", keys: `(payload∋"passwd" || tcp.reassembled.data∋"passwd") (then tcp.present)`, indexed: true},
		{cond: "frame contains \"root\"", keys: `frame.bytes∋"root"`, indexed: true},
		{cond: `payload startsWith "GET "`, keys: `payload^="GET "`, indexed: true},
		{cond: `icontains(payload, "Admin")`, keys: `(payload∋i"Admin" || tcp.reassembled.data∋i"Admin")`, indexed: true},
		{cond: `payload contains hex("de ad be ef")`, keys: `(payload∋"\xde\xad\xbe\xef" || tcp.reassembled.data∋"\xde\xad\xbe\xef")`, indexed: true},
		{cond: `http.request.method in ["GET", "POST"]`, keys: `(http.request.method^="GET" || http.request.method^="POST")`, indexed: true},
		{cond: "ip.ttl > 200", keys: "ip.ttl!=0", indexed: true},
		{cond: "tcp.flags.syn == 1 && !tcp.flags.ack", keys: "tcp.flags.syn", indexed: true},
		{cond: `udp.dstport == 53 && payload contains "abc"`, keys: `udp.dstport==53 && (payload∋"abc" || tcp.reassembled.data∋"abc")`, indexed: true},
		{cond: `(tcp.dstport == 80 || tcp.dstport == 8080) && http.request`, keys: "(tcp.dstport==80 || tcp.dstport==8080) (then http.request.present)", indexed: true},
		{cond: "udp.dstport in 1..1024", keys: "udp.dstport!=0", indexed: true},
		{cond: "false && tcp.dstport == 1", keys: "false", indexed: true},
		{cond: "vlan.id == 300", keys: "vlan.id==300", indexed: true},
		{cond: "vlan.id in [200, 300] && tcp", keys: "(vlan.id==200 || vlan.id==300) (then tcp.present)", indexed: true},
		{cond: "mpls.label > 16", keys: "mpls.label!=0", indexed: true},
		{cond: "ip.ttl < 5", keys: "always", why: "no equality, presence or literal test on an indexed field"},
		{cond: "tcp.dstport == 23 || payload contains \"x\"", keys: "always", why: "|| at top level without a key in every branch"},
		{cond: "!tcp", keys: "always", why: "negation only"},
		{cond: `dns.qry.name contains "evil"`, keys: `dns.qry.name∋"evil"`, indexed: true},
		{cond: `ip.src == "10.0.0.7"`, keys: `ip.src^="10.0.0.7"`, indexed: true},
		{cond: `any(["evil.com", "bad.org"], {dns.qry.name endsWith #})`, keys: `(dns.qry.name∋"evil.com" || dns.qry.name∋"bad.org")`, indexed: true},
		{cond: `any(["/etc/passwd", "/bin/sh"], {icontains(payload, #)})`, keys: `(payload∋i"/etc/passwd" || payload∋i"/bin/sh")`, indexed: true},
		{cond: `any([22, 23], {tcp.dstport == #})`, keys: `(tcp.dstport==22 || tcp.dstport==23)`, indexed: true},
		{cond: `any(["a", "b"], {len(#) > 3})`, keys: "always", why: "no equality, presence or literal test on an indexed field"},
		{cond: `ip.dst in ["10.0.0.7", "10.0.0.9"] && tcp`, keys: `(ip.dst^="10.0.0.7" || ip.dst^="10.0.0.9") (then tcp.present)`, indexed: true},
		// the forms users write: case mappings, slices, regexes
		{cond: `lower(payload) contains "select"`, keys: `(payload∋i"select" || tcp.reassembled.data∋i"select")`, indexed: true},
		// KELVIN SIGN lowers to k, U+0130 to i: each spelling is a literal
		{cond: `lower(frame) contains "kill"`, keys: `(frame.bytes∋i"kill" || frame.bytes∋i"k\xc4\xb0ll" || frame.bytes∋i"\xe2\x84\xaaill" || frame.bytes∋i"\xe2\x84\xaa\xc4\xb0ll")`, indexed: true},
		{cond: `lower(payload) contains "kiki-kiki1234"`, keys: `(payload∋i"1234" || tcp.reassembled.data∋i"1234")`, indexed: true}, // 256 spellings: the rarest piece
		{cond: `upper(http.request.uri) contains "/ADMIN"`, keys: `(http.request.uri∋i"/ADMIN" || http.request.uri∋i"/ADM\xc4\xb1N")`, indexed: true},
		{cond: `payload[0:4] == "GET "`, keys: `payload∋"GET "`, indexed: true},
		{cond: `lower(payload[0:16]) startsWith "get "`, keys: `payload∋i"get "`, indexed: true},
		{cond: `lower(http.request.method) == "post"`, keys: `http.request.method^=i"post"`, indexed: true},
		{cond: `lower(http.request.method) in ["get", "post"]`, keys: `(http.request.method^=i"get" || http.request.method^=i"post")`, indexed: true},
		{cond: `"get" == lower(http.request.method)`, keys: `http.request.method^=i"get"`, indexed: true},
		{cond: `payload matches "(?i)union\\s+select"`, keys: `(payload∋i"union" || tcp.reassembled.data∋i"union")`, indexed: true},
		{cond: `payload matches "^(GET|POST) /admin"`, keys: `(payload∋"GET /admin" || payload∋"POST /admin" || tcp.reassembled.data∋"GET /admin" || tcp.reassembled.data∋"POST /admin")`, indexed: true},
		{cond: `http.request.uri matches "\\.(php|asp)\\?id="`, keys: `(http.request.uri∋".asp?id=" || http.request.uri∋".php?id=")`, indexed: true},
		{cond: `frame matches "[0-9]+abc"`, keys: `frame.bytes∋"abc"`, indexed: true},
		{cond: `frame matches "(?i)kis"`, keys: `(frame.bytes∋i"kis" || frame.bytes∋i"ki\xc5\xbf" || frame.bytes∋i"\xe2\x84\xaais" || frame.bytes∋i"\xe2\x84\xaai\xc5\xbf")`, indexed: true}, // (?i)k matches KELVIN SIGN, (?i)s LONG S
		{cond: `frame matches "a.c"`, keys: `frame.bytes∋"a"`, indexed: true},
		{cond: `frame matches "x*|y"`, keys: "always", why: "no equality, presence or literal test on an indexed field"},
		{cond: `payload matches "x*"`, keys: "always", why: "|| at top level without a key in every branch"},
		{cond: `lower(dns.qry.name) contains "evil"`, keys: `(dns.qry.name∋i"evil" || dns.qry.name∋i"ev\xc4\xb0l")`, indexed: true},
		{cond: `lower(ncf.direction) contains "in"`, keys: "always", why: "no equality, presence or literal test on an indexed field"},
	}
	conds := make([]string, len(tests))
	for i, tt := range tests {
		conds[i] = tt.cond
	}
	ex := Build(parse(t, conds, nil)).Explain()
	for i, tt := range tests {
		e := ex[i]
		if e.Pos != i || e.SID != i+1 || e.Keys != tt.keys || e.Indexed != tt.indexed || e.Why != tt.why {
			t.Errorf("%s: got %+v, want keys %q indexed %v why %q", tt.cond, e, tt.keys, tt.indexed, tt.why)
		}
	}
}

// naive returns the rules of rs that match p, evaluating all of them.
func naive(ev *rules.Evaluator, rs []*rules.Rule, p *field.Packet, dst []int) []int {
	for i, r := range rs {
		if ok, _ := ev.Eval(r, p); ok {
			dst = append(dst, i)
		}
	}
	return dst
}

// indexed returns the rules of rs that match p, evaluating candidates.
func indexed(ix *Index, ev *rules.Evaluator, rs []*rules.Rule, p *field.Packet, cands, dst []int) ([]int, []int) {
	cands = ix.Candidates(p, cands[:0])
	for _, i := range cands {
		if ok, _ := ev.Eval(rs[i], p); ok {
			dst = append(dst, i)
		}
	}
	return cands, dst
}

// TestEquivalence is the proof that the index changes nothing but speed:
// thousands of generated rules over every frame of the test captures
// match the same frames whether all rules run or only the candidates.
func TestEquivalence(t *testing.T) {
	pkts := loadPackets(t)
	g := newGen(7, pkts)
	n := 2000
	if testing.Short() {
		n = 400
	}
	conds := make([]string, n)
	excs := make([]string, n)
	for i := range conds {
		conds[i] = g.cond(g.r.IntN(4))
		excs[i] = g.exception()
	}
	rs := parse(t, conds, excs)
	ix := Build(rs)
	// two workers, as the engine would run them: an Evaluator and an
	// Index clone each
	type result struct {
		matches, cands int
		err            string
	}
	const workers = 2
	res := make([]result, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ev rules.Evaluator
			wix := ix.Clone()
			var want, got, cands []int
			r := &res[w]
			for i := w; i < len(pkts); i += workers {
				p := &pkts[i]
				want = naive(&ev, rs, p, want[:0])
				cands, got = indexed(wix, &ev, rs, p, cands, got[:0])
				if !slices.IsSorted(cands) || len(slices.Compact(slices.Clone(cands))) != len(cands) {
					r.err = fmt.Sprintf("frame %d: candidates not ascending and distinct: %v", i+1, cands)
					return
				}
				for _, m := range want {
					if !slices.Contains(got, m) {
						r.err = fmt.Sprintf("frame %d: rule %d matches but is no candidate: %s (keys %s)", i+1, m, conds[m], ix.Explain()[m].Keys)
						return
					}
				}
				if len(got) != len(want) {
					r.err = fmt.Sprintf("frame %d: indexed matches %v, naive %v", i+1, got, want)
					return
				}
				r.matches += len(want)
				r.cands += len(cands)
			}
		}()
	}
	wg.Wait()
	var matches, candTotal int
	for _, r := range res {
		if r.err != "" {
			t.Fatal(r.err)
		}
		matches += r.matches
		candTotal += r.cands
	}
	evals := len(rs) * len(pkts)
	unindexed := 0
	for _, e := range ix.Explain() {
		if !e.Indexed {
			unindexed++
		}
	}
	t.Logf("%d rules (%d unindexed) × %d frames: %d matches; %d candidate evaluations instead of %d (%.1f%%)",
		len(rs), unindexed, len(pkts), matches, candTotal, evals, 100*float64(candTotal)/float64(evals))
	if matches == 0 {
		t.Fatal("no rule matched any frame: the test proves nothing")
	}
}

// TestTextOutsideFrame: a text field that is not a slice of the frame
// (a packet built by hand) keeps its literal rules as candidates.
func TestTextOutsideFrame(t *testing.T) {
	rs := parse(t, []string{`payload contains "passwd"`, `http.host == "example.com"`, `tcp.dstport == 23`}, nil)
	ix := Build(rs)
	tests := []struct {
		name string
		p    field.Packet
		want []int
	}{
		{"payload elsewhere", field.Packet{Payload: "user passwd"}, []int{0}},
		{"payload elsewhere, frame set", field.Packet{Payload: "user passwd", Frame: field.Frame{Bytes: "xxuser passwd"}}, []int{0}},
		{"host elsewhere", field.Packet{HTTP: field.HTTP{Host: "example.com"}}, []int{1}},
		{"empty", field.Packet{TCP: field.TCP{DstPort: 23}}, []int{2}},
	}
	for _, tt := range tests {
		got := ix.Candidates(&tt.p, nil)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
	// the same payload as a slice of the frame: found, and not found
	frame := "\x00\x01user passwd"
	p := field.Packet{Frame: field.Frame{Bytes: frame}, Payload: frame[2:]}
	if got := ix.Candidates(&p, nil); !slices.Equal(got, []int{0}) {
		t.Errorf("payload in frame: got %v, want [0]", got)
	}
	frame = "passwd: user"
	p = field.Packet{Frame: field.Frame{Bytes: frame}, Payload: frame[7:]}
	if got := ix.Candidates(&p, nil); len(got) != 0 {
		t.Errorf("literal in the frame before the payload: got %v, want none", got)
	}
}

// TestMirroredPayload: when the stream view ends with the payload, the
// view's copy is not scanned; a literal anywhere in the view (before the
// copy, across its start, inside, at its end) must still be found, and
// one the view does not hold must not.
func TestMirroredPayload(t *testing.T) {
	const earlier, payload = "ABCDEFGHIJKLMNOP", "abcdefghijklmnopqrstuvwxyz0123456789"
	view := strings.Clone(earlier + payload) // a buffer of its own, as the engine's
	var conds []string
	for i := range len(view) {
		for l := 1; l <= 10 && i+l <= len(view); l++ {
			conds = append(conds, fmt.Sprintf("tcp.reassembled.data contains %q", view[i:i+l]))
		}
	}
	conds = append(conds, `tcp.reassembled.data contains "PQ"`, `tcp.reassembled.data startsWith "ABC"`, `tcp.reassembled.data startsWith "abc"`)
	rs := parse(t, conds, nil)
	ix := Build(rs)
	frame := "\x45\x00hdr" + payload
	for _, c := range []struct {
		v    string
		tail bool
	}{{view, true}, {view, false}, {strings.Clone("xx" + payload + "!"), false}} {
		v := c.v
		p := field.Packet{Frame: field.Frame{Bytes: frame}, Payload: frame[5:], TCP: field.TCP{Present: true}}
		p.Meta.Stream, p.Meta.StreamTail = v, c.tail
		p.TCP.Reassembled = field.TCPReassembled{Data: v, NewLength: len(payload)}
		var ev rules.Evaluator
		want := naive(&ev, rs, &p, nil)
		_, got := indexed(ix, &ev, rs, &p, nil, nil)
		if !slices.Equal(got, want) {
			t.Errorf("view %q: indexed %d matches, naive %d", v, len(got), len(want))
			for _, m := range want {
				if !slices.Contains(got, m) {
					t.Errorf("%s matches but is no candidate", conds[m])
				}
			}
		}
		if len(want) < 10 {
			t.Fatalf("view %q: %d matches: the test proves nothing", v, len(want))
		}
	}
}

// TestCaseMappedLiterals: lower(), upper() and case-insensitive regexes
// reach ASCII letters from non-ASCII runes (KELVIN SIGN, LONG S, DOTTED
// CAPITAL I); a rule matching through one must stay a candidate.
func TestCaseMappedLiterals(t *testing.T) {
	conds := []string{
		`lower(payload) contains "kill"`,
		`lower(payload) == "id"`,
		`upper(payload) contains "SIGN"`,
		`upper(payload) contains "KISS"`,
		`payload matches "(?i)kiss"`,
		`payload matches "(?i)risk"`,
		`lower(payload) contains "é"`,
	}
	payloads := []string{"\u212aill", "\u0130d", "\u017fign", "kı\u017f\u017f", "\u212ai\u017f\u017f", "RI\u017fK", "É"}
	rs := parse(t, conds, nil)
	ix := Build(rs)
	var ev rules.Evaluator
	for i, pl := range payloads {
		frame := "\x00\x00" + pl
		p := field.Packet{Frame: field.Frame{Bytes: frame}, Payload: frame[2:]}
		if ok, err := ev.Eval(rs[i], &p); !ok || err != nil {
			t.Fatalf("%s on %q: %v %v, want a match (the test proves nothing)", conds[i], pl, ok, err)
		}
		if got := ix.Candidates(&p, nil); !slices.Contains(got, i) {
			t.Errorf("%s matches %q but is no candidate (keys %s)", conds[i], pl, ix.Explain()[i].Keys)
		}
	}
}

// TestCandidatesNoAlloc: the per-packet path allocates nothing once dst
// has room.
func TestCandidatesNoAlloc(t *testing.T) {
	pkts := loadPackets(t, "sv-http-testmyids.pcap", "sv-dns-dhcp-sofacy.pcap", "sv-telnet.pcap")
	g := newGen(11, pkts)
	conds := make([]string, 300)
	for i := range conds {
		conds[i] = g.cond(2)
	}
	ix := Build(parse(t, conds, nil))
	dst := make([]int, 0, len(conds))
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		dst = ix.Candidates(&pkts[i%len(pkts)], dst[:0])
		i++
	})
	if allocs != 0 {
		t.Fatalf("Candidates: %.1f allocs per packet, want 0", allocs)
	}
}

// TestClone: clones answer alike and do not share scratch.
func TestClone(t *testing.T) {
	pkts := loadPackets(t, "sv-http-testmyids.pcap")
	g := newGen(3, pkts)
	conds := make([]string, 200)
	for i := range conds {
		conds[i] = g.cond(2)
	}
	ix := Build(parse(t, conds, nil))
	c := ix.Clone()
	for i := range pkts {
		a := ix.Candidates(&pkts[i], nil)
		b := c.Candidates(&pkts[i], nil)
		if !slices.Equal(a, b) {
			t.Fatalf("frame %d: index %v, clone %v", i+1, a, b)
		}
	}
	if ix.Len() != len(conds) || c.Len() != len(conds) {
		t.Fatalf("Len: %d, %d; want %d", ix.Len(), c.Len(), len(conds))
	}
}

func TestBuildEmpty(t *testing.T) {
	ix := Build(nil)
	if got := ix.Candidates(&field.Packet{}, nil); len(got) != 0 {
		t.Fatalf("empty index gave %v", got)
	}
	if len(ix.Explain()) != 0 {
		t.Fatal("empty index explains rules")
	}
}

// fuzzRules is a fixed rule set for FuzzCandidates, built once.
var fuzzRules []*rules.Rule
var fuzzIndex *Index

// FuzzCandidates decodes arbitrary frames and checks that every rule the
// naive engine matches is a candidate.
func FuzzCandidates(f *testing.F) {
	pkts := loadPackets(f, "sv-http-testmyids.pcap", "sv-dns-dhcp-sofacy.pcap", "sv-telnet.pcap", "sv-vlan-qinq.pcap")
	if fuzzRules == nil {
		g := newGen(5, pkts)
		conds := make([]string, 300)
		for i := range conds {
			conds[i] = g.cond(g.r.IntN(3))
		}
		fuzzRules = parse(f, conds, nil)
		fuzzIndex = Build(fuzzRules)
	}
	for i := 0; i < len(pkts); i += 7 {
		f.Add([]byte(pkts[i].Frame.Bytes))
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		var p field.Packet
		_ = decode.New().Decode(&p, decode.Ethernet, frame)
		withStream(&p, string(frame[:len(frame)/2]))
		var ev rules.Evaluator
		want := naive(&ev, fuzzRules, &p, nil)
		_, got := indexed(fuzzIndex, &ev, fuzzRules, &p, nil, nil)
		if !slices.Equal(want, got) {
			t.Fatalf("naive %v, indexed %v", want, got)
		}
	})
}

// TestEquivalenceSmallSets runs many small rule sets, so that packets with
// at most directMax literal rules in play take the direct literal search
// rather than the automaton; it must agree with naive evaluation as well.
func TestEquivalenceSmallSets(t *testing.T) {
	pkts := loadPackets(t)
	g := newGen(11, pkts)
	var ev rules.Evaluator
	var want, got, cands []int
	for set := 0; set < 60; set++ {
		conds := make([]string, 1+g.r.IntN(directMax+2))
		for i := range conds {
			if g.r.IntN(3) == 0 {
				conds[i] = g.cond(g.r.IntN(3))
			} else {
				conds[i] = g.content()
			}
		}
		rs := parse(t, conds, nil)
		ix := Build(rs)
		for i := range pkts {
			p := &pkts[i]
			want = naive(&ev, rs, p, want[:0])
			cands, got = indexed(ix, &ev, rs, p, cands, got[:0])
			if !slices.Equal(want, got) {
				t.Fatalf("set %d %q, frame %d: indexed %v, naive %v", set, conds, i+1, got, want)
			}
		}
	}
}

// TestFiledPart checks which part of a literal the automaton looks for: the
// rarest-looking one, the prefix when the literal is anchored.
func TestFiledPart(t *testing.T) {
	for _, c := range []struct {
		lit      string
		anchored bool
		want     string
	}{
		{"User-Agent: sqlmap314", false, "qlmap314"},
		{"User-Agent: sqlmap314", true, "User-Agent: sqlmap314"}, // capFold then keeps the prefix
		{"passwd", false, "passwd"},
		{"GET /etc/passwd HTTP", false, "c/passwd"},
	} {
		if got := filedPart(c.lit, c.anchored); got != c.want {
			t.Errorf("filedPart(%q, %v) = %q, want %q", c.lit, c.anchored, got, c.want)
		}
	}
}

// TestRarestWindow checks the fingerprints the vectorised and q-gram
// filters key literals by: a letter next to a digit is rarer in text than
// digits together or letters next to punctuation.
func TestRarestWindow(t *testing.T) {
	for _, c := range []struct {
		s    string
		n    int
		want string
	}{
		{"record9409", 3, "d94"},
		{"news7965", 3, "s79"},
		{"GET /etc/passwd", 3, "c/p"},
		{"20240101", 3, "101"},
		{"x", 1, "x"},
	} {
		if i := rarestWindow(c.s, c.n); c.s[i:i+c.n] != c.want {
			t.Errorf("rarestWindow(%q, %d) = %q, want %q", c.s, c.n, c.s[i:i+c.n], c.want)
		}
	}
}

// TestGatedLiterals: literal rules whose only header test is too common to
// file (http.request here) are gated by it; they must still be candidates
// on every packet where they match.
func TestGatedLiterals(t *testing.T) {
	pkts := loadPackets(t)
	conds := []string{
		`http.request && icontains(http.request.uri, "/")`,
		`http.request && http.user_agent contains "curl"`,
		`tcp.dstport == 80 && payload contains "GET"`,
	}
	rs := parse(t, conds, nil)
	ix := Build(rs)
	if ix.t.ungated || len(ix.t.gates) == 0 {
		t.Fatalf("rules not gated (ungated %v, gates %d): the test needs gated rules", ix.t.ungated, len(ix.t.gates))
	}
	var ev rules.Evaluator
	var want, got, cands []int
	matched := 0
	for i := range pkts {
		p := &pkts[i]
		want = naive(&ev, rs, p, want[:0])
		cands, got = indexed(ix, &ev, rs, p, cands, got[:0])
		if !slices.Equal(want, got) {
			t.Fatalf("frame %d: indexed %v, naive %v", i+1, got, want)
		}
		matched += len(want)
	}
	if matched == 0 {
		t.Fatal("no rule matched any packet")
	}
}

// TestHeaderKeyNarrows: a rule filed under a header key and a literal is
// a candidate only where its key holds, however common its literal, and
// once however many of its keys hold.
func TestHeaderKeyNarrows(t *testing.T) {
	pkts := loadPackets(t)
	ports := []int{80, 443, 53, 21, 8080}
	var conds []string
	for _, port := range ports {
		for _, lit := range []string{"GET", "HTTP", "e", "\x00"} {
			conds = append(conds, fmt.Sprintf("tcp.dstport == %d && payload contains %q", port, lit))
		}
	}
	conds = append(conds, `(tcp.srcport == 80 || tcp.dstport == 80) && payload contains "HTTP"`)
	for i := range 40 { // more literal rules than are looked for one by one
		conds = append(conds, fmt.Sprintf(`tcp && payload contains "absent%d"`, i))
	}
	rs := parse(t, conds, nil)
	ix := Build(rs)
	var cands []int
	held := 0
	for i := range pkts {
		p := &pkts[i]
		cands = ix.Candidates(p, cands[:0])
		for k, r := range cands {
			if k > 0 && cands[k-1] == r {
				t.Fatalf("frame %d: rule %d twice in %v", i+1, r, cands)
			}
			switch {
			case r < 4*len(ports):
				if port := ports[r/4]; !p.TCP.Present || p.TCP.DstPort != port {
					t.Fatalf("frame %d: %s a candidate on a packet to port %d", i+1, conds[r], p.TCP.DstPort)
				}
				held++
			case r == 4*len(ports):
				if p.TCP.SrcPort != 80 && p.TCP.DstPort != 80 {
					t.Fatalf("frame %d: %s a candidate between ports %d and %d", i+1, conds[r], p.TCP.SrcPort, p.TCP.DstPort)
				}
			}
		}
	}
	if held == 0 {
		t.Fatal("no keyed rule was ever a candidate: the test proves nothing")
	}
}
