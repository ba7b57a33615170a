package pgstore

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sessionauth/session"
)

// Store is a session.Store (and session.Replacer) that keeps each session in
// one row of a PostgreSQL table. It is safe for concurrent use. Create it with
// New, create its table with Setup (or with the SQL of Schema), and stop its
// cleaner with Close before closing the pool.
type Store struct {
	pool  *pgxpool.Pool
	table pgx.Identifier
	sql   statements
	mode  pgx.QueryExecMode
	now   func() time.Time

	cleanupBatch int
	logger       *slog.Logger
	stop         context.CancelFunc
	done         chan struct{}
	closeOnce    sync.Once
}

var (
	_ session.Store    = (*Store)(nil)
	_ session.Replacer = (*Store)(nil)
)

// New returns a Store on pool, with the settings of cfg when one is given
// (pgstore.New(pool, pgstore.Config{Table: "sessions"})); the caller keeps
// ownership of pool, and closes it after Close. Unless cfg.CleanupInterval
// is negative, New starts one goroutine that deletes expired rows every
// five minutes until Close. New makes no round trip: call Setup before
// serving, or create the table with Schema's SQL. A nil pool, more than one
// Config or a field New cannot use is an error wrapping ErrInvalidConfig.
func New(pool *pgxpool.Pool, cfg ...Config) (*Store, error) {
	if pool == nil {
		return nil, fmt.Errorf("%w: nil pool", ErrInvalidConfig)
	}
	if len(cfg) > 1 {
		return nil, fmt.Errorf("%w: %d Configs, want at most one", ErrInvalidConfig, len(cfg))
	}
	var c Config
	if len(cfg) == 1 {
		c = cfg[0]
	}
	c, err := c.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Store{
		pool:         pool,
		table:        pgx.Identifier{c.Table},
		mode:         pgx.QueryExecModeCacheStatement,
		now:          time.Now,
		cleanupBatch: c.CleanupBatch,
		logger:       c.Logger,
	}
	if c.Schema != "" {
		s.table = pgx.Identifier{c.Schema, c.Table}
	}
	if c.DisablePreparedStatements {
		s.mode = pgx.QueryExecModeExec
	}
	s.sql = newStatements(s.table)
	if c.CleanupInterval > 0 {
		s.startCleaner(c.CleanupInterval)
	}
	return s, nil
}

// resultsBinary asks for every result column in the binary format, so that
// bytea values are not hex-encoded on the wire and timestamps do not depend
// on the session's DateStyle.
var resultsBinary = pgx.QueryResultFormats{pgx.BinaryFormatCode}

// Get returns the live record under key, or session.ErrNotFound. One round
// trip.
func (s *Store) Get(ctx context.Context, key string) (session.Record, error) {
	k, err := keyParam(key)
	if err != nil {
		return session.Record{}, err
	}
	var rec session.Record
	var user pgtype.Text
	err = s.pool.QueryRow(ctx, s.sql.get, s.mode, resultsBinary, k, s.now()).
		Scan(&user, &rec.Expires, &rec.Data)
	if errors.Is(err, pgx.ErrNoRows) {
		return session.Record{}, session.ErrNotFound
	}
	if err != nil {
		return session.Record{}, fmt.Errorf("pgstore: get: %w", err)
	}
	rec.UserID = user.String
	if rec.Data == nil {
		rec.Data = []byte{}
	}
	return rec, nil
}

// Create inserts rec under key, or fails with session.ErrExists when a live
// record has the key; an expired row under the key is replaced. One round
// trip.
func (s *Store) Create(ctx context.Context, key string, rec session.Record) error {
	k, err := keyParam(key)
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, s.sql.create, s.mode, k, rec.UserID, rec.Expires, data(rec.Data), s.now())
	if err != nil {
		return fmt.Errorf("pgstore: create: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return session.ErrExists
	}
	return nil
}

// Update replaces Expires and Data of the live record under key, or fails
// with session.ErrNotFound; it never recreates a deleted or expired record.
// One round trip.
func (s *Store) Update(ctx context.Context, key string, rec session.Record) error {
	k, err := keyParam(key)
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, s.sql.update, s.mode, k, rec.Expires, data(rec.Data), s.now())
	if err != nil {
		return fmt.Errorf("pgstore: update: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return session.ErrNotFound
	}
	return nil
}

// Touch moves the expiry of the live record under key, or fails with
// session.ErrNotFound. One round trip.
func (s *Store) Touch(ctx context.Context, key string, expires time.Time) error {
	k, err := keyParam(key)
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, s.sql.touch, s.mode, k, expires, s.now())
	if err != nil {
		return fmt.Errorf("pgstore: touch: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return session.ErrNotFound
	}
	return nil
}

// Delete removes the record under key; a missing key is not an error. One
// round trip.
func (s *Store) Delete(ctx context.Context, key string) error {
	k, err := keyParam(key)
	if err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, s.sql.delete, s.mode, k); err != nil {
		return fmt.Errorf("pgstore: delete: %w", err)
	}
	return nil
}

// Replace deletes the record under oldKey (unless it is ""), creates rec
// under key as Create does (session.ErrExists when a live record has it;
// the old record is gone all the same) and, when rec.UserID is not "" and
// limit > 0, deletes the user's oldest live sessions, by the time their rows
// were written, until at most limit remain, the new one included (it
// implements session.Replacer). One round trip in every case: with a limit,
// a batch of two statements in one implicit transaction, a per-user
// advisory lock (pg_advisory_xact_lock) and the statement that does the
// rest, so concurrent logins of one user take turns and never leave more
// than limit sessions; without one, the statement alone. Both work behind
// PgBouncer's transaction pooling.
func (s *Store) Replace(ctx context.Context, oldKey, key string, rec session.Record, limit int) error {
	var oldK []byte // NULL: no old session
	if oldKey != "" {
		var err error
		if oldK, err = keyParam(oldKey); err != nil {
			return err
		}
	}
	newK, err := keyParam(key)
	if err != nil {
		return err
	}
	if oldKey == key { // the Manager never does this: the old row goes first
		if err := s.Delete(ctx, oldKey); err != nil {
			return err
		}
		oldK = nil
	}
	limit = max(limit, 0)
	if rec.UserID == "" {
		limit = 0
	}
	var inserted int
	if limit == 0 {
		err = s.pool.QueryRow(ctx, s.sql.replaceAlone, s.mode, oldK, newK, rec.UserID, rec.Expires, data(rec.Data), s.now()).Scan(&inserted)
	} else {
		inserted, err = s.replaceLocked(ctx, oldK, newK, rec, limit)
	}
	if err != nil {
		return fmt.Errorf("pgstore: replace: %w", err)
	}
	if inserted == 0 {
		return session.ErrExists
	}
	return nil
}

// replaceLocked sends the lock and the replace statement as one pipeline
// with one Sync: one round trip, one implicit transaction. It goes through
// pgconn, with text parameters, because a pgx.Batch runs in the pool's
// default execution mode whatever Config chooses. With prepared statements
// (the default) both are prepared once per connection under names of
// their own, so a login costs neither a parse nor a plan of the replace
// statement; with Config.DisablePreparedStatements they are sent unnamed,
// as PgBouncer before 1.21 needs.
func (s *Store) replaceLocked(ctx context.Context, oldK, newK []byte, rec session.Record, limit int) (int, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Release()
	var old []byte // NULL
	if oldK != nil {
		old = byteaText(oldK)
	}
	lockArgs := [][]byte{strconv.AppendInt(nil, s.userLock(rec.UserID), 10)}
	replaceArgs := [][]byte{
		old, byteaText(newK), []byte(rec.UserID), timeText(rec.Expires),
		byteaText(data(rec.Data)), timeText(s.now()), strconv.AppendInt(nil, int64(limit), 10),
	}
	var b pgconn.Batch
	if s.mode == pgx.QueryExecModeExec {
		b.ExecParams(s.sql.lockUnprepared, lockArgs, nil, nil, nil)
		b.ExecParams(s.sql.replace, replaceArgs, nil, nil, nil)
	} else {
		lock, err := conn.Conn().Prepare(ctx, s.sql.lockName, s.sql.lock)
		if err != nil {
			return 0, err
		}
		replace, err := conn.Conn().Prepare(ctx, s.sql.replaceName, s.sql.replace)
		if err != nil {
			return 0, err
		}
		b.ExecPrepared(lock.Name, lockArgs, nil, nil)
		b.ExecPrepared(replace.Name, replaceArgs, nil, nil)
	}
	res, err := conn.Conn().PgConn().ExecBatch(ctx, &b).ReadAll()
	if err != nil {
		if s.mode != pgx.QueryExecModeExec && !conn.Conn().IsClosed() {
			// As pgx's statement cache does: forget the statements, so
			// that the next call prepares them again when the server lost
			// them (DEALLOCATE ALL or DISCARD ALL on the connection, a
			// pooler's reset).
			conn.Conn().Deallocate(ctx, s.sql.lockName)
			conn.Conn().Deallocate(ctx, s.sql.replaceName)
		}
		return 0, err
	}
	if len(res) != 2 || len(res[1].Rows) != 1 || len(res[1].Rows[0]) != 1 {
		return 0, errors.New("unexpected reply")
	}
	return strconv.Atoi(string(res[1].Rows[0][0]))
}

// byteaText is b in PostgreSQL's hex text format for bytea.
func byteaText(b []byte) []byte {
	out := make([]byte, 2+hex.EncodedLen(len(b)))
	copy(out, `\x`)
	hex.Encode(out[2:], b)
	return out
}

// timeText is t in a text format timestamptz reads exactly (microseconds).
func timeText(t time.Time) []byte {
	return t.UTC().AppendFormat(nil, "2006-01-02 15:04:05.999999Z07:00")
}

// userLock is the advisory lock Replace holds for userID: a hash of this
// package, the table and the user, the same in every instance of the app.
func (s *Store) userLock(userID string) int64 {
	h := fnv.New64a()
	h.Write([]byte("github.com/sessionauth/session/pgstore\x00replace\x00"))
	h.Write([]byte(s.table.Sanitize()))
	h.Write([]byte{0})
	h.Write([]byte(userID))
	return int64(h.Sum64())
}

// ListUser returns the live records of userID, in no particular order: one
// round trip, on the user_id index. An empty userID (anonymous sessions) has
// none and costs nothing.
func (s *Store) ListUser(ctx context.Context, userID string) ([]session.Entry, error) {
	if userID == "" {
		return nil, ctx.Err()
	}
	rows, err := s.pool.Query(ctx, s.sql.listUser, s.mode, resultsBinary, userID, s.now())
	if err != nil {
		return nil, fmt.Errorf("pgstore: list user: %w", err)
	}
	var out []session.Entry
	var key []byte
	for rows.Next() {
		e := session.Entry{Record: session.Record{UserID: userID}}
		if err := rows.Scan(&key, &e.Expires, &e.Data); err != nil {
			rows.Close()
			return nil, fmt.Errorf("pgstore: list user: %w", err)
		}
		e.Key = keyString(key)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: list user: %w", err)
	}
	return out, nil
}

// DeleteUser deletes every record of userID, live or expired: one statement
// on the user_id index, so one round trip. A record whose Create committed
// before it started is deleted. An empty userID deletes nothing.
func (s *Store) DeleteUser(ctx context.Context, userID string) error {
	if userID == "" {
		return ctx.Err()
	}
	if _, err := s.pool.Exec(ctx, s.sql.deleteUser, s.mode, userID); err != nil {
		return fmt.Errorf("pgstore: delete user: %w", err)
	}
	return nil
}

// data never sends NULL for a record's Data: the column is NOT NULL.
func data(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
