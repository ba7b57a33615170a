package pgstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sessionauth/session"
	"github.com/sessionauth/session/pgstore/internal/pgtest"
	"github.com/sessionauth/session/storetest"
)

// TestSetupConcurrent runs Setup from many stores (as from many app
// instances, each with its own pool) on a table that does not exist yet.
func TestSetupConcurrent(t *testing.T) {
	t.Parallel()
	url, schema := pgtest.Schema(t)
	const instances = 8
	pools := make([]*pgxpool.Pool, instances)
	for i := range pools {
		pools[i] = pgtest.Pool(t, url, nil)
	}
	for round := range 5 {
		table := fmt.Sprintf("sessions_%d", round)
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, instances)
		for i := range instances {
			wg.Go(func() {
				s, err := New(pools[i], Config{Schema: schema, Table: table, CleanupInterval: -1})
				if err != nil {
					errs[i] = err
					return
				}
				<-start
				errs[i] = s.Setup(testContext(t))
			})
		}
		close(start)
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("round %d: concurrent Setup: %v", round, err)
		}
		s := setUp(t, pools[0], Config{Schema: schema, Table: table, CleanupInterval: -1})
		k := storetest.NewKey()
		if err := s.Create(testContext(t), k, session.Record{UserID: "u", Expires: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSetupCreatesTheSchema runs Setup from several stores at once, each
// with its own table in one schema that does not exist yet: the schema is
// created once, every Setup succeeds, and running them again changes
// nothing.
func TestSetupCreatesTheSchema(t *testing.T) {
	t.Parallel()
	url := pgtest.URL()
	admin := pgtest.Pool(t, url, nil)
	schema := "pgstore_test_" + pgtest.RandomHex(6) + "_new"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	const instances = 6
	stores := make([]*Store, instances)
	for i := range stores {
		s, err := New(pgtest.Pool(t, url, nil), Config{Schema: schema, Table: fmt.Sprint("sessions_", i%3), CleanupInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		stores[i] = s
	}
	for round := range 2 {
		var wg sync.WaitGroup
		errs := make([]error, instances)
		for i, s := range stores {
			wg.Go(func() { errs[i] = s.Setup(testContext(t)) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("round %d: concurrent Setup in a new schema: %v", round, err)
		}
	}
	var tables int
	if err := admin.QueryRow(testContext(t), `SELECT count(*) FROM pg_tables WHERE schemaname = $1`, schema).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 3 {
		t.Fatalf("%d tables in the new schema, want 3", tables)
	}
	k := storetest.NewKey()
	if err := stores[0].Create(testContext(t), k, session.Record{UserID: "u", Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := stores[3].Get(testContext(t), k); err != nil {
		t.Fatalf("the store on the same table: %v", err)
	}
}

func TestSetupKeepsData(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t, nil)
	ctx := testContext(t)
	k := storetest.NewKey()
	if err := s.Create(ctx, k, session.Record{UserID: "u", Expires: time.Now().Add(time.Hour), Data: []byte("kept")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Setup(ctx); err != nil {
		t.Fatalf("second Setup: %v", err)
	}
	if got, err := s.Get(ctx, k); err != nil || string(got.Data) != "kept" {
		t.Fatalf("after a second Setup: %+v, %v", got, err)
	}
}

// TestTableNamesAreQuoted uses table names that would break, or inject into,
// SQL if they were not quoted, and checks the store creates and uses exactly
// the table it was given.
func TestTableNamesAreQuoted(t *testing.T) {
	t.Parallel()
	url, schema := pgtest.Schema(t)
	pool := pgtest.Pool(t, url, nil)
	for _, name := range []string{
		`Mixed Case`,
		`we"ird`,
		`x"; DROP TABLE victim; --`,
		`sessions.with.dots`,
		`séances`,
	} {
		t.Run(name, func(t *testing.T) {
			ctx := testContext(t)
			if _, err := pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+pgx.Identifier{schema, "victim"}.Sanitize()+` (x int)`); err != nil {
				t.Fatal(err)
			}
			s := setUp(t, pool, Config{Schema: schema, Table: name, CleanupInterval: -1})
			var n int
			if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename = $2`, schema, name).Scan(&n); err != nil || n != 1 {
				t.Fatalf("table %q: found %d, %v", name, n, err)
			}
			k := storetest.NewKey()
			if err := s.Create(ctx, k, session.Record{UserID: "u", Expires: time.Now().Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			if list, err := s.ListUser(ctx, "u"); err != nil || len(list) != 1 || list[0].Key != k {
				t.Fatalf("ListUser = %v, %v", list, err)
			}
			if _, err := s.DeleteExpired(ctx); err != nil {
				t.Fatal(err)
			}
			if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename = 'victim'`, schema).Scan(&n); err != nil || n != 1 {
				t.Fatalf("the victim table is gone: %d, %v", n, err)
			}
		})
	}
}

// TestSetupRefusesAForeignTable checks that Setup does not take over a table
// of the same name with another layout (here, scs's postgresstore's).
func TestSetupRefusesAForeignTable(t *testing.T) {
	t.Parallel()
	url, schema := pgtest.Schema(t)
	pool := pgtest.Pool(t, url, nil)
	ctx := testContext(t)
	table := pgx.Identifier{schema, "http_sessions"}.Sanitize()
	if _, err := pool.Exec(ctx, `CREATE TABLE `+table+` (token TEXT PRIMARY KEY, data BYTEA NOT NULL, expiry TIMESTAMPTZ NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	s, err := New(pool, Config{Schema: schema, CleanupInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Setup(ctx); !errors.Is(err, ErrSchema) {
		t.Fatalf("Setup on a foreign table = %v, want ErrSchema", err)
	}
}

// TestSchemaInPackageDoc checks that the SQL the package documentation
// prints is what Setup runs for the default table.
func TestSchemaInPackageDoc(t *testing.T) {
	t.Parallel()
	s, err := New(lazyPool(t), Config{CleanupInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for line := range strings.Lines(s.Schema()) {
		want.WriteString("//\t" + line)
	}
	if !strings.Contains(string(doc), want.String()) {
		t.Fatalf("doc.go does not show the schema; it should contain:\n%s", want.String())
	}
}

// TestQueriesUseIndexes checks the plans of ListUser, DeleteUser and the
// cleaner on a table of some size: index scans, never a scan of the table.
func TestQueriesUseIndexes(t *testing.T) {
	t.Parallel()
	s, pool := newTestStore(t, nil)
	ctx := testContext(t)
	table := s.table.Sanitize()
	if _, err := pool.Exec(ctx, `INSERT INTO `+table+` (key, user_id, expires, data)
		SELECT sha256(i::text::bytea), CASE WHEN i % 3 = 0 THEN NULL ELSE 'user-' || (i % 1000) END,
			now() + interval '1 hour', '\x0102'::bytea
		FROM generate_series(1, 20000) AS i`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE `+table); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	name := s.table[len(s.table)-1]
	for _, q := range []struct {
		name, sql, index string
		args             []any
	}{
		{"ListUser", s.sql.listUser, name + "_user_id_idx", []any{"user-7", now}},
		{"DeleteUser", s.sql.deleteUser, name + "_user_id_idx", []any{"user-7"}},
		{"Get", s.sql.get, name + "_pkey", []any{`\x` + storetest.NewKey(), now}},
		{"DeleteExpired", s.sql.deleteExpired, name + "_expires_idx", []any{now.Add(-time.Minute), 1000}},
	} {
		rows, err := pool.Query(ctx, "EXPLAIN "+q.sql, append([]any{pgx.QueryExecModeExec}, q.args...)...)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		plan := strings.Join(lines, "\n")
		if !strings.Contains(plan, q.index) || strings.Contains(plan, "Seq Scan") {
			t.Errorf("%s: plan does not use %s only:\n%s", q.name, q.index, plan)
		}
	}
}

// lazyPool returns a pool that has not connected (pgxpool dials on first
// use), for tests that need a *pgxpool.Pool but no server.
func lazyPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	return pgtest.Pool(t, pgtest.DefaultURL, nil)
}

// A table from before the created column keeps its rows: Setup adds the
// column, the old rows are listed, and a login past the cap ends them
// before any row written after.
func TestSetupMigratesATableWithoutCreated(t *testing.T) {
	t.Parallel()
	url, schema := pgtest.Schema(t)
	pool := pgtest.Pool(t, url, nil)
	ctx := testContext(t)
	table := pgx.Identifier{schema, "sessions"}.Sanitize()
	if _, err := pool.Exec(ctx, `CREATE TABLE `+table+` (key bytea PRIMARY KEY, user_id text, expires timestamptz NOT NULL, data bytea NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	old := storetest.NewKey()
	oldK, _ := keyParam(old)
	if _, err := pool.Exec(ctx, `INSERT INTO `+table+` VALUES ($1, 'alice', now() + interval '1 hour', '')`, oldK); err != nil {
		t.Fatal(err)
	}
	s := setUp(t, pool, Config{Schema: schema, Table: "sessions", CleanupInterval: -1})
	if list, err := s.ListUser(ctx, "alice"); err != nil || len(list) != 1 {
		t.Fatalf("ListUser after Setup migrated the table = %d rows, %v; want 1", len(list), err)
	}
	a, b := storetest.NewKey(), storetest.NewKey()
	for _, k := range []string{a, b} {
		if err := s.Replace(ctx, "", k, session.Record{UserID: "alice", Expires: time.Now().Add(time.Hour)}, 2); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Get(ctx, old); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("the row from before the migration outlived newer ones past the cap: %v", err)
	}
	for _, k := range []string{a, b} {
		if _, err := s.Get(ctx, k); err != nil {
			t.Fatalf("a new row ended before the old one: %v", err)
		}
	}
}

// TestSetupAcceptsTheTypesTheStoreWorksWith checks that Setup accepts a
// table of a team's own migration with types the store reads and writes as
// its own: a varchar user_id, a domain over bytea or text, a timestamptz
// of lower precision.
func TestSetupAcceptsTheTypesTheStoreWorksWith(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, pre, userID, expires, data string }{
		{"varchar(255) user_id", "", "varchar(255)", "timestamptz", "bytea"},
		{"varchar user_id", "", "varchar", "timestamptz", "bytea"},
		{"timestamptz(3)", "", "text", "timestamptz(3)", "bytea"},
		{"domain over bytea", "CREATE DOMAIN %s.blob AS bytea", "text", "timestamptz", "%s.blob"},
		{"domain over text", "CREATE DOMAIN %s.uid AS text CHECK (VALUE <> '')", "%s.uid", "timestamptz", "bytea"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url, schema := pgtest.Schema(t)
			pool := pgtest.Pool(t, url, nil)
			ctx := testContext(t)
			q := pgx.Identifier{schema}.Sanitize()
			sub := func(s string) string { return strings.ReplaceAll(s, "%s", q) }
			if tt.pre != "" {
				if _, err := pool.Exec(ctx, sub(tt.pre)); err != nil {
					t.Fatal(err)
				}
			}
			ddl := `CREATE TABLE ` + q + `.http_sessions (key bytea PRIMARY KEY, user_id ` + sub(tt.userID) +
				`, expires ` + tt.expires + ` NOT NULL, data ` + sub(tt.data) + ` NOT NULL, created timestamptz NOT NULL DEFAULT now())`
			if _, err := pool.Exec(ctx, ddl); err != nil {
				t.Fatal(err)
			}
			s, err := New(pool, Config{Schema: schema, CleanupInterval: -1})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Setup(ctx); err != nil {
				t.Fatalf("Setup on a table the store works with: %v", err)
			}
		})
	}
}

// TestSetupRefusesAColumnOfAnotherType checks that Setup refuses the
// store's table with a column whose type was changed by hand (a migration
// gone wrong), naming the column: the store would read every session back
// as a corrupt record, which the Manager deletes.
func TestSetupRefusesAColumnOfAnotherType(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ column, alter string }{
		{"data", "ALTER COLUMN data TYPE text USING encode(data, 'base64')"},
		{"expires", "ALTER COLUMN expires TYPE timestamp"},
		{"key", "ALTER COLUMN key TYPE text USING encode(key, 'hex')"},
		{"user_id", "ALTER COLUMN user_id TYPE char(64)"}, // pads the user ID
	} {
		t.Run(tt.column, func(t *testing.T) {
			t.Parallel()
			url, schema := pgtest.Schema(t)
			pool := pgtest.Pool(t, url, nil)
			ctx := testContext(t)
			s, err := New(pool, Config{Schema: schema, CleanupInterval: -1})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Setup(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := pool.Exec(ctx, `ALTER TABLE `+pgx.Identifier{schema, "http_sessions"}.Sanitize()+` `+tt.alter); err != nil {
				t.Fatal(err)
			}
			err = s.Setup(ctx)
			if !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), "column "+tt.column) {
				t.Fatalf("Setup after %s: %v, want ErrSchema naming the column", tt.alter, err)
			}
		})
	}
}
