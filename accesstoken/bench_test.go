package accesstoken

import (
	"context"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/sessionauth/session"
)

// benchWriter is a ResponseWriter that keeps nothing, so the benchmarks
// measure the middleware and not a recorder.
type benchWriter struct {
	h    http.Header
	code int
}

func (w *benchWriter) Header() http.Header         { return w.h }
func (w *benchWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *benchWriter) WriteHeader(code int)        { w.code = code }

func (w *benchWriter) reset() {
	clear(w.h)
	w.code = 200
}

// cpuTime returns the CPU time (user + system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds a cpu-ns/op metric: the process's CPU time per operation,
// which, unlike ns/op, does not grow when other processes share the cores.
// Call it right before the loop and defer the function it returns.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() { b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op") }
}

func benchEnv(b *testing.B, alg string, cacheSize int) *env {
	e := newEnv(&testing.T{}, func(c *Config, _ *session.Config) {
		c.CacheSize = cacheSize
		c.Keys, _ = NewKeyRing(mustKey(b, alg))
	})
	return e
}

func BenchmarkMint(b *testing.B) {
	for _, alg := range []string{EdDSA, ES256} {
		b.Run(alg, func(b *testing.B) {
			e := benchEnv(b, alg, 0)
			b.ReportAllocs()
			defer reportCPU(b)()
			for b.Loop() {
				if _, err := e.issuer.mint(mintedClaims{Sub: "alice", Sid: "0123456789abcdef"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMintHandler is POST /token end to end in process: the session
// cookie's HMAC, one memory-store read, one signature, the JSON answer.
func BenchmarkMintHandler(b *testing.B) {
	e := benchEnv(b, EdDSA, 0)
	cookie := e.login("alice")
	r := httptest.NewRequest("POST", "https://api.example.test/token", nil)
	r.AddCookie(cookie)
	w := &benchWriter{h: http.Header{}}
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		w.reset()
		e.handler.ServeHTTP(w, r)
		if w.code != 200 {
			b.Fatal(w.code)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, tc := range []struct {
		name  string
		alg   string
		cache int
	}{{"EdDSA", EdDSA, -1}, {"ES256", ES256, -1}, {"EdDSA-cached", EdDSA, 0}} {
		b.Run(tc.name, func(b *testing.B) {
			e := benchEnv(b, tc.alg, tc.cache)
			tok, _ := e.issuer.mint(mintedClaims{Sub: "alice", Sid: "0123456789abcdef"})
			ctx := context.Background()
			b.ReportAllocs()
			defer reportCPU(b)()
			for b.Loop() {
				if _, err := e.issuer.Verify(ctx, tok.AccessToken); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkProviderVerify(b *testing.B) {
	for _, tc := range []struct {
		name  string
		alg   string
		cache int
	}{{"RS256", "RS256", -1}, {"ES256", "ES256", -1}, {"EdDSA", "EdDSA", -1}, {"RS256-cached", "RS256", 0}} {
		b.Run(tc.name, func(b *testing.B) {
			t := &testing.T{}
			k := newIDPKey(b, "k1", tc.alg, false)
			p := newIDP(t, k)
			defer p.srv.Close()
			p.t = t
			pr := p.provider(func(c *ProviderConfig) { c.CacheSize = tc.cache })
			tok := p.sign(k, p.claims(nil))
			ctx := context.Background()
			if _, err := pr.Verify(ctx, tok); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			defer reportCPU(b)()
			for b.Loop() {
				if _, err := pr.Verify(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRequest compares one authenticated request through each
// middleware, the handler reading who the user is: the session cookie
// (session.Manager, memory store) next to our access token (Middleware,
// with and without the verified-token cache), Strict and RequireRecentAuth
// (an age and a method checked on top of Middleware).
func BenchmarkRequest(b *testing.B) {
	userOf := func(r *http.Request) string {
		if c := FromContext(r.Context()); c != nil {
			return c.Subject
		}
		return session.FromContext(r.Context()).UserID()
	}
	final := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if userOf(r) != "alice" {
			w.WriteHeader(500)
		}
	})
	run := func(b *testing.B, h http.Handler, r *http.Request) {
		w := &benchWriter{h: http.Header{}}
		b.ReportAllocs()
		defer reportCPU(b)()
		for b.Loop() {
			w.reset()
			h.ServeHTTP(w, r)
			if w.code != 200 {
				b.Fatal(w.code)
			}
		}
	}
	b.Run("session-cookie", func(b *testing.B) {
		e := benchEnv(b, EdDSA, 0)
		r := httptest.NewRequest("GET", "https://api.example.test/", nil)
		r.AddCookie(e.login("alice"))
		run(b, e.sessions.Middleware(final), r)
	})
	for _, tc := range []struct {
		name           string
		cache          int
		strict, recent bool
	}{
		{"access-token", -1, false, false}, {"access-token-cached", 0, false, false},
		{"access-token-strict-cached", 0, true, false}, {"access-token-recent-cached", 0, false, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			e := benchEnv(b, EdDSA, tc.cache)
			tok := e.mint(e.login("alice"))
			if tc.recent { // a proof a minute old on the issuer's clock
				t, _ := e.issuer.mint(mintedClaims{Sub: "alice", Sid: "0123456789abcdef", AuthTime: e.clock.Now().Unix() - 60, AMR: []string{"pwd"}})
				tok = t.AccessToken
			}
			r := httptest.NewRequest("GET", "https://api.example.test/", nil)
			r.Header.Set("Authorization", "Bearer "+tok)
			h := e.issuer.Middleware(final)
			switch {
			case tc.strict:
				h = e.issuer.Strict(final)
			case tc.recent:
				h = e.issuer.RequireRecentAuth(5*time.Minute, "hwk", "pwd")(final)
			}
			run(b, h, r)
		})
	}
}
