package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// Every way a session ends early: Logout (this request's), LogoutAll (a
// user's, everywhere), LogoutOthers (a user's but this request's, which is
// renewed) and LogoutSession (one, from a "your devices" page). Each public
// method checks its arguments and hands over to the backend; the
// server-side parts are below, cookie-only mode's in lifecycle_sealed.go.

// Logout ends the request's session: its record is deleted and the cookie
// expired (with the same Name, Path and Domain), even when the delete fails,
// in which case the error is returned. Every session token the request
// carried is ended, so a cookie planted beside ours (cookie tossing) cannot
// keep the user's session alive; a session a concurrent Renew or
// LogoutOthers derived from one of them ends too. When the request carries
// more cookies of our name than one request may make us check (16), the
// ones past that are not ended and Logout returns ErrTooManyCookies. Values
// are dropped; the handler may set new ones (they start a new anonymous
// session).
//
// r must have passed through m's Middleware (otherwise ErrNoMiddleware) and
// w must be, or unwrap to, the ResponseWriter the Middleware gave the
// handler (otherwise ErrForeignWriter); the expired cookie goes out on it.
// Either error changes nothing. Called after the response headers were
// written, Logout still ends the sessions but returns ErrHeadersWritten:
// the browser keeps its (now dead) cookie.
//
// Cost: per token, a store delete and a read (of the marker a concurrent
// renewal leaves); one token, normally. In cookie-only mode Logout only
// expires the cookie: a copy of it stays valid until it expires, and a
// request of the same browser still running may send it a fresh cookie
// afterwards, when it was due to extend the session (see Config.CookieOnly).
func (m *Manager) Logout(w http.ResponseWriter, r *http.Request) error {
	s, err := m.ownWriter(w, r)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	presented := s.ncands > 0 || s.userID != ""
	if err := m.mode.logout(r.Context(), s, r); err != nil {
		return err
	}
	if presented {
		m.report(evLogout, "logout")
	}
	if s.committed {
		return ErrHeadersWritten
	}
	return nil
}

// LogoutAll ends every session of userID, on every device, in time
// proportional to that user's sessions. If ctx is a request context of that
// user under m's Middleware, its cookie is expired too. A user ID Login
// would refuse is ErrInvalidUserID. A cookie-only Manager returns
// ErrCookieOnly.
func (m *Manager) LogoutAll(ctx context.Context, userID string) error {
	if err := checkUserID(userID); err != nil {
		return err
	}
	if err := m.mode.logoutAll(ctx, userID); err != nil {
		return err
	}
	m.report(evLogout, "all")
	return nil
}

// LogoutOthers is for a password change: it ends every other session of
// the signed-in user and renews the current one (a new token; values and
// absolute lifetime kept). It returns ErrNotAuthenticated for an anonymous
// request, or when the session was logged out meanwhile, and ErrConflict
// when another request is renewing the same session at that moment; in
// both of the latter cases it has still ended the other sessions (all of
// them when this one was logged out; all but this one and its renewal on
// a conflict), unless it returns a store error instead. r and
// w are as for Login (ErrNoMiddleware, ErrForeignWriter); the new cookie
// goes out on w. Cost: three store creates or reads, a delete, a ListUser,
// and a delete per other session. A cookie-only Manager returns
// ErrCookieOnly.
func (m *Manager) LogoutOthers(w http.ResponseWriter, r *http.Request) error {
	if err := m.renewRequest(w, r, true, nil); err != nil {
		return err
	}
	m.report(evLogout, "others")
	return nil
}

// LogoutSession ends one session of userID, named by its public ID (from
// ListSessions or Session.ID), and the session a concurrent renewal derived
// from it, if any. It returns ErrNotFound when the user has no such
// session. Cost: one store ListUser, a delete and a read. A cookie-only
// Manager returns ErrCookieOnly.
func (m *Manager) LogoutSession(ctx context.Context, userID, id string) error {
	if err := m.mode.logoutSession(ctx, userID, id); err != nil {
		return err
	}
	m.report(evLogout, "session")
	return nil
}

// logout deletes the record of every token the request carried, and the
// sessions concurrent renewals derived from them.
func (b storeBackend) logout(ctx context.Context, s *Session, r *http.Request) error {
	m := b.Manager
	var errs []error
	ended := make(map[string]bool, 2)
	end := func(token [tokenLen]byte, key string) {
		if key == "" || ended[key] {
			return
		}
		ended[key] = true
		if err := m.end(ctx, key); err != nil {
			errs = append(errs, err)
		}
		m.dead.add(token)
	}
	n := 0
	forEachCookie(r.Header, m.cookie.Name, func(value string) bool {
		if n++; n > maxSessionCookies {
			return false
		}
		if v, ok := m.signer.verify(value); ok {
			end(v.token, v.storeKey)
		}
		return true
	})
	if m.bearer {
		if value, ok := bearerToken(r.Header); ok {
			if v, ok := m.signer.verify(value); ok {
				end(v.token, v.storeKey)
			}
		}
	}
	if s.token != nil {
		end([tokenLen]byte(s.token), s.key)
	}
	s.loggedOut(m.clearSiteData)
	if n > maxSessionCookies {
		errs = append(errs, ErrTooManyCookies)
	}
	return errors.Join(errs...)
}

// logoutAll deletes the user's sessions through the store's user index.
func (b storeBackend) logoutAll(ctx context.Context, userID string) error {
	if err := b.store.DeleteUser(ctx, userID); err != nil {
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	if s, ok := b.own(ctx); ok {
		// A session not loaded yet loads as ended (its record is gone) and
		// expires its cookie; a loaded one of this user is ended here.
		s.mu.Lock()
		s.ensureLoaded()
		if s.userID == userID {
			s.forgetAndExpire()
		}
		s.mu.Unlock()
	}
	return nil
}

// logoutSession finds the session by its public ID among the user's.
func (b storeBackend) logoutSession(ctx context.Context, userID, id string) error {
	if id == "" {
		return ErrNotFound
	}
	entries, err := b.store.ListUser(ctx, userID)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	for _, e := range entries {
		if publicID(e.Key) == id {
			return b.end(ctx, e.Key)
		}
	}
	return ErrNotFound
}

// end deletes the record under key and the session a concurrent renewal
// derived from it, if any.
func (m *Manager) end(ctx context.Context, key string) error {
	if err := m.store.Delete(ctx, key); err != nil {
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	return m.endSuccessor(ctx, key)
}

// endSuccessor ends the session a concurrent renewal derived from the
// record under key, if the renewal's marker is there (see renew).
func (m *Manager) endSuccessor(ctx context.Context, key string) error {
	rec, err := m.store.Get(ctx, successorKey(key))
	switch {
	case errors.Is(err, ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	next, ok := decodeSuccessor(rec.Data)
	if !ok {
		return nil
	}
	if err := m.store.Delete(ctx, next); err != nil {
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	return nil
}
