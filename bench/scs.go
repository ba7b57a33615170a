package bench

import (
	"net/http"
	"time"

	"github.com/alexedwards/scs/goredisstore"
	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
	"github.com/redis/go-redis/v9"
)

// scsUserKey is where the scs subject keeps the signed-in user.
const scsUserKey = "user_id"

// SCS is github.com/alexedwards/scs/v2 with one of its stores, configured as
// its README suggests: LoadAndSave around the handler, RenewToken at login.
type SCS struct {
	name    string
	m       *scs.SessionManager
	counter *Counter
	close   func() error
}

// NewSCSMemory returns scs with its memstore (cleanup goroutine off), behind a
// wrapper that counts calls into the store on c (nil: no counting). idle sets
// scs's IdleTimeout (0: off, scs's default), which makes every request write
// the store and the cookie.
func NewSCSMemory(idle time.Duration, c *Counter) *SCS {
	name := "scs-mem"
	if idle > 0 {
		name = "scs-mem-idle"
	}
	s := newSCS(name, &countingSCSStore{next: memstore.NewWithCleanupInterval(0), n: c}, idle)
	s.counter = c
	return s
}

// NewSCSRedis returns scs with its go-redis store (goredisstore) on client;
// counter is the client's round-trip counter (see NewRedisClient).
func NewSCSRedis(client *redis.Client, counter *Counter) *SCS {
	s := newSCS("scs-redis", goredisstore.New(client), 0)
	s.counter = counter
	s.close = client.Close
	return s
}

func newSCS(name string, store scs.Store, idle time.Duration) *SCS {
	m := scs.New()
	m.Store = store
	m.IdleTimeout = idle
	m.Cookie.Secure = true
	m.ErrorFunc = func(w http.ResponseWriter, _ *http.Request, err error) {
		// scs reports a store error here, not to the handler: say so in
		// the response, where the harness looks (errorHeader).
		w.Header().Set(errorHeader, "store error: "+err.Error())
		w.WriteHeader(http.StatusInternalServerError)
	}
	return &SCS{name: name, m: m}
}

// Name implements Subject.
func (s *SCS) Name() string { return s.name }

// Wrap implements Subject.
func (s *SCS) Wrap(h http.Handler) http.Handler { return s.m.LoadAndSave(h) }

// Login implements Subject: a new token, then the user ID.
func (s *SCS) Login(_ http.ResponseWriter, r *http.Request, userID string) error {
	if err := s.m.RenewToken(r.Context()); err != nil {
		return err
	}
	s.m.Put(r.Context(), scsUserKey, userID)
	return nil
}

// Set implements Subject.
func (s *SCS) Set(_ http.ResponseWriter, r *http.Request, key, value string) error {
	s.m.Put(r.Context(), key, value)
	return nil
}

// UserID implements Subject.
func (s *SCS) UserID(_ http.ResponseWriter, r *http.Request) (string, error) {
	return s.m.GetString(r.Context(), scsUserKey), nil
}

// RoundTrips implements Subject.
func (s *SCS) RoundTrips() uint64 { return s.counter.Load() }

// Close implements Subject.
func (s *SCS) Close() error {
	if s.close != nil {
		return s.close()
	}
	return nil
}

// countingSCSStore counts every call into an scs.Store.
type countingSCSStore struct {
	next scs.Store
	n    *Counter
}

func (c *countingSCSStore) Delete(token string) error {
	c.n.Inc()
	return c.next.Delete(token)
}

func (c *countingSCSStore) Find(token string) ([]byte, bool, error) {
	c.n.Inc()
	return c.next.Find(token)
}

func (c *countingSCSStore) Commit(token string, b []byte, expiry time.Time) error {
	c.n.Inc()
	return c.next.Commit(token, b, expiry)
}
