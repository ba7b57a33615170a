package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sessionauth/session"
)

// PostgreSQL plans a prepared statement for each call until a generic plan
// looks no dearer than the calls' own (plan_cache_mode auto, its default);
// Replace's statements must get there (a plan per call cost about 200 µs),
// with a limit (a login) and without one (the first save of an anonymous
// session).
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
		})
	}
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
