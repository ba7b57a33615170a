package passkey

import (
	"context"
	"time"
)

// Credential is one registered passkey: what a Store keeps. The Handler
// fills it in; a Store keeps every field as it is given.
type Credential struct {
	// ID is the credential ID the authenticator chose (at most 1023
	// bytes, usually 16 to 64). It is not a secret.
	ID []byte
	// UserID is the session user ID (session.Session.UserID) it belongs to.
	UserID string
	// UserHandle is the WebAuthn user handle the authenticator keeps with
	// the credential and returns at sign-in: 32 random bytes per user, the
	// same for all of a user's passkeys (but two first passkeys registered
	// at once get one each), never the user ID.
	UserHandle []byte
	// Name is the user's label for it ("Work laptop"), at most 64 bytes.
	Name string
	// PublicKey is the credential's public key, COSE-encoded.
	PublicKey []byte
	// SignCount is the authenticator's signature counter at the last use
	// (0 for authenticators without one, which synced passkeys usually are).
	SignCount uint32
	// BackupEligible reports a credential that can be synced to other
	// devices (a synced passkey); BackedUp that it is backed up now.
	// Both are the authenticator's own, unattested report. Signing in with
	// a backup-eligible one records the method "swk", with any other "hwk".
	BackupEligible bool
	BackedUp       bool
	// Transports are the authenticator's transports ("internal",
	// "hybrid", "usb", …), as the browser reported them.
	Transports []string
	// AAGUID identifies the authenticator's model (16 bytes; zero with
	// attestation "none" on most platforms).
	AAGUID []byte
	// Created is when it was registered; LastUsed when it last signed in
	// or confirmed a step-up (zero if never).
	Created  time.Time
	LastUsed time.Time
}

// Store keeps passkeys. Every method must be safe for concurrent use and
// honour ctx. Package passkeytest checks the whole contract; pgpasskey is
// one on PostgreSQL, NewMemoryStore one in memory.
//
//   - Create stores a new credential, or fails with ErrExists when its ID
//     is already stored (for any user).
//   - Get returns the credential with this ID, or ErrNotFound.
//   - ListUser returns the user's credentials, oldest first, in time
//     proportional to them.
//   - Rename sets the Name of the user's credential, or fails with
//     ErrNotFound when the user has no credential of that ID (another
//     user's counts as none).
//   - Use records a verified assertion: SignCount, BackedUp and LastUsed.
//     It is atomic with its counter check: when signCount is not above the
//     stored counter and either is not zero, it changes nothing and returns
//     ErrCounterRegression, so two uses with the same counter never both
//     succeed. ErrNotFound when the credential is gone.
//   - Delete removes the user's credential, or fails with ErrNotFound as
//     Rename does.
type Store interface {
	Create(ctx context.Context, c Credential) error
	Get(ctx context.Context, id []byte) (Credential, error)
	ListUser(ctx context.Context, userID string) ([]Credential, error)
	Rename(ctx context.Context, userID string, id []byte, name string) error
	Use(ctx context.Context, id []byte, signCount uint32, backedUp bool, at time.Time) error
	Delete(ctx context.Context, userID string, id []byte) error
}

// counterAccepts reports whether an assertion with counter next may follow
// the stored counter prev: it must be above it, unless both are zero (an
// authenticator without a counter), as the WebAuthn specification advises.
func counterAccepts(prev, next uint32) bool {
	return next > prev || (next == 0 && prev == 0)
}
