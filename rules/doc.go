// Package rules is Vigil's rule language: YAML rule files compiled into a
// [Set] of rules whose conditions are expr programs over [field.Packet].
//
// # File format
//
// A rule file is a YAML mapping with five optional keys. Unknown keys are
// errors. Lists and macros are shared by all the files loaded together.
//
//	lists:                      # named lists: `tcp.dstport in admin_ports`
//	  admin_ports: [22, 23, 3389]
//	  bad_domains: ["evil.example", "bad.test"]
//	macros:                     # named sub-expressions, used as identifiers
//	  tcp_syn: tcp.flags.syn && !tcp.flags.ack
//	  uri: lower(urldecode(http.request.uri))   # a macro may be a value too
//	rules:
//	  - sid: 1000001            # integer > 0, unique across the files loaded together
//	    rev: 1                  # default 1
//	    name: Telnet connection attempt   # required
//	    description: ...
//	    severity: high          # critical|high|medium|low|info, default medium
//	    category: Attempted Administrator Privilege Gain   # EVE alert.category
//	    tags: [telnet, cleartext]
//	    enabled: true           # default true; disabled rules are compiled but not run
//	    override: false         # true: replace the rule of this sid loaded before (a built-in one, say)
//	    condition: tcp_syn && tcp.dstport in admin_ports  # required; plain, quoted or block (| >)
//	    # or, instead of condition, a Wireshark 4.0 display filter:
//	    # wireshark: tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.dstport in {22, 23, 3389}
//	    actions: [alert]        # alert (default) | reset; reset implies alert
//	    response: {target: both, strafe: 0}   # reset only: target both|source|dest, strafe 0..8
//	    message: "telnet to {{dest_ip}}:{{dest_port}} from {{src_ip}}"
//	    threshold: {type: limit, track: by_src, count: 1, seconds: 60}
//	    dedup: {track: by_flow, seconds: 60}
//	    exceptions:
//	      - {field: ip.src, values: ["10.0.0.0/8", "192.168.1.5"]}
//	    flowbits: {set: [login_seen], unset: [], toggle: []}
//	    tests:                  # Load (not LoadFS) checks that each capture exists
//	      - capture: ../testdata/captures/sv-telnet.pcap   # relative to this file
//	        frames: [1, 5]      # exactly these frames match
//	      - capture: other.pcap
//	        count: 3            # exactly this many matches (0: none)
//	suppress:                   # as Suricata's threshold.config
//	  - {sid: 1000001, track: by_src, ip: 10.0.0.5}   # ip: address or CIDR; track by_src|by_dst|by_either
//	disable: [2100202, 2100301] # disable rules of any file loaded together (built-in ones too) by sid
//
// Details:
//   - threshold follows Suricata: type limit (at most count alerts per
//     window), threshold (an alert every count-th match) or both (one
//     alert once count matches happened in the window); track by_src,
//     by_dst, by_both, by_flow or by_rule; seconds is the window; the
//     optional distinct names a field whose distinct values are counted
//     instead of packets (count is then at most 1024, [MaxDistinct]).
//     type, track, count and seconds are required.
//   - dedup folds repeats (per track, within seconds) into one alert and a
//     summary; both keys are required.
//   - exceptions are as Falco's: the alert is not raised when any exception
//     matches. Values of address fields (ip.src, ip.dst, ipv6.src,
//     ipv6.dst, src_ip, dest_ip, arp.src.proto_ipv4, arp.dst.proto_ipv4)
//     are addresses or CIDRs; values of other fields match exactly and must
//     have the field's type. Exceptions are compiled into the condition:
//     (condition) && !(exception || ...).
//   - flowbits are applied to the packet's flow when the rule matches.
//     Conditions test them with isset("name") and notset("name"). A set
//     may use at most 63 distinct names: bits 0..62 of flow.bits.
//   - message placeholders {{...}} hold a field name or any expression.
//   - suppress drops alerts of the sid whose source (by_src), destination
//     (by_dst) or either address is in ip; with neither track nor ip, every
//     alert of the sid is dropped. The sid must be loaded.
//   - override and disable act across the files loaded together
//     ([LoadSources]): an override with no earlier rule of its sid, and a
//     disable of a sid not loaded, are errors.
//
// # Conditions
//
// A condition is an expr expression (https://expr-lang.org) over the
// fields of [field.Catalog], named as in Wireshark's display filters, with
// these additions:
//   - a layer name written alone is a boolean, "present": `tcp && udp`,
//     `http.request`, `frame` (every catalog entry with Layer set);
//   - `frame` as an operand of contains, matches, startsWith or endsWith,
//     indexed, sliced, or passed to a string function means the frame's
//     bytes: `frame contains "passwd"`;
//   - a bool compared with 0 or 1 is compared with false or true, as
//     Wireshark users write `tcp.flags.syn == 1`;
//   - `payload contains "lit"`, `icontains(payload, "lit")`, `payload
//     matches "re"`, and the same with lower(payload) or upper(payload),
//     also look at the TCP stream, as a Suricata content match does:
//     each becomes `(test || same test on the stream view)`.
//     The stream view (tcp.reassembled.data, filled by the engine) holds
//     the bytes this segment made available in order, after up to 255
//     earlier bytes of its direction; a literal must end in the new bytes
//     (the view is sliced to its last tcp.reassembled.new_length +
//     len(lit) - 1 bytes), so text split over segments matches once, on
//     the segment that completes it. A regex sees the whole view. Other
//     uses of payload (len, slices, startsWith, endsWith, functions) mean
//     the packet's own bytes;
//   - list names become array literals and macro names their conditions
//     (macros may use lists and other macros; cycles are errors);
//   - a field that a frame may carry several times (field.Field.Multi:
//     vlan.id, mpls.label, gre.proto, ...) compared with a value (==, <,
//     <=, >, >=, in) holds when any of its values satisfies the
//     comparison, and F != v when none equals v, as in Wireshark 4; a
//     frame without the header has the one value 0; anywhere else the
//     field is its first value. Two such fields cannot be compared with
//     each other. The comparison is rewritten into any (or none) over
//     the values, which the closures and the prefilter index also read.
//
// Either-side names stand for both sides of a packet, as in Wireshark:
// ip.addr, ip.host (ip.src, ip.dst), ipv6.addr, eth.addr, tcp.port and
// udp.port. Compared with a value (==, <, <=, >, >=, in, contains,
// matches, startsWith, endsWith) they hold when either side does, and
// F != v when neither side equals v; cidr(ip.addr, p) holds when either
// address is in p. Anywhere else they are errors.
//
// # Display filters
//
// A rule may give `wireshark:` instead of `condition:`: a Wireshark 4.0
// display filter, translated (package dfilter documents the grammar and
// semantics) into a condition in the forms above, so a filter rule is
// indexed and evaluated as the same condition would be. Unlike a
// condition, a filter's test of a field is false where the field is
// absent, and its payload tests (tcp.payload, udp.payload, data.data)
// see the packet's own bytes, not the stream. [ParseFilter] compiles a
// filter alone.
//
// Functions available in conditions, besides expr's built-ins (contains,
// startsWith, endsWith, matches, in, len, lower, upper, trim, ...):
//
//	cidr(addr string, prefix string) bool   addr is inside prefix (IPv4 or IPv6; a lone address is a full-length prefix)
//	hex(s string) string                    bytes written in hex ("de ad be ef"), folded at compile time
//	icontains(s string, sub string) bool    s contains sub, ignoring ASCII case
//	byte_at(s string, off int) int          the byte at off, -1 when out of range
//	u16(s string, off int) int              big-endian 16-bit number at off, -1 when out of range
//	u32(s string, off int) int              big-endian 32-bit number at off, -1 when out of range
//	b64decode(s string) string              base64-decoded s, "" when not base64
//	urldecode(s string) string              %XX and + decoded, malformed escapes kept
//	isset("name") bool                      the flowbit is set on the packet's flow
//	notset("name") bool                     the flowbit is not set
//
// [Functions] returns the same list for the command line.
//
// # Errors
//
// [Load], [LoadFS] and [Parse] report every problem of every file at once
// as an [ErrorList], each entry "file:line:col: message" pointing at the
// offending character, inside conditions too:
//
//	rules/web.yaml:14:16: unknown field "tcp.dstprt" (did you mean "tcp.dstport"?)
//
// # Compiled form
//
// A [Set] lists [Rule] values in load order. Rule.Program is the compiled
// condition (exceptions included) returning a bool; run it with an
// [Evaluator], one per worker goroutine. Rule.Node is the patched and
// expanded AST after expr's optimizer (constants folded; `x in [...]`
// over constants becomes a ConstantNode holding a map), for a prefilter
// index. Flowbit masks, threshold, dedup, response and suppression are
// typed values the engine uses as they are, with nothing left to parse:
// words are enums ([ThresholdType], [Track], [SuppressTrack], [Target]),
// windows are time.Duration values, a distinct field is a resolved
// [field.Slot] and a suppression address a masked netip.Prefix. The
// package keeps no run-time state.
//
// Conditions built only from field loads, literals, comparisons (of
// fields with several values too), boolean logic, string operators,
// constant `in` sets and the functions that cannot fail (cidr with a
// constant prefix, icontains, byte_at, u16, u32, len) are also compiled
// into Go closures that read the Packet in place: the
// Evaluator runs those without the VM and without allocating. Others run
// on the VM (which boxes each loaded field: about one allocation per load).
// Both give the same result; tests and the fuzz target compare them.
//
// Of Vigil the rules room (this package, field, index and defaults) imports
// only itself: the rule language knows no engine or alerts.
package rules
