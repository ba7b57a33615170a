package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// testDatabaseURL returns a DATABASE_URL on a schema of its own (dropped
// when the test ends) in the PostgreSQL at $DATABASE_URL, by default the
// machine's postgres://postgres@127.0.0.1:5432/test. Without PostgreSQL the
// test skips, except under CI=true, where it fails.
func testDatabaseURL(t *testing.T) string {
	t.Helper()
	base := os.Getenv("DATABASE_URL")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		msg := fmt.Sprintf("PostgreSQL not reachable at DATABASE_URL (%v)", err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	defer conn.Close(ctx)
	schema := "loginserver_" + strings.ToLower(rand.Text()[:10])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, base); err == nil {
			c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			c.Close(ctx)
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

// newTestUserStores returns the in-memory store and the PostgreSQL one.
func newTestUserStores(t *testing.T) map[string]UserStore {
	t.Helper()
	dbURL := testDatabaseURL(t)
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	pu := &pgUsers{pool: pool}
	for range 2 { // setup is idempotent
		if err := pu.setup(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return map[string]UserStore{"memory": newMemoryUsers(), "postgres": pu}
}

// Both user stores behave alike: unique usernames, compare-and-swap
// upgrades, links that belong to one user.
func TestUserStoresAgree(t *testing.T) {
	t.Parallel()
	for name, s := range newTestUserStores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a, err := s.Create(ctx, "ann", "h1")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Create(ctx, "ann", "h2"); !errors.Is(err, ErrUsernameTaken) {
				t.Fatalf("second ann: %v, want ErrUsernameTaken", err)
			}
			if got, err := s.ByUsername(ctx, "ann"); err != nil || got != a {
				t.Fatalf("ByUsername %+v %v", got, err)
			}
			if _, err := s.ByID(ctx, "nope"); !errors.Is(err, ErrNoUser) {
				t.Fatalf("ByID unknown: %v", err)
			}
			if ok, err := s.UpgradePasswordHash(ctx, a.ID, "stale", "h3"); ok || err != nil {
				t.Fatalf("upgrade over a stale hash: %v %v", ok, err)
			}
			if ok, err := s.UpgradePasswordHash(ctx, a.ID, "h1", "h3"); !ok || err != nil {
				t.Fatalf("upgrade: %v %v", ok, err)
			}
			if err := s.SetPasswordHash(ctx, "nope", "x"); !errors.Is(err, ErrNoUser) {
				t.Fatalf("SetPasswordHash unknown: %v", err)
			}
			b, _ := s.Create(ctx, "bob", "")
			l := Link{Provider: "demo", Issuer: "https://id.example", Subject: "42", Email: "ann@example.test"}
			if _, err := s.ByIdentity(ctx, l.Issuer, l.Subject); !errors.Is(err, ErrNoUser) {
				t.Fatalf("ByIdentity before linking: %v", err)
			}
			for range 2 { // linking again to the same user does nothing
				if err := s.Link(ctx, a.ID, l); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Link(ctx, b.ID, l); !errors.Is(err, ErrIdentityTaken) {
				t.Fatalf("link to a second user: %v, want ErrIdentityTaken", err)
			}
			if err := s.Link(ctx, "nope", Link{Provider: "demo", Issuer: "x", Subject: "y"}); !errors.Is(err, ErrNoUser) {
				t.Fatalf("link to no user: %v", err)
			}
			if got, err := s.ByIdentity(ctx, l.Issuer, l.Subject); err != nil || got.ID != a.ID || got.PasswordHash != "h3" {
				t.Fatalf("ByIdentity %+v %v", got, err)
			}
			links, err := s.Links(ctx, a.ID)
			if err != nil || len(links) != 1 || links[0].Provider != "demo" || links[0].Email != l.Email || links[0].Created.IsZero() {
				t.Fatalf("Links %+v %v", links, err)
			}
			if links, _ := s.Links(ctx, b.ID); len(links) != 0 {
				t.Fatalf("bob's links %+v", links)
			}
		})
	}
}

// With DATABASE_URL (and SESSION_KEYS), a restart loses nothing: an account
// made by sign-up is still there, its session still signed in, and so is
// the demo account's with its changed password.
func TestRestartOnPostgreSQLKeepsAccountsAndSessions(t *testing.T) {
	t.Parallel()
	env := map[string]string{"ADDR": "127.0.0.1:0", "DATABASE_URL": testDatabaseURL(t),
		"SESSION_KEYS": "c2Vzc2lvbi1rZXlzLWZvci10aGUtcmVzdGFydC10ZXN0LW9rIQ"}
	addr, logs, stop := startRun(t, env)
	if !strings.Contains(logs.String(), "sessions are kept in PostgreSQL") || !strings.Contains(logs.String(), "accounts, provider links and passkeys are kept in PostgreSQL") {
		t.Fatalf("start-up log:\n%s", logs)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(path, body string) int {
		req, _ := http.NewRequest("POST", "http://"+addr+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	me := func() (int, string) {
		res, err := c.Get("http://" + addr + "/me")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	form := url.Values{"username": {"carol"}, "password": {"carol's passphrase, long enough"}}.Encode()
	if code := post("/register", form); code != http.StatusSeeOther {
		t.Fatalf("sign-up: %d", code)
	}
	if code, body := me(); code != http.StatusOK || !strings.Contains(body, `"username":"carol"`) {
		t.Fatalf("/me after sign-up: %d %s", code, body)
	}
	stop()

	addr, _, _ = startRun(t, env)
	// The cookie jar is keyed by host, not port: the new address is the
	// same host.
	if code, body := me(); code != http.StatusOK || !strings.Contains(body, `"username":"carol"`) {
		t.Fatalf("/me after the restart: %d %s", code, body)
	}
	c.Jar, _ = cookiejar.New(nil)
	if code := post("/login", form); code != http.StatusSeeOther {
		t.Fatalf("carol signs in after the restart: %d", code)
	}
	if code, body := me(); code != http.StatusOK || !strings.Contains(body, `"username":"carol"`) {
		t.Fatalf("/me after signing in again: %d %s", code, body)
	}
}

// A PostgreSQL that stops answering (a network partition, a lock held
// elsewhere) fails each user-store call at its deadline, so the handlers
// answer 503 instead of hanging for as long as the client waits.
func TestPostgresUserStoreCallsEndWhenTheDatabaseStalls(t *testing.T) {
	t.Parallel()
	dbURL := testDatabaseURL(t)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newStallingProxy(t, u.Host)
	u.Host = proxy.addr()
	pool, err := pgxpool.New(context.Background(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	t.Cleanup(proxy.resume) // before the pool closes its connections
	pu := &pgUsers{pool: pool, timeout: 300 * time.Millisecond}
	ctx := context.Background()
	if err := pu.setup(ctx); err != nil {
		t.Fatal(err)
	}
	ann, err := pu.Create(ctx, "ann", "h1")
	if err != nil {
		t.Fatal(err)
	}
	proxy.stall()
	calls := map[string]func() error{
		"ByUsername":          func() error { _, err := pu.ByUsername(ctx, "ann"); return err },
		"ByID":                func() error { _, err := pu.ByID(ctx, ann.ID); return err },
		"SetPasswordHash":     func() error { return pu.SetPasswordHash(ctx, ann.ID, "h2") },
		"UpgradePasswordHash": func() error { _, err := pu.UpgradePasswordHash(ctx, ann.ID, "h1", "h3"); return err },
		"Links":               func() error { _, err := pu.Links(ctx, ann.ID); return err },
	}
	for name, call := range calls {
		start := time.Now()
		err := call()
		if err == nil || errors.Is(err, ErrNoUser) {
			t.Errorf("%s on a stalled database = %v; want a store error", name, err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%s on a stalled database took %v; want about its 300ms deadline", name, d)
		}
	}
}

// stallingProxy forwards TCP connections to target until stall is called;
// from then on it holds every byte, in both directions, keeping the
// connections open, as a partitioned network does.
type stallingProxy struct {
	ln      net.Listener
	stalled atomic.Bool
}

func newStallingProxy(t *testing.T, target string) *stallingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallingProxy{ln: ln}
	var conns sync.WaitGroup
	done := make(chan struct{})
	t.Cleanup(func() {
		close(done)
		ln.Close()
		conns.Wait()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			conns.Add(2)
			pipe := func(dst, src net.Conn) {
				defer conns.Done()
				defer dst.Close()
				defer src.Close()
				buf := make([]byte, 32<<10)
				for {
					n, err := src.Read(buf)
					for p.stalled.Load() {
						select {
						case <-done:
							return
						case <-time.After(10 * time.Millisecond):
						}
					}
					if n > 0 {
						if _, werr := dst.Write(buf[:n]); werr != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}
			go pipe(up, c)
			go pipe(c, up)
		}
	}()
	return p
}

func (p *stallingProxy) addr() string { return p.ln.Addr().String() }
func (p *stallingProxy) stall()       { p.stalled.Store(true) }
func (p *stallingProxy) resume()      { p.stalled.Store(false) }
