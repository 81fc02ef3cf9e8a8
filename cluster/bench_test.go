package cluster_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/vigil-ids/vigil/alerts/natsserver"
	"github.com/vigil-ids/vigil/cluster"
	"github.com/vigil-ids/vigil/engine"
	"github.com/vigil-ids/vigil/ncf"
	"github.com/vigil-ids/vigil/rules"
	"github.com/vigil-ids/vigil/tools/gen"
)

// BenchmarkIngestEvaluate is the cluster path in one process, over one
// embedded NATS server: records pushed into an ingest feed, published,
// fetched by one evaluator and evaluated with 100 generated rules.
// ns/op is per packet.
func BenchmarkIngestEvaluate(b *testing.B) {
	s, err := natsserver.StartServer(natsserver.ServerConfig{Listen: "127.0.0.1:0", DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Shutdown()
	nc := connectB(b, s.ClientURL())
	set, err := rules.Parse("gen.yaml", []byte(gen.Rules(100, 42)))
	if err != nil {
		b.Fatal(err)
	}
	eng, err := engine.New(engine.Config{Rules: set, Sink: &idSink{}, Workers: 1, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	eng.Start()
	ev, err := cluster.NewEvaluator(cluster.EvaluatorConfig{Conn: connectB(b, s.ClientURL()), Engine: eng, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go ev.Run(ctx)
	in, err := cluster.NewIngest(cluster.IngestConfig{Conn: nc, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	for len(ev.Stats().Partitions) < cluster.DefaultPartitions {
		time.Sleep(10 * time.Millisecond)
	}
	stream := generated(b, gen.Config{Packets: 50000, Seed: 5})
	b.SetBytes(int64(len(stream) / 50000))
	b.ResetTimer()
	feed := in.Open(engine.SourceConfig{Name: "bench"})
	for i := 0; i < b.N; {
		r := ncf.NewReader(bytes.NewReader(stream), ncf.ReaderConfig{})
		for rec, err := r.Next(); err == nil && i < b.N; rec, err = r.Next() {
			feed.Push(rec)
			i++
		}
	}
	feed.Close()
	for ev.Stats().Packets < uint64(b.N) {
		time.Sleep(time.Millisecond)
	}
}

func connectB(b *testing.B, url string) *nats.Conn {
	b.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nc.Close)
	return nc
}
