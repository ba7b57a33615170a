// Package sessiontest runs an HTTP handler behind a real session Manager in
// a test, so the handler can be given a signed-in request and the test can
// read back what the session became.
//
//	h := sessiontest.New(t)
//	h.SignIn("alice", nil)
//	w := h.Do(handler, httptest.NewRequest("POST", "/cart", body))
//	if got := h.Session().Get("cart"); got != "42" { … }
//
// A Harness is a session.Manager with fresh random keys over its own
// MemoryStore, wrapped around each handler with Middleware exactly as in
// production, and one browser's cookie: each Do sends the session cookie the
// previous responses left, and keeps the one its response sets. A handler
// that reads sessions with session.FromContext needs nothing else; one that
// calls Login or Logout uses Harness.Manager. It is the public API all the
// way through, so what passes here behaves the same in production.
package sessiontest

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sessionauth/session"
)

// Harness is one browser talking to handlers behind a session Manager. Its
// methods call t.Fatal on failure. It is not safe for concurrent use: one
// Do at a time.
type Harness struct {
	// Manager is the harness's Manager: give it to handlers that call
	// Login, Logout, Renew and the like. Its Config is the default one, with
	// a MemoryStore and fresh keys.
	Manager *session.Manager

	t         testing.TB
	cookie    *http.Cookie // the session cookie the browser holds; nil for none
	loggedOut bool
}

// New returns a Harness with no session (an anonymous browser). Cost: a
// Manager and a MemoryStore.
func New(t testing.TB) *Harness {
	t.Helper()
	store := session.NewMemoryStore()
	keys, err := session.NewKeyRing(session.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	m, err := session.New(session.Config{Store: store, Keys: keys, Cookie: session.CookieOptions{Name: cookieName}})
	if err != nil {
		t.Fatal(err)
	}
	return &Harness{Manager: m, t: t}
}

// SignIn signs userID in with Manager.Login, as a login handler would, and
// sets values in the new session: the next Do sends a signed-in request.
// values may be nil.
func (h *Harness) SignIn(userID string, values map[string]string) {
	h.t.Helper()
	var err error
	h.Do(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err = h.Manager.Login(w, r, userID); err != nil {
			return
		}
		s := session.FromContext(r.Context())
		for k, v := range values {
			if err = s.Set(k, v); err != nil {
				return
			}
		}
	}), httptest.NewRequest(http.MethodPost, "/sessiontest/signin", nil))
	if err != nil {
		h.t.Fatalf("sessiontest: signing %q in: %v", userID, err)
	}
}

// Do serves r with handler behind Manager's Middleware, sending the session
// cookie the browser holds, and returns the response. A session cookie the
// response sets replaces the browser's; one it expires (Logout, LogoutAll)
// leaves the browser without, and LoggedOut then reports true.
func (h *Harness) Do(handler http.Handler, r *http.Request) *httptest.ResponseRecorder {
	h.t.Helper()
	if h.cookie != nil {
		r.AddCookie(h.cookie)
	}
	w := httptest.NewRecorder()
	h.Manager.Middleware(handler).ServeHTTP(w, r)
	h.loggedOut = false
	for _, c := range w.Result().Cookies() {
		if c.Name != cookieName {
			continue
		}
		if c.MaxAge < 0 || c.Value == "" {
			h.cookie, h.loggedOut = nil, true
		} else {
			h.cookie = &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	return w
}

// Session returns the browser's session as the next request would see it:
// UserID is "" for an anonymous one; read values with Get, Lookup and
// session.Value. It is read through the Middleware like any request, and is
// for reading only: changes to it are not saved.
func (h *Harness) Session() *session.Session {
	h.t.Helper()
	var s *session.Session
	defer func(loggedOut bool) { h.loggedOut = loggedOut }(h.loggedOut)
	h.Do(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s = session.FromContext(r.Context())
		if err := s.Err(); err != nil { // loads it, while the request runs
			h.t.Fatalf("sessiontest: reading the session: %v", err)
		}
	}), httptest.NewRequest(http.MethodGet, "/sessiontest/session", nil))
	return s
}

// LoggedOut reports whether the response of the last Do ended the
// browser's session: it expired the session cookie, as Logout does.
func (h *Harness) LoggedOut() bool { return h.loggedOut }

// cookieName is the harness Manager's cookie name.
const cookieName = "__Host-session"
