package session

import (
	"context"
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
