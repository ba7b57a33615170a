package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// Middleware loads the request's session and saves it back when it changed.
// Put it around everything that uses sessions; FromContext works inside it.
//
// Cost per request: nothing for a request without our cookie; for one with
// a cookie, one HMAC-SHA256 check (or a seeded hash and a comparison when
// the same value verified within the last minute), one store read when the
// handler first uses the session, and a store write only when a value
// changed or the idle window is due for extension. A cookie that does not
// verify costs no store call.
// Mounting it twice is harmless.
func (m *Manager) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := m.own(r.Context()); ok {
			next.ServeHTTP(w, r) // already inside this Manager's Middleware
			return
		}
		st := &requestState{Context: r.Context()}
		s := &st.session
		s.verify(m, r)
		r = r.WithContext(st)
		st.writer = commitWriter{ResponseWriter: w, s: s, r: r}
		if h := w.Header(); len(h) > 0 {
			st.writer.outer, st.writer.outerCookies = outerResponseHeaders(h)
		}
		s.out = &st.writer
		next.ServeHTTP(&st.writer, r)
		// Not deferred: when the handler panics, nothing is committed and the
		// panic goes on up.
		st.writer.finish()
	})
}

// requestState puts the request's context, session and response writer in
// one allocation. It is the context the handler sees: it answers the session
// for contextKey{} and for its Manager's managerKey, and hands every other
// key (and deadlines, cancellation) to the request's own context, where an
// outer Manager's Middleware may answer.
type requestState struct {
	context.Context
	session Session
	writer  commitWriter
}

// Value returns the session for contextKey{} and this Manager's
// managerKey, otherwise the parent's value.
func (st *requestState) Value(key any) any {
	switch k := key.(type) {
	case contextKey:
		return &st.session
	case managerKey:
		if k.m == st.session.m {
			return &st.session
		}
	}
	return st.Context.Value(key)
}

// candidate is a token that verified, from a cookie or a Bearer header, or
// in cookie-only mode a cookie that opened.
type candidate struct {
	// v is the verification, shared with the signer's cache (never
	// changed): the value, the key that verified it, its token and store
	// key, and until when it holds (v.until, monoNow). Nil in cookie-only
	// mode, which keeps the value and key index in the fields below.
	v          *verifiedValue
	fromCookie bool
	keyIndex   int32  // cookie-only mode: the key that opened it; 0 is the current key
	value      string // cookie-only mode: as the request sent it
	sealed     []byte // cookie-only mode: the opened payload (see sealed.go)
}

// RequireAuth lets only signed-in requests through to next. Anonymous
// requests get Config.Unauthenticated (401 by default); when the store could
// not be read, Config.ErrorHandler answers (503 by default), so clients
// never take an outage for a logout. It applies Middleware itself when the
// request has not been through it.
func (m *Manager) RequireAuth(next http.Handler) http.Handler {
	check := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := m.own(r.Context())
		s.mu.Lock()
		s.ensureLoaded()
		loadErr, userID := s.loadErr, s.userID
		s.mu.Unlock()
		switch {
		case loadErr != nil:
			m.onError(w, r, fmt.Errorf("%w: %w", ErrStoreUnavailable, loadErr))
		case userID == "":
			m.unauthenticated.ServeHTTP(w, r)
		default:
			next.ServeHTTP(w, r)
		}
	})
	return m.ensureMiddleware(check)
}

// ensureMiddleware runs h behind m's Middleware unless the request has
// already been through it, so RequireAuth and RequireRecentAuth work both
// inside and outside Middleware.
func (m *Manager) ensureMiddleware(h http.Handler) http.Handler {
	withSession := m.Middleware(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := m.own(r.Context()); ok {
			h.ServeHTTP(w, r)
			return
		}
		withSession.ServeHTTP(w, r)
	})
}

func (m *Manager) defaultUnauthenticated(w http.ResponseWriter, r *http.Request) {
	if m.bearer {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	writeJSONError(w, http.StatusUnauthorized, "not authenticated")
}

func defaultErrorHandler(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, ErrCookieTooLarge) {
		writeJSONError(w, http.StatusInternalServerError, "session too large for its cookie")
		return
	}
	writeJSONError(w, http.StatusServiceUnavailable, "session store unavailable")
}

func writeJSONError(w http.ResponseWriter, code int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(struct {
		Error string `json:"error"`
	}{msg})
}

func (m *Manager) logError(ctx context.Context, msg, key string, err error) {
	// Calls the breaker stops are not logged one by one: the store guard
	// logged once when it opened.
	if m.log != nil && !errors.Is(err, errSuspended) {
		m.log.LogAttrs(ctx, slog.LevelError, msg, slog.String("session", publicID(key)), slog.String("error", err.Error()))
	}
}

func (m *Manager) logWarn(ctx context.Context, msg, key string) {
	if m.log != nil {
		m.log.LogAttrs(ctx, slog.LevelWarn, msg, slog.String("session", publicID(key)))
	}
}
