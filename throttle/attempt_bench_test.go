package throttle_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/sessionauth/session/internal/redistest"
	"github.com/sessionauth/session/throttle"
)

// BenchmarkGuardSignIn measures the guard's cost per sign-in attempt, with
// the password check itself left out: CheckLogin and the call that finishes
// the attempt. On Redis it reports round trips per attempt
// (roundtrips/op). Budgets are set high so every attempt takes the path
// named, except "refused", which hits a locked account.
//
//	go test -run XXX -bench GuardSignIn -benchtime 2s ./throttle
func BenchmarkGuardSignIn(b *testing.B) {
	for _, backend := range []string{"memory", "redis"} {
		b.Run(backend, func(b *testing.B) {
			var l throttle.Limiter = throttle.NewMemory(throttle.MemoryConfig{})
			rt := &roundTrips{}
			if backend == "redis" {
				client := redistest.New(b).Client(b)
				client.AddHook(rt)
				l = throttle.NewRedis(client, throttle.RedisConfig{Prefix: redistest.Prefix()})
			}
			lots := throttle.Rule{Limit: 1 << 30, Window: time.Hour, Lockout: time.Second, MaxLockout: time.Second}
			g := newGuard(b, throttle.GuardConfig{Limiter: l, Address: lots, Account: lots, Device: lots})
			locked := newGuard(b, throttle.GuardConfig{Limiter: l, Account: throttle.Rule{Limit: 1, Lockout: time.Hour, MaxLockout: time.Hour}})

			const n = 1024
			unknown := make([]*http.Request, n)
			known := make([]*http.Request, n)
			for i := range n {
				br := newBrowser(fmt.Sprintf("10.%d.%d.1:1", i/256, i%256))
				unknown[i] = br.request()
				signIn(b, g, br, user(i), true)
				known[i] = br.request()
			}
			signIn(b, locked, newBrowser("192.0.2.1:1"), "locked", false)

			cases := []struct {
				name string
				run  func(i int)
			}{
				{"unknown device, wrong password", func(i int) {
					a, err := g.CheckLogin(unknown[i%n], user(i%n))
					must(b, a, err)
					g.LoginFailed(a)
				}},
				{"known device, wrong password", func(i int) {
					a, err := g.CheckLogin(known[i%n], user(i%n))
					must(b, a, err)
					g.LoginFailed(a)
				}},
				{"unknown device, right password", func(i int) {
					a, err := g.CheckLogin(unknown[i%n], user(i%n))
					must(b, a, err)
					if err := g.LoginSucceeded(discard{}, a); err != nil {
						b.Fatal(err)
					}
				}},
				{"refused", func(i int) {
					a, err := locked.CheckLogin(unknown[i%n], "locked")
					if err != nil || a.Allowed() {
						b.Fatalf("not refused: %v", err)
					}
				}},
			}
			for _, tc := range cases {
				b.Run(tc.name, func(b *testing.B) {
					tc.run(0) // the script is loaded
					rt.n.Store(0)
					b.ReportAllocs()
					i := 0
					for b.Loop() {
						tc.run(i)
						i++
					}
					if backend == "redis" {
						b.ReportMetric(float64(rt.n.Load())/float64(i), "roundtrips/op")
					}
				})
			}
		})
	}
}

func user(i int) string { return fmt.Sprint("user", i) }

func must(b *testing.B, a *throttle.Attempt, err error) {
	if err != nil || !a.Allowed() {
		b.Fatalf("attempt refused: %v", err)
	}
}

// discard is a ResponseWriter that keeps nothing.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(p []byte) (int, error) { return len(p), nil }
func (discard) WriteHeader(int)             {}
