package alerts

import (
	"context"
	"testing"
	"time"
)

// benchPublish publishes b.N alerts through a Publisher and waits for their
// delivery, reporting alerts/s end to end.
func benchPublish(b *testing.B, jetStream bool) {
	s := startEmbedded(b, "127.0.0.1:0", b.TempDir())
	defer s.Shutdown()
	nc := connect(b, s.ClientURL())
	if jetStream {
		ensureStream(b, nc)
	}
	p, err := NewPublisher(PublisherConfig{Conn: nc, JetStream: jetStream, MemoryLimit: 1 << 22, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	a := testAlert(1)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		a.ID = ID("bench", 1, i, a.SID) // a new ID per alert, as the producer makes it
		p.Publish(a)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "alerts/s")
	if st := p.Stats(); st.Published != uint64(b.N) || st.Dropped != 0 {
		b.Fatalf("stats %+v after %d alerts", st, b.N)
	}
}

func BenchmarkPublishCore(b *testing.B)      { benchPublish(b, false) }
func BenchmarkPublishJetStream(b *testing.B) { benchPublish(b, true) }
