package session

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// contextKey finds the innermost Manager's session in a request context;
// managerKey finds one Manager's own.
type (
	contextKey struct{}
	managerKey struct{ m *Manager }
)

// Session is the state of one request's session. Handlers get it with
// FromContext; it is safe for concurrent use by the handler's goroutines
// for as long as the request runs.
//
// Values are small strings (user preferences, a cart ID, a flash message);
// Put and Value store any JSON-encodable type. Keep the total small: the
// whole session is read on every request and written back whenever a value
// changes.
type Session struct {
	// Only the lifecycle (lifecycle*.go) changes these
	// fields; the accessors below read them and change values.

	mu sync.Mutex
	m  *Manager // nil for a detached session (FromContext outside Middleware, or the zero Session)

	cand    candidate // the verified token, when there is exactly one (its age is checked at load: candidate.v.until)
	ncands  int32     // verified tokens not known to be dead
	cookies int32     // cookies of our name in the request

	token  []byte // raw 32-byte token; nil while there is no stored session. Never written: it may be the signer's cache entry's (candidate.v)
	key    string // hex SHA-256 of token: the store key
	signed string // signed token as sent in the cookie, once known

	userID   string
	header   recordHeader
	expires  time.Time // the record's expiry as stored, bounded (Manager.bounded)
	loadedAt int64     // when load read the record (Unix nanoseconds): commit's clock too

	rawValues []byte            // undecoded values section of the record
	values    map[string]string // decoded on first use

	loadErr error         // the store failed while loading; the session is unknown
	out     *commitWriter // the writer the Middleware gave the handler

	// loadCall is the store guard's context for load's one read, kept here
	// so that the read allocates none (see guard.getAt).
	loadCall callContext

	loaded     bool // the store has been read (or there was nothing to read)
	cut        bool // the record carries longer timeouts than header: rewrite it when extending
	dirty      bool // values changed since load
	fromCookie bool // the token came from the cookie (not a Bearer header)
	resign     bool // the cookie verified under an older key
	cookieOp   cookieOp
	clearSite  bool        // send Clear-Site-Data with the response
	committed  bool        // response headers are out; cookies can no longer change
	late       bool        // the request's token was replaced moments ago (Manager.replacedLately): no implicit cookie change
	ended      atomic.Bool // Middleware finished the request: nothing more is saved
}

// requestContext is the context of s's request as the Middleware received
// it: store calls for the session run under it. (The handler's context, the
// request state around it, differs only in answering for the session.)
func (s *Session) requestContext() context.Context {
	if s.out == nil { // not from Middleware: such a session never loads
		return context.Background()
	}
	ctx := s.out.r.Context()
	if st, ok := ctx.(*requestState); ok {
		return st.Context
	}
	return ctx
}

// FromContext returns the request's session: that of the innermost
// Manager's Middleware the request passed through (use Manager.FromContext
// to pick one when a program has several). Inside Middleware it is never
// nil. Outside it, FromContext returns a detached session (as is the zero
// Session): it reads as anonymous, its Err is ErrNoMiddleware, and Set,
// Delete and Pop on it change nothing and return ErrNoMiddleware: the
// same in tests as in production, so a handler that is not wrapped in
// Middleware fails its first test that checks their error (package
// sessiontest runs handlers inside a real Middleware).
func FromContext(ctx context.Context) *Session {
	if s, ok := ctx.Value(contextKey{}).(*Session); ok {
		return s
	}
	return &Session{loaded: true}
}

// FromContext returns the session m's Middleware put in ctx, or a detached
// session (see the package-level FromContext) when the request did not pass
// through m's Middleware, even if it passed through another Manager's.
func (m *Manager) FromContext(ctx context.Context) *Session {
	if s, ok := m.own(ctx); ok {
		return s
	}
	return &Session{loaded: true}
}

// own returns m's session of a request context.
func (m *Manager) own(ctx context.Context) (*Session, bool) {
	s, ok := ctx.Value(managerKey{m}).(*Session)
	return s, ok
}

// maxUnwrap bounds how many wrappers ownWriter looks through.
const maxUnwrap = 32

// ownWriter is own for the Manager methods that set a cookie: r must carry
// m's session, and w must be the writer m's Middleware gave the handler or
// unwrap to it, so that the cookie goes out where the caller says.
func (m *Manager) ownWriter(w http.ResponseWriter, r *http.Request) (*Session, error) {
	s, ok := m.own(r.Context())
	if !ok {
		m.logMisuse(r.Context(), 0, "session: a method that sets the cookie (Login, Logout, Renew...) was called on a request that did not pass through this Manager's Middleware; wrap the handler or mux with Middleware", ErrNoMiddleware)
		return nil, ErrNoMiddleware
	}
	for range maxUnwrap {
		if w == nil {
			break
		}
		if w == s.out {
			return s, nil
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			break
		}
		w = u.Unwrap()
	}
	m.logMisuse(r.Context(), 1, "session: a method that sets the cookie (Login, Logout, Renew...) was given a ResponseWriter that is not, and does not unwrap to, the one Middleware gave the handler (a writer of a middleware inside Middleware, such as http.TimeoutHandler's?)", ErrForeignWriter)
	return nil, ErrForeignWriter
}

// logMisuse tells the Logger, once per Manager and kind, of a programming
// error a method returns (ErrNoMiddleware, ErrForeignWriter): a handler
// that answers every error with 503 would otherwise leave no trace of it.
func (m *Manager) logMisuse(ctx context.Context, kind int, msg string, err error) {
	if m.log == nil || m.misuseLogged[kind].Swap(true) {
		return
	}
	m.log.LogAttrs(ctx, slog.LevelError, msg, slog.String("error", err.Error()))
}

// Err reports why the session may not reflect the store: ErrNoMiddleware
// for a detached session, or an error wrapping ErrStoreUnavailable when the
// store could not be read (the request then reads as anonymous). It is nil
// otherwise. Calling it loads the session.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		return ErrNoMiddleware
	}
	s.ensureLoaded()
	if s.loadErr != nil {
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, s.loadErr)
	}
	return nil
}

// UserID returns the signed-in user's ID, or "" for an anonymous request.
func (s *Session) UserID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensureLoaded()
	return s.userID
}

// ID returns a short public identifier of the session (16 hex characters,
// derived from the store key by one more SHA-256; in cookie-only mode from
// the random session ID sealed in the cookie, new at every Login), or ""
// when there is no stored session. It is safe to show and log: it cannot be
// turned back into the token or the store key. It matches SessionInfo.ID.
func (s *Session) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensureLoaded()
	return publicID(s.key)
}

// Token returns the signed session token, the same value the cookie carries,
// for clients that send it back in an "Authorization: Bearer" header (see
// Config.Bearer). It is "" when there is no stored session, and always in
// cookie-only mode, which has no bearer tokens. Treat it as a password:
// never log it or put it in a URL.
func (s *Session) Token() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensureLoaded()
	if s.m == nil {
		return ""
	}
	return s.m.mode.token(s)
}

// Get returns the value stored under key, or "" if there is none.
func (s *Session) Get(key string) string {
	v, _ := s.Lookup(key)
	return v
}

// Lookup returns the value stored under key and whether it was present.
func (s *Session) Lookup(key string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.decodeValues()
	v, ok := s.values[key]
	return v, ok
}

// Set stores value under key. The change is saved when the response headers
// are written; an anonymous request that sets a value gets a new session.
//
// Set, Delete and Pop report the same errors, and on an error change
// nothing: ErrNoMiddleware on a detached session (see FromContext), which
// nothing can save; ErrHeadersWritten for a change the response can no
// longer carry: in cookie-only mode (Config.CookieOnly) any change once the
// response headers are out, and with a store a change after the headers
// on a request without a stored session (the new session would need a
// cookie), or whose session could not be read (then the error also wraps
// ErrStoreUnavailable); and, for Set in cookie-only mode, an error wrapping
// ErrCookieTooLarge when the session would no longer fit in its cookie.
// Once Middleware has finished the request (a goroutine that outlived the
// handler), every change returns ErrHeadersWritten: nothing would save it.
// With a store and a Middleware, a change made before the headers go out
// never fails, and one made after them on a stored session is still saved
// to the store when the handler returns, even if the client has gone by
// then; if the store fails at that point, the Logger is told, as the
// handler has been told nil already.
func (s *Session) Set(key, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		return ErrNoMiddleware
	}
	s.decodeValues()
	if old, ok := s.values[key]; ok && old == value {
		return nil
	}
	if err := s.checkChange(key, value, false); err != nil {
		return err
	}
	if s.values == nil {
		s.values = make(map[string]string)
	}
	s.values[key] = value
	s.dirty = true
	return nil
}

// Delete removes the value stored under key. Its errors are Set's.
func (s *Session) Delete(key string) error {
	_, err := s.Pop(key)
	return err
}

// end marks the request finished: later changes are refused.
func (s *Session) end() { s.ended.Store(true) }

// checkChange reports whether a change can still be saved: never once
// Middleware has finished the request (a goroutine that outlived the
// handler), else as the backend says.
func (s *Session) checkChange(key, value string, deleting bool) error {
	if s.ended.Load() {
		return ErrHeadersWritten
	}
	return s.m.mode.checkChange(s, key, value, deleting)
}

// Pop returns the value under key and removes it: the usual way to show a
// flash message once. Its errors are Set's; on an error the value is still
// returned, but stays in the session. Call it before the response body
// starts: in cookie-only mode, where removing the value means a new cookie,
// a Pop after the first Write returns ErrHeadersWritten and the message
// stays (a stored session saves the removal even then).
func (s *Session) Pop(key string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		return "", ErrNoMiddleware
	}
	s.decodeValues()
	v, ok := s.values[key]
	if !ok {
		return "", nil
	}
	if err := s.checkChange(key, "", true); err != nil {
		return v, err
	}
	delete(s.values, key)
	s.dirty = true
	return v, nil
}

// Put stores v under key as JSON, for values that are not strings. It needs
// no type registration; read the value back with Value. It returns the
// encoding's error, or Set's.
func Put[T any](s *Session, key string, v T) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.Set(key, string(b))
}

// Value reads a value stored with Put into a T. ok reports whether the key
// is present; err is not nil when it is present but does not decode as a T
// (v is then the zero value). Cost: one JSON decode.
func Value[T any](s *Session, key string) (v T, ok bool, err error) {
	raw, ok := s.Lookup(key)
	if !ok {
		return v, false, nil
	}
	if err = json.Unmarshal([]byte(raw), &v); err != nil {
		var zero T
		return zero, true, fmt.Errorf("session: value %q: %w", key, err)
	}
	return v, true, nil
}

// decodeValues decodes the record's values on first use. A record whose
// header decoded but whose values do not is treated as empty and reported:
// the load path has already checked the whole record, so this cannot happen
// for records written by this package.
func (s *Session) decodeValues() {
	s.ensureLoaded()
	if s.values != nil || s.rawValues == nil {
		return
	}
	v, err := decodeValues(s.rawValues)
	if err != nil {
		v = map[string]string{}
	}
	s.values, s.rawValues = v, nil
}
