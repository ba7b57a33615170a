package bench

import (
	"fmt"
	"net/http"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

const (
	gorillaCookie  = "session"
	gorillaUserKey = "user_id"
)

// Gorilla is github.com/gorilla/sessions: no middleware, a store.Get in
// every handler and session.Save after a change, as its README shows.
type Gorilla struct {
	name    string
	store   sessions.Store
	counter *Counter
	close   func() error
}

// NewGorillaCookie returns gorilla/sessions with its CookieStore (the whole
// session, gob-encoded and HMAC-signed, in the cookie), configured with one
// 32-byte hash key and no encryption key, the common set-up. The CookieStore
// has no server-side token: "login" rewrites the cookie with the user ID in it.
func NewGorillaCookie(hashKey []byte) *Gorilla {
	st := sessions.NewCookieStore(hashKey)
	st.Options.Secure = true
	st.Options.HttpOnly = true
	st.Options.SameSite = http.SameSiteLaxMode
	return &Gorilla{name: "gorilla-cookie", store: st}
}

// Name implements Subject.
func (g *Gorilla) Name() string { return g.name }

// Wrap implements Subject: gorilla/sessions has no middleware.
func (*Gorilla) Wrap(h http.Handler) http.Handler { return h }

// Login implements Subject.
func (g *Gorilla) Login(w http.ResponseWriter, r *http.Request, userID string) error {
	return g.Set(w, r, gorillaUserKey, userID)
}

// Set implements Subject.
func (g *Gorilla) Set(w http.ResponseWriter, r *http.Request, key, value string) error {
	s, _ := g.store.Get(r, gorillaCookie) // an undecodable cookie gives a new session and an error
	s.Values[key] = value
	return s.Save(r, w)
}

// UserID implements Subject.
func (g *Gorilla) UserID(_ http.ResponseWriter, r *http.Request) (string, error) {
	s, err := g.store.Get(r, gorillaCookie)
	if e, ok := err.(securecookie.Error); ok && e.IsDecode() {
		err = nil // a cookie that does not verify: anonymous, as it should be
	}
	id, _ := s.Values[gorillaUserKey].(string)
	if id == "" && err != nil {
		return "", fmt.Errorf("store error: %w", err)
	}
	return id, nil
}

// RoundTrips implements Subject (always 0 for the cookie store).
func (g *Gorilla) RoundTrips() uint64 { return g.counter.Load() }

// Close implements Subject.
func (g *Gorilla) Close() error {
	if g.close != nil {
		return g.close()
	}
	return nil
}
