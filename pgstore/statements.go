package pgstore

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/jackc/pgx/v5"
)

// statements are the SQL a Store runs, built once for its table. Parameters
// named now are the app's clock (see the package documentation).
type statements struct {
	get, create, update, touch, delete, replace, listUser, deleteUser, deleteExpired string
	lock, lockUnprepared, replaceAlone                                               string
	// The names Replace prepares lock and replace under: unique to the
	// table and the SQL, so two Stores on one pool never collide.
	lockName, replaceName string
}

func newStatements(table pgx.Identifier) statements {
	t := table.Sanitize()
	// insert is shared by Create and Replace: an expired row under the key
	// is overwritten, a live one is left alone (no row affected: ErrExists).
	// created is the clock of the database when the row is written, after
	// Replace's lock: the order Replace ends sessions in.
	insert := func(key, user, expires, data, now string) string {
		return `INSERT INTO ` + t + ` AS s (key, user_id, expires, data, created) VALUES (` + key + `, NULLIF(` + user + `, ''), ` + expires + `, ` + data + `, clock_timestamp())
ON CONFLICT (key) DO UPDATE SET user_id = EXCLUDED.user_id, expires = EXCLUDED.expires, data = EXCLUDED.data, created = EXCLUDED.created
WHERE s.expires <= ` + now
	}
	// others are the user's live rows other than the old and the new one
	// ($1 old key or NULL, $2 new key, $3 user, $6 now), in replace.
	others := `user_id = NULLIF($3, '') AND expires + interval '0 s' > $6 AND key IS DISTINCT FROM $1::bytea AND key <> $2::bytea`
	st := statements{
		// $1 key, $2 now
		get: `SELECT user_id, expires, data FROM ` + t + ` WHERE key = $1 AND expires > $2`,
		// $1 key, $2 user, $3 expires, $4 data, $5 now
		create: insert("$1", "$2", "$3", "$4", "$5"),
		// $1 key, $2 expires, $3 data, $4 now
		update: `UPDATE ` + t + ` SET expires = $2, data = $3 WHERE key = $1 AND expires > $4`,
		// $1 key, $2 expires, $3 now
		touch: `UPDATE ` + t + ` SET expires = $2 WHERE key = $1 AND expires > $3`,
		// $1 key
		delete: `DELETE FROM ` + t + ` WHERE key = $1`,
		// $1 old key or NULL, $2 new key, $3 user, $4 expires, $5 data, $6
		// now, $7 limit. Deletes the old row, inserts the new one and, when
		// it was inserted and $7 > 0, deletes the user's live rows past the
		// newest $7 - 1 others. Every part sees the snapshot from before the
		// statement (taken after the lock statement before it in the same
		// transaction), so the new row is not among the others, and the
		// delete and the insert touch different rows. Returns 1 when the row
		// was inserted. Its plan is the generic one (see lock), made for an
		// average user, so two forms keep it from reading more than the
		// user's rows: "+ interval '0 s'" keeps the expires index out (with
		// the plain comparison, a table of 200 users with 100 rows each got
		// a plan that walks the expires index over every live row), and
		// "key = ANY (ARRAY(...))" has the rows to end found by key (with
		// "key IN (...)", a few users with many rows each got a hash join
		// over the whole table). The others are sorted only when there are
		// at least $7 of them (the CASE, which counts at most $7): in the
		// bench (pgx, this pipeline, the commit not waiting for the disk)
		// that took a login under the cap from 255–272 to 196–203 µs, and
		// the statement's own time (log_min_duration_statement) from about
		// 100 to 50 µs; in psql the sort over no rows costs a few µs, so
		// the cause is not only the sort. At the cap, the count adds one
		// scan of the user's rows: 203–214 to 218–225 µs.
		replace: `WITH gone AS (DELETE FROM ` + t + ` WHERE key = $1::bytea),
ins AS (` + insert("$2", "$3", "$4", "$5", "$6") + ` RETURNING 1),
ended AS (DELETE FROM ` + t + ` WHERE $7::int > 0 AND EXISTS (SELECT 1 FROM ins) AND key = ANY (CASE WHEN (
  SELECT count(*) FROM (SELECT FROM ` + t + ` WHERE ` + others + ` LIMIT $7::int) mine) >= $7::int THEN ARRAY(
  SELECT key FROM ` + t + ` WHERE ` + others + `
  ORDER BY created DESC, key DESC OFFSET $7::int - 1) END))
SELECT count(*) FROM ins`,
		// replace without a limit (the first save of an anonymous
		// session, or a Replace called with none): $1 old key or NULL, $2
		// new key, $3 user, $4 expires, $5 data, $6 now. A statement of
		// its own, not replace with $7 = 0: PostgreSQL plans that one for
		// each call (its plan for a known 0 costs nothing, so it never
		// settles on a generic plan), about 200 µs a call here.
		replaceAlone: `WITH gone AS (DELETE FROM ` + t + ` WHERE key = $1::bytea),
ins AS (` + insert("$2", "$3", "$4", "$5", "$6") + ` RETURNING 1)
SELECT count(*) FROM ins`,
		// $1 lock ID: Replace's per-user lock, held until its transaction
		// ends. It also sets plan_cache_mode for that transaction only, so
		// that the replace statement after it runs its generic plan.
		// Otherwise (plan_cache_mode auto, the default) PostgreSQL compares
		// the generic plan's estimate, made for an average user, with a plan
		// for the user at hand, which for a user with few sessions looks
		// cheaper: once a table holds many sessions of some users, it plans
		// the statement again on every login (about 350 µs here, more than
		// the rest of the login).
		lock: `SELECT pg_advisory_xact_lock($1::bigint), set_config('plan_cache_mode', 'force_generic_plan', true)`,
		// lock without the setting, for DisablePreparedStatements: a
		// statement sent unnamed is planned on every call anyway, and the
		// plan for the user at hand is the better one.
		lockUnprepared: `SELECT pg_advisory_xact_lock($1::bigint)`,
		// $1 user, $2 now
		listUser: `SELECT key, expires, data FROM ` + t + ` WHERE user_id = $1 AND expires > $2`,
		// $1 user
		deleteUser: `DELETE FROM ` + t + ` WHERE user_id = $1`,
		// $1 cutoff, $2 batch size. SKIP LOCKED: cleaners in several
		// instances share the work instead of queueing on each other's rows.
		deleteExpired: `DELETE FROM ` + t + ` WHERE key IN (SELECT key FROM ` + t + ` WHERE expires < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
	}
	st.lockName, st.replaceName = statementName(st.lock), statementName(st.replace)
	return st
}

// statementName names the prepared statement of sql: a prefix of this
// package and a hash of the SQL, which includes the table.
func statementName(sql string) string {
	sum := sha256.Sum256([]byte(sql))
	return "sessionauth_pgstore_" + hex.EncodeToString(sum[:12])
}
