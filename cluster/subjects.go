package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Names in NATS, fixed: one Vigil cluster per NATS account.
const (
	// PacketStream holds the packets between ingest and evaluators: a
	// work queue (a batch is removed once its evaluator acknowledges it)
	// in memory, over the subjects vigil.packets.<partition>.
	PacketStream = "VIGIL_PACKETS"
	// PartitionBucket is the KV bucket of partition claims
	// (partition.<n>: the owning evaluator), evaluator heartbeats
	// (member.<name>).
	PartitionBucket = "VIGIL_PARTITIONS"
	packetPrefix    = "vigil.packets"
	// injectSubject + ".<instance>.<source>" carries response frames
	// from an evaluator to the ingest process that owns the sensor.
	injectSubject = "vigil.inject"
)

// Defaults of the configurations.
const (
	// DefaultPartitions: enough to spread over 16 evaluators.
	DefaultPartitions = 16
	// DefaultClaimTTL is how long a partition claim or an evaluator's
	// heartbeat lives unless renewed.
	DefaultClaimTTL = 3 * time.Second
	// DefaultBuffer is the packet stream's size limit in bytes: half the
	// embedded server's JetStream memory (natsserver.DefaultMaxMemory).
	DefaultBuffer = 128 << 20
)

// setupTimeout bounds the JetStream calls at start.
const setupTimeout = 10 * time.Second

func packetSubject(partition int) string { return packetPrefix + "." + strconv.Itoa(partition) }

// ensurePackets creates the packet stream, or checks that the one there
// was made for partitions partitions (its metadata says how many) and
// updates its size limit.
func ensurePackets(ctx context.Context, js jetstream.JetStream, partitions int, buffer int64) error {
	want := strconv.Itoa(partitions)
	if st, err := js.Stream(ctx, PacketStream); err == nil {
		if got := st.CachedInfo().Config.Metadata["partitions"]; got != want {
			return fmt.Errorf("cluster: the packet stream %s was made for %s partitions, not %s (give every process the same --partitions, or delete the stream)", PacketStream, got, want)
		}
	} else if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("cluster: packet stream %s: %w", PacketStream, err)
	}
	_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:       PacketStream,
		Subjects:   []string{packetPrefix + ".*"},
		Storage:    jetstream.MemoryStorage,
		Retention:  jetstream.WorkQueuePolicy,
		Discard:    jetstream.DiscardNew,
		MaxBytes:   buffer,
		Duplicates: 2 * time.Minute,
		Metadata:   map[string]string{"partitions": want},
	})
	if err != nil {
		return fmt.Errorf("cluster: packet stream %s: %w", PacketStream, err)
	}
	return nil
}

// partitionBucket creates or opens PartitionBucket. Its keys expire ttl
// after their last write.
func partitionBucket(ctx context.Context, js jetstream.JetStream, ttl time.Duration) (jetstream.KeyValue, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: PartitionBucket, TTL: ttl, Storage: jetstream.MemoryStorage, MaxBytes: 1 << 20})
	if err != nil {
		return nil, fmt.Errorf("cluster: partition bucket %s: %w", PartitionBucket, err)
	}
	return kv, nil
}
