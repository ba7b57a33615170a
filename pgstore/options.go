package pgstore

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Defaults for the options below.
const (
	// DefaultTable is the table a Store uses unless WithTable says otherwise.
	DefaultTable = "http_sessions"
	// DefaultCleanupInterval is how often the cleaner New starts deletes
	// expired rows.
	DefaultCleanupInterval = 5 * time.Minute
	// DefaultCleanupBatch is the most rows one cleanup statement deletes.
	DefaultCleanupBatch = 1000
)

// maxTableLen keeps the derived index names ("<table>_user_id_idx",
// "<table>_expires_idx") within PostgreSQL's 63-byte identifiers, so that they
// are never truncated into each other or into another table's.
const maxTableLen = 63 - len("_user_id_idx")

// ErrInvalidOption is returned by New for an option it cannot use.
var ErrInvalidOption = errors.New("pgstore: invalid option")

// Option configures a Store.
type Option func(*options)

type options struct {
	table           []string
	cleanupInterval time.Duration
	cleanupBatch    int
	logger          *slog.Logger
	prepared        bool
	err             error
}

// WithTable sets the table, optionally schema-qualified: WithTable("sessions")
// or WithTable("auth", "sessions"). Each part is quoted as an identifier, so
// any name is safe; the schema must exist. The table name is at most 51
// bytes, so that the index names derived from it fit PostgreSQL's 63.
func WithTable(name ...string) Option {
	return func(o *options) {
		if len(name) < 1 || len(name) > 2 {
			o.err = fmt.Errorf("%w: WithTable takes a table or a schema and a table", ErrInvalidOption)
			return
		}
		for _, part := range name {
			if part == "" || len(part) > 63 || strings.IndexByte(part, 0) >= 0 {
				o.err = fmt.Errorf("%w: table and schema names are 1 to 63 bytes without NUL", ErrInvalidOption)
				return
			}
		}
		if len(name[len(name)-1]) > maxTableLen {
			o.err = fmt.Errorf("%w: table name longer than %d bytes", ErrInvalidOption, maxTableLen)
			return
		}
		o.table = name
	}
}

// WithCleanupInterval sets how often the cleaner goroutine calls
// DeleteExpired (default five minutes). 0 starts no goroutine: the app calls
// DeleteExpired on a schedule of its own.
func WithCleanupInterval(d time.Duration) Option {
	return func(o *options) {
		if d < 0 {
			o.err = fmt.Errorf("%w: negative cleanup interval", ErrInvalidOption)
			return
		}
		o.cleanupInterval = d
	}
}

// WithCleanupBatch sets the most rows one cleanup statement deletes (default
// 1,000), which bounds how long each statement holds its row locks.
func WithCleanupBatch(n int) Option {
	return func(o *options) {
		if n < 1 {
			o.err = fmt.Errorf("%w: cleanup batch below 1", ErrInvalidOption)
			return
		}
		o.cleanupBatch = n
	}
}

// WithLogger makes the cleaner goroutine log its failures to l. Without it,
// they are dropped (the next run tries again).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// WithPreparedStatements makes the store use pgx's QueryExecModeCacheStatement:
// each statement is prepared once per connection (one extra round trip, the
// first time) and then runs without the server parsing and planning it again,
// which saves the database some tens of microseconds per statement. It needs
// every pool connection to keep its own server session: a direct connection,
// PgBouncer in session mode, or PgBouncer 1.21 or newer with
// max_prepared_statements set. Without it (the default), statements use
// QueryExecModeExec and work behind any PgBouncer in transaction mode.
func WithPreparedStatements() Option {
	return func(o *options) { o.prepared = true }
}
