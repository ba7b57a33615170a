package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Default timeouts, used when the Config leaves them zero.
const (
	DefaultIdleTimeout           = 30 * time.Minute
	DefaultLifetime              = 12 * time.Hour
	DefaultRememberMeIdleTimeout = 7 * 24 * time.Hour
	DefaultRememberMeLifetime    = 30 * 24 * time.Hour
)

// Errors returned by Manager methods.
var (
	// ErrStoreUnavailable wraps every store failure the Manager reports
	// (errors.Is finds both it and the store's own error).
	ErrStoreUnavailable = errors.New("session: store unavailable")
	// ErrHeadersWritten: the response headers were already sent, so the
	// session cookie can no longer be changed.
	ErrHeadersWritten = errors.New("session: response headers already written")
	// ErrNotAuthenticated: the operation needs a signed-in session.
	ErrNotAuthenticated = errors.New("session: not authenticated")
	// ErrEmptyUserID: Login and LogoutAll need a non-empty user ID.
	ErrEmptyUserID = errors.New("session: empty user ID")
	// ErrInvalidConfig: a timeout in Config is negative or below one second.
	ErrInvalidConfig = errors.New("session: invalid config")
)

// Config configures a Manager. Only Keys is required.
type Config struct {
	// Store keeps the sessions. nil means a new MemoryStore (one process only).
	Store Store
	// Keys signs and verifies tokens. Required.
	Keys *KeyRing

	// IdleTimeout ends a session that has not been used for this long,
	// enforced from the expiry the store keeps. Activity extends it at most
	// once per half window, so a busy session costs one store write per
	// IdleTimeout/2 and none in between. 0 means DefaultIdleTimeout (30 min).
	IdleTimeout time.Duration
	// Lifetime ends a session this long after Login, however active it is.
	// Renew and LogoutOthers keep it. 0 means DefaultLifetime (12 hours).
	Lifetime time.Duration
	// RememberMeIdleTimeout and RememberMeLifetime replace the two above for
	// sessions created with the RememberMe login option, whose cookie also
	// survives a browser restart (for at most 400 days, the browsers' cap).
	// 0 means DefaultRememberMeIdleTimeout (7 days) and
	// DefaultRememberMeLifetime (30 days).
	RememberMeIdleTimeout time.Duration
	RememberMeLifetime    time.Duration

	// Cookie sets the cookie's name and attributes; the zero value is safe.
	Cookie CookieOptions

	// Bearer also accepts the signed token in an "Authorization: Bearer"
	// header, for API and mobile clients (get it with Session.Token after
	// Login). Tokens are never read from query strings or form fields.
	Bearer bool

	// Unauthenticated answers requests that RequireAuth turns away. nil means
	// 401 with the JSON body {"error":"not authenticated"}.
	Unauthenticated http.Handler
	// ErrorHandler answers a request when the store fails: on a RequireAuth
	// route, or when a change to the session cannot be saved. err wraps
	// ErrStoreUnavailable and the store's error. nil means 503 with the JSON
	// body {"error":"session store unavailable"}.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// Logger receives store failures, corrupt records and dropped changes.
	// Entries carry a short hash of the session (Session.ID), never a token,
	// key or cookie. nil disables logging.
	Logger *slog.Logger
	// ClearSiteData makes Logout send `Clear-Site-Data: "cookies"`, which
	// removes every cookie of the site from the browser, not only ours.
	ClearSiteData bool
}

// Manager is the session middleware and the API to log users in and out.
// Create it once with New and share it; it is safe for concurrent use.
type Manager struct {
	store            Store
	signer           *signer
	cookie           CookieOptions
	normal, remember timeouts
	bearer           bool
	unauthenticated  http.Handler
	onError          func(w http.ResponseWriter, r *http.Request, err error)
	log              *slog.Logger
	clearSiteData    bool
	now              func() time.Time
}

type timeouts struct{ idle, lifetime time.Duration }

// New checks cfg and returns a Manager. It fails on missing keys, cookie
// attributes that browsers would reject (a __Host- name with a Domain, a
// non-root Path or without Secure; SameSite=None without Secure) and
// timeouts below one second.
func New(cfg Config) (*Manager, error) {
	if cfg.Keys == nil || cfg.Keys.Len() == 0 {
		return nil, ErrNoKeys
	}
	cookie, err := cfg.Cookie.withDefaults()
	if err != nil {
		return nil, err
	}
	m := &Manager{
		store:           cfg.Store,
		cookie:          cookie,
		bearer:          cfg.Bearer,
		unauthenticated: cfg.Unauthenticated,
		onError:         cfg.ErrorHandler,
		log:             cfg.Logger,
		clearSiteData:   cfg.ClearSiteData,
		now:             time.Now,
	}
	if m.normal, err = makeTimeouts(cfg.IdleTimeout, cfg.Lifetime, DefaultIdleTimeout, DefaultLifetime); err != nil {
		return nil, err
	}
	if m.remember, err = makeTimeouts(cfg.RememberMeIdleTimeout, cfg.RememberMeLifetime, DefaultRememberMeIdleTimeout, DefaultRememberMeLifetime); err != nil {
		return nil, err
	}
	if m.store == nil {
		m.store = NewMemoryStore()
	}
	if m.unauthenticated == nil {
		m.unauthenticated = http.HandlerFunc(m.defaultUnauthenticated)
	}
	if m.onError == nil {
		m.onError = defaultErrorHandler
	}
	maxAge := max(m.normal.lifetime, m.remember.lifetime) + time.Minute
	m.signer = cfg.Keys.newSigner(cookie.Name, maxAge)
	return m, nil
}

func makeTimeouts(idle, life, defIdle, defLife time.Duration) (timeouts, error) {
	if idle == 0 {
		idle = defIdle
	}
	if life == 0 {
		life = defLife
	}
	if idle < time.Second || life < time.Second || idle > maxDuration || life > maxDuration {
		return timeouts{}, fmt.Errorf("%w: timeouts must be between 1s and 100 years", ErrInvalidConfig)
	}
	return timeouts{idle: idle, lifetime: life}, nil
}

// Middleware loads the request's session and saves it back when it changed.
// Put it around everything that uses sessions; FromContext works inside it.
//
// Cost per request: nothing for a request without our cookie; for one with
// a cookie, one HMAC-SHA256 check (or a SHA-256 when the same value verified
// within the last minute), one store read when the handler first uses the
// session, and a store write only when a value changed or the idle window is
// due for extension. A cookie that does not verify costs no store call.
// Mounting it twice is harmless.
func (m *Manager) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s, ok := r.Context().Value(contextKey{}).(*Session); ok && s.m == m {
			next.ServeHTTP(w, r) // already inside our Middleware
			return
		}
		st := &requestState{Context: r.Context()}
		s := &st.session
		m.verifyRequest(r, s)
		r = r.WithContext(st)
		st.writer = commitWriter{ResponseWriter: w, m: m, s: s, r: r}
		next.ServeHTTP(&st.writer, r)
		// Not deferred: when the handler panics, nothing is committed and the
		// panic goes on up.
		st.writer.finish()
	})
}

// requestState puts the request's context, session and response writer in
// one allocation. It is the context the handler sees: it answers the session
// for contextKey{} and hands every other key (and deadlines, cancellation)
// to the request's own context.
type requestState struct {
	context.Context
	session Session
	writer  commitWriter
}

// Value returns the session for contextKey{}, otherwise the parent's value.
func (st *requestState) Value(key any) any {
	if _, ok := key.(contextKey); ok {
		return &st.session
	}
	return st.Context.Value(key)
}

// candidate is a token that verified, from a cookie or a Bearer header.
type candidate struct {
	token      [tokenLen]byte
	key        string // store key
	value      string
	keyIndex   int
	fromCookie bool
}

// verifyRequest collects the tokens of the request that verify: the cookies
// of our name and, when enabled, a Bearer header. It does no store I/O; the
// session is loaded when the handler first uses it (see Session.ensureLoaded),
// so a request that never looks at its session costs no store call.
func (m *Manager) verifyRequest(r *http.Request, s *Session) {
	s.m = m
	s.ctx = r.Context()
	tries := 0
	consider := func(value string, fromCookie bool) bool {
		if tries++; tries > 2*maxCandidates {
			return false
		}
		if value == "" || len(value) > maxCookieLen {
			return true
		}
		v, ok := m.signer.verify(value)
		if !ok {
			return true
		}
		tok := v.token
		for i := range s.ncands {
			if c := s.cand(i); c.token == tok {
				c.fromCookie = c.fromCookie || fromCookie
				return true
			}
		}
		c := candidate{token: tok, key: v.storeKey, value: value, keyIndex: v.keyIndex, fromCookie: fromCookie}
		if s.ncands == 0 {
			s.first = c
		} else {
			s.more = append(s.more, c)
		}
		s.ncands++
		return s.ncands < maxCandidates
	}
	forEachCookie(r.Header, m.cookie.Name, func(v string) bool { return consider(v, true) })
	if m.bearer && s.ncands < maxCandidates {
		if v, ok := bearerToken(r.Header); ok {
			consider(v, false)
		}
	}
	s.loaded = s.ncands == 0
}

// cand returns the i-th verified token.
func (s *Session) cand(i int) *candidate {
	if i == 0 {
		return &s.first
	}
	return &s.more[i-1]
}

// ensureLoaded loads the session on first use. s.mu must be held.
func (s *Session) ensureLoaded() {
	if s.loaded {
		return
	}
	s.loaded = true
	s.m.load(s)
}

// load reads the verified tokens' records. It never fails: anything that
// does not lead to exactly one live session leaves s anonymous, and a store
// failure is kept in s.loadErr for RequireAuth to answer 503.
func (m *Manager) load(s *Session) {
	ctx, n := s.ctx, s.ncands
	now := m.now()
	live := -1
	var liveRec Record
	var liveHeader recordHeader
	var liveValues []byte
	for i := range n {
		key := s.cand(i).key
		rec, h, values, err := m.fetch(ctx, key, now)
		switch {
		case errors.Is(err, ErrNotFound):
			continue
		case err != nil:
			s.loadErr = err
			if n == 1 { // keep it, so that Logout can still delete it
				s.token, s.key = s.first.token[:], key
			}
			m.logError(ctx, "session: store read failed", key, err)
			return
		case live >= 0:
			m.logWarn(ctx, "session: several live session cookies; treating the request as anonymous", key)
			s.key = ""
			return
		}
		live, liveRec, liveHeader, liveValues = i, rec, h, values
		s.key = key
	}
	if live < 0 {
		// A verified token with no live record (logged out, expired, or never
		// stored). When it is the only one, delete the client's cookie; with
		// several we cannot tell which one is ours.
		if n == 1 && s.first.fromCookie {
			s.cookieOp = cookieExpire
		}
		s.key = ""
		return
	}
	c := s.cand(live)
	s.token = c.token[:]
	if c.keyIndex == 0 {
		s.signed = c.value
	}
	s.fromCookie = c.fromCookie
	s.resign = c.keyIndex > 0 && c.fromCookie
	s.userID = liveRec.UserID
	s.header = liveHeader
	s.expires = liveRec.Expires
	s.rawValues = liveValues
}

// fetch reads and checks one record. Corrupt and expired records are
// deleted and reported as ErrNotFound.
func (m *Manager) fetch(ctx context.Context, key string, now time.Time) (Record, recordHeader, []byte, error) {
	rec, err := m.store.Get(ctx, key)
	if err != nil {
		return rec, recordHeader{}, nil, err
	}
	h, values, err := decodeHeader(rec.Data)
	if err == nil {
		err = walkValues(values, nil)
	}
	if err != nil {
		m.logError(ctx, "session: deleting corrupt record", key, err)
		m.deleteQuietly(ctx, key)
		return rec, h, nil, ErrNotFound
	}
	if !now.Before(rec.Expires) || !now.Before(h.created.Add(h.lifetime)) {
		m.deleteQuietly(ctx, key)
		return rec, h, nil, ErrNotFound
	}
	return rec, h, values, nil
}

func (m *Manager) deleteQuietly(ctx context.Context, key string) {
	if err := m.store.Delete(ctx, key); err != nil {
		m.logError(ctx, "session: store delete failed", key, err)
	}
}

// storeKey is the store key of a token: hex SHA-256, so that the store never
// holds a usable token.
func storeKey(token []byte) string {
	sum := sha256.Sum256(token)
	var buf [2 * sha256.Size]byte
	hex.Encode(buf[:], sum[:])
	return string(buf[:])
}

const tokenLen = 32

func newToken() []byte {
	t := make([]byte, tokenLen)
	rand.Read(t)
	return t
}

// deadline is when a session used at now expires: the idle window, capped
// by the absolute lifetime.
func deadline(h recordHeader, now time.Time) time.Time {
	idle, abs := now.Add(h.idle), h.created.Add(h.lifetime)
	if abs.Before(idle) {
		return abs
	}
	return idle
}

// commit saves the session and sets cookie headers. It runs once, just
// before the response headers are written (or after the handler, if it wrote
// nothing). An error means a change could not be saved.
func (m *Manager) commit(ctx context.Context, s *Session, h http.Header) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.committed = true
	if !s.loaded {
		// The handler never used the session: nothing to save or extend.
		m.writeCookie(s, h, m.now())
		return nil
	}
	if s.loadErr != nil {
		// The stored session is unknown: touch nothing, and set no cookie that
		// could overwrite the client's valid one.
		if s.dirty {
			return fmt.Errorf("%w: %w", ErrStoreUnavailable, s.loadErr)
		}
		return nil
	}
	now := m.now()
	switch {
	case s.dirty && s.token == nil:
		s.dirty = false
		if len(s.values) == 0 {
			break
		}
		hdr := recordHeader{created: now, idle: m.normal.idle, lifetime: m.normal.lifetime}
		if err := m.create(ctx, s, "", hdr, s.values, now, nil); err != nil {
			return err
		}
	case s.dirty:
		s.dirty = false
		rec := Record{UserID: s.userID, Expires: deadline(s.header, now), Data: encodeRecord(s.header, s.values, nil)}
		switch err := m.store.Update(ctx, s.key, rec); {
		case errors.Is(err, ErrNotFound):
			// Deleted by a concurrent Logout or LogoutAll: never resurrect it.
			s.forget()
		case err != nil:
			return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
		default:
			s.expires = rec.Expires
		}
	case s.token != nil:
		if next := deadline(s.header, now); next.Sub(s.expires) >= s.header.idle/2 {
			switch err := m.store.Touch(ctx, s.key, next); {
			case errors.Is(err, ErrNotFound):
				s.forget()
			case err != nil:
				m.logError(ctx, "session: extending idle timeout failed", s.key, err)
			default:
				s.expires = next
			}
		}
	}
	if s.resign && s.cookieOp == cookieNone {
		s.cookieOp = cookieSet
	}
	m.writeCookie(s, h, now)
	return nil
}

// forget makes s anonymous after its record turned out to be gone.
func (s *Session) forget() {
	if s.fromCookie || s.cookieOp == cookieSet {
		s.cookieOp = cookieExpire
	}
	s.token, s.key, s.signed, s.userID = nil, "", "", ""
	s.values, s.rawValues, s.dirty, s.resign = nil, nil, false, false
	s.header, s.expires = recordHeader{}, time.Time{}
}

// writeCookie adds the Set-Cookie header s.cookieOp asks for, with the
// headers that keep shared caches from storing the response.
func (m *Manager) writeCookie(s *Session, h http.Header, now time.Time) {
	var c *http.Cookie
	switch s.cookieOp {
	case cookieNone:
		return
	case cookieSet:
		if s.signed == "" || s.resign {
			v, err := m.signer.sign(s.token)
			if err != nil {
				m.logError(context.Background(), "session: signing token failed", s.key, err)
				return
			}
			s.signed, s.resign = v, false
		}
		var maxAge time.Duration
		if s.header.persistent {
			maxAge = max(s.header.created.Add(s.header.lifetime).Sub(now), time.Second)
		}
		c = m.cookie.cookie(s.signed, maxAge, now)
	case cookieExpire:
		c = m.cookie.cookie("", -1, now)
	}
	s.cookieOp = cookieNone
	h.Add("Set-Cookie", c.String())
	h.Set("Cache-Control", "no-store")
	h.Add("Vary", "Cookie")
	if s.clearSite {
		h.Set("Clear-Site-Data", `"cookies"`)
		s.clearSite = false
	}
}

// create stores a new record under a new token and points s at it. put,
// when not nil, stores it instead of Store.Create.
func (m *Manager) create(ctx context.Context, s *Session, userID string, hdr recordHeader, values map[string]string, now time.Time, put func(string, Record) error) error {
	tok := newToken()
	key := storeKey(tok)
	rec := Record{UserID: userID, Expires: deadline(hdr, now), Data: encodeRecord(hdr, values, nil)}
	if put == nil {
		put = func(key string, rec Record) error { return m.store.Create(ctx, key, rec) }
	}
	if err := put(key, rec); err != nil {
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	if values == nil {
		values = map[string]string{}
	}
	s.token, s.key, s.signed = tok, key, ""
	s.userID, s.header, s.expires = userID, hdr, rec.Expires
	s.values, s.rawValues, s.dirty = values, nil, false
	s.loadErr, s.resign, s.fromCookie = nil, false, true
	s.cookieOp = cookieSet
	return nil
}

// LoginOption changes how Login creates the session.
type LoginOption func(*loginOptions)

type loginOptions struct{ rememberMe bool }

// RememberMe makes the session persistent: its cookie survives a browser
// restart, and Config.RememberMeIdleTimeout and RememberMeLifetime apply
// instead of IdleTimeout and Lifetime.
func RememberMe() LoginOption { return func(o *loginOptions) { o.rememberMe = true } }

// Login signs userID in. It always issues a new token (defeating session
// fixation): the old record is deleted and a new one created before Login
// returns, so a redirect that follows is already signed in. Values of the
// previous session are kept, unless it belonged to a different user, in
// which case they are dropped.
//
// Cost: one store delete (when there was a session) and one store create.
// Call it before writing the response; afterwards it returns
// ErrHeadersWritten and changes nothing.
func (m *Manager) Login(w http.ResponseWriter, r *http.Request, userID string, opts ...LoginOption) error {
	if userID == "" {
		return ErrEmptyUserID
	}
	s, err := fromRequestContext(r.Context())
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
	return m.replace(r.Context(), s, userID, hdr, values, now)
}

// replace deletes s's record, if any, then creates a new one with a new
// token. If the create fails, the request is left signed out.
func (m *Manager) replace(ctx context.Context, s *Session, userID string, hdr recordHeader, values map[string]string, now time.Time) error {
	if r, ok := m.store.(Replacer); ok && s.key != "" {
		oldKey := s.key
		return m.create(ctx, s, userID, hdr, values, now, func(key string, rec Record) error {
			return r.Replace(ctx, oldKey, key, rec)
		})
	}
	if s.key != "" {
		if err := m.store.Delete(ctx, s.key); err != nil {
			return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
		}
		s.forget()
	}
	return m.create(ctx, s, userID, hdr, values, now, nil)
}

// Logout ends the request's session: its record is deleted and the cookie
// expired (with the same Name, Path and Domain), even when the delete fails,
// in which case the error is returned. Every session token the request
// carried is deleted, so a second cookie planted beside ours cannot keep the
// user's session alive. Values are dropped; the handler may set new ones
// (they start a new anonymous session).
//
// Cost: one store delete per token (one, normally); no store read.
func (m *Manager) Logout(w http.ResponseWriter, r *http.Request) error {
	s, err := fromRequestContext(r.Context())
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx := r.Context()
	var errs []error
	deleted := make(map[string]bool, s.ncands+1)
	del := func(key string) {
		if key == "" || deleted[key] {
			return
		}
		deleted[key] = true
		if err := m.store.Delete(ctx, key); err != nil {
			errs = append(errs, err)
		}
	}
	for i := range s.ncands {
		del(s.cand(i).key)
	}
	del(s.key)
	s.loaded = true
	s.forget()
	s.loadErr = nil
	s.cookieOp = cookieExpire
	s.clearSite = m.clearSiteData
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, errors.Join(errs...))
	}
	if s.committed {
		return ErrHeadersWritten
	}
	return nil
}

// LogoutAll ends every session of userID, on every device, in time
// proportional to that user's sessions. If ctx is a request context of that
// user, its cookie is expired too.
func (m *Manager) LogoutAll(ctx context.Context, userID string) error {
	if userID == "" {
		return ErrEmptyUserID
	}
	if err := m.store.DeleteUser(ctx, userID); err != nil {
		return fmt.Errorf("%w: %w", ErrStoreUnavailable, err)
	}
	if s, ok := ctx.Value(contextKey{}).(*Session); ok && s.m == m {
		s.mu.Lock()
		if s.loaded && s.userID == userID {
			s.forget()
			s.cookieOp = cookieExpire
		}
		s.mu.Unlock()
	}
	return nil
}

// RequireAuth lets only signed-in requests through to next. Anonymous
// requests get Config.Unauthenticated (401 by default); when the store could
// not be read, Config.ErrorHandler answers (503 by default), so clients
// never take an outage for a logout. It applies Middleware itself when the
// request has not been through it.
func (m *Manager) RequireAuth(next http.Handler) http.Handler {
	check := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := r.Context().Value(contextKey{}).(*Session)
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
	withSession := m.Middleware(check)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s, ok := r.Context().Value(contextKey{}).(*Session); ok && s.m == m {
			check.ServeHTTP(w, r)
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
	if m.log != nil {
		m.log.LogAttrs(ctx, slog.LevelError, msg, slog.String("session", publicID(key)), slog.String("error", err.Error()))
	}
}

func (m *Manager) logWarn(ctx context.Context, msg, key string) {
	if m.log != nil {
		m.log.LogAttrs(ctx, slog.LevelWarn, msg, slog.String("session", publicID(key)))
	}
}

// saveLate saves values changed after the response headers were written.
// The cookie cannot change any more, so only an existing record is updated.
func (m *Manager) saveLate(ctx context.Context, s *Session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.dirty {
		return
	}
	s.dirty = false
	if s.token == nil || s.loadErr != nil {
		m.logError(ctx, "session: values set after the response was written are lost", s.key, ErrHeadersWritten)
		return
	}
	rec := Record{UserID: s.userID, Expires: deadline(s.header, m.now()), Data: encodeRecord(s.header, s.values, nil)}
	if err := m.store.Update(ctx, s.key, rec); err != nil && !errors.Is(err, ErrNotFound) {
		m.logError(ctx, "session: saving values set after the response was written failed", s.key, err)
	}
}
