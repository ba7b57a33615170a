package pgpasskey_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sessionauth/session/passkey"
	"github.com/sessionauth/session/passkey/passkeytest"
	"github.com/sessionauth/session/passkey/pgpasskey"
)

const defaultURL = "postgres://postgres@127.0.0.1:5432/test"

// testPool connects to DATABASE_URL (default: the local test server) and
// creates a schema of its own, dropped with everything in it when t ends.
// Without a server it skips, except under CI=true, where it fails.
func testPool(t *testing.T) (*pgxpool.Pool, string) {
	t.Helper()
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		url = defaultURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		msg := fmt.Sprintf("no PostgreSQL at DATABASE_URL (default %s): %v", defaultURL, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "pgpasskey_test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Errorf("drop schema: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool, schema
}

func newStore(t *testing.T, pool *pgxpool.Pool, cfg pgpasskey.Config) *pgpasskey.Store {
	t.Helper()
	s, err := pgpasskey.New(pool, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Setup(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPostgresStoreConformance(t *testing.T) {
	t.Parallel()
	passkeytest.Run(t, func(t *testing.T) passkey.Store {
		pool, schema := testPool(t)
		return newStore(t, pool, pgpasskey.Config{Schema: schema})
	})
}

func TestSetupIsIdempotentAndQuotesTheTableName(t *testing.T) {
	t.Parallel()
	pool, schema := testPool(t)
	cfg := pgpasskey.Config{Schema: schema, Table: `Pass"keys; DROP TABLE x`}
	s := newStore(t, pool, cfg)
	// Several instances at once, then again.
	errs := make(chan error, 4)
	for range 4 {
		go func() { errs <- s.Setup(t.Context()) }()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent Setup: %v", err)
		}
	}
	if !strings.Contains(s.Schema(), `"Pass""keys; DROP TABLE x"`) {
		t.Fatalf("table name not quoted:\n%s", s.Schema())
	}
	c := passkey.Credential{ID: []byte{1}, UserID: "alice", UserHandle: []byte{2}, PublicKey: []byte{3}, Created: time.Now()}
	if err := s.Create(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(t.Context(), c.ID); err != nil {
		t.Fatal(err)
	}
}

func TestSetupRefusesAnotherTableOfTheSameName(t *testing.T) {
	t.Parallel()
	pool, schema := testPool(t)
	if _, err := pool.Exec(t.Context(), "CREATE TABLE "+pgx.Identifier{schema, "passkeys"}.Sanitize()+" (id int PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	s, _ := pgpasskey.New(pool, pgpasskey.Config{Schema: schema})
	if err := s.Setup(t.Context()); err == nil {
		t.Fatal("Setup accepted a table without the store's columns")
	}
}

func TestNewRefusesABadConfig(t *testing.T) {
	t.Parallel()
	pool, _ := pgxpool.New(context.Background(), defaultURL) // not connected until used
	defer pool.Close()
	for name, cfgs := range map[string][]pgpasskey.Config{
		"two configs": {{}, {}},
		"NUL in name": {{Table: "a\x00b"}},
		"long name":   {{Table: strings.Repeat("t", 64)}},
		"long schema": {{Schema: strings.Repeat("s", 64)}},
	} {
		if _, err := pgpasskey.New(pool, cfgs...); !errors.Is(err, pgpasskey.ErrInvalidConfig) {
			t.Errorf("%s: %v, want ErrInvalidConfig", name, err)
		}
	}
	if _, err := pgpasskey.New(nil); !errors.Is(err, pgpasskey.ErrInvalidConfig) {
		t.Errorf("nil pool: %v", err)
	}
}

func TestSetupCreatesTheUserIndexOrNewRefusesTheName(t *testing.T) {
	t.Parallel()
	pool, schema := testPool(t)
	for _, table := range []string{"passkeys", strings.Repeat("t", 51), strings.Repeat("u", 63)} {
		s, err := pgpasskey.New(pool, pgpasskey.Config{Schema: schema, Table: table})
		if err != nil {
			if errors.Is(err, pgpasskey.ErrInvalidConfig) && len(table) > 51 {
				continue // too long for its index's name
			}
			t.Fatalf("New with a %d-byte table name: %v", len(table), err)
		}
		if err := s.Setup(t.Context()); err != nil {
			t.Fatalf("Setup with a %d-byte table name: %v", len(table), err)
		}
		var n int
		if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 AND indexdef LIKE '%(user_id, created)%'`, schema, table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("a %d-byte table name: %d indexes on (user_id, created), want 1: ListUser scans the table", len(table), n)
		}
	}
}
