package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sessionauth/session"
)

// PostgreSQL plans a prepared statement for each call until a generic plan
// looks no dearer than the calls' own (plan_cache_mode auto, its default);
// Replace's statements must get there (a plan per call cost about 200 µs),
// with a limit (a login) and without one (the first save of an anonymous
// session). The table here already holds many sessions of a few users
// (and more of no user), so that the statistics make the login statement's
// generic plan look dearer than a plan for a new user: auto alone would
// plan every login (350 µs a login here), so Replace asks for the generic
// plan in its transaction, and that plan must still read only the user's
// rows.
func TestReplaceStatementsSettleOnAGenericPlan(t *testing.T) {
	t.Parallel()
	for _, limit := range []int{0, 32} {
		t.Run(fmt.Sprintf("limit=%d", limit), func(t *testing.T) {
			t.Parallel()
			// One connection, so that every call uses the same prepared
			// statements and pg_prepared_statements shows them.
			s, pool := newTestStore(t, func(c *pgxpool.Config) {
				c.MaxConns = 1
				c.ConnConfig.RuntimeParams["plan_cache_mode"] = "auto"
			})
			ctx := testContext(t)
			fill := `INSERT INTO ` + s.table.Sanitize() + ` (key, user_id, expires, data)
SELECT sha256(('fill-' || i)::bytea), CASE WHEN i <= 5000 THEN 'crowd-' || (i % 10) END, now() + interval '1 hour', '\x00'::bytea
FROM generate_series(1, 20000) i`
			if _, err := pool.Exec(ctx, fill); err != nil {
				t.Fatal(err)
			}
			if _, err := pool.Exec(ctx, `ANALYZE `+s.table.Sanitize()); err != nil {
				t.Fatal(err)
			}
			const calls = 20
			for i := range calls {
				rec := session.Record{UserID: fmt.Sprintf("user-%d", i), Expires: time.Now().Add(time.Hour), Data: []byte("v")}
				if err := s.Replace(ctx, "", randomKey(t), rec, limit); err != nil {
					t.Fatal(err)
				}
			}
			generic, custom := planCounts(t, ctx, pool, "WITH gone AS")
			t.Logf("replace, limit %d: %d generic plans, %d custom plans in %d calls", limit, generic, custom, calls)
			if generic < calls-5 {
				t.Fatalf("replace with limit %d: %d generic plans and %d custom in %d calls; want a generic plan after the first five", limit, generic, custom, calls)
			}
			if limit > 0 && custom > 0 {
				t.Fatalf("replace with limit %d: %d custom plans in %d calls; want the generic plan from the first call", limit, custom, calls)
			}
			var mode string
			if err := pool.QueryRow(ctx, `SHOW plan_cache_mode`).Scan(&mode); err != nil || mode != "auto" {
				t.Fatalf("plan_cache_mode after Replace = %q, %v; want the connection's own (auto): Replace sets it for its transaction only", mode, err)
			}
			if limit > 0 {
				// The generic plan, made for a user who holds a tenth of the
				// table, still finds the user's rows through the user_id
				// index, never by walking the expires index.
				plan := explainGeneric(t, ctx, pool, s.sql.replaceName)
				if !strings.Contains(plan, "_user_id_idx") || strings.Contains(plan, "_expires_idx") {
					t.Fatalf("generic plan of the login statement does not find the user's rows through the user_id index alone:\n%s", plan)
				}
				// Nor does it read the whole table to find the rows to end.
				if strings.Contains(plan, "Seq Scan") {
					t.Fatalf("generic plan of the login statement scans the table:\n%s", plan)
				}
				// A login under the cap sorts nothing (see the replace
				// statement's comment for what that saved in the bench);
				// one past it sorts the user's rows to find the oldest.
				for _, tc := range []struct {
					user string
					sort bool
				}{{"someone-new", false}, {"crowd-1", true}} {
					plan := explainAnalyzeGeneric(t, ctx, pool, s.sql.replaceName, tc.user)
					sorted := strings.Contains(plan, "Sort (actual")
					if sorted != tc.sort {
						t.Fatalf("login of %s: the plan sorts: %v, want %v:\n%s", tc.user, sorted, tc.sort, plan)
					}
				}
			}
		})
	}
}

// explainGeneric returns the generic plan of the prepared replace statement
// name, for a new user.
func explainGeneric(t *testing.T, ctx context.Context, pool *pgxpool.Pool, name string) string {
	t.Helper()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SET plan_cache_mode = force_generic_plan`); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(ctx, `RESET plan_cache_mode`)
	rows, err := conn.Query(ctx, `EXPLAIN EXECUTE `+name+`(NULL, '\x01', 'someone-new', now() + interval '1 hour', '\x00', now(), 32)`)
	return planText(t, rows, err)
}

// explainAnalyzeGeneric runs the prepared replace statement name with its
// generic plan, as a login of user with a limit of 32, in a transaction it
// rolls back, and returns the plan with what each node did.
func explainAnalyzeGeneric(t *testing.T, ctx context.Context, pool *pgxpool.Pool, name, user string) string {
	t.Helper()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SET LOCAL plan_cache_mode = force_generic_plan`); err != nil {
		t.Fatal(err)
	}
	rows, err := tx.Query(ctx, `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE `+name+`(NULL, '\x01', '`+user+`', now() + interval '1 hour', '\x00', now(), 32)`)
	return planText(t, rows, err)
}

// planText returns the lines of an EXPLAIN's result, one per line.
func planText(t *testing.T, rows pgx.Rows, err error) string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(line + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan.String()
}

// planCounts sums pg_prepared_statements' plan counts of the session's
// statements that start with prefix.
func planCounts(t *testing.T, ctx context.Context, pool *pgxpool.Pool, prefix string) (generic, custom int64) {
	t.Helper()
	rows, err := pool.Query(ctx, `SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var stmt string
		var g, c int64
		if err := rows.Scan(&stmt, &g, &c); err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(stmt, prefix) {
			generic, custom = generic+g, custom+c
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return generic, custom
}

func randomKey(t *testing.T) string {
	var b [32]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
