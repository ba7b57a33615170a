package session

import (
	"context"
	"errors"
	"time"
)

// Errors a Store returns. Stores wrap other failures (network, timeouts) with
// their cause; the Manager treats anything that is not ErrNotFound or ErrExists
// as "store unavailable".
var (
	// ErrNotFound means no live record has the key: it never existed, was
	// deleted, or has expired.
	ErrNotFound = errors.New("session: not found")
	// ErrExists is returned by Store.Create when the key is already in use.
	ErrExists = errors.New("session: already exists")
)

// Record is what a Store keeps for one session.
type Record struct {
	// UserID is the signed-in user, or "" for an anonymous session. It is set
	// at Create and never changed by Update.
	UserID string
	// Expires is when the record stops being live. A Store must not return a
	// record at or after this instant, and should free it soon after.
	Expires time.Time
	// Data is the Manager's encoding of the session (creation time, timeouts,
	// values). Stores keep it as opaque bytes. A slice returned by Get must
	// not be modified by the caller, so stores may return their own copy.
	Data []byte
}

// Entry is a record together with its store key, as listed by Store.ListUser.
type Entry struct {
	Key string
	Record
}

// Store keeps session records under keys that are SHA-256 hashes of session
// tokens (64 lower-case hex characters), so that a dump of the store yields no
// usable token. Every method must be safe for concurrent use and honour ctx.
//
// The contract is small on purpose; package storetest checks all of it:
//
//   - Get returns the live record or ErrNotFound.
//   - Create stores a new record, or fails with ErrExists if the key is live.
//     It adds the key to the user's index when UserID is not "".
//   - Update replaces Expires and Data of a live record, or fails with
//     ErrNotFound. The stored UserID is kept whatever rec.UserID says. It must never recreate a deleted or expired record: this is
//     what keeps a slow request from undoing a concurrent logout.
//   - Touch moves Expires of a live record, or fails with ErrNotFound.
//   - Delete removes the record; deleting a missing key is not an error.
//     The user index may keep the key until ListUser or DeleteUser next meet
//     it, but ListUser never returns a deleted record.
//   - ListUser returns the user's live records, in no particular order, in
//     time proportional to that user's sessions (never a scan of the store).
//   - DeleteUser deletes every record of the user, including those created
//     while it runs, in time proportional to that user's sessions.
type Store interface {
	Get(ctx context.Context, key string) (Record, error)
	Create(ctx context.Context, key string, rec Record) error
	Update(ctx context.Context, key string, rec Record) error
	Touch(ctx context.Context, key string, expires time.Time) error
	Delete(ctx context.Context, key string) error
	ListUser(ctx context.Context, userID string) ([]Entry, error)
	DeleteUser(ctx context.Context, userID string) error
}

// Replacer is an optional interface for stores that can delete one record
// and create another in a single operation. Login, Renew and LogoutOthers
// use it when the store has it (RedisStore does: one round trip instead of
// two). Replace must behave as Delete(oldKey) followed by Create(newKey, rec).
type Replacer interface {
	Replace(ctx context.Context, oldKey, newKey string, rec Record) error
}

// CountingCreator is an optional interface for stores that learn, in the
// same operation that creates a session, how many sessions its user then
// has. Login uses it when the store has it (RedisStore and pgstore do): when
// the count is within Config.MaxSessionsPerUser, a login costs that one
// operation; only past the cap does the Manager list the user's sessions and
// end the oldest. Without it, Login lists them after every create.
//
// CreateCounting must behave as Replace(oldKey, key, rec) (as Create when
// oldKey is "") and return a count that is at least the number of the
// user's live sessions afterwards, the new one included (it may count some
// that have ended; 0 for an anonymous record).
type CountingCreator interface {
	CreateCounting(ctx context.Context, oldKey, key string, rec Record) (int, error)
}
