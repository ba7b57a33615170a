package pgstore

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sessionauth/session/pgstore/internal/pgtest"
)

// newTestStore returns a Store, set up and without a cleaner goroutine, on a
// schema of its own on the machine's PostgreSQL, and the pool under it.
// configure, when not nil, adjusts the pool (a tracer).
func newTestStore(t *testing.T, configure func(*pgxpool.Config), opts ...Option) (*Store, *pgxpool.Pool) {
	t.Helper()
	url, schema := pgtest.Schema(t)
	pool := pgtest.Pool(t, url, configure)
	return setUp(t, pool, append([]Option{WithTable(schema, "sessions"), WithCleanupInterval(0)}, opts...)...), pool
}

// setUp makes a Store on pool and runs Setup.
func setUp(t *testing.T, pool *pgxpool.Pool, opts ...Option) *Store {
	t.Helper()
	s, err := New(pool, opts...)
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
