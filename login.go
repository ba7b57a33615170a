package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"
)

// MaxUserIDLen is the longest user ID Login accepts, in bytes.
const MaxUserIDLen = 256

// LoginOption changes how Login creates the session.
type LoginOption func(*loginOptions)

type loginOptions struct{ rememberMe bool }

// RememberMe makes the session persistent: its cookie survives a browser
// restart, and Config.RememberMeIdleTimeout and RememberMeLifetime apply
// instead of IdleTimeout and Lifetime.
func RememberMe() LoginOption { return func(o *loginOptions) { o.rememberMe = true } }

// checkUserID rejects user IDs no store can hold: empty, longer than
// MaxUserIDLen, not UTF-8, or containing NUL.
func checkUserID(userID string) error {
	if userID == "" || len(userID) > MaxUserIDLen || !utf8.ValidString(userID) || containsNUL(userID) {
		return ErrInvalidUserID
	}
	return nil
}

func containsNUL(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return true
		}
	}
	return false
}

// Login signs userID in. It always issues a new token (defeating session
// fixation): the old record is deleted and a new one created before Login
// returns, so a redirect that follows is already signed in. Values of the
// previous session are kept, unless it belonged to a different user, in
// which case they are dropped. When the user now has more sessions than
// Config.MaxSessionsPerUser, the oldest end.
//
// r must have passed through m's Middleware (otherwise ErrNoMiddleware, and
// nothing changes); w is the handler's ResponseWriter, on which the new
// cookie goes out with the response headers. A user ID that is empty,
// longer than MaxUserIDLen bytes, not UTF-8 or containing NUL is
// ErrInvalidUserID.
//
// Cost: one store Replace on a store with Replacer (all three of this
// repository's stores), which also ends the oldest sessions past the cap;
// otherwise a delete, a create, a ListUser and a delete per session past the
// cap. In
// cookie-only mode no store call, and ErrCookieTooLarge when the values kept
// and userID would not fit in the cookie. Call it before writing the
// response; afterwards it returns ErrHeadersWritten and changes nothing.
func (m *Manager) Login(w http.ResponseWriter, r *http.Request, userID string, opts ...LoginOption) error {
	if err := checkUserID(userID); err != nil {
		return err
	}
	s, err := m.ownOrErr(r)
	if err != nil {
		return err
	}
	var o loginOptions
	for _, opt := range opts {
		opt(&o)
	}
	t := m.normal
	if o.rememberMe {
		t = m.remember
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.committed {
		return ErrHeadersWritten
	}
	s.ensureLoaded()
	s.decodeValues()
	values := s.values
	if s.userID != "" && s.userID != userID {
		values = nil
	}
	now := m.now()
	hdr := recordHeader{persistent: o.rememberMe, created: now, idle: t.idle, lifetime: t.lifetime}
	if m.sealer != nil {
		return m.loginSealed(s, userID, hdr, values, now)
	}
	return m.replace(r.Context(), s, userID, hdr, values, now)
}

// Logout ends the request's session: its record is deleted and the cookie
// expired (with the same Name, Path and Domain), even when the delete fails,
// in which case the error is returned. Every session token the request
// carried is ended, so a cookie planted beside ours (cookie tossing) cannot
// keep the user's session alive; a session a concurrent Renew or
// LogoutOthers derived from one of them ends too. When the request carries
// more cookies of our name than one request may make us check (16), the
// ones past that are not ended and Logout returns ErrTooManyCookies. Values
// are dropped; the handler may set new ones (they start a new anonymous
// session). r must have passed through m's Middleware; w is the handler's
// ResponseWriter, on which the expired cookie goes out.
//
// Cost: per token, a store delete and a read (of the marker a concurrent
// renewal leaves); one token, normally. In cookie-only mode Logout only
// expires the cookie: a copy of it stays valid until it expires.
func (m *Manager) Logout(w http.ResponseWriter, r *http.Request) error {
	s, err := m.ownOrErr(r)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if m.sealer != nil {
		// Cookie-only: nothing to delete; the cookie is expired. A copy of
		// it stays valid until it expires (see Config.CookieOnly).
		s.loggedOut(m.clearSiteData)
		if s.committed {
			return ErrHeadersWritten
		}
		return nil
	}
	ctx := r.Context()
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
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if s.committed {
		return ErrHeadersWritten
	}
	return nil
}

// end deletes the record under key and the session a concurrent renewal
// derived from it, if any.
func (m *Manager) end(ctx context.Context, key string) error {
	if err := m.store.Delete(ctx, key); err != nil {
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	return m.endSuccessor(ctx, key)
}

// LogoutAll ends every session of userID, on every device, in time
// proportional to that user's sessions. If ctx is a request context of that
// user under m's Middleware, its cookie is expired too. A cookie-only
// Manager returns ErrCookieOnly.
func (m *Manager) LogoutAll(ctx context.Context, userID string) error {
	if m.sealer != nil {
		return ErrCookieOnly
	}
	if err := checkUserID(userID); err != nil {
		return err
	}
	if err := m.store.DeleteUser(ctx, userID); err != nil {
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	if s, ok := m.own(ctx); ok {
		s.mu.Lock()
		if s.loaded && s.userID == userID {
			s.forgetAndExpire()
		}
		s.mu.Unlock()
	}
	return nil
}
