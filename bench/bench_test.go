package bench

import (
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"
)

// BenchmarkScenario runs every scenario through every subject, one request
// at a time. Besides time and allocations it reports store round trips,
// Set-Cookie headers and the process's CPU time (cpu-ns/op, Unix only) per
// request.
func BenchmarkScenario(b *testing.B) {
	for _, sc := range scenarios {
		for _, f := range subjects {
			b.Run("scenario="+sc.name+"/subject="+f.name, func(b *testing.B) {
				g := newRig(b, sc, f, true)
				w, r := NewWriter(), new(http.Request)
				// Warm-up: a connection's first use of a statement (pgx
				// prepares it, with a statement cache) is not the steady
				// state the round-trip column reports.
				g.serve(NewWriter(), r)
				// The set-up's garbage (a login-at-cap rig signs in
				// thousands of sessions) is collected now, not by the
				// requests measured next.
				runtime.GC()
				rt0 := g.s.RoundTrips()
				cpu0 := ProcessCPU()
				b.ReportAllocs()
				for b.Loop() {
					g.serve(w, r)
				}
				b.StopTimer()
				cpu := ProcessCPU() - cpu0
				g.check(b)
				n := float64(b.N)
				b.ReportMetric(float64(g.s.RoundTrips()-rt0)/n, "roundtrips/op")
				b.ReportMetric(float64(w.SetCookies())/n, "setcookies/op")
				if cpu > 0 {
					b.ReportMetric(float64(cpu)/n, "cpu-ns/op")
				}
			})
		}
	}
}

// BenchmarkParallelRead is the authenticated read from GOMAXPROCS goroutines
// at once, one subject (and one store) shared by all; run it with -cpu 1,2 to
// see whether throughput scales or a lock serialises it. Memory stores are
// not counted here: a shared counter would itself be a point of contention.
func BenchmarkParallelRead(b *testing.B) {
	sc := scenarioNamed("read")
	for _, f := range subjects {
		b.Run("subject="+f.name, func(b *testing.B) {
			g := newRig(b, sc, f, false)
			runtime.GC() // the set-up's garbage is not the requests'
			var setCookies atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				w, r := NewWriter(), new(http.Request)
				for pb.Next() {
					g.serve(w, r)
				}
				setCookies.Add(int64(w.SetCookies()))
			})
			b.StopTimer()
			g.check(b)
			b.ReportMetric(float64(setCookies.Load())/float64(b.N), "setcookies/op")
		})
	}
}
