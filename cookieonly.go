package session

import (
	"errors"
	"fmt"
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

// newSealedBackend is New's cookie-only part: no Store, the session sealed
// in the cookie. It runs once the cookie options and timeouts are known.
func newSealedBackend(m *Manager, cfg Config) (sealedBackend, error) {
	if cfg.Store != nil {
		return sealedBackend{}, fmt.Errorf("%w: CookieOnly keeps no server-side state, so Store must be nil", ErrInvalidConfig)
	}
	if cfg.Bearer {
		return sealedBackend{}, fmt.Errorf("%w: CookieOnly sessions change their cookie as they change, so they cannot be Bearer tokens", ErrInvalidConfig)
	}
	s, err := cfg.Keys.newSealer(&m.cookie)
	if err != nil {
		return sealedBackend{}, err
	}
	return sealedBackend{Manager: m, sealer: s}, nil
}
