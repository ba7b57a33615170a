package bench

import "net/http"

// bareUser is what the bare subject reports as the signed-in user, so the
// read scenario's handler does the same work (a compare, a write) for it.
const bareUser = "user-1"

// Bare is the floor: no session middleware, no cookie work, no store.
type Bare struct{}

// NewBare returns the bare subject.
func NewBare() *Bare { return &Bare{} }

// Name implements Subject.
func (*Bare) Name() string { return "bare" }

// Wrap implements Subject: h unchanged.
func (*Bare) Wrap(h http.Handler) http.Handler { return h }

// Login implements Subject: nothing.
func (*Bare) Login(http.ResponseWriter, *http.Request, string) error { return nil }

// Set implements Subject: nothing.
func (*Bare) Set(http.ResponseWriter, *http.Request, string, string) error { return nil }

// UserID implements Subject: a constant.
func (*Bare) UserID(http.ResponseWriter, *http.Request) (string, error) { return bareUser, nil }

// RoundTrips implements Subject: always 0.
func (*Bare) RoundTrips() uint64 { return 0 }

// Close implements Subject.
func (*Bare) Close() error { return nil }
