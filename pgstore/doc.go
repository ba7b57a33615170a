// Package pgstore is a session.Store on PostgreSQL through pgx v5 and its
// connection pool, pgxpool. It lives in a module of its own, so importers of
// github.com/sessionauth/session never pull a database driver.
//
//	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
//	...
//	store, err := pgstore.New(pool)
//	...
//	defer store.Close() // before pool.Close: deferred after it
//	if err := store.Setup(ctx); err != nil { ... } // once, before serving
//	m, err := session.New(session.Config{Store: store, Keys: keys})
//
// # Schema
//
// Setup creates the table and its indexes if they do not exist. It is safe to
// run from every instance of the app at once: the statements run in one
// transaction behind a transaction-level advisory lock. Teams that run their
// own migrations apply the same SQL themselves (Store.Schema returns it for
// another table or schema, CREATE SCHEMA included); for the default table it
// is:
//
//	CREATE TABLE IF NOT EXISTS "http_sessions" (
//		key     bytea       PRIMARY KEY,
//		user_id text,
//		expires timestamptz NOT NULL,
//		data    bytea       NOT NULL,
//		created timestamptz NOT NULL DEFAULT now()
//	);
//	ALTER TABLE "http_sessions" ADD COLUMN IF NOT EXISTS created timestamptz NOT NULL DEFAULT now();
//	CREATE INDEX IF NOT EXISTS "http_sessions_user_id_idx" ON "http_sessions" (user_id) WHERE user_id IS NOT NULL;
//	CREATE INDEX IF NOT EXISTS "http_sessions_expires_idx" ON "http_sessions" (expires);
//
// A row is one session: key is the 32-byte SHA-256 store key the Manager
// passes (as 64 hex digits) in binary, user_id is NULL for an anonymous
// session, data is the Manager's opaque encoding of the session. The partial
// index on user_id makes ListUser and DeleteUser one indexed query each; the
// index on expires lets the cleaner find expired rows without scanning the
// table.
//
// # Round trips
//
// Every method of the Store contract is one statement, so one round trip:
// Get, Create, Update, Touch, Delete, ListUser, DeleteUser and Replace (the
// Manager's Login, Renew and LogoutOthers: delete the old row and insert the
// new one in a single statement). Setup and DeleteExpired take a few. An
// unchanged authenticated request costs one round trip, a request that
// changes a value two (the read and the update).
//
// Statements are prepared once per connection and cached (pgx's
// QueryExecModeCacheStatement, whatever the pool's default), so the server
// does not parse and plan them again. That works on a direct connection,
// behind PgBouncer in session mode, and behind PgBouncer 1.21 or newer in
// transaction mode with max_prepared_statements set. Behind an older
// PgBouncer in transaction mode, set Config.DisablePreparedStatements: each
// statement then goes in the extended protocol's unnamed statement
// (QueryExecModeExec), still one round trip. (pgxpool itself pings a
// connection that has been idle for more than a second before handing it
// out; see pgxpool.Config.ShouldPing.)
//
// # Expiry and the clock that decides
//
// A row whose expires is not after the app's current time is invisible at
// once: every statement compares expires with a time the app passes as a
// parameter, never with the database's now(). The app's clock decides because
// the app computed Record.Expires from it: the Manager checks idle and
// absolute timeouts against the same clock, so a session lives exactly as long
// as the Manager says, whatever the offset between the app server and the
// database server (commonly a few seconds, and never checked by anyone).
// Between app servers, the skew of their clocks is a skew of session
// lifetimes, as it would be without a database.
//
// Expired rows are deleted by a cleaner: by default a goroutine that New
// starts and Close stops calls DeleteExpired every five minutes; it deletes
// rows that expired more than a minute ago (so an app server whose clock is a
// little behind never sees a row vanish before its expiry) in batches of at
// most 1,000 rows, one short statement each. Apps that would rather schedule
// it (a cron job, one instance of many) set a negative
// Config.CleanupInterval and call DeleteExpired themselves. Cleaners in several instances at once skip each
// other's rows instead of waiting for them.
//
// # Failures
//
// Every method honours its context: a statement still running when the
// request's deadline passes is abandoned (pgx closes that connection, and the
// pool dials a new one for the next request). A database that is down makes
// every method return an error wrapping the driver's, which the Manager turns
// into 503 on RequireAuth routes; the pool reconnects by itself once the
// database is back, without restarting the app.
package pgstore
