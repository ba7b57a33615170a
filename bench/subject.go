// Package bench measures this library side by side with the session
// libraries users compare it with (alexedwards/scs, gorilla/sessions) and with
// a bare handler that does no session work at all.
//
// Every subject sits behind the same small interface, so each scenario is one
// handler and one request, run through every subject the same way. The
// harness counts store round trips (a counting wrapper around memory stores, a
// go-redis hook for Redis) and Set-Cookie headers per request; those columns
// matter as much as the time.
package bench

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
)

// Subject is one session library configured one way.
//
// Calls other than Wrap, Name and Close are made from inside a handler that
// Wrap returned, exactly as an application would make them.
type Subject interface {
	// Name is the subject's short, stable name, used in benchmark names.
	Name() string
	// Wrap returns h behind the subject's session middleware (h itself for
	// libraries without middleware).
	Wrap(h http.Handler) http.Handler
	// Login signs userID in, with a fresh session token where the library
	// has tokens.
	Login(w http.ResponseWriter, r *http.Request, userID string) error
	// Set stores one small string value in the session.
	Set(w http.ResponseWriter, r *http.Request, key, value string) error
	// UserID reads the signed-in user, "" when anonymous.
	UserID(w http.ResponseWriter, r *http.Request) (string, error)
	// RoundTrips is the number of store operations (Redis commands, or calls
	// into a memory store) made since the subject was created.
	RoundTrips() uint64
	// Close releases what the subject holds (connections, goroutines).
	Close() error
}

// errorHeader is the response header in which a subject that answers a
// store error itself (scs's ErrorFunc) says so, for the harness's failure
// message.
const errorHeader = "Bench-Error"

// errLoginNoCookie means a login through a subject produced no cookie.
var errLoginNoCookie = errors.New("bench: login set no cookie")

// Counter counts store operations. The zero value is ready to use; a nil
// *Counter counts nothing, for the parallel benchmarks, where one shared
// atomic would add contention that is the harness's, not the subject's.
type Counter struct{ n atomic.Uint64 }

// Inc adds one operation.
func (c *Counter) Inc() {
	if c != nil {
		c.n.Add(1)
	}
}

// Load returns the operations counted so far.
func (c *Counter) Load() uint64 {
	if c == nil {
		return 0
	}
	return c.n.Load()
}

// LoginCookie logs userID in through s, the way a browser's first request
// would, and returns the "name=value" pair to send back in a Cookie header.
func LoginCookie(s Subject, userID string) (string, error) {
	var loginErr error
	h := s.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		loginErr = s.Login(w, r, userID)
		w.WriteHeader(http.StatusNoContent)
	}))
	r, err := http.NewRequest(http.MethodPost, "http://bench.test/login", nil)
	if err != nil {
		return "", err
	}
	w := NewWriter()
	h.ServeHTTP(w, r)
	if loginErr != nil {
		return "", fmt.Errorf("bench: %s login: %w", s.Name(), loginErr)
	}
	var pair string
	for _, line := range w.SentHeader().Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			return "", fmt.Errorf("bench: %s set a bad cookie: %w", s.Name(), err)
		}
		if c.MaxAge < 0 || c.Value == "" {
			continue // an expiring cookie, not the session
		}
		pair = c.Name + "=" + c.Value
	}
	if pair == "" {
		return "", fmt.Errorf("bench: %s: %w", s.Name(), errLoginNoCookie)
	}
	return pair, nil
}

// Forge returns cookie ("name=value") with one character of its value changed
// near the end, where every subject's cookie carries its signature (ours,
// gorilla's securecookie) or random token bytes (scs). The result is still
// well-formed, so each library has to do its real check to refuse it.
func Forge(cookie string) string {
	name, value, ok := strings.Cut(cookie, "=")
	if !ok || len(value) < 8 {
		return cookie + "x"
	}
	b := []byte(value)
	i := len(b) - 6
	switch b[i] {
	case 'A':
		b[i] = 'B'
	default:
		b[i] = 'A'
	}
	return name + "=" + string(b)
}
