package pgstore

import (
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Config holds a Store's settings, all optional: the zero Config is the
// default, a table "http_sessions" in the connection's search_path,
// prepared statements, and a cleaner every five minutes deleting up to
// 1,000 rows per statement.
type Config struct {
	// Table is the table's name; "" means "http_sessions". It is quoted as
	// an identifier, so any name is safe. At most 51 bytes, so that the
	// index names derived from it ("<table>_user_id_idx") fit PostgreSQL's
	// 63.
	Table string
	// Schema is the table's schema; "" means the first schema of the
	// connection's search_path (usually public). Setup creates it when it
	// does not exist. Quoted as an identifier; at most 63 bytes.
	Schema string
	// DisablePreparedStatements turns off prepared statements, for
	// PgBouncer older than 1.21 in transaction pooling mode (or 1.21 and
	// newer without max_prepared_statements), which hands one client's
	// named statements to another's server connection. By default the
	// store uses pgx's QueryExecModeCacheStatement: each statement is
	// prepared once per connection (one extra round trip, the first time)
	// and then runs without the server parsing and planning it again, as
	// pgx does by default; that works on a direct connection, behind
	// PgBouncer in session mode, and behind PgBouncer 1.21 or newer in
	// transaction mode with max_prepared_statements set (it tracks
	// protocol-level prepared statements per server connection). Disabled,
	// the store uses QueryExecModeExec: the unnamed statement, parsed and
	// planned on every call, which works behind any pooler.
	DisablePreparedStatements bool
	// CleanupInterval is how often the cleaner goroutine New starts calls
	// DeleteExpired; 0 means five minutes. A negative interval starts no
	// goroutine: the app calls DeleteExpired on a schedule of its own.
	CleanupInterval time.Duration
	// CleanupBatch is the most rows one cleanup statement deletes, which
	// bounds how long each statement holds its row locks; 0 means 1,000.
	CleanupBatch int
	// Logger receives the cleaner goroutine's failures; nil drops them (the
	// next run tries again). Store keys and session data are never logged.
	Logger *slog.Logger
}

// Defaults of Config's zero fields.
const (
	defaultTable           = "http_sessions"
	defaultCleanupInterval = 5 * time.Minute
	defaultCleanupBatch    = 1000
)

// maxTableLen keeps the derived index names ("<table>_user_id_idx",
// "<table>_expires_idx") within PostgreSQL's 63-byte identifiers, so that they
// are never truncated into each other or into another table's.
const maxTableLen = 63 - len("_user_id_idx")

// withDefaults checks c and returns it with its zero fields set. Every
// error wraps ErrInvalidConfig and names the field.
func (c Config) withDefaults() (Config, error) {
	bad := func(format string, args ...any) (Config, error) {
		return c, fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
	}
	if c.Table == "" {
		c.Table = defaultTable
	}
	if len(c.Table) > maxTableLen || strings.IndexByte(c.Table, 0) >= 0 {
		return bad("Table is %d bytes or holds a NUL; want at most %d bytes without NUL", len(c.Table), maxTableLen)
	}
	if len(c.Schema) > 63 || strings.IndexByte(c.Schema, 0) >= 0 {
		return bad("Schema is %d bytes or holds a NUL; want at most 63 bytes without NUL", len(c.Schema))
	}
	if c.CleanupInterval == 0 {
		c.CleanupInterval = defaultCleanupInterval
	}
	if c.CleanupBatch == 0 {
		c.CleanupBatch = defaultCleanupBatch
	}
	if c.CleanupBatch < 0 {
		return bad("CleanupBatch %d < 0", c.CleanupBatch)
	}
	return c, nil
}
