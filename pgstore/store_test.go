package pgstore

import (
	"context"
	"errors"
	"fmt"
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

func TestStoreConformance(t *testing.T) {
	s, _ := newTestStore(t, nil)
	storetest.Run(t, func(*testing.T) session.Store { return s })
}

func TestReplace(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t, nil)
	ctx := testContext(t)
	later := time.Now().Add(time.Hour)
	tests := []struct {
		name    string
		prepare func(oldKey, newKey string)
		wantErr error
	}{
		{"old exists", func(o, _ string) { s.Create(ctx, o, session.Record{UserID: "u", Expires: later}) }, nil},
		{"old missing", func(string, string) {}, nil},
		{"new live", func(o, n string) {
			s.Create(ctx, o, session.Record{UserID: "u", Expires: later})
			s.Create(ctx, n, session.Record{UserID: "v", Expires: later, Data: []byte("keep")})
		}, session.ErrExists},
		{"new expired", func(_, n string) {
			s.Create(ctx, n, session.Record{UserID: "v", Expires: time.Now().Add(-time.Second)})
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			oldKey, newKey := storetest.NewKey(), storetest.NewKey()
			tc.prepare(oldKey, newKey)
			err := s.Replace(ctx, oldKey, newKey, session.Record{UserID: "u", Expires: later, Data: []byte("new")}, 0)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Replace = %v, want %v", err, tc.wantErr)
			}
			if _, err := s.Get(ctx, oldKey); !errors.Is(err, session.ErrNotFound) {
				t.Fatalf("old key after Replace: %v, want ErrNotFound", err)
			}
			got, err := s.Get(ctx, newKey)
			if err != nil {
				t.Fatal(err)
			}
			want := "new"
			if tc.wantErr != nil {
				want = "keep"
			}
			if string(got.Data) != want {
				t.Fatalf("new key holds %q, want %q", got.Data, want)
			}
		})
	}
	t.Run("same key", func(t *testing.T) {
		k := storetest.NewKey()
		s.Create(ctx, k, session.Record{UserID: "u", Expires: later, Data: []byte("old")})
		if err := s.Replace(ctx, k, k, session.Record{UserID: "w", Expires: later, Data: []byte("new")}, 0); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Get(ctx, k); err != nil || string(got.Data) != "new" || got.UserID != "w" {
			t.Fatalf("Get = %+v, %v", got, err)
		}
	})
}

func TestInvalidKeysAreRefusedWithoutARoundTrip(t *testing.T) {
	t.Parallel()
	var n pgtest.Counter
	s, _ := newTestStore(t, func(c *pgxpool.Config) { c.ConnConfig.Tracer = &n })
	ctx := testContext(t)
	n0 := n.Load()
	valid := storetest.NewKey()
	for _, key := range []string{"", "abc", strings.ToUpper(valid), valid[:63] + "g", valid + "0", valid[:62] + "\x00\x00"} {
		rec := session.Record{Expires: time.Now().Add(time.Hour)}
		errs := map[string]error{
			"Get":           func() error { _, err := s.Get(ctx, key); return err }(),
			"Create":        s.Create(ctx, key, rec),
			"Update":        s.Update(ctx, key, rec),
			"Touch":         s.Touch(ctx, key, rec.Expires),
			"Delete":        s.Delete(ctx, key),
			"Replace":       s.Replace(ctx, valid, key, rec, 0),
			"ReplaceCapped": s.Replace(ctx, valid, key, session.Record{UserID: "u", Expires: rec.Expires}, 3),
		}
		for op, err := range errs {
			if !errors.Is(err, errStoreKey) {
				t.Errorf("%s(%q) = %v, want errStoreKey", op, key, err)
			}
			if err != nil && key != "" && strings.Contains(err.Error(), key) {
				t.Errorf("%s error contains the key", op)
			}
		}
	}
	if got := n.Load() - n0; got != 0 {
		t.Fatalf("%d statements sent for invalid keys, want 0", got)
	}
}

func TestEmptyDataRoundTrips(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t, nil)
	ctx := testContext(t)
	k := storetest.NewKey()
	if err := s.Create(ctx, k, session.Record{Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, k)
	if err != nil || got.Data == nil || len(got.Data) != 0 || got.UserID != "" {
		t.Fatalf("Get = %+v, %v; want empty, non-nil Data and no user", got, err)
	}
}

// statementLog is a pgx tracer that records which of the store's statements
// each query was, by name.
type statementLog struct {
	mu    sync.Mutex
	names map[string]string // SQL -> name
	seen  []string
}

func (l *statementLog) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	l.mu.Lock()
	defer l.mu.Unlock()
	name, ok := l.names[d.SQL]
	if !ok {
		name = "other"
	}
	l.seen = append(l.seen, name)
	return ctx
}

func (l *statementLog) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// take returns the statements recorded since the last call.
func (l *statementLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	seen := l.seen
	l.seen = nil
	return seen
}

// TestRoundTripsThroughManager drives a real Manager over HTTP and checks
// which statements each request sends: every store operation is one
// statement (one round trip), and a request that does not change the
// session sends only the read.
func TestRoundTripsThroughManager(t *testing.T) {
	t.Parallel()
	t.Run("prepared statements disabled", func(t *testing.T) {
		t.Parallel()
		testRoundTrips(t, 1, Config{DisablePreparedStatements: true})
	})
	// Prepared statements (the default) cost one more round trip the first
	// time each runs on a connection; the second pass is the steady state.
	t.Run("default: prepared statements", func(t *testing.T) {
		t.Parallel()
		testRoundTrips(t, 2)
	})
}

func testRoundTrips(t *testing.T, passes int, cfg ...Config) {
	log := &statementLog{}
	var wire pgtest.Wire
	s, pool := newTestStore(t, func(c *pgxpool.Config) {
		c.ConnConfig.Tracer = log
		c.ConnConfig.DialFunc = wire.Dial
		c.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
	}, cfg...)
	sq := s.sql
	log.names = map[string]string{sq.get: "get", sq.create: "create", sq.update: "update", sq.touch: "touch",
		sq.delete: "delete", sq.replace: "replace", sq.listUser: "listUser", sq.deleteUser: "deleteUser"}
	// Idle timeout 2s: the Manager extends it (a touch) once 1s has passed.
	a := newApp(t, s, session.Config{IdleTimeout: 2 * time.Second}, 0)
	if err := pool.Ping(testContext(t)); err != nil { // one connection, dialed and ready
		t.Fatal(err)
	}
	log.take()
	steps := []struct {
		name         string
		method, path string
		code         int
		want         []string
		sleep        time.Duration
		untraced     int // round trips the tracer does not see (Replace's locked batch)
	}{
		{"anonymous", "GET", "/me", 401, nil, 0, 0},
		// Login is Replace with the cap: one batch (lock, then replace) in
		// one round trip, sent through pgconn, so the tracer sees nothing.
		{"login", "POST", "/login", 200, nil, 0, 1},
		{"unchanged read", "GET", "/me", 200, []string{"get"}, 0, 0},
		{"value change", "POST", "/set", 200, []string{"get", "update"}, 0, 0},
		{"idle window due: touch", "GET", "/me", 200, []string{"get", "touch"}, 1100 * time.Millisecond, 0},
		{"touched: read only", "GET", "/me", 200, []string{"get"}, 0, 0},
		{"login over a session", "POST", "/login", 200, []string{"get"}, 0, 1},
		// Logout deletes, then reads the marker a concurrent Renew would
		// have left under the token (so a Renew cannot outlive the Logout).
		{"logout", "POST", "/logout", 200, []string{"delete", "get"}, 0, 0},
		{"logged out", "GET", "/me", 401, nil, 0, 0},
		{"login again", "POST", "/login", 200, nil, 0, 1},
		{"LogoutAll", "POST", "/logoutall", 200, []string{"deleteUser", "get"}, 0, 0},
		// The request's own token is known dead in this process: no read.
		{"after LogoutAll", "GET", "/me", 401, nil, 0, 0},
	}
	for pass := 1; pass <= passes; pass++ {
		last := pass == passes
		for _, st := range steps {
			time.Sleep(st.sleep)
			w0 := wire.Load()
			a.want(st.method, st.path, st.code)
			if got := log.take(); fmt.Sprint(got) != fmt.Sprint(st.want) {
				t.Errorf("pass %d, %s: statements %v, want %v", pass, st.name, got, st.want)
			}
			// Each statement is one round trip on the wire, too.
			if got := wire.Load() - w0; last && got != int64(len(st.want)+st.untraced) {
				t.Errorf("pass %d, %s: %d round trips on the wire, want %d", pass, st.name, got, len(st.want)+st.untraced)
			}
		}
	}
}

func TestDisabledPreparedStatementsConformance(t *testing.T) {
	s, _ := newTestStore(t, nil, Config{DisablePreparedStatements: true})
	storetest.Run(t, func(*testing.T) session.Store { return s })
}

// Replace with a limit keeps the newest rows by the order they were
// written, counts only the user's live rows, and leaves other users alone.
func TestReplaceEndsTheUsersOldestRows(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t, nil)
	ctx := testContext(t)
	now := time.Now()
	var keys []string
	for range 3 {
		k := storetest.NewKey()
		keys = append(keys, k)
		if err := s.Create(ctx, k, session.Record{UserID: "alice", Expires: now.Add(time.Hour), Data: []byte{1}}); err != nil {
			t.Fatal(err)
		}
	}
	bob := storetest.NewKey()
	if err := s.Create(ctx, bob, session.Record{UserID: "bob", Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	newKey := storetest.NewKey()
	if err := s.Replace(ctx, keys[2], newKey, session.Record{UserID: "alice", Expires: now.Add(time.Hour)}, 2); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]error{keys[0]: session.ErrNotFound, keys[1]: nil, keys[2]: session.ErrNotFound, newKey: nil, bob: nil} {
		if _, err := s.Get(ctx, k); !errors.Is(err, want) {
			t.Errorf("Get after Replace with limit 2 = %v, want %v", err, want)
		}
	}
	if err := s.Replace(ctx, "", newKey, session.Record{UserID: "alice", Expires: now.Add(time.Hour)}, 1); !errors.Is(err, session.ErrExists) {
		t.Fatalf("Replace onto a live key = %v, want ErrExists", err)
	}
	if _, err := s.Get(ctx, keys[1]); err != nil {
		t.Fatalf("a failed Replace ended a session: %v", err)
	}
}

// Statements the server lost (DEALLOCATE ALL or DISCARD ALL on the
// connection, a pooler's reset) cost Replace one failed call on that
// connection, not every call after it: the store forgets its prepared
// statements when a batch fails and prepares them again, as pgx's own
// statement cache does for every other statement.
func TestReplaceRecoversAfterItsStatementsAreDeallocated(t *testing.T) {
	t.Parallel()
	s, pool := newTestStore(t, func(c *pgxpool.Config) { c.MaxConns = 1 })
	ctx := testContext(t)
	rec := session.Record{UserID: "u", Expires: time.Now().Add(time.Hour), Data: []byte("d")}
	key := func(i int) string { return fmt.Sprintf("%064x", i+1) }
	if err := s.Replace(ctx, "", key(0), rec, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "DEALLOCATE ALL"); err != nil {
		t.Fatal(err)
	}
	var errs []error
	for i := 1; i <= 3; i++ {
		s.Get(ctx, key(0)) // pgx's statement cache heals on its own
		errs = append(errs, s.Replace(ctx, "", key(i), rec, 3))
	}
	if errs[1] != nil || errs[2] != nil {
		t.Fatalf("Replace after DEALLOCATE ALL: %v; want at most the first call to fail", errs)
	}
}
