package session

import (
	"context"
	"net/http"
	"time"
	"unicode/utf8"
)

// maxUserIDLen is the longest user ID Login accepts, in bytes.
const maxUserIDLen = 256

// LoginOption changes how Login creates the session.
type LoginOption func(*loginOptions)

type loginOptions struct {
	rememberMe bool
	amr        string // ProvedWith's methods, joined
	amrErr     error
}

// RememberMe makes the session persistent: its cookie survives a browser
// restart, and Config.RememberMeIdleTimeout and RememberMeLifetime apply
// instead of IdleTimeout and Lifetime.
func RememberMe() LoginOption { return func(o *loginOptions) { o.rememberMe = true } }

// checkUserID rejects user IDs no store can hold: empty, longer than
// maxUserIDLen, not UTF-8, or containing NUL.
func checkUserID(userID string) error {
	if userID == "" || len(userID) > maxUserIDLen || !utf8.ValidString(userID) || containsNUL(userID) {
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
// r must have passed through m's Middleware (otherwise ErrNoMiddleware),
// and w must be the ResponseWriter the Middleware gave the handler, or a
// wrapper of it that unwraps to it (an Unwrap() http.ResponseWriter method,
// as http.ResponseController expects); the new cookie goes out on it with
// the response headers. Any other w is ErrForeignWriter; either way nothing
// changes. A user ID that is empty, longer than 256 bytes, not UTF-8 or
// containing NUL is ErrInvalidUserID.
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
	s, err := m.ownWriter(w, r)
	if err != nil {
		return err
	}
	var o loginOptions
	for _, opt := range opts {
		opt(&o)
	}
	if o.amrErr != nil {
		return o.amrErr
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
	hdr := recordHeader{persistent: o.rememberMe, created: now, idle: t.idle, lifetime: t.lifetime, authTime: now, amr: o.amr}
	err = m.mode.login(r.Context(), s, userID, hdr, values, now)
	m.logLoginFailure(r.Context(), err)
	if err == nil {
		m.report(evLogin, "")
	}
	return err
}

// login replaces the session's record with a new one under a new token and
// ends the oldest sessions past the per-user cap (see replace, in cap.go).
func (b storeBackend) login(ctx context.Context, s *Session, userID string, hdr recordHeader, values map[string]string, now time.Time) error {
	return b.Manager.replace(ctx, s, userID, hdr, values, now)
}
