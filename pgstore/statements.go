package pgstore

import "github.com/jackc/pgx/v5"

// statements are the SQL a Store runs, built once for its table. Parameters
// named now are the app's clock (see the package documentation).
type statements struct {
	get, create, update, touch, delete, replace, createCounting, listUser, deleteUser string
	deleteExpired                                                                     string
}

func newStatements(table pgx.Identifier) statements {
	t := table.Sanitize()
	// insert is shared by Create and Replace: an expired row under the key
	// is overwritten, a live one is left alone (no row affected: ErrExists).
	insert := func(key, user, expires, data, now string) string {
		return `INSERT INTO ` + t + ` AS s (key, user_id, expires, data) VALUES (` + key + `, NULLIF(` + user + `, ''), ` + expires + `, ` + data + `)
ON CONFLICT (key) DO UPDATE SET user_id = EXCLUDED.user_id, expires = EXCLUDED.expires, data = EXCLUDED.data
WHERE s.expires <= ` + now
	}
	return statements{
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
		// $1 old key, $2 new key, $3 user, $4 expires, $5 data, $6 now. The
		// delete and the insert see the same snapshot and touch different
		// rows, so their order does not matter.
		replace: `WITH gone AS (DELETE FROM ` + t + ` WHERE key = $1)
` + insert("$2", "$3", "$4", "$5", "$6"),
		// $1 old key or NULL, $2 new key, $3 user, $4 expires, $5 data, $6
		// now. Returns whether the row was inserted and how many other live
		// sessions the user has; every part sees the snapshot from before
		// the statement, so the new row is not among them.
		createCounting: `WITH gone AS (DELETE FROM ` + t + ` WHERE key = $1),
ins AS (` + insert("$2", "$3", "$4", "$5", "$6") + ` RETURNING 1)
SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM ` + t + `
  WHERE user_id = NULLIF($3, '') AND expires > $6 AND key IS DISTINCT FROM $1)`,
		// $1 user, $2 now
		listUser: `SELECT key, expires, data FROM ` + t + ` WHERE user_id = $1 AND expires > $2`,
		// $1 user
		deleteUser: `DELETE FROM ` + t + ` WHERE user_id = $1`,
		// $1 cutoff, $2 batch size. SKIP LOCKED: cleaners in several
		// instances share the work instead of queueing on each other's rows.
		deleteExpired: `DELETE FROM ` + t + ` WHERE key IN (SELECT key FROM ` + t + ` WHERE expires < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)`,
	}
}
