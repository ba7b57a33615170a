package bench

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// okBody is what every scenario's handler writes.
var okBody = []byte("{\"ok\":true}\n")

// cookieKind is what the scenario's request carries.
type cookieKind int

const (
	noCookie     cookieKind = iota
	validCookie             // from a login through the subject
	forgedCookie            // a valid cookie with one character changed
)

// scenario is one request shape and the handler that serves it.
type scenario struct {
	name   string
	cookie cookieKind
	// handler returns the application handler for s; it calls fail when the
	// subject does not behave (wrong user, error).
	handler func(s Subject, floor bool, fail func(string)) http.Handler
}

// freshUsers returns n user IDs no store has seen: a random prefix, so
// that neither another subject nor an earlier run in the same Redis or
// PostgreSQL has signed them in. Precomputed, so the loop allocates nothing
// for them. The login scenario spreads its logins over them, as a real site
// does, so each login is one of the user's first few sessions, well under
// the cap.
func freshUsers(n int) []string {
	var b [4]byte
	rand.Read(b[:])
	u := make([]string, n)
	for i := range u {
		u[i] = fmt.Sprintf("user-%x-%d", b, i)
	}
	return u
}

// benchCap is the library's default Config.MaxSessionsPerUser, which the
// subjects keep: the login-cap scenario signs its users in this many times
// before it is measured, so that every measured login is past the cap and
// ends the user's oldest session.
const benchCap = 32

// capUsers is how many users the login-cap scenario cycles through.
const capUsers = 4

// loginHandler signs one of users in per request, in turn.
func loginHandler(s Subject, users []string, fail func(string)) http.Handler {
	var i atomic.Uint32
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.Login(w, r, users[i.Add(1)%uint32(len(users))]); err != nil {
			fail("login: store error: " + err.Error())
		}
		w.Write(okBody)
	})
}

// writeValues alternate in the write scenario, so every write is a change.
var writeValues = [2]string{"theme-dark", "theme-lite"}

var scenarios = []scenario{
	{name: "anonymous", cookie: noCookie, handler: func(Subject, bool, func(string)) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(okBody) })
	}},
	{name: "read", cookie: validCookie, handler: readHandler},
	{name: "write", cookie: validCookie, handler: func(s Subject, _ bool, fail func(string)) http.Handler {
		var i atomic.Uint32
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := s.Set(w, r, "theme", writeValues[i.Add(1)&1]); err != nil {
				fail("write: store error: " + err.Error())
			}
			w.Write(okBody)
		})
	}},
	{name: "login", cookie: noCookie, handler: func(s Subject, _ bool, fail func(string)) http.Handler {
		return loginHandler(s, freshUsers(1<<16), fail)
	}},
	{name: "login-cap", cookie: noCookie, handler: func(s Subject, floor bool, fail func(string)) http.Handler {
		users := freshUsers(capUsers)
		if !floor {
			for _, u := range users {
				for range benchCap {
					if _, err := LoginCookie(s, u); err != nil {
						fail("login-cap: filling up to the cap: " + err.Error())
						return http.NotFoundHandler()
					}
				}
			}
		}
		return loginHandler(s, users, fail)
	}},
	{name: "forged", cookie: forgedCookie, handler: func(s Subject, floor bool, fail func(string)) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, err := s.UserID(w, r)
			switch {
			case err != nil:
				fail("forged: store error: " + err.Error())
			case id != "" && !floor:
				fail("forged cookie accepted")
			}
			w.Write(okBody)
		})
	}},
}

// readHandler reads the user ID and changes nothing.
func readHandler(s Subject, _ bool, fail func(string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := s.UserID(w, r)
		switch {
		case err != nil:
			fail("read: store error: " + err.Error())
		case id != benchUser:
			fail(fmt.Sprintf("read: wrong user %q, no store error", id))
		}
		w.Write(okBody)
	})
}

func scenarioNamed(name string) scenario {
	for _, sc := range scenarios {
		if sc.name == name {
			return sc
		}
	}
	panic("no scenario " + name)
}

// rig is one subject set up for one scenario: the wrapped handler and the
// request, built once.
type rig struct {
	s     Subject
	h     http.Handler
	tmpl  http.Request
	fails atomic.Int64
	why   atomic.Value // first failure message
}

func newRig(tb testing.TB, sc scenario, f factory, count bool) *rig {
	tb.Helper()
	g := &rig{s: newSubject(tb, f, count)}
	g.h = g.s.Wrap(sc.handler(g.s, f.floor, g.fail))
	r := httptest.NewRequest(http.MethodGet, "http://bench.test/", nil)
	if sc.cookie != noCookie {
		cookie := "session=" + strings.Repeat("b", 100) // same size as ours, for the floor
		if !f.floor {
			var err error
			if cookie, err = LoginCookie(g.s, benchUser); err != nil {
				tb.Fatal(err)
			}
		}
		if sc.cookie == forgedCookie {
			cookie = Forge(cookie)
		}
		r.Header.Set("Cookie", cookie)
	}
	g.tmpl = *r
	return g
}

func (g *rig) fail(why string) {
	if g.fails.Add(1) == 1 {
		g.why.Store(why)
	}
}

// serve runs one request through the rig, reusing r and w: a fresh copy of
// the request (so nothing one request put in its context leaks into the
// next) and an emptied header map.
func (g *rig) serve(w *Writer, r *http.Request) {
	*r = g.tmpl
	w.Reset()
	g.h.ServeHTTP(w, r)
	w.Finish()
	if w.Status() != http.StatusOK {
		why := w.SentHeader().Get(errorHeader)
		if why == "" {
			why = "no error reported"
		}
		g.fail(fmt.Sprintf("status %d (%s)", w.Status(), why))
	}
}

// check fails tb if any request misbehaved.
func (g *rig) check(tb testing.TB) {
	tb.Helper()
	if n := g.fails.Load(); n > 0 {
		tb.Fatalf("%s: %d failed requests, first: %v", g.s.Name(), n, g.why.Load())
	}
}
