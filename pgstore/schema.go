package pgstore

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// Schema returns the SQL that Setup runs: the schema (when Config.Schema
// names one), the table, its created column (added to a table from an
// earlier version) and its two indexes, each created only if it does not
// exist. Teams that manage their schema with migrations apply this SQL
// instead of calling Setup. The package documentation shows it for the
// default table.
func (s *Store) Schema() string {
	stmts := schemaStatements(s.table)
	if len(s.table) == 2 {
		stmts = append([]string{`CREATE SCHEMA IF NOT EXISTS ` + pgx.Identifier{s.table[0]}.Sanitize() + `;`}, stmts...)
	}
	return strings.Join(stmts, "\n") + "\n"
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
	data    bytea       NOT NULL,
	created timestamptz NOT NULL DEFAULT now()
);`,
		// Tables made before Replace kept a creation order: their rows
		// count as created now, older than every row written after.
		`ALTER TABLE ` + t + ` ADD COLUMN IF NOT EXISTS created timestamptz NOT NULL DEFAULT now();`,
		`CREATE INDEX IF NOT EXISTS ` + userIdx + ` ON ` + t + ` (user_id) WHERE user_id IS NOT NULL;`,
		`CREATE INDEX IF NOT EXISTS ` + expIdx + ` ON ` + t + ` (expires);`,
	}
}

// Setup creates the store's schema (when Config.Schema names one), table
// and indexes when they do not exist, then checks that the table has the
// columns the store uses. Several instances of the app may run it at once:
// it takes transaction-level advisory locks (keyed by the schema and the
// table name) around the statements, so they wait for each other instead of
// failing on a half-created schema or table. It costs a handful of round
// trips; call it once at startup, before serving. The database user needs
// the CREATE privilege on the database when the schema does not exist (an
// existing schema is not created again), and on the schema unless the table
// already exists.
func (s *Store) Setup(ctx context.Context) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("pgstore: setup: %w", err)
	}
	defer tx.Rollback(ctx)
	if len(s.table) == 2 {
		if err := createSchema(ctx, tx, s.table[0]); err != nil {
			return fmt.Errorf("pgstore: setup: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, pgx.QueryExecModeExec, lockID("table", s.table)); err != nil {
		return fmt.Errorf("pgstore: setup: %w", err)
	}
	stmts := schemaStatements(s.table)
	if _, err := tx.Exec(ctx, stmts[0], pgx.QueryExecModeExec); err != nil {
		return fmt.Errorf("pgstore: setup: %w", err)
	}
	// A table that existed already may be another library's, or this
	// one's with a column changed by hand.
	if err := checkColumns(ctx, tx, s.table); err != nil {
		return err
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

// storeColumns are the columns the store reads and writes, with the types
// it works with (a domain over one of them reports it): a column of another
// type (text for bytea, timestamp without a time zone) would read every
// session back as a corrupt record, which the Manager deletes. user_id may
// also be varchar, as a team's own migration may have made it; not char,
// which pads the user ID.
var storeColumns = []struct {
	name string
	oids []uint32
	typ  string
}{
	{"key", []uint32{pgtype.ByteaOID}, "bytea"},
	{"user_id", []uint32{pgtype.TextOID, pgtype.VarcharOID}, "text or varchar"},
	{"expires", []uint32{pgtype.TimestamptzOID}, "timestamptz"},
	{"data", []uint32{pgtype.ByteaOID}, "bytea"},
}

// checkColumns returns an error wrapping ErrSchema, naming the column,
// unless table has the store's columns with their types.
func checkColumns(ctx context.Context, tx pgx.Tx, table pgx.Identifier) error {
	rows, err := tx.Query(ctx, `SELECT key, user_id, expires, data FROM `+table.Sanitize()+` LIMIT 0`, pgx.QueryExecModeExec)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSchema, err)
	}
	fields := rows.FieldDescriptions()
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrSchema, err)
	}
	for i, c := range storeColumns {
		if i >= len(fields) || !slices.Contains(c.oids, fields[i].DataTypeOID) {
			return fmt.Errorf("%w: column %s is not of type %s", ErrSchema, c.name, c.typ)
		}
	}
	return nil
}

// createSchema creates schema, under an advisory lock of its own, unless it
// exists: stores of several tables in one new schema may run Setup at once,
// and concurrent CREATE SCHEMA IF NOT EXISTS statements can fail on each
// other. An existing schema is left alone without a CREATE statement, which
// would need the CREATE privilege on the database even then.
func createSchema(ctx context.Context, tx pgx.Tx, schema string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, pgx.QueryExecModeExec, lockID("schema", pgx.Identifier{schema})); err != nil {
		return err
	}
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, pgx.QueryExecModeExec, schema).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize(), pgx.QueryExecModeExec)
	return err
}

// lockID is an advisory lock Setup holds, for a kind of object ("schema" or
// "table") and its name: a hash of this package, the kind and the quoted
// name, so that it is the same in every instance of the app.
func lockID(kind string, name pgx.Identifier) int64 {
	h := fnv.New64a()
	h.Write([]byte("github.com/sessionauth/session/pgstore\x00"))
	if kind != "table" { // a table's lock is what it was before schemas were created
		h.Write([]byte(kind + "\x00"))
	}
	h.Write([]byte(name.Sanitize()))
	return int64(h.Sum64())
}
