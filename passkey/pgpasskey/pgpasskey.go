// Package pgpasskey is a passkey.Store on PostgreSQL through pgx v5 and its
// pool, pgxpool: one row per passkey, one statement per call.
//
//	store, err := pgpasskey.New(pool)
//	...
//	if err := store.Setup(ctx); err != nil { ... } // once, before serving
//	h, err := passkey.New(passkey.Config{Store: store, ...})
//
// Setup creates the table and its index if they do not exist (Schema
// returns the SQL, for teams that run their own migrations). Statements
// use pgx's QueryExecModeExec, so the store works behind PgBouncer in
// transaction pooling mode, and honour their context.
package pgpasskey

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sessionauth/session/passkey"
)

// ErrInvalidConfig: New was given a Config it cannot work with.
var ErrInvalidConfig = errors.New("pgpasskey: invalid config")

// indexSuffix names the table's index on user_id: the table's name and it.
const indexSuffix = "_user_id_idx"

// Config configures a Store; its zero value is the default.
type Config struct {
	// Table is the table's name, at most 51 bytes (its index's name adds
	// 12). "" means "passkeys".
	Table string
	// Schema is the table's schema. "" means the connection's search_path.
	Schema string
}

// Store is a passkey.Store on PostgreSQL. It is safe for concurrent use.
type Store struct {
	pool  *pgxpool.Pool
	table pgx.Identifier
	q     statements
}

type statements struct{ create, get, list, rename, use, exists, del string }

// New returns a Store on pool with the optional cfg (at most one). It does
// not touch the database; call Setup before serving.
func New(pool *pgxpool.Pool, cfg ...Config) (*Store, error) {
	if pool == nil {
		return nil, fmt.Errorf("%w: pool is nil", ErrInvalidConfig)
	}
	if len(cfg) > 1 {
		return nil, fmt.Errorf("%w: more than one Config", ErrInvalidConfig)
	}
	var c Config
	if len(cfg) == 1 {
		c = cfg[0]
	}
	if c.Table == "" {
		c.Table = "passkeys"
	}
	table := pgx.Identifier{c.Table}
	if c.Schema != "" {
		table = pgx.Identifier{c.Schema, c.Table}
	}
	for _, part := range table {
		if strings.ContainsRune(part, 0) || len(part) > 63 {
			return nil, fmt.Errorf("%w: table or schema name is not a PostgreSQL identifier", ErrInvalidConfig)
		}
	}
	// PostgreSQL cuts names at 63 bytes: a longer index name would be cut
	// to another relation's (the table's own, at 63), and Setup's CREATE
	// INDEX IF NOT EXISTS would skip it without a word.
	if len(c.Table)+len(indexSuffix) > 63 {
		return nil, fmt.Errorf("%w: table name longer than %d bytes", ErrInvalidConfig, 63-len(indexSuffix))
	}
	t := table.Sanitize()
	const cols = `id, user_id, user_handle, name, public_key, sign_count, backup_eligible, backed_up, transports, aaguid, created, last_used`
	return &Store{pool: pool, table: table, q: statements{
		create: `INSERT INTO ` + t + ` (` + cols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL) ON CONFLICT (id) DO NOTHING`,
		get:    `SELECT ` + cols + ` FROM ` + t + ` WHERE id = $1`,
		list:   `SELECT ` + cols + ` FROM ` + t + ` WHERE user_id = $1 ORDER BY created, id`,
		rename: `UPDATE ` + t + ` SET name = $3 WHERE id = $2 AND user_id = $1`,
		// The counter rule of passkey.Store.Use, checked on the locked row:
		// of two uses with the same counter, the second sees the first's.
		use:    `UPDATE ` + t + ` SET sign_count = $2, backed_up = $3, last_used = $4 WHERE id = $1 AND ($2 > sign_count OR ($2 = 0 AND sign_count = 0))`,
		exists: `SELECT 1 FROM ` + t + ` WHERE id = $1`,
		del:    `DELETE FROM ` + t + ` WHERE id = $2 AND user_id = $1`,
	}}, nil
}

// Schema returns the SQL Setup runs.
func (s *Store) Schema() string {
	return strings.Join(s.schema(), "\n") + "\n"
}

func (s *Store) schema() []string {
	t := s.table.Sanitize()
	idx := pgx.Identifier{s.table[len(s.table)-1] + indexSuffix}.Sanitize()
	return []string{
		`CREATE TABLE IF NOT EXISTS ` + t + ` (
	id              bytea       PRIMARY KEY,
	user_id         text        NOT NULL,
	user_handle     bytea       NOT NULL,
	name            text        NOT NULL,
	public_key      bytea       NOT NULL,
	sign_count      bigint      NOT NULL,
	backup_eligible boolean     NOT NULL,
	backed_up       boolean     NOT NULL,
	transports      text[]      NOT NULL,
	aaguid          bytea       NOT NULL,
	created         timestamptz NOT NULL,
	last_used       timestamptz
);`,
		`CREATE INDEX IF NOT EXISTS ` + idx + ` ON ` + t + ` (user_id, created);`,
	}
}

// Setup creates the table and its index when they do not exist, then
// checks the table has the store's columns. Several instances may run it
// at once: it holds a transaction-level advisory lock keyed by the table.
// A few round trips; call it once at startup.
func (s *Store) Setup(ctx context.Context) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("pgpasskey: setup: %w", err)
	}
	defer tx.Rollback(ctx)
	h := fnv.New64a()
	h.Write([]byte("pgpasskey " + s.table.Sanitize()))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, pgx.QueryExecModeExec, int64(h.Sum64())); err != nil {
		return fmt.Errorf("pgpasskey: setup: %w", err)
	}
	for _, stmt := range s.schema() {
		if _, err := tx.Exec(ctx, stmt, pgx.QueryExecModeExec); err != nil {
			return fmt.Errorf("pgpasskey: setup: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, s.q.get+` AND false`, pgx.QueryExecModeExec, []byte{}); err != nil {
		return fmt.Errorf("pgpasskey: setup: the table lacks the store's columns: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("pgpasskey: setup: %w", err)
	}
	return nil
}

// Create implements passkey.Store: one INSERT.
func (s *Store) Create(ctx context.Context, c passkey.Credential) error {
	transports := c.Transports
	if transports == nil {
		transports = []string{}
	}
	tag, err := s.pool.Exec(ctx, s.q.create, pgx.QueryExecModeExec,
		nonNil(c.ID), c.UserID, nonNil(c.UserHandle), c.Name, nonNil(c.PublicKey), int64(c.SignCount),
		c.BackupEligible, c.BackedUp, transports, nonNil(c.AAGUID), c.Created)
	if err != nil {
		return fmt.Errorf("pgpasskey: create: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return passkey.ErrExists
	}
	return nil
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func scan(row pgx.Row) (passkey.Credential, error) {
	var c passkey.Credential
	var count int64
	var last *time.Time
	err := row.Scan(&c.ID, &c.UserID, &c.UserHandle, &c.Name, &c.PublicKey, &count,
		&c.BackupEligible, &c.BackedUp, &c.Transports, &c.AAGUID, &c.Created, &last)
	if err != nil {
		return c, err
	}
	c.SignCount = uint32(count)
	if last != nil {
		c.LastUsed = *last
	}
	return c, nil
}

// Get implements passkey.Store: one SELECT.
func (s *Store) Get(ctx context.Context, id []byte) (passkey.Credential, error) {
	c, err := scan(s.pool.QueryRow(ctx, s.q.get, pgx.QueryExecModeExec, nonNil(id)))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, passkey.ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("pgpasskey: get: %w", err)
	}
	return c, nil
}

// ListUser implements passkey.Store: one indexed SELECT.
func (s *Store) ListUser(ctx context.Context, userID string) ([]passkey.Credential, error) {
	rows, err := s.pool.Query(ctx, s.q.list, pgx.QueryExecModeExec, userID)
	if err != nil {
		return nil, fmt.Errorf("pgpasskey: list: %w", err)
	}
	defer rows.Close()
	var out []passkey.Credential
	for rows.Next() {
		c, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("pgpasskey: list: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgpasskey: list: %w", err)
	}
	return out, nil
}

// Rename implements passkey.Store: one UPDATE.
func (s *Store) Rename(ctx context.Context, userID string, id []byte, name string) error {
	return s.exec(ctx, "rename", s.q.rename, userID, nonNil(id), name)
}

// Delete implements passkey.Store: one DELETE.
func (s *Store) Delete(ctx context.Context, userID string, id []byte) error {
	return s.exec(ctx, "delete", s.q.del, userID, nonNil(id))
}

func (s *Store) exec(ctx context.Context, op, q string, args ...any) error {
	tag, err := s.pool.Exec(ctx, q, append([]any{pgx.QueryExecModeExec}, args...)...)
	if err != nil {
		return fmt.Errorf("pgpasskey: %s: %w", op, err)
	}
	if tag.RowsAffected() == 0 {
		return passkey.ErrNotFound
	}
	return nil
}

// Use implements passkey.Store: one conditional UPDATE, and a SELECT when
// it changed nothing (to tell a regression from a removed passkey).
func (s *Store) Use(ctx context.Context, id []byte, signCount uint32, backedUp bool, at time.Time) error {
	tag, err := s.pool.Exec(ctx, s.q.use, pgx.QueryExecModeExec, nonNil(id), int64(signCount), backedUp, at)
	if err != nil {
		return fmt.Errorf("pgpasskey: use: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var one int
	switch err := s.pool.QueryRow(ctx, s.q.exists, pgx.QueryExecModeExec, nonNil(id)).Scan(&one); {
	case errors.Is(err, pgx.ErrNoRows):
		return passkey.ErrNotFound
	case err != nil:
		return fmt.Errorf("pgpasskey: use: %w", err)
	}
	return passkey.ErrCounterRegression
}
