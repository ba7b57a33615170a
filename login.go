package session

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
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
// changes. A user ID that is empty,
// longer than 256 bytes, not UTF-8 or containing NUL is
// ErrInvalidUserID.
//
// Cost: one store create (one replace on a store with Replacer, else a
// delete and a create); a ListUser to enforce the per-user cap, skipped
// when the store counts the user's sessions as it creates (CountingCreator)
// and the count is within the cap; a delete per session past it. In
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
	return m.mode.login(r.Context(), s, userID, hdr, values, now)
}

// login replaces the session's record with a new one under a new token,
// then enforces the per-user cap.
func (b storeBackend) login(ctx context.Context, s *Session, userID string, hdr recordHeader, values map[string]string, now time.Time) error {
	m := b.Manager
	if c, ok := m.store.(CountingCreator); ok {
		oldKey, oldToken := s.key, s.token
		n := 0
		if err := m.replaceWith(s, userID, hdr, values, now, func(key string, rec Record) error {
			var err error
			n, err = c.CreateCounting(ctx, oldKey, key, rec)
			return err
		}); err != nil {
			return err
		}
		if oldToken != nil {
			m.dead.add([tokenLen]byte(oldToken))
		}
		if n > m.maxPerUser {
			m.enforceCap(ctx, userID, s.key, hdr.created)
		}
		return nil
	}
	if err := m.replace(ctx, s, userID, hdr, values, now); err != nil {
		return err
	}
	m.enforceCap(ctx, userID, s.key, hdr.created)
	return nil
}

// replace deletes s's record, if any, then creates a new one with a new
// token. If the create fails, the request is left signed out.
func (m *Manager) replace(ctx context.Context, s *Session, userID string, hdr recordHeader, values map[string]string, now time.Time) error {
	if r, ok := m.store.(Replacer); ok && s.key != "" {
		oldKey, oldToken := s.key, [tokenLen]byte(s.token)
		if err := m.replaceWith(s, userID, hdr, values, now, func(key string, rec Record) error {
			return r.Replace(ctx, oldKey, key, rec)
		}); err != nil {
			return err
		}
		m.dead.add(oldToken)
		return nil
	}
	if s.key != "" {
		if err := m.store.Delete(ctx, s.key); err != nil {
			return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
		}
		m.dead.add([tokenLen]byte(s.token))
		s.forget()
	}
	return m.replaceWith(s, userID, hdr, values, now, func(key string, rec Record) error {
		return m.store.Create(ctx, key, rec)
	})
}

// replaceWith stores a new record under a new token with put and points s
// at it.
func (m *Manager) replaceWith(s *Session, userID string, hdr recordHeader, values map[string]string, now time.Time, put func(key string, rec Record) error) error {
	tok := newToken()
	key := storeKey(tok)
	rec := Record{UserID: userID, Expires: deadline(hdr, now), Data: encodeRecord(hdr, values, nil)}
	if err := put(key, rec); err != nil {
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	s.start(tok, key, userID, hdr, rec.Expires, values)
	return nil
}

// enforceCap ends the oldest sessions of userID past the per-user cap,
// keeping keep (the session just signed in, created at created). Only
// sessions created before it are ended, so two logins racing at the cap
// never end each other's new session. A failure is logged, not returned:
// the login itself succeeded. Cost: one ListUser, a delete per session ended.
func (m *Manager) enforceCap(ctx context.Context, userID, keep string, created time.Time) {
	entries, err := m.store.ListUser(ctx, userID)
	if err != nil {
		m.logError(ctx, "session: listing the user's sessions for the per-user cap failed", keep, err)
		return
	}
	if len(entries) <= m.maxPerUser {
		return
	}
	createdAt := func(e Entry) int64 {
		h, _, err := decodeHeader(e.Data)
		if err != nil {
			return 0 // corrupt: oldest
		}
		return h.created.UnixNano()
	}
	slices.SortFunc(entries, func(a, b Entry) int { return cmp.Compare(createdAt(a), createdAt(b)) })
	excess := len(entries) - m.maxPerUser
	for _, e := range entries {
		if excess == 0 || createdAt(e) >= created.UnixNano() {
			break
		}
		if e.Key == keep {
			continue
		}
		m.deleteQuietly(ctx, e.Key)
		excess--
	}
}
