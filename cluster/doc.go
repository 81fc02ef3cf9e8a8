// Package cluster spreads Vigil over processes and machines through NATS:
// `vigil run --role ingest` holds the CommView sensor connections and
// publishes their packets; any number of `vigil run --role evaluate`
// processes evaluate them and publish the alerts as one process would.
//
// Packets travel in batches (the binary layout is in batch.go; no JSON)
// on the JetStream work-queue stream PacketStream, subject
// vigil.packets.<partition>. The ingest process puts a packet in
// partition flow.PairHash(packet) mod Partitions: the hash of its address
// pair (VLAN ids included), the same in both directions, so every packet
// of a flow, its IP fragments and every other flow between the same two
// hosts reach one evaluator, in the order the sensor sent them.
//
// Evaluators claim partitions in the KV bucket PartitionBucket: each
// renews a heartbeat (member.<name>) and its claims (partition.<n>)
// every second, takes free partitions up to its fair share (the
// partition count over the evaluators alive, rounded up) and gives up
// those over it, so partitions spread out as evaluators join. A claim not
// renewed for the claim TTL (EvaluatorConfig.ClaimTTL, 3 s) expires; the
// survivors take the partition.
// A new owner recreates the partition's consumer: the batches its
// previous owner did not acknowledge are still in the work queue and come
// first. A batch is acknowledged once its packets are evaluated and every
// alert raised so far is stored, so no alert is lost with an evaluator;
// the alerts of batches evaluated twice carry the same ID (alerts.ID:
// the ingest run, the sensor connection, the packet number and the sid),
// and the alert stream drops the second copy (Nats-Msg-Id, within
// alerts.DuplicateWindow).
//
// What a move loses: the per-flow state of the moved partition's flows
// (TCP reassembly, flowbits, application-layer progress, thresholds and
// de-duplication windows kept for them) starts anew at the new owner,
// which picks TCP up mid-stream, as after a restart. Thresholds and
// de-duplication tracked by_flow or by_both are exact across evaluators,
// since one evaluator sees all of an address pair; those tracked by_src,
// by_dst or by_rule count, in each evaluator, only the address pairs of
// its partitions: a port scan over many destinations is seen in pieces,
// so such a rule may alert later, or more often, than in one process.
// The caps on responses (respond.Policy's global rate and burst) apply
// per evaluator as well.
//
// Responses: an evaluator sends the frames of a reset to the ingest
// process that owns the sensor (core NATS, vigil.inject.<instance>.
// <source>), which writes them to the sensor's connection.
//
// Loss accounting: the ingest process counts the packets it could not
// publish (IngestStats.Dropped under the drop policy, Lost when JetStream
// did not store them); evaluators count, per partition, batches missing
// from each sensor connection's sequence (PartitionStats.Gaps) and the
// backlog (PartitionStats.Lag).
//
// The package imports ncf, decode, rules/field, engine (and its sensor
// and flow packages) and alerts; daemon wires it to the roles.
package cluster
