package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"
)

// ErrNoMiddleware is returned (and FromContext returns an empty, detached
// Session) when a request did not pass through Manager.Middleware.
var ErrNoMiddleware = errors.New("session: request did not pass through Manager.Middleware")

type contextKey struct{}

// Session is the state of one request's session. Handlers get it with
// FromContext; it is safe for concurrent use by the handler's goroutines
// for as long as the request runs.
//
// Values are small strings (user preferences, a cart ID, a flash message);
// Put and Value store any JSON-encodable type. Keep the total small: the
// whole session is read on every request and written back whenever a value
// changes.
type Session struct {
	mu sync.Mutex
	m  *Manager

	ctx    context.Context // the request's, for loading
	first  candidate       // the first verified token
	more   []candidate     // further ones (several cookies of our name: rare)
	ncands int             // verified tokens in first and more
	loaded bool            // the store has been read (or there was nothing to read)

	token  []byte // raw 32-byte token; nil while there is no stored session
	key    string // hex SHA-256 of token: the store key
	signed string // signed token as sent in the cookie, once known

	userID  string
	header  recordHeader
	expires time.Time // the record's expiry as stored

	rawValues []byte            // undecoded values section of the record
	values    map[string]string // decoded on first use
	dirty     bool              // values changed since load

	fromCookie bool // the token came from the cookie (not a Bearer header)
	resign     bool // the cookie verified under an older key
	cookieOp   cookieOp
	clearSite  bool  // send Clear-Site-Data with the response
	loadErr    error // the store failed while loading; the session is unknown
	committed  bool  // response headers are out; cookies can no longer change
	detached   bool  // not from Middleware (FromContext outside it)
}

type cookieOp uint8

const (
	cookieNone   cookieOp = iota
	cookieSet             // send the (new or re-signed) token
	cookieExpire          // delete the client's cookie
)

// FromContext returns the request's session. Inside Manager.Middleware it is
// never nil. Outside it, FromContext returns an empty session that reads as
// anonymous and whose changes are never saved; Manager methods given such a
// request return ErrNoMiddleware.
func FromContext(ctx context.Context) *Session {
	if s, ok := ctx.Value(contextKey{}).(*Session); ok {
		return s
	}
	return &Session{detached: true, loaded: true}
}

func fromRequestContext(ctx context.Context) (*Session, error) {
	s, ok := ctx.Value(contextKey{}).(*Session)
	if !ok {
		return nil, ErrNoMiddleware
	}
	return s, nil
}

// UserID returns the signed-in user's ID, or "" for an anonymous request.
func (s *Session) UserID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensureLoaded()
	return s.userID
}

// IsAuthenticated reports whether a user is signed in.
func (s *Session) IsAuthenticated() bool { return s.UserID() != "" }

// ID returns a short public identifier of the session (16 hex characters,
// derived from the store key by one more SHA-256), or "" when there is no
// stored session. It is safe to show and log: it cannot be turned back into
// the token or the store key. It matches SessionInfo.ID.
func (s *Session) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensureLoaded()
	return publicID(s.key)
}

func publicID(key string) string {
	if key == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:8])
}

// Token returns the signed session token, the same value the cookie carries,
// for clients that send it back in an "Authorization: Bearer" header (see
// Config.Bearer). It is "" when there is no stored session. Treat it as a
// password: never log it or put it in a URL.
func (s *Session) Token() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensureLoaded()
	if s.token == nil || s.m == nil {
		return ""
	}
	if s.signed == "" {
		s.signed, _ = s.m.signer.sign(s.token)
	}
	return s.signed
}

// Created returns when the session began (its last Login, or its first
// value for an anonymous session). The absolute lifetime runs from here.
func (s *Session) Created() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensureLoaded()
	return s.header.created
}

// Persistent reports whether the session was created with RememberMe.
func (s *Session) Persistent() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensureLoaded()
	return s.header.persistent
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
func (s *Session) Set(key, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.decodeValues()
	if old, ok := s.values[key]; ok && old == value {
		return
	}
	if s.values == nil {
		s.values = make(map[string]string)
	}
	s.values[key] = value
	s.dirty = true
}

// Delete removes the value stored under key.
func (s *Session) Delete(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.decodeValues()
	if _, ok := s.values[key]; ok {
		delete(s.values, key)
		s.dirty = true
	}
}

// Pop returns the value under key and removes it: the usual way to show a
// flash message once.
func (s *Session) Pop(key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.decodeValues()
	v, ok := s.values[key]
	if ok {
		delete(s.values, key)
		s.dirty = true
	}
	return v
}

// Keys returns the keys of all values, sorted.
func (s *Session) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.decodeValues()
	return slices.Sorted(maps.Keys(s.values))
}

// Put stores v under key as JSON, for values that are not strings. It needs
// no type registration; read the value back with Value.
func Put[T any](s *Session, key string, v T) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	s.Set(key, string(b))
	return nil
}

// Value reads a value stored with Put into a T. It returns ok == false when
// the key is absent, and an error when the stored value is not a T.
func Value[T any](s *Session, key string) (v T, ok bool, err error) {
	raw, ok := s.Lookup(key)
	if !ok {
		return v, false, nil
	}
	err = json.Unmarshal([]byte(raw), &v)
	return v, err == nil, err
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
