package session

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Errors of cookie-only mode (Config.CookieOnly).
var (
	// ErrCookieOnly: the operation needs server-side state, which a
	// cookie-only Manager does not keep: LogoutAll, LogoutOthers, Renew,
	// ListSessions and LogoutSession return it and change nothing. A
	// session's cookie cannot be revoked before it expires.
	ErrCookieOnly = errors.New("session: not available for cookie-only sessions: it needs a server-side store")
	// ErrCookieTooLarge: in cookie-only mode, the session would no longer
	// fit in one cookie (4096 bytes for name, value and attributes, what
	// browsers keep). Session.Set, Put and Login return it and change
	// nothing; the browser never gets a cookie it would drop.
	ErrCookieTooLarge = errors.New("session: the session does not fit in a cookie")
)

// setUpCookieOnly switches m to cookie-only mode: no Store, the session
// sealed in the cookie. It runs in New once the cookie options and timeouts
// are known.
func (m *Manager) setUpCookieOnly(cfg Config) error {
	if cfg.Store != nil {
		return fmt.Errorf("%w: CookieOnly keeps no server-side state, so Store must be nil", ErrInvalidConfig)
	}
	if cfg.Bearer {
		return fmt.Errorf("%w: CookieOnly sessions change their cookie as they change, so they cannot be Bearer tokens", ErrInvalidConfig)
	}
	s, err := cfg.Keys.newSealer(&m.cookie)
	if err != nil {
		return err
	}
	m.sealer = s
	m.store = noStore{}
	return nil
}

// noStore is a cookie-only Manager's Store. The Manager never calls it (every
// path that needs a store answers ErrCookieOnly first); it is there so that
// a path that forgot to is an error, not a nil dereference.
type noStore struct{}

func (noStore) Get(context.Context, string) (Record, error)       { return Record{}, ErrCookieOnly }
func (noStore) Create(context.Context, string, Record) error      { return ErrCookieOnly }
func (noStore) Update(context.Context, string, Record) error      { return ErrCookieOnly }
func (noStore) Touch(context.Context, string, time.Time) error    { return ErrCookieOnly }
func (noStore) Delete(context.Context, string) error              { return ErrCookieOnly }
func (noStore) ListUser(context.Context, string) ([]Entry, error) { return nil, ErrCookieOnly }
func (noStore) DeleteUser(context.Context, string) error          { return ErrCookieOnly }
