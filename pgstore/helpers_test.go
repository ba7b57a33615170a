package pgstore

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sessionauth/session"
	"github.com/sessionauth/session/pgstore/internal/pgtest"
)

// newTestStore returns a Store, set up and without a cleaner goroutine, on a
// schema of its own on the machine's PostgreSQL, and the pool under it.
// configure, when not nil, adjusts the pool (a tracer).
// cfg, when given, sets the other fields of the Store's Config.
func newTestStore(t *testing.T, configure func(*pgxpool.Config), cfg ...Config) (*Store, *pgxpool.Pool) {
	t.Helper()
	url, schema := pgtest.Schema(t)
	pool := pgtest.Pool(t, url, configure)
	var c Config
	if len(cfg) > 0 {
		c = cfg[0]
	}
	c.Schema, c.Table, c.CleanupInterval = schema, "sessions", -1
	return setUp(t, pool, c), pool
}

// setUp makes a Store on pool and runs Setup.
func setUp(t *testing.T, pool *pgxpool.Pool, cfg Config) *Store {
	t.Helper()
	s, err := New(pool, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.Setup(testContext(t)); err != nil {
		t.Fatal(err)
	}
	return s
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// app is a real session.Manager on a store, behind an httptest server:
//
//	GET  /me         RequireAuth: 200 with the user ID, 401, or 503
//	GET  /whoami     public: 200 with the user ID, "" when anonymous
//	POST /login      Login as ?user= (default alice)
//	POST /set        Set a value (a new one each time)
//	POST /logout     Logout
//	POST /logoutall  LogoutAll of the signed-in user
type app struct {
	t      *testing.T
	m      *session.Manager
	srv    *httptest.Server
	client *http.Client
}

// A timeout above 0 is put on every request's context, as a deadline
// middleware would.
func newApp(t *testing.T, store session.Store, cfg session.Config, timeout time.Duration) *app {
	t.Helper()
	keys, err := session.NewKeyRing(session.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store, cfg.Keys = store, keys
	cfg.Cookie.DisableSecure = true // plain-HTTP test server
	m, err := session.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	mux := http.NewServeMux()
	mux.Handle("GET /me", m.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, session.FromContext(r.Context()).UserID())
	})))
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, session.FromContext(r.Context()).UserID())
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		user := r.URL.Query().Get("user")
		if user == "" {
			user = "alice"
		}
		if err := m.Login(w, r, user); err != nil {
			http.Error(w, "login failed", http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("POST /set", func(w http.ResponseWriter, r *http.Request) {
		session.FromContext(r.Context()).Set("n", fmt.Sprint(n.Add(1)))
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := m.Logout(w, r); err != nil {
			http.Error(w, "logout failed", http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("POST /logoutall", func(w http.ResponseWriter, r *http.Request) {
		if err := m.LogoutAll(r.Context(), "alice"); err != nil {
			http.Error(w, "logout failed", http.StatusServiceUnavailable)
		}
	})
	h := m.Middleware(mux)
	if timeout > 0 {
		next := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), timeout)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &app{t: t, m: m, srv: srv, client: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

// do sends a request and returns the status code and body.
func (a *app) do(method, path string) (int, string) {
	a.t.Helper()
	resp, body := a.send(method, path)
	return resp.StatusCode, body
}

// send sends a request and returns the response, its body read.
func (a *app) send(method, path string) (*http.Response, string) {
	a.t.Helper()
	req, err := http.NewRequest(method, a.srv.URL+path, nil)
	if err != nil {
		a.t.Fatal(err)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// want sends a request and fails the test unless it answers code.
func (a *app) want(method, path string, code int) string {
	a.t.Helper()
	got, body := a.do(method, path)
	if got != code {
		a.t.Fatalf("%s %s = %d %q, want %d", method, path, got, body, code)
	}
	return body
}
