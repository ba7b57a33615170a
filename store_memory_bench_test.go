package session

import (
	"context"
	"os"
	"runtime"
	"testing"
	"time"
)

// BenchmarkMemoryStoreBytesPerSession reports the heap a signed-in session
// with a few small values costs in a MemoryStore (the "bytes/session"
// metric), the figure the MemoryStore documentation quotes.
func BenchmarkMemoryStoreBytesPerSession(b *testing.B) {
	const n = 20000
	data := encodeRecord(recordHeader{created: time.Now(), idle: time.Hour, lifetime: time.Hour},
		map[string]string{"ua": "Mozilla/5.0", "theme": "dark"}, nil)
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s := NewMemoryStore()
		ctx := context.Background()
		exp := time.Now().Add(time.Hour)
		for i := range n {
			tok := newToken()
			s.Create(ctx, storeKey(tok), Record{UserID: "user-" + string(rune('a'+i%26)) + storeKey(tok)[:8], Expires: exp, Data: data})
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/session")
		b.ReportMetric(float64(len(data)), "data-bytes")
		runtime.KeepAlive(s)
	}
}

// BenchmarkMemoryStoreHeapHighWater reports the live heap (after a GC)
// before a MemoryStore is filled, at its peak of one million signed-in
// sessions, and after they have all expired and the timer's sweep has run,
// in MB: the memory a past peak still holds ("MB-after" minus "MB-before").
// Go maps never shrink, so without the sweep's re-allocation most of the
// peak would stay.
func BenchmarkMemoryStoreHeapHighWater(b *testing.B) {
	n := 1_000_000
	if os.Getenv("CI") == "true" {
		n = 100_000 // CI runs every benchmark once to keep it compiling and working
	}
	data := encodeRecord(recordHeader{created: time.Now(), idle: time.Hour, lifetime: time.Hour},
		map[string]string{"ua": "Mozilla/5.0", "theme": "dark"}, nil)
	heap := func() float64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return float64(m.HeapAlloc) / (1 << 20)
	}
	for b.Loop() {
		before := heap()
		clk := &clock{t: time.Now()}
		s := NewMemoryStore()
		s.now = clk.Now
		ctx := context.Background()
		exp := clk.Now().Add(time.Hour)
		for range n {
			key := memTestKey()
			s.Create(ctx, key, Record{UserID: "user-" + key[:12], Expires: exp, Data: data})
		}
		peak := heap()
		clk.Advance(2 * time.Hour)
		s.timedSweep() // what the timer runs once the interval passes
		after := heap()
		if s.count() != 0 {
			b.Fatalf("%d records left after the sweep", s.count())
		}
		b.ReportMetric(before, "MB-before")
		b.ReportMetric(peak, "MB-peak")
		b.ReportMetric(after, "MB-after")
		b.ReportMetric((after-before)*(1<<20)/float64(n), "bytes-left/session")
		runtime.KeepAlive(s)
	}
}

// BenchmarkMemoryStoreGet is MemoryStore.Get of a live record.
func BenchmarkMemoryStoreGet(b *testing.B) {
	s := NewMemoryStore()
	ctx := context.Background()
	key := memTestKey()
	if err := s.Create(ctx, key, Record{UserID: "user-1234", Expires: time.Now().Add(time.Hour), Data: make([]byte, 48)}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Get(ctx, key); err != nil {
			b.Fatal(err)
		}
	}
}
