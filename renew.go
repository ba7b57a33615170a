package session

import (
	"errors"
	"fmt"
	"net/http"
)

// LogoutOthers is for a password change: it ends every other session of
// the signed-in user and renews the current one (a new token; values and
// absolute lifetime kept). It returns ErrNotAuthenticated for an anonymous
// request, or when the session was logged out meanwhile. Cost: a store
// create, read and ListUser, and a delete per other session.
func (m *Manager) LogoutOthers(w http.ResponseWriter, r *http.Request) error {
	return m.renew(r, true)
}

// Renew gives the request's session a new token, keeping its user, values
// and absolute lifetime. Call it when privileges change (a role granted, an
// MFA step passed) so a token captured before cannot ride on them. If the
// session was logged out meanwhile (by a concurrent Logout or LogoutAll), it
// stays logged out and Renew returns ErrNotAuthenticated. Cost: a store
// create, read and delete. An anonymous request without a stored session is
// left as it is.
func (m *Manager) Renew(w http.ResponseWriter, r *http.Request) error {
	return m.renew(r, false)
}

func (m *Manager) renew(r *http.Request, others bool) error {
	s, err := fromRequestContext(r.Context())
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensureLoaded()
	if s.loadErr != nil {
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, s.loadErr)
	}
	if s.committed {
		return ErrHeadersWritten
	}
	if others && s.userID == "" {
		return ErrNotAuthenticated
	}
	if s.token == nil {
		return nil
	}
	// Only Login may bring a session into existence: create the new record
	// first, then check that the old one is still live. A Logout or LogoutAll
	// that ran since this request loaded the session has deleted the old
	// record (and LogoutAll the new one too), and the renewal is undone.
	ctx, oldKey, userID := r.Context(), s.key, s.userID
	s.decodeValues()
	if err := m.create(ctx, s, userID, s.header, s.values, m.now(), nil); err != nil {
		return err
	}
	newKey := s.key
	if _, err := m.store.Get(ctx, oldKey); err != nil {
		m.deleteQuietly(ctx, newKey)
		s.forget()
		s.cookieOp = cookieExpire
		if errors.Is(err, ErrNotFound) {
			return ErrNotAuthenticated
		}
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	if !others {
		if err := m.store.Delete(ctx, oldKey); err != nil {
			return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
		}
		return nil
	}
	entries, err := m.store.ListUser(ctx, userID)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	var errs []error
	for _, e := range entries {
		if e.Key != newKey {
			if err := m.store.Delete(ctx, e.Key); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, errors.Join(errs...))
	}
	return nil
}
