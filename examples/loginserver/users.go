package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// This file is the part you replace. UserStore is everything the handlers need
// from your user database; memoryUsers keeps users in a map and loses them on
// restart. In production, implement UserStore on your database (a users table
// with a unique index on the normalized username) and pass it to newApp.

// User is one account. PasswordHash is a string from password.Hash (or a
// bcrypt hash imported from another system); never the password itself.
type User struct {
	ID           string
	Username     string
	PasswordHash string
}

// Link is a provider account linked to a user: the provider vouches for
// (Issuer, Subject), the only stable key it gives. Email is shown on the
// account page, never used to find the user.
type Link struct {
	Provider        string // the provider's name in this app ("demo", "oidc")
	Issuer, Subject string
	Email           string
	Created         time.Time
}

// Errors of a UserStore.
var (
	ErrNoUser        = errors.New("no such user")
	ErrUsernameTaken = errors.New("username taken")
	// ErrIdentityTaken: the provider account is linked to another user.
	ErrIdentityTaken = errors.New("provider account linked to another user")
)

// UserStore looks up and creates accounts. Usernames passed in are already
// normalized (see normalizeUsername). Every method must be safe for
// concurrent use.
type UserStore interface {
	// ByUsername returns the user, or ErrNoUser.
	ByUsername(ctx context.Context, username string) (User, error)
	// ByID returns the user, or ErrNoUser (for example after the account was
	// deleted while a session of it was still live).
	ByID(ctx context.Context, id string) (User, error)
	// Create adds a user with a new ID, or fails with ErrUsernameTaken.
	Create(ctx context.Context, username, passwordHash string) (User, error)
	// SetPasswordHash replaces a user's hash after a password change.
	SetPasswordHash(ctx context.Context, id, passwordHash string) error
	// UpgradePasswordHash replaces the hash only if it is still oldHash (in
	// SQL: UPDATE users SET password_hash=$new WHERE id=$id AND
	// password_hash=$old), so a login-time upgrade can never undo a password
	// change that landed meanwhile. It reports whether it wrote.
	UpgradePasswordHash(ctx context.Context, id, oldHash, newHash string) (bool, error)
	// ByIdentity returns the user a provider account is linked to, or
	// ErrNoUser (in SQL: a links table with a unique index on issuer and
	// subject).
	ByIdentity(ctx context.Context, issuer, subject string) (User, error)
	// Link links a provider account to a user; linking it again to the same
	// user does nothing, to another is ErrIdentityTaken.
	Link(ctx context.Context, userID string, l Link) error
	// Links lists a user's provider accounts, oldest first.
	Links(ctx context.Context, userID string) ([]Link, error)
}

// memoryUsers is an in-memory UserStore for the demo. It is lost on restart.
type memoryUsers struct {
	mu     sync.RWMutex
	byID   map[string]*User
	byName map[string]*User
	links  map[[2]string]Link // by issuer and subject; Link.Provider set
	owner  map[[2]string]string
}

func newMemoryUsers() *memoryUsers {
	return &memoryUsers{byID: map[string]*User{}, byName: map[string]*User{},
		links: map[[2]string]Link{}, owner: map[[2]string]string{}}
}

func (s *memoryUsers) ByIdentity(_ context.Context, issuer, subject string) (User, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if id, ok := s.owner[[2]string{issuer, subject}]; ok {
		if u, ok := s.byID[id]; ok {
			return *u, nil
		}
	}
	return User{}, ErrNoUser
}

func (s *memoryUsers) Link(_ context.Context, userID string, l Link) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[userID]; !ok {
		return ErrNoUser
	}
	k := [2]string{l.Issuer, l.Subject}
	switch owner, ok := s.owner[k]; {
	case ok && owner == userID:
		return nil
	case ok:
		return ErrIdentityTaken
	}
	if l.Created.IsZero() {
		l.Created = time.Now()
	}
	s.owner[k], s.links[k] = userID, l
	return nil
}

func (s *memoryUsers) Links(_ context.Context, userID string) ([]Link, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Link
	for k, l := range s.links {
		if s.owner[k] == userID {
			out = append(out, l)
		}
	}
	slices.SortFunc(out, func(a, b Link) int { return a.Created.Compare(b.Created) })
	return out, nil
}

func (s *memoryUsers) ByUsername(_ context.Context, username string) (User, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if u, ok := s.byName[username]; ok {
		return *u, nil
	}
	return User{}, ErrNoUser
}

func (s *memoryUsers) ByID(_ context.Context, id string) (User, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if u, ok := s.byID[id]; ok {
		return *u, nil
	}
	return User{}, ErrNoUser
}

func (s *memoryUsers) Create(_ context.Context, username, passwordHash string) (User, error) {
	// Random IDs: a username registered again after a restart must not inherit
	// the sessions (in Redis) of the account that had it before.
	return s.add(newUserID(), username, passwordHash)
}

// newUserID returns a random user ID: 128 bits, never reused.
func newUserID() string { return rand.Text() }

// demoUserID derives the demo account's ID from its name.
func demoUserID(username string) string {
	sum := sha256.Sum256([]byte("loginserver demo user\x00" + username))
	return "demo-" + hex.EncodeToString(sum[:8])
}

func (s *memoryUsers) add(id, username, passwordHash string) (User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byName[username]; ok {
		return User{}, ErrUsernameTaken
	}
	u := &User{ID: id, Username: username, PasswordHash: passwordHash}
	s.byID[id] = u
	s.byName[username] = u
	return *u, nil
}

func (s *memoryUsers) SetPasswordHash(_ context.Context, id, passwordHash string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.byID[id]
	if !ok {
		return ErrNoUser
	}
	u.PasswordHash = passwordHash
	return nil
}

func (s *memoryUsers) UpgradePasswordHash(_ context.Context, id, oldHash, newHash string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.byID[id]
	if !ok {
		return false, ErrNoUser
	}
	if u.PasswordHash != oldHash {
		return false, nil
	}
	u.PasswordHash = newHash
	return true, nil
}

// addDemo creates the demo account. Its ID is derived from its username, so it
// stays the same across restarts and sessions kept in Redis stay valid.
func (s *memoryUsers) addDemo(username, passwordHash string) (User, error) {
	return s.add(demoUserID(username), username, passwordHash)
}

// Username rules: 3 to 64 characters of a-z, 0-9, '.', '_', '-' and '@', so
// an email address works too. Letters are folded to lower case, so "Ann" and
// "ann" are one account.
const (
	minUsernameLen = 3
	maxUsernameLen = 64
)

var errInvalidUsername = fmt.Errorf("username must be %d to %d characters: letters a-z, digits, '.', '_', '-' or '@'", minUsernameLen, maxUsernameLen)

// normalizeUsername folds case and checks the rules above.
func normalizeUsername(s string) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) < minUsernameLen || len(s) > maxUsernameLen {
		return "", errInvalidUsername
	}
	// Checked byte by byte before folding: strings.ToLower would also turn
	// some non-ASCII letters (the Kelvin sign) into ASCII ones.
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-' || c == '@') {
			return "", errInvalidUsername
		}
	}
	return strings.ToLower(s), nil
}
