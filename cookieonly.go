package session

import (
	"fmt"
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
