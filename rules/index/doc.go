// Package index is the rule prefilter: it files each compiled rule under
// what a packet must have for the rule's condition to be true, and per
// packet returns the few rules worth evaluating.
//
// # What is indexed
//
// Build walks each rule's patched AST (rules.Rule.Node) and derives a key
// of up to two parts, both necessary conditions:
//
//   - a header part: equality of an integer field with a constant
//     (tcp.dstport == 23, ip.proto in [6, 17]), a bool field that must be
//     true (tcp.present, which a bare `tcp` becomes, tcp.flags.syn), or an
//     integer field that must be non-zero because it is ordered against a
//     constant that excludes 0 (ip.ttl > 5);
//   - a literal part: a constant that a text field must contain (contains,
//     startsWith, endsWith, icontains, hasPrefix, hasSuffix, == and in on
//     strings; hex("...") is a string constant by then), for text fields
//     the decoder slices from the frame (payload, frame.bytes, http.*,
//     ftp.*, tls SNI, ssh.protocol), from the engine's stream buffers
//     (tcp.reassembled.data in field.Meta.Stream; application fields of a
//     message taken from the stream in field.Meta.App) or from its own
//     buffers (addresses as text in field.Meta.Scratch: ip.src ==
//     "10.0.0.7" is a literal at the start of ip.src; dns.qry.name in
//     field.Meta.Name). The haystack may
//     be a slice of the field (the literal is then filed unanchored) or
//     lower()/upper() of either (the literal is then matched with ASCII
//     case ignored, in each of its spellings: KELVIN SIGN lowers to k, so
//     `lower(x) contains "kit"` also looks for "\u212ait"). A `matches`
//     regex gives the literals one of
//     which every match contains, found in its parse tree (regexp/syntax)
//     as RE2's and Hyperscan's prefilters do: exact sets through
//     concatenations and small alternations and classes, a required set
//     where a part is unknown (regex.go).
//
// Each part is a disjunction of atoms. For a && b the rarer part of each
// kind is kept; for a || b a part is kept only when both branches have one
// (their atoms united); negations, regexes, function results and other
// tests add nothing. A rule with neither part is unindexed and is a
// candidate for every packet; Explain says which and why.
//
// Per packet, header atoms are looked up per field (a 64 K-bit map of the
// small values, then a Go map), and one pass over the part of the frame
// that holds the text sources (and one over the part of each other text
// area that holds sources) finds the literals, only when a rule with a
// literal part is still in play: a q-gram Bloom filter with
// verification, testing one position in up to four, or, for a set with
// a literal of under four bytes (which would make that filter test every
// position), a hand-written Aho–Corasick DFA while its table fits (see
// matcher and qgram for why and how). Built with GOEXPERIMENT=simd on
// amd64 and run on a CPU with AVX2, sets of up to 128 literals are found
// instead by a Teddy-style filter, 32 text bytes per step (teddy.go); on
// a CPU with AVX-512 VBMI, sets of up to 384, 64 text bytes per step with
// full-byte tables; it reports the same occurrences, and texts under 34
// bytes still go to the scalar matchers. In larger sets it takes the few patterns (up to 32)
// too short for the q-gram filter's full stride, which then tests one
// position in four for the others (qsplit). A conjunction's other header tests
// (the `tcp.flags.syn` of `tcp.dstport == 23 && tcp.flags.syn`) are
// checked before a rule is returned, and a literal rule's common header
// part (`tcp`) only after its literal was found; rules with a literal and
// no filed header key that share such parts have them tested once per
// packet for all of them.
//
// # Soundness
//
// Candidates must never leave out a rule that matches. The argument:
//
//  1. Every atom is implied by the truth of the leaf it comes from, under
//     expr's semantics: int == int is numeric equality; `in` on constants
//     is equality with one of them; contains/startsWith/endsWith/
//     hasPrefix/hasSuffix/== on strings imply that the constant occurs in
//     the field; icontains implies it occurs with ASCII case ignored; a
//     bool member that is true is true; x > c with c >= 0 (and the like)
//     excludes x == 0; `false` and `x in []` are never true (an empty
//     disjunction). && and || combine as analyze documents, so the rule's
//     key holds whenever the condition is true.
//  2. Atoms are checked against the very values the condition reads: the
//     index reads each field at its offset in field.Packet (found by
//     reflection over the expr tags at build time), never assuming that an
//     absent layer's fields are zero.
//  3. Literals: a literal can only occur in a text field where its first
//     maxPattern bytes occur folded to lower case, which is what the
//     automaton looks for. A text field is located in one of the text
//     areas (the frame, the engine's stream buffers, the decoder's own
//     buffers) by address; a match counts for it only inside its window
//     (at its start for anchored tests). A non-empty text field that is a
//     slice of none of them counts as containing every literal, so the
//     rule stays a candidate.
//  4. A rule is returned when its header part (if any) holds and its
//     literal part (if any) holds; rules with neither are always
//     returned.
//
// The equivalence test checks the whole argument against the naive
// engine: thousands of generated rules over every frame of the test
// captures give the same matches whether every rule is evaluated or only
// the candidates.
//
// It imports the rule language (rules, rules/field) and nothing else of
// Vigil; the engine builds one Index per worker.
package index
