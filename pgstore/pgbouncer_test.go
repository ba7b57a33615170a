package pgstore

import (
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sessionauth/session"
	"github.com/sessionauth/session/pgstore/internal/pgtest"
	"github.com/sessionauth/session/storetest"
)

// TestBehindPgBouncer runs the store, with DisablePreparedStatements (the
// documented setting for PgBouncer before 1.21), through a PgBouncer in
// transaction pooling mode with a single server connection, which every
// client connection of the pool shares: no session state (named prepared
// statements, settings) survives from one statement to the next.
func TestBehindPgBouncer(t *testing.T) {
	t.Parallel()
	url, schema := pgtest.Schema(t)
	up, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	b := pgtest.StartBouncer(t, url, 1)
	bouncerURL := b.URL(up.Database)

	t.Run("control: clients share the server connection", func(t *testing.T) {
		// Two client connections preparing a statement of the same name
		// meet on the one server connection: the second fails. This is
		// what the store must never rely on.
		ctx := testContext(t)
		var conns [2]*pgx.Conn
		for i := range conns {
			c, err := pgx.Connect(ctx, bouncerURL)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(ctx)
			conns[i] = c
		}
		if _, err := conns[0].Prepare(ctx, "pgstore_probe", "SELECT 1"); err != nil {
			t.Fatal(err)
		}
		_, err := conns[1].Prepare(ctx, "pgstore_probe", "SELECT 1")
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42P05" {
			t.Fatalf("second Prepare = %v, want duplicate_prepared_statement: PgBouncer is not pooling transactions", err)
		}
		conns[0].Exec(ctx, "DEALLOCATE pgstore_probe")
	})

	pool := pgtest.Pool(t, bouncerURL, func(c *pgxpool.Config) { c.MaxConns = 8 })
	s := setUp(t, pool, Config{Schema: schema, Table: "sessions", CleanupInterval: -1, DisablePreparedStatements: true})
	testThroughBouncer(t, s)
}

// TestBehindPgBouncerWithMaxPreparedStatements runs the store with its
// defaults (prepared statements) through PgBouncer 1.21 or newer in
// transaction pooling mode with max_prepared_statements, the documented
// configuration, with one server connection that every client connection
// shares. Debian 12's PgBouncer is 1.18, which does not have the setting:
// the test says so and skips there.
func TestBehindPgBouncerWithMaxPreparedStatements(t *testing.T) {
	t.Parallel()
	if major, minor := pgtest.BouncerVersion(t); major < 1 || major == 1 && minor < 21 {
		t.Skipf("PgBouncer %d.%d is installed; max_prepared_statements needs 1.21 or newer", major, minor)
	}
	url, schema := pgtest.Schema(t)
	up, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	b := pgtest.StartBouncer(t, url, 1, "max_prepared_statements = 100")
	pool := pgtest.Pool(t, b.URL(up.Database), func(c *pgxpool.Config) { c.MaxConns = 8 })
	s := setUp(t, pool, Config{Schema: schema, Table: "sessions", CleanupInterval: -1})
	if s.mode != pgx.QueryExecModeCacheStatement {
		t.Fatalf("default mode %v, want prepared statements", s.mode)
	}
	testThroughBouncer(t, s)
}

// testThroughBouncer runs the conformance suite, a Manager over HTTP and
// the cleaner through s.
func testThroughBouncer(t *testing.T, s *Store) {

	t.Run("conformance", func(t *testing.T) {
		storetest.Run(t, func(*testing.T) session.Store { return s })
	})

	t.Run("manager", func(t *testing.T) {
		a := newApp(t, s, session.Config{}, 0)
		a.want("GET", "/me", 401)
		a.want("POST", "/login", 200)
		if got := a.want("GET", "/me", 200); got != "alice" {
			t.Fatalf("GET /me = %q", got)
		}
		a.want("POST", "/set", 200)
		a.want("POST", "/login?user=bob", 200)
		if got := a.want("GET", "/me", 200); got != "bob" {
			t.Fatalf("GET /me after the second login = %q", got)
		}
		a.want("POST", "/logout", 200)
		a.want("GET", "/me", 401)
		a.want("POST", "/login", 200)
		a.want("POST", "/logoutall", 200)
		a.want("GET", "/me", 401)
	})

	t.Run("cleanup", func(t *testing.T) {
		insertRows(t, s, 50, time.Now().Add(-time.Hour))
		if n, err := s.DeleteExpired(testContext(t)); err != nil || n < 50 {
			t.Fatalf("DeleteExpired = %d, %v", n, err)
		}
	})
}

// bouncerFastRecovery are the PgBouncer settings the README's PgBouncer
// section recommends so that sessions come back within a second or so of a
// PostgreSQL restart (TestREADMEShowsTheTestedBouncerSettings keeps the two
// alike).
var bouncerFastRecovery = []string{
	"server_login_retry = 1",
	"server_connect_timeout = 2",
	"query_wait_timeout = 5",
}

// TestBehindPgBouncerRecoversFromRestart stops a private PostgreSQL behind
// a PgBouncer with the recommended settings, under a Manager with the
// default StoreTimeout: requests answer 503 while it is down, and once it
// accepts connections again the first 200 comes within a couple of seconds
// (with PgBouncer's default server_login_retry of 15 s, about ten). The
// figure goes to the test log.
func TestBehindPgBouncerRecoversFromRestart(t *testing.T) {
	t.Parallel()
	srv := pgtest.StartServer(t)
	b := pgtest.StartBouncer(t, srv.URL("postgres"), 2, bouncerFastRecovery...)
	pool := pgtest.Pool(t, b.URL("postgres"), func(c *pgxpool.Config) { c.ConnConfig.ConnectTimeout = 2 * time.Second })
	s := setUp(t, pool, Config{Table: "bounced", CleanupInterval: -1})
	a := newApp(t, s, session.Config{}, 0)
	a.want("POST", "/login", 200)
	a.want("GET", "/me", 200)

	srv.Stop()
	// Long enough for PgBouncer to fail a server login and wait to retry.
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if code, _ := a.do("GET", "/me"); code != 503 {
			t.Fatalf("GET /me with PostgreSQL stopped = %d, want 503", code)
		}
	}
	srv.Start()
	back := time.Now()
	for {
		code, body := a.do("GET", "/me")
		if code == 200 && body == "alice" {
			break
		}
		if code != 503 || time.Since(back) > 20*time.Second {
			t.Fatalf("GET /me after PostgreSQL came back = %d %q, want 503 until it answers 200 alice", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	took := time.Since(back)
	t.Logf("first 200 %v after PostgreSQL accepted connections again", took.Round(time.Millisecond))
	if took > 3*time.Second {
		t.Errorf("first 200 %v after PostgreSQL came back, want within 3s (server_login_retry is 1s)", took)
	}
}
