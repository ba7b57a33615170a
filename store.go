package session

import (
	"context"
	"time"
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
//     ErrNotFound. The stored UserID is kept whatever rec.UserID says.
//     It must never recreate a deleted or expired record: this is what
//     keeps a slow request from undoing a concurrent logout.
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

// Replacer is the one optional interface a Store may add. Login, Renew and
// LogoutOthers use it when the store has it: a login then costs one store
// operation that both swaps the request's old session for the new one and
// keeps the user within Config.MaxSessionsPerUser, with no race between
// counting and ending. Without it the Manager does the same in steps
// (Delete, Create, then ListUser and a Delete per session past the cap,
// oldest first by the creation time in Data), which costs a ListUser per
// login and lets concurrent logins briefly pass the cap. MemoryStore,
// RedisStore and pgstore implement it; package storetest checks it.
type Replacer interface {
	// Replace deletes oldKey (unless it is ""), creates key with rec
	// exactly as Create does (ErrExists when key is live; oldKey is gone
	// all the same), and, when rec.UserID != "" and limit > 0, ends the
	// user's oldest live sessions, in the order the store created them,
	// until at most limit remain, the new one included. All in one atomic
	// operation: concurrent Replace calls for one user never leave more
	// than limit live sessions, and every live session stays listed by
	// ListUser.
	Replace(ctx context.Context, oldKey, key string, rec Record, limit int) error
}
