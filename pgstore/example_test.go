package pgstore_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sessionauth/session"
	"github.com/sessionauth/session/pgstore"
	"github.com/sessionauth/session/pgstore/internal/pgtest"
)

// TestMain gives the examples a schema of their own: DATABASE_URL is
// pointed at it (search_path), so the examples read like an app's code and
// still touch nothing else. Without a server the examples cannot run (an
// example cannot skip), so they are left out with a message, except under
// CI=true, where they run and fail.
func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runWithExampleSchema(m))
}

func runWithExampleSchema(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	base := pgtest.URL()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		if os.Getenv("CI") != "true" {
			fmt.Fprintf(os.Stderr, "pgstore: no PostgreSQL at DATABASE_URL (default %s): examples skipped: %v\n", pgtest.DefaultURL, err)
			flag.Set("test.skip", "^Example")
		}
		return m.Run()
	}
	defer conn.Close(context.Background())
	schema := pgx.Identifier{"pgstore_example_" + pgtest.RandomHex(6)}
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema.Sanitize()); err != nil {
		fmt.Fprintln(os.Stderr, "pgstore: create schema:", err)
		return 1
	}
	defer conn.Exec(context.Background(), "DROP SCHEMA "+schema.Sanitize()+" CASCADE")
	u, err := url.Parse(base)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgstore: DATABASE_URL:", err)
		return 1
	}
	q := u.Query()
	q.Set("search_path", schema[0])
	u.RawQuery = q.Encode()
	os.Setenv("DATABASE_URL", u.String())
	return m.Run()
}

// An app on PostgreSQL: a pool, the store, Setup once at startup, then the
// Manager as with any store.
func Example() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	store, err := pgstore.New(pool) // starts the cleaner; Close stops it
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	if err := store.Setup(ctx); err != nil {
		log.Fatal(err)
	}

	keys, err := session.NewKeyRing(session.GenerateKey())
	if err != nil {
		log.Fatal(err)
	}
	sessions, err := session.New(session.Config{Store: store, Keys: keys})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if err := sessions.Login(w, r, "alice"); err != nil {
			http.Error(w, "try again", http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		sessions.Logout(w, r)
	})
	mux.Handle("GET /me", sessions.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "signed in as", session.FromContext(r.Context()).UserID())
	})))
	srv := httptest.NewTLSServer(sessions.Middleware(mux))
	defer srv.Close()

	client := srv.Client()
	client.Jar, _ = cookiejar.New(nil)
	show := func(method, path string) {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		resp, err := client.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(body))))
	}
	show("POST", "/login")
	show("GET", "/me")
	var rows int
	pool.QueryRow(ctx, "SELECT count(*) FROM http_sessions WHERE user_id = 'alice'").Scan(&rows)
	fmt.Println("rows for alice:", rows)
	show("POST", "/logout")
	show("GET", "/me")
	// Output:
	// POST /login: 200
	// GET /me: 200 signed in as alice
	// rows for alice: 1
	// POST /logout: 200
	// GET /me: 401 {"error":"not authenticated"}
}

// The SQL Setup runs, for teams that apply it with their own migrations. New
// does not connect, so this needs no database.
func ExampleStore_Schema() {
	pool, err := pgxpool.New(context.Background(), "postgres://localhost/app")
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	store, err := pgstore.New(pool, pgstore.Config{Schema: "auth", Table: "sessions", CleanupInterval: -1})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(store.Schema())
	// Output:
	// CREATE SCHEMA IF NOT EXISTS "auth";
	// CREATE TABLE IF NOT EXISTS "auth"."sessions" (
	// 	key     bytea       PRIMARY KEY,
	// 	user_id text,
	// 	expires timestamptz NOT NULL,
	// 	data    bytea       NOT NULL,
	// 	created timestamptz NOT NULL DEFAULT now()
	// );
	// ALTER TABLE "auth"."sessions" ADD COLUMN IF NOT EXISTS created timestamptz NOT NULL DEFAULT now();
	// CREATE INDEX IF NOT EXISTS "sessions_user_id_idx" ON "auth"."sessions" (user_id) WHERE user_id IS NOT NULL;
	// CREATE INDEX IF NOT EXISTS "sessions_expires_idx" ON "auth"."sessions" (expires);
}

// With several instances, one of them (or a cron job) can delete expired
// sessions on its own schedule instead of a cleaner in every instance.
func ExampleStore_DeleteExpired() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	store, err := pgstore.New(pool, pgstore.Config{CleanupInterval: -1}) // no goroutine
	if err != nil {
		log.Fatal(err)
	}
	if err := store.Setup(ctx); err != nil {
		log.Fatal(err)
	}
	// One instance, or a job of its own, deletes them every ten minutes.
	for range time.Tick(10 * time.Minute) {
		if _, err := store.DeleteExpired(ctx); err != nil {
			log.Print(err)
		}
	}
}
