package pgstore

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// ErrSchema is returned by Setup when the table exists but lacks a column the
// store needs (for example, another library's table of the same name).
var ErrSchema = errors.New("pgstore: table does not have the store's columns")

// Schema returns the SQL that Setup runs: the table and its two indexes,
// each created only if it does not exist. Teams that manage their schema
// with migrations apply this SQL instead of calling Setup. The package
// documentation shows it for the default table.
func (s *Store) Schema() string {
	return strings.Join(schemaStatements(s.table), "\n") + "\n"
}

func schemaStatements(table pgx.Identifier) []string {
	t := table.Sanitize()
	name := table[len(table)-1]
	userIdx := pgx.Identifier{name + "_user_id_idx"}.Sanitize()
	expIdx := pgx.Identifier{name + "_expires_idx"}.Sanitize()
	return []string{
		`CREATE TABLE IF NOT EXISTS ` + t + ` (
	key     bytea       PRIMARY KEY,
	user_id text,
	expires timestamptz NOT NULL,
	data    bytea       NOT NULL
);`,
		`CREATE INDEX IF NOT EXISTS ` + userIdx + ` ON ` + t + ` (user_id) WHERE user_id IS NOT NULL;`,
		`CREATE INDEX IF NOT EXISTS ` + expIdx + ` ON ` + t + ` (expires);`,
	}
}

// Setup creates the store's table and indexes when they do not exist, then
// checks that the table has the columns the store uses. Several instances
// of the app may run it at once: it takes a transaction-level advisory lock
// (keyed by the table name) around the statements, so they wait for each
// other instead of failing on a half-created table. It costs a handful of
// round trips; call it once at startup, before serving. The database user
// needs the CREATE privilege on the schema, unless the table already exists.
func (s *Store) Setup(ctx context.Context) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("pgstore: setup: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, pgx.QueryExecModeExec, lockID(s.table)); err != nil {
		return fmt.Errorf("pgstore: setup: %w", err)
	}
	stmts := schemaStatements(s.table)
	if _, err := tx.Exec(ctx, stmts[0], pgx.QueryExecModeExec); err != nil {
		return fmt.Errorf("pgstore: setup: %w", err)
	}
	// A table that existed already may be another library's.
	check := `SELECT key, user_id, expires, data FROM ` + s.table.Sanitize() + ` LIMIT 0`
	if _, err := tx.Exec(ctx, check, pgx.QueryExecModeExec); err != nil {
		return fmt.Errorf("%w: %w", ErrSchema, err)
	}
	for _, stmt := range stmts[1:] {
		if _, err := tx.Exec(ctx, stmt, pgx.QueryExecModeExec); err != nil {
			return fmt.Errorf("pgstore: setup: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("pgstore: setup: %w", err)
	}
	return nil
}

// lockID is the advisory lock Setup holds for table: a hash of this package
// and the quoted name, so that it is the same in every instance of the app.
func lockID(table pgx.Identifier) int64 {
	h := fnv.New64a()
	h.Write([]byte("github.com/sessionauth/session/pgstore\x00"))
	h.Write([]byte(table.Sanitize()))
	return int64(h.Sum64())
}
