package session

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionauth/session/internal/redistest"
)

func TestS14_RenewIssuesNewTokenKeepsUserAndData(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.login("alice")
	h.do("GET", "/set?k=role&v=admin", c)
	w := h.do("POST", "/renew", c)
	nc := sessionCookie(t, w, h.m.cookie.Name)
	if nc == nil || nc.Value == c {
		t.Fatalf("Renew did not issue a new token: %+v", nc)
	}
	if h.whoami(c) != "" {
		t.Fatal("old token still valid after Renew")
	}
	if h.whoami(nc.Value) != "alice" || h.do("GET", "/get?k=role", nc.Value).Body.String() != "admin" {
		t.Fatal("Renew lost the user or data")
	}
}

// Regression (found in review, fixed): Renew and LogoutOthers re-create a session that a concurrent Logout or
// LogoutAll deleted (replace() ignores that the old record is gone): S35 says
// only Login creates.
func TestS35_RenewAfterConcurrentLogoutDoesNotResurrect(t *testing.T) {
	t.Parallel()
	revokes := map[string]func(h *harness, c string){
		"Logout":    func(h *harness, c string) { h.do("POST", "/logout", c) },
		"LogoutAll": func(h *harness, c string) { _ = h.m.LogoutAll(context.Background(), "alice") },
	}
	calls := map[string]func(m *Manager, w http.ResponseWriter, r *http.Request) error{
		"Renew":        (*Manager).Renew,
		"LogoutOthers": (*Manager).LogoutOthers,
	}
	for rname, revoke := range revokes {
		for cname, call := range calls {
			t.Run(cname+"_after_"+rname, func(t *testing.T) {
				t.Parallel()
				h := newHarness(t, nil)
				c := h.login("alice")
				var callErr error
				release := slowRequest(t, h, c, func(w http.ResponseWriter, r *http.Request) {
					callErr = call(h.m, w, r)
				})
				revoke(h, c) // the user (or an admin) revokes the session meanwhile
				w := release()
				list, _ := h.mem.ListUser(context.Background(), "alice")
				if len(list) != 0 {
					t.Errorf("%s after %s: %d live sessions of alice (err %v); the revoked session came back", cname, rname, len(list), callErr)
				}
				if sc := sessionCookie(t, w, h.m.cookie.Name); sc != nil && sc.Value != "" {
					if got := h.whoami(sc.Value); got != "" {
						t.Errorf("%s after %s handed out a fresh cookie that authenticates as %q", cname, rname, got)
					}
				}
			})
		}
	}
}

// a renewal that fails after leaving its successor marker (here the
// create of the new record fails once) leaves the marker for a minute, so
// retrying LogoutOthers (the password change) or Renew answers ErrConflict
// although nothing else is renewing the session. A client that goes away
// mid-renewal (its context cancelled after the marker) does the same.
func TestRenewCanBeRetriedAfterItFailedHalfway(t *testing.T) {
	t.Parallel()
	h, hs := newHookHarness(t, nil)
	c := h.login("alice")
	var failOnce atomic.Bool
	hs.before = func(_ context.Context, op, _ string, rec Record) error {
		// The marker has no user; the renewed record has one.
		if op == "Create" && rec.UserID != "" && failOnce.CompareAndSwap(true, false) {
			return errStoreDown
		}
		return nil
	}
	errs := make(chan error, 1)
	app := h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		errs <- h.m.LogoutOthers(w, r)
	}))
	serve := func() error {
		r := httptest.NewRequest("POST", "/password", nil)
		r.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: c})
		app.ServeHTTP(httptest.NewRecorder(), r)
		return <-errs
	}
	failOnce.Store(true)
	if err := serve(); !errors.Is(err, ErrStoreUnavailable) {
		t.Fatalf("first LogoutOthers with the create failing = %v, want ErrStoreUnavailable", err)
	}
	if got := h.whoami(c); got != "alice" {
		t.Fatalf("after the failed renewal the session is %q, want it unchanged (alice)", got)
	}
	if err := serve(); err != nil {
		t.Fatalf("retrying LogoutOthers once the store answers again = %v, want nil (no other request is renewing)", err)
	}
}

// after a Renew has completed, the pre-renewal token (the one a
// privilege change is meant to make worthless, captured by an attacker
// before the change) still ends the renewed session: Logout with it reads
// the renewal's marker, which lives for a minute, and deletes the new
// record.
func TestATokenFromBeforeARenewalCannotEndTheRenewedSessionLater(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	captured := h.login("alice")
	w := h.do("POST", "/renew", captured)
	c := sessionCookie(t, w, h.m.cookie.Name)
	if w.Code != 200 || c == nil || c.Value == "" {
		t.Fatalf("Renew: %d, cookie %v", w.Code, c)
	}
	renewed := c.Value
	h.clock.Advance(10 * time.Second) // the renewal is long over
	if got := h.whoami(captured); got != "" {
		t.Fatalf("the pre-renewal token is still signed in as %q", got)
	}
	h.do("POST", "/logout", captured) // the attacker's request
	if got := h.whoami(renewed); got != "alice" {
		t.Fatalf("a Logout with the pre-renewal token, 10s after Renew completed, ended the renewed session (whoami %q)", got)
	}
}

type renewingKey struct{}

// with go-redis client-side caching, Renew's check that the old
// record is still live (step 3) can be answered from the instance's cache.
// Instance A logs a session out; instance B, which cached the record, renews
// it a moment later: the check reads the stale entry, and the renewed
// session is live although the Logout returned first and left no marker to
// find (it ran before the renewal began). The invalidation is pending on the
// pooled connection that read the record; whenever the renewal's own
// commands travel on other connections (PoolFIFO here; any busy pool), it
// is not applied in time. The sub-test with one connection passes.
func TestRenewOnAnInstanceWithAStaleCacheCannotResurrectALoggedOutSession(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	prefix := redistest.Prefix()
	instance := func(client *redis.Client) *harness {
		ring, _ := NewKeyRing(testKeyA)
		m, err := New(Config{Keys: ring, Store: NewRedisStore(client, RedisConfig{KeyPrefix: prefix, ClientSideCache: client.Options().ClientSideCache != nil})})
		if err != nil {
			t.Fatal(err)
		}
		h := &harness{t: t, m: m}
		h.app = m.Middleware(h.routes())
		return h
	}
	a := instance(srv.Client(t))
	pools := map[string]func(*redis.Options){
		"one connection": func(o *redis.Options) { o.PoolSize = 1 },
		"pool, FIFO":     func(o *redis.Options) { o.PoolFIFO, o.PoolSize, o.MinIdleConns = true, 8, 4 },
	}
	caches := map[string]func(redis.CacheConfig) localCache{
		"LocalCache":       func(c redis.CacheConfig) localCache { return redis.NewLocalCache(c) },
		"RedisClientCache": func(c redis.CacheConfig) localCache { return NewRedisClientCache(c) },
	}
	for name, pool := range pools {
		for cacheName, newCache := range caches {
			t.Run(name+"/"+cacheName, func(t *testing.T) {
				lc := newCache(redis.CacheConfig{MaxEntries: 1000, MaxStaleness: time.Minute})
				opt := srv.Options()
				opt.Protocol = 3
				opt.ClientSideCache = lc
				// The README's recommended drain interval.
				opt.ClientSideCacheConfig = &redis.ClientSideCacheConfig{DrainInterval: time.Millisecond}
				pool(opt)
				bc := redis.NewClient(opt)
				t.Cleanup(func() { bc.Close() })
				b := instance(bc)
				const rounds = 30
				resurrected := 0
				for range rounds {
					c := a.login("alice")
					b.whoami(c)
					hits := lc.Stats().Hits
					if b.whoami(c) != "alice" || lc.Stats().Hits == hits {
						t.Fatal("B did not serve the session from its cache")
					}
					if w := a.do("POST", "/logout", c); w.Code != http.StatusNoContent {
						t.Fatalf("logout on A: %d", w.Code)
					}
					w := b.do("POST", "/renew", c)
					if nc := sessionCookie(t, w, b.m.cookie.Name); nc != nil && nc.Value != "" && a.whoami(nc.Value) != "" {
						resurrected++
					}
				}
				if resurrected > 0 {
					t.Fatalf("in %d of %d rounds a Renew on B just after A's Logout returned made a live session", resurrected, rounds)
				}
			})
		}
	}
}

// A password change (LogoutOthers) that cannot renew the current session
// still ends the user's other sessions: when this session is signed out
// from another device while the change runs, and when another request is
// renewing it at that moment. Otherwise whoever holds another session (an
// attacker with the old password) could keep it past the change by
// signing out the owner's session at the right moment, or a double submit
// of the form would leave the other sessions alive.
func TestLogoutOthersEndsTheOtherSessionsWhenItCannotRenew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// meanwhile runs inside LogoutOthers, before its store call op
		// (once); here is the current session's cookie.
		op        string
		meanwhile func(t *testing.T, h *harness, hs *hookStore, key, here string) (kept string)
		// markerUnreadable fails LogoutOthers' read of the renewal's marker
		// once: it must then end nothing, not the renewal's new session.
		markerUnreadable bool
		want             error
	}{
		{
			name: "signed out meanwhile", op: "Touch", want: ErrNotAuthenticated,
			meanwhile: func(_ *testing.T, h *harness, hs *hookStore, key, _ string) string {
				hs.Store.Delete(context.Background(), key) // a sign-out from another device
				return ""
			},
		},
		{
			name: "renewed meanwhile", op: "Create", want: ErrConflict,
			meanwhile: func(t *testing.T, h *harness, _ *hookStore, _, here string) string {
				w := h.do("POST", "/renew", here) // this device, in another tab
				if c := sessionCookie(t, w, h.m.cookie.Name); w.Code == 200 && c != nil {
					return c.Value
				}
				return ""
			},
		},
		{
			name: "renewed meanwhile, its marker unreadable", op: "Create", want: ErrStoreUnavailable, markerUnreadable: true,
			meanwhile: func(t *testing.T, h *harness, _ *hookStore, _, here string) string {
				w := h.do("POST", "/renew", here)
				if c := sessionCookie(t, w, h.m.cookie.Name); w.Code == 200 && c != nil {
					return c.Value
				}
				return ""
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, hs := newHookHarness(t, nil)
			other := h.login("alice") // the attacker's session
			here := h.login("alice")
			bob := h.login("bob")
			var inside, fired, failMarker atomic.Bool
			var kept, marker string
			hs.before = func(_ context.Context, op, key string, _ Record) error {
				if inside.Load() && op == tt.op && fired.CompareAndSwap(false, true) {
					marker = key // for op Create, the renewal marker's key
					kept = tt.meanwhile(t, h, hs, key, here)
					failMarker.Store(tt.markerUnreadable)
				}
				if op == "Get" && key == marker && failMarker.CompareAndSwap(true, false) {
					return errStoreDown
				}
				return nil
			}
			errs := make(chan error, 1)
			app := h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				FromContext(r.Context()).UserID() // loaded before the change starts
				inside.Store(true)
				errs <- h.m.LogoutOthers(w, r)
				inside.Store(false)
			}))
			r := httptest.NewRequest("POST", "/password", nil)
			r.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: here})
			app.ServeHTTP(httptest.NewRecorder(), r)
			if err := <-errs; !errors.Is(err, tt.want) {
				t.Fatalf("LogoutOthers = %v, want %v", err, tt.want)
			}
			if !fired.Load() {
				t.Fatalf("nothing ran before LogoutOthers' %s", tt.op)
			}
			if got := h.whoami(other); got != "" && !tt.markerUnreadable {
				t.Errorf("the other session survived the password change (signed in as %q)", got)
			}
			if kept != "" && h.whoami(kept) != "alice" {
				t.Errorf("the session the concurrent renewal moved this device to was ended")
			}
			if h.whoami(bob) != "bob" {
				t.Error("another user's session was ended")
			}
		})
	}
}
