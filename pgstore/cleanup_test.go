package pgstore

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sessionauth/session/pgstore/internal/pgtest"
)

// insertRows adds n rows to s's table with the given expiry.
func insertRows(t *testing.T, s *Store, n int, expires time.Time) {
	t.Helper()
	_, err := s.pool.Exec(testContext(t), `INSERT INTO `+s.table.Sanitize()+` (key, user_id, expires, data)
		SELECT sha256(gen_random_uuid()::text::bytea), 'user-' || (i % 50), $1, '\x01'::bytea
		FROM generate_series(1, $2::int) AS i`, expires, n)
	if err != nil {
		t.Fatal(err)
	}
}

func countRows(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	if err := s.pool.QueryRow(testContext(t), `SELECT count(*) FROM `+s.table.Sanitize()).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDeleteExpiredInBatches(t *testing.T) {
	t.Parallel()
	var n pgtest.Counter
	s, _ := newTestStore(t, func(c *pgxpool.Config) { c.ConnConfig.Tracer = &n }, Config{CleanupBatch: 1000})
	now := time.Now()
	insertRows(t, s, 2500, now.Add(-2*time.Minute)) // expired long enough
	insertRows(t, s, 10, now.Add(-30*time.Second))  // expired, within the grace
	insertRows(t, s, 10, now.Add(time.Hour))        // live
	n0 := n.Load()
	deleted, err := s.DeleteExpired(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	if deleted != 2500 {
		t.Fatalf("DeleteExpired deleted %d rows, want 2500", deleted)
	}
	if got := n.Load() - n0; got != 3 {
		t.Fatalf("DeleteExpired sent %d statements, want 3 (1000, 1000, 500)", got)
	}
	if got := countRows(t, s); got != 20 {
		t.Fatalf("%d rows left, want 20", got)
	}
	// Past the grace, the rest of the expired rows go too.
	s.now = func() time.Time { return now.Add(time.Minute) }
	if deleted, err := s.DeleteExpired(testContext(t)); err != nil || deleted != 10 {
		t.Fatalf("DeleteExpired a minute later = %d, %v; want 10", deleted, err)
	}
}

func TestConcurrentCleanersShareTheWork(t *testing.T) {
	t.Parallel()
	s, pool := newTestStore(t, nil, Config{CleanupBatch: 200})
	other := setUp(t, pool, Config{Schema: s.table[0], Table: s.table[1], CleanupInterval: -1, CleanupBatch: 200})
	insertRows(t, s, 5000, time.Now().Add(-time.Hour))
	var wg sync.WaitGroup
	counts := make([]int64, 4)
	for i := range counts {
		st := s
		if i%2 == 1 {
			st = other
		}
		wg.Go(func() {
			var err error
			if counts[i], err = st.DeleteExpired(testContext(t)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	var total int64
	for _, c := range counts {
		total += c
	}
	if total != 5000 || countRows(t, s) != 0 {
		t.Fatalf("cleaners deleted %d rows in all (%v), %d left; want 5000 and 0", total, counts, countRows(t, s))
	}
}

func TestCleanerRunsUntilClose(t *testing.T) {
	t.Parallel()
	s, pool := newTestStore(t, nil)
	c := setUp(t, pool, Config{Schema: s.table[0], Table: s.table[1], CleanupInterval: 20 * time.Millisecond})
	insertRows(t, s, 100, time.Now().Add(-time.Hour))
	deadline := time.Now().Add(10 * time.Second)
	for countRows(t, s) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the cleaner did not delete the expired rows")
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.Close()
	c.Close() // idempotent
	insertRows(t, s, 5, time.Now().Add(-time.Hour))
	time.Sleep(200 * time.Millisecond)
	if got := countRows(t, s); got != 5 {
		t.Fatalf("after Close, %d of 5 expired rows left: the cleaner still runs", got)
	}
}

func TestCleanerLogsFailures(t *testing.T) {
	t.Parallel()
	url, schema := pgtest.Schema(t)
	pool := pgtest.Pool(t, url, nil)
	var mu sync.Mutex
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&lockedWriter{mu: &mu, w: &buf}, nil))
	// No Setup: the table does not exist, so every run fails.
	s, err := New(pool, Config{Schema: schema, Table: "missing", CleanupInterval: 10 * time.Millisecond, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		out := buf.String()
		mu.Unlock()
		if strings.Contains(out, "deleting expired sessions failed") && strings.Contains(out, "does not exist") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failure logged: %q", out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCloseCancelsARunningCleanup(t *testing.T) {
	t.Parallel()
	s, pool := newTestStore(t, nil)
	c := setUp(t, pool, Config{Schema: s.table[0], Table: s.table[1], CleanupInterval: 10 * time.Millisecond})
	// Hold a lock that the cleaner's statement waits for.
	ctx := testContext(t)
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, `LOCK TABLE `+s.table.Sanitize()+` IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the cleaner is waiting by now
	done := make(chan struct{})
	go func() { c.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for a blocked cleanup")
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
