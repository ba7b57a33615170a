package bench

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// defaultPostgresURL is the server the PostgreSQL subjects use when
// DATABASE_URL is unset.
const defaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test"

var pgEnv struct {
	once    sync.Once
	url     string
	skipMsg string
}

// needPostgres skips (or, under CI=true, fails) tb when no PostgreSQL
// answers at DATABASE_URL, and returns the URL otherwise.
func needPostgres(tb testing.TB) string {
	tb.Helper()
	pgEnv.once.Do(func() {
		url := os.Getenv("DATABASE_URL")
		if url == "" {
			url = defaultPostgresURL
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			pgEnv.skipMsg = "no PostgreSQL at DATABASE_URL (default " + defaultPostgresURL + "): PostgreSQL subjects skipped: " + err.Error()
			return
		}
		conn.Close(ctx)
		pgEnv.url = url
	})
	if pgEnv.url == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatal(pgEnv.skipMsg)
		}
		tb.Skip(pgEnv.skipMsg)
	}
	return pgEnv.url
}

// pgMakers make the PostgreSQL subjects on the server at a URL.
var pgMakers = []struct {
	name string
	new  func(tb testing.TB, url string) (*PGSubject, error)
}{
	{"ours-pg", func(tb testing.TB, url string) (*PGSubject, error) { return NewOursPostgres(url, benchKeys(tb), false) }},
	{"ours-pg-unprepared", func(tb testing.TB, url string) (*PGSubject, error) { return NewOursPostgres(url, benchKeys(tb), true) }},
	{"scs-pgx", func(_ testing.TB, url string) (*PGSubject, error) { return NewSCSPgx(url) }},
	{"scs-pg", func(_ testing.TB, url string) (*PGSubject, error) { return NewSCSPostgres(url) }},
}

// pgFactories returns the PostgreSQL subjects as factories; url returns the
// server's URL for a test or benchmark.
func pgFactories(url func(testing.TB) string) []factory {
	var out []factory
	for _, m := range pgMakers {
		out = append(out, factory{name: m.name, new: func(tb testing.TB, _ bool) Subject {
			s, err := m.new(tb, url(tb))
			if err != nil {
				tb.Fatal(err)
			}
			return s
		}})
	}
	return out
}

// pgSubjects are the PostgreSQL subjects of the scenario benchmarks, also
// listed in subjects.
var pgSubjects = pgFactories(needPostgres)

// BenchmarkPostgresDisk signs in b.N sessions through each PostgreSQL
// subject (the login scenario: a fresh session with the user ID) and reports
// the size of its table, indexes included, per session and per 100,000
// sessions. Run it with -benchtime 100000x for the figure at that size. Its
// connections set synchronous_commit=off, which changes when commits reach
// the disk but not what they write, so that 100,000 logins take seconds,
// not the minutes of as many disk flushes; its time per op is not reported.
func BenchmarkPostgresDisk(b *testing.B) {
	sc := scenarioNamed("login")
	async := func(tb testing.TB) string {
		u, err := url.Parse(needPostgres(tb))
		if err != nil {
			tb.Fatal(err)
		}
		q := u.Query()
		q.Set("synchronous_commit", "off")
		u.RawQuery = q.Encode()
		return u.String()
	}
	for _, f := range pgFactories(async) {
		b.Run("subject="+f.name, func(b *testing.B) {
			g := newRig(b, sc, f, true)
			w, r := NewWriter(), new(http.Request)
			for b.Loop() {
				g.serve(w, r)
			}
			b.StopTimer()
			g.check(b)
			size, err := g.s.(*PGSubject).TableBytes(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			perSession := float64(size) / float64(b.N)
			b.ReportMetric(perSession, "B/session")
			b.ReportMetric(perSession*100_000/(1<<20), "MiB/100k-sessions")
			b.ReportMetric(float64(b.N), "sessions")
		})
	}
}

// TestWireCounterCountsRoundTrips checks the PostgreSQL round-trip counter
// against pgx's query modes, whose round trips pgx documents: one for
// QueryExecModeExec, two for QueryExecModeDescribeExec.
func TestWireCounterCountsRoundTrips(t *testing.T) {
	url := needPostgres(t)
	ctx := context.Background()
	w := new(WireCounter)
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DialFunc = w.DialContext
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, tc := range []struct {
		mode pgx.QueryExecMode
		want uint64
	}{{pgx.QueryExecModeExec, 1}, {pgx.QueryExecModeDescribeExec, 2}, {pgx.QueryExecModeSimpleProtocol, 1}} {
		n0 := w.Load()
		var got int
		if err := conn.QueryRow(ctx, "SELECT $1::int + 1", tc.mode, 41).Scan(&got); err != nil || got != 42 {
			t.Fatalf("%v: %d, %v", tc.mode, got, err)
		}
		if n := w.Load() - n0; n != tc.want {
			t.Errorf("%v: counted %d round trips, want %d", tc.mode, n, tc.want)
		}
	}
}
