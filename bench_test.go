package session

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// discardWriter is a minimal reusable ResponseWriter, so the benchmarks
// measure the middleware rather than httptest.ResponseRecorder.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

func (d *discardWriter) reset() {
	for k := range d.h {
		delete(d.h, k)
	}
}

func benchManager(b *testing.B) (*Manager, string) {
	b.Helper()
	ring, err := NewKeyRing(testKeyA)
	if err != nil {
		b.Fatal(err)
	}
	m, err := New(Config{Keys: ring})
	if err != nil {
		b.Fatal(err)
	}
	login := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := m.Login(w, r, "user-1"); err != nil {
			b.Fatal(err)
		}
	}))
	w := httptest.NewRecorder()
	login.ServeHTTP(w, httptest.NewRequest("POST", "/login", nil))
	return m, w.Result().Cookies()[0].Value
}

func runBench(b *testing.B, h http.Handler, r *http.Request) {
	w := &discardWriter{h: make(http.Header)}
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, r)
	}
}

func BenchmarkMiddlewareAnonymous(b *testing.B) {
	m, _ := benchManager(b)
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	runBench(b, h, httptest.NewRequest("GET", "/", nil))
}

func BenchmarkMiddlewareAuthenticatedRead(b *testing.B) {
	m, cookie := benchManager(b)
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if FromContext(r.Context()).UserID() == "" {
			b.Fatal("not signed in")
		}
	}))
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: m.cookie.Name, Value: cookie})
	runBench(b, h, r)
}

// BenchmarkRequireRecentAuth is BenchmarkMiddlewareAuthenticatedRead behind
// RequireRecentAuth with a method list: the cost of a step-up check per
// request is the difference between the two.
func BenchmarkRequireRecentAuth(b *testing.B) {
	m, _ := benchManager(b)
	login := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := m.Login(w, r, "user-1", ProvedWith("hwk")); err != nil {
			b.Fatal(err)
		}
	}))
	w := httptest.NewRecorder()
	login.ServeHTTP(w, httptest.NewRequest("POST", "/login", nil))
	h := m.Middleware(m.RequireRecentAuth(time.Hour, "hwk", "swk")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if FromContext(r.Context()).UserID() == "" {
			b.Fatal("not signed in")
		}
	})))
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: m.cookie.Name, Value: w.Result().Cookies()[0].Value})
	runBench(b, h, r)
}

func BenchmarkMiddlewareAuthenticatedWrite(b *testing.B) {
	m, cookie := benchManager(b)
	n := 0
	vals := []string{"a", "b"}
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		FromContext(r.Context()).Set("k", vals[n%2])
	}))
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: m.cookie.Name, Value: cookie})
	runBench(b, h, r)
}

func BenchmarkMiddlewareLogin(b *testing.B) {
	m, _ := benchManager(b)
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := m.Login(w, r, "user-2"); err != nil {
			b.Fatal(err)
		}
	}))
	runBench(b, h, httptest.NewRequest("POST", "/login", nil))
}

func BenchmarkMiddlewareForgedCookie(b *testing.B) {
	m, cookie := benchManager(b)
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	r := httptest.NewRequest("GET", "/", nil)
	forged := []byte(cookie)
	forged[20] ^= 1
	r.AddCookie(&http.Cookie{Name: m.cookie.Name, Value: string(forged)})
	runBench(b, h, r)
}

func BenchmarkMiddlewareAuthenticatedReadParallel(b *testing.B) {
	m, cookie := benchManager(b)
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = FromContext(r.Context()).UserID()
	}))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(&http.Cookie{Name: m.cookie.Name, Value: cookie})
		w := &discardWriter{h: make(http.Header)}
		for pb.Next() {
			w.reset()
			h.ServeHTTP(w, r)
		}
	})
}
