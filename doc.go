// Package vigil is the root of Vigil, a rule-based network IDS for
// CommView mirror streams. It holds no code; its test checks that every
// package keeps to its room (imports_test.go). The rooms, from the bottom:
//
//	ncf            the NCF record codec and CommView's injection framing (standard library only)
//	capture        NCF, pcap and pcapng files, detected by content (imports ncf)
//	rules/field    the packet view rules see: the field catalog (imports nothing of Vigil)
//	decode         frames decoded in place into the packet view; defrag, IP reassembly (imports rules/field)
//	rules          the rule language: YAML loading and compilation; index, the prefilter; defaults, the built-in set
//	rules/dfilter  Wireshark display filters translated into conditions (imports rules/field)
//	alerts         EVE JSON alerts, NATS subjects, the publisher, the embedded server (imports nothing of Vigil)
//	engine         the pipeline: sources, workers, flows, TCP streams, thresholds, responses, the CommView listener
//	cluster        the ingest and evaluate roles over NATS: packet batches, partitions, claims (imports engine, decode, alerts, ncf)
//	offline        rules over capture files: `vigil test` (imports engine, alerts, rules, capture)
//	daemon         `vigil run`: its roles, sensors, NATS, reloads, stats and metrics around the engine
//	daemon/ui      the web console of `vigil run --ui`: the page and its JSON API (imports alerts, rules)
//	tools          the traffic generator and the CommView stand-in (import ncf and capture)
//	cmd/vigil      the command line: flags, then one call
//
// Only cmd reads flags or the command line and ends the process.
package vigil
