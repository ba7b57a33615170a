package pgstore

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sessionauth/session"
	"github.com/sessionauth/session/pgstore/internal/pgtest"
)

// TestPrivateServerFailures stops, starts and locks a private PostgreSQL
// server that it starts itself (initdb takes seconds, so its subtests share
// one), never the machine's shared one.
func TestPrivateServerFailures(t *testing.T) {
	t.Parallel()
	srv := pgtest.StartServer(t)
	t.Run("statement deadline follows the request", func(t *testing.T) { testStatementDeadline(t, srv) })
	t.Run("outage answers 503 and recovers", func(t *testing.T) { testOutage(t, srv) })
}

// testOutage stops the database under a
// running app: protected routes answer 503 (not 401: the client is not
// logged out), public ones are served as anonymous without touching the
// cookie, and once the database is back the same cookie works again with
// no restart of the app.
func testOutage(t *testing.T, srv *pgtest.Server) {
	pool := pgtest.Pool(t, srv.URL("postgres"), func(c *pgxpool.Config) { c.ConnConfig.ConnectTimeout = 2 * time.Second })
	s := setUp(t, pool, Config{Table: "outage", CleanupInterval: -1})
	a := newApp(t, s, session.Config{}, 0)
	a.want("POST", "/login", 200)
	a.want("GET", "/me", 200)

	srv.Stop()
	for range 3 { // broken pooled connections first, then failed dials
		start := time.Now()
		a.want("GET", "/me", 503)
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("a request during the outage took %v", d)
		}
	}
	resp, body := a.send("GET", "/whoami")
	if resp.StatusCode != 200 || body != "" || len(resp.Header.Values("Set-Cookie")) != 0 {
		t.Fatalf("public route during the outage: %d %q, Set-Cookie %q; want 200, anonymous, no cookie", resp.StatusCode, body, resp.Header.Values("Set-Cookie"))
	}
	// Login fails (and is reported) rather than half-succeeding. (Not
	// Logout: it expires the cookie even when the delete fails.)
	a.want("POST", "/login?user=bob", 503)

	srv.Start()
	// The Manager's circuit breaker lets a probe through every 50 ms: the
	// app recovers within a fraction of a second (asserted: one second),
	// never with a 401.
	back := time.Now()
	for {
		code, body := a.do("GET", "/me")
		if code == 200 && body == "alice" {
			took := time.Since(back)
			t.Logf("first 200 %v after the database came back", took)
			if took > time.Second {
				t.Errorf("first 200 %v after the database came back, want within 1s", took)
			}
			break
		}
		if code != 503 || time.Since(back) > 5*time.Second {
			t.Fatalf("GET /me after the database came back = %d %q, want 503 until it answers 200 alice", code, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	a.want("POST", "/set", 200)
	a.want("POST", "/logout", 200)
	a.want("GET", "/me", 401)
}

// testStatementDeadline holds a lock that the store's
// statements wait for: a request whose context has a deadline gets its 503
// at that deadline instead of hanging, and the app is fine once the lock
// goes.
func testStatementDeadline(t *testing.T, srv *pgtest.Server) {
	pool := pgtest.Pool(t, srv.URL("postgres"), nil)
	s := setUp(t, pool, Config{Table: "deadline", CleanupInterval: -1})
	const deadline = 300 * time.Millisecond
	// The Manager's own StoreTimeout is longer, so the request's deadline
	// is the one that ends the statement.
	a := newApp(t, s, session.Config{StoreTimeout: 5 * time.Second}, deadline)
	a.want("POST", "/login", 200)

	ctx := testContext(t)
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, `LOCK TABLE `+s.table.Sanitize()+` IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/me", "/me"} {
		start := time.Now()
		a.want("GET", path, 503)
		if d := time.Since(start); d < deadline || d > deadline+2*time.Second {
			t.Fatalf("blocked request answered after %v, want about %v", d, deadline)
		}
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if got := a.want("GET", "/me", 200); got != "alice" {
		t.Fatalf("GET /me after the lock = %q", got)
	}
}
