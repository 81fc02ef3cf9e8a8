package engine

import (
	"testing"
	"time"
)

// BenchmarkOrderCompleted is the reorder stage's cost per batch, paid
// under the source's lock, with as many batches open as 16 workers with
// full queues hold (16 x 65): each batch completed, oldest first, is
// replaced by a new one.
func BenchmarkOrderCompleted(b *testing.B) {
	e, err := New(Config{Rules: mustParse(b, "rules: []\n"), Sink: discardSink{}, Workers: 1})
	if err != nil {
		b.Fatal(err)
	}
	src := e.NewSource(SourceConfig{Name: "bench"})
	at := time.Unix(1e9, 0)
	ring := make([]*batch, 16*65)
	next := 1
	open := func(bt *batch) {
		bt.src, bt.first = src, next
		next += BatchSize
		src.ord.opened(bt, at)
	}
	for i := range ring {
		ring[i] = &batch{}
		open(ring[i])
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		bt := ring[i%len(ring)]
		src.ord.completed(e, bt)
		open(bt)
	}
}
