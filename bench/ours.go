package bench

import (
	"context"
	"net/http"
	"time"

	"github.com/sessionauth/session"
)

// Ours is this library: Manager.Middleware around the handler, Login,
// Session.Set and Session.UserID, with default timeouts and cookie options.
type Ours struct {
	name    string
	m       *session.Manager
	counter *Counter
	close   func() error
	// replacer: the store has Replace with a limit (session.Replacer), so
	// a login is one store operation, at the cap too.
	replacer bool
}

// NewOurs returns the library on store, counting round trips on counter
// (which the caller wires to the store: CountingStore for in-process stores,
// NewRedisClient's hook for Redis). closeFn, when not nil, runs on Close.
func NewOurs(name string, store session.Store, keys *session.KeyRing, counter *Counter, closeFn func() error) (*Ours, error) {
	m, err := session.New(session.Config{Store: store, Keys: keys})
	if err != nil {
		return nil, err
	}
	_, replacer := store.(session.Replacer)
	return &Ours{name: name, m: m, counter: counter, close: closeFn, replacer: replacer}, nil
}

// NewOursCookie returns the library in cookie-only mode (Config.CookieOnly):
// no store, the whole session sealed in the cookie, as gorilla's CookieStore
// keeps it. It makes no round trips.
func NewOursCookie(name string, keys *session.KeyRing) (*Ours, error) {
	m, err := session.New(session.Config{Keys: keys, CookieOnly: true})
	if err != nil {
		return nil, err
	}
	return &Ours{name: name, m: m}, nil
}

// Name implements Subject.
func (o *Ours) Name() string { return o.name }

// Wrap implements Subject.
func (o *Ours) Wrap(h http.Handler) http.Handler { return o.m.Middleware(h) }

// Login implements Subject.
func (o *Ours) Login(w http.ResponseWriter, r *http.Request, userID string) error {
	return o.m.Login(w, r, userID)
}

// Set implements Subject.
func (o *Ours) Set(_ http.ResponseWriter, r *http.Request, key, value string) error {
	return session.FromContext(r.Context()).Set(key, value)
}

// UserID implements Subject. An anonymous request reports the store error
// that made it anonymous, if one did (Session.Err), so a failed read is told
// from a wrong user.
func (o *Ours) UserID(_ http.ResponseWriter, r *http.Request) (string, error) {
	s := session.FromContext(r.Context())
	id := s.UserID()
	if id == "" {
		return "", s.Err()
	}
	return id, nil
}

// RoundTrips implements Subject.
func (o *Ours) RoundTrips() uint64 { return o.counter.Load() }

// Close implements Subject.
func (o *Ours) Close() error {
	if o.close != nil {
		return o.close()
	}
	return nil
}

// NewCountingStore wraps next in a CountingStore counting on n (nil: none),
// keeping next's optional session.Replacer, so the Manager takes the same
// path through the wrapper as without it.
func NewCountingStore(next session.Store, n *Counter) session.Store {
	c := CountingStore{Next: next, N: n}
	if r, ok := next.(session.Replacer); ok {
		return countingReplacer{CountingStore: c, r: r}
	}
	return c
}

type countingReplacer struct {
	CountingStore
	r session.Replacer
}

// Replace implements session.Replacer.
func (c countingReplacer) Replace(ctx context.Context, oldKey, newKey string, rec session.Record, limit int) error {
	c.N.Inc()
	return c.r.Replace(ctx, oldKey, newKey, rec, limit)
}

// CountingStore counts every call into a session.Store on N (nil: none).
// It hides optional interfaces of Next; NewCountingStore keeps them.
type CountingStore struct {
	Next session.Store
	N    *Counter
}

// Get implements session.Store.
func (c CountingStore) Get(ctx context.Context, key string) (session.Record, error) {
	c.N.Inc()
	return c.Next.Get(ctx, key)
}

// Create implements session.Store.
func (c CountingStore) Create(ctx context.Context, key string, rec session.Record) error {
	c.N.Inc()
	return c.Next.Create(ctx, key, rec)
}

// Update implements session.Store.
func (c CountingStore) Update(ctx context.Context, key string, rec session.Record) error {
	c.N.Inc()
	return c.Next.Update(ctx, key, rec)
}

// Touch implements session.Store.
func (c CountingStore) Touch(ctx context.Context, key string, expires time.Time) error {
	c.N.Inc()
	return c.Next.Touch(ctx, key, expires)
}

// Delete implements session.Store.
func (c CountingStore) Delete(ctx context.Context, key string) error {
	c.N.Inc()
	return c.Next.Delete(ctx, key)
}

// ListUser implements session.Store.
func (c CountingStore) ListUser(ctx context.Context, userID string) ([]session.Entry, error) {
	c.N.Inc()
	return c.Next.ListUser(ctx, userID)
}

// DeleteUser implements session.Store.
func (c CountingStore) DeleteUser(ctx context.Context, userID string) error {
	c.N.Inc()
	return c.Next.DeleteUser(ctx, userID)
}
