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
