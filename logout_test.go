package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionauth/session/internal/redistest"
)

func TestS15_LogoutDeletesAndExpiresCookie(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) {
		c.Cookie = CookieOptions{Name: "s", Path: "/app", Domain: "example.com"}
	})
	c := h.login("alice")
	w := h.do("POST", "/logout", c)
	exp := sessionCookie(t, w, "s")
	if !isExpiry(exp) || exp.Path != "/app" || exp.Domain != "example.com" {
		t.Fatalf("logout cookie %+v", exp)
	}
	if h.whoami(c) != "" {
		t.Fatal("cookie still valid after logout (replay)")
	}
	if n := h.mem.count(); n != 0 {
		t.Fatalf("%d records after logout", n)
	}
}

func TestS15_LogoutExpiresCookieEvenWhenDeleteFails(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.login("alice")
	h.store.failDelete.Store(true)
	w := h.do("POST", "/logout", c)
	if w.Code != 500 {
		t.Fatalf("failed logout answered %d, the handler should have seen the error", w.Code)
	}
	if exp := sessionCookie(t, w, h.m.cookie.Name); !isExpiry(exp) {
		t.Fatalf("cookie not expired when the delete failed: %+v", exp)
	}
}

func TestS16_LogoutAllLeavesOtherUsersAlone(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	var alices []string
	for range 4 {
		alices = append(alices, h.login("alice"))
	}
	bob := h.login("bob")
	if err := h.m.LogoutAll(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	for _, c := range alices {
		if h.whoami(c) != "" {
			t.Fatal("an alice session survived LogoutAll")
		}
	}
	if h.whoami(bob) != "bob" {
		t.Fatal("LogoutAll signed bob out")
	}
	if list, _ := h.mem.ListUser(context.Background(), "alice"); len(list) != 0 {
		t.Fatal("index not emptied")
	}
	if err := h.m.LogoutAll(context.Background(), ""); !errors.Is(err, ErrInvalidUserID) {
		t.Fatalf("LogoutAll(\"\") = %v", err)
	}
}

func TestS16_LogoutAllWithConcurrentLogins(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	for range 10 {
		var wg sync.WaitGroup
		cookies := make(chan string, 20)
		for range 20 {
			wg.Go(func() {
				r := httptest.NewRequest("POST", "/login?user=alice", nil)
				w := httptest.NewRecorder()
				h.app.ServeHTTP(w, r)
				for _, c := range w.Result().Cookies() {
					cookies <- c.Value
				}
			})
		}
		wg.Wait()
		close(cookies)
		if err := h.m.LogoutAll(context.Background(), "alice"); err != nil {
			t.Fatal(err)
		}
		for c := range cookies {
			if h.whoami(c) != "" {
				t.Fatal("a session created before LogoutAll survived it")
			}
		}
	}
}

func TestLogoutCostsADeleteAndTheRenewalMarkerRead(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.login("alice")
	before := h.store.calls()
	h.do("POST", "/logout", c)
	if n := h.store.calls() - before; n != 2 || h.store.deletes.Load() != 1 {
		t.Fatalf("Logout cost %d store calls (%d deletes), want one delete and one read", n, h.store.deletes.Load())
	}
	if h.whoami(c) != "" {
		t.Fatal("still signed in")
	}
}

// Regression (found in review, fixed): with two verified cookies and the store down, load keeps no key, so
// Logout deletes nothing and returns nil; DESIGN's failure table says Logout
// returns an error wrapping the cause.
func TestS15_LogoutDuringOutageWithTwoCookiesReportsError(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	stale := h.login("carol")
	h.do("POST", "/logout", stale)
	alice := h.login("alice")
	h.store.fail.Store(true)
	var err error
	called := false
	app := h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		called = true
		err = h.m.Logout(w, r)
	}))
	r := httptest.NewRequest("POST", "/logout", nil)
	r.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: stale})
	r.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: alice})
	app.ServeHTTP(httptest.NewRecorder(), r)
	h.store.fail.Store(false)
	if !called {
		t.Fatal("handler not called")
	}
	if h.whoami(alice) == "alice" && err == nil {
		t.Fatal("Logout during a store outage returned nil, but alice's session is still live")
	}
	if err != nil && !errors.Is(err, errStoreDown) {
		t.Fatalf("Logout error %v does not wrap the store's error", err)
	}
}

// Regression (found in review, fixed): when a second live cookie is present (cookie tossing), load clears
// s.key, so Logout deletes none of the sessions and returns nil: the user's
// own (possibly stolen) session stays valid after "logout" (S15).
func TestS15_LogoutWithTossedCookieStillDeletesOwnSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	alice := h.login("alice")
	attacker := h.login("mallory") // planted from a sibling subdomain
	w := h.do("POST", "/logout", alice, attacker)
	if w.Code != http.StatusNoContent {
		t.Fatalf("logout: %d", w.Code)
	}
	if got := h.whoami(alice); got != "" {
		t.Fatalf("alice's session survived her Logout (still %q)", got)
	}
}

// Coverage for S16: LogoutAll running while logins are in flight. Every login
// that finished before LogoutAll started is dead afterwards, and a second
// LogoutAll leaves nothing. (TestS16_LogoutAllWithConcurrentLogins waits for
// all logins before calling LogoutAll, so nothing in it is concurrent.)
func TestS16_LogoutAllDuringLogins(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	for range 5 {
		type result struct {
			cookie string
			done   int64
		}
		var seq atomic.Int64
		results := make(chan result, 16)
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				w := h.do("POST", "/login?user=alice")
				if c := sessionCookie(t, w, h.m.cookie.Name); c != nil {
					results <- result{c.Value, seq.Add(1)}
				}
			})
		}
		started := seq.Add(1)
		if err := h.m.LogoutAll(context.Background(), "alice"); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		close(results)
		var all []string
		for r := range results {
			all = append(all, r.cookie)
			if r.done < started && h.whoami(r.cookie) != "" {
				t.Fatal("a login that finished before LogoutAll started survived it")
			}
		}
		if err := h.m.LogoutAll(context.Background(), "alice"); err != nil {
			t.Fatal(err)
		}
		for _, c := range all {
			if h.whoami(c) != "" {
				t.Fatal("a session survived a LogoutAll that ran after every login")
			}
		}
	}
}

func TestS17_LogoutOthersRenewsCurrent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	phone := h.login("alice")
	laptop := h.login("alice")
	bob := h.login("bob")
	h.do("GET", "/set?k=theme&v=dark", laptop)
	w := h.do("POST", "/logout-others", laptop)
	nc := sessionCookie(t, w, h.m.cookie.Name)
	if w.Code != 200 || nc == nil || nc.Value == laptop {
		t.Fatalf("LogoutOthers: %d, cookie %+v", w.Code, nc)
	}
	if h.whoami(phone) != "" || h.whoami(laptop) != "" {
		t.Fatal("another session survived the password change")
	}
	if h.whoami(nc.Value) != "alice" || h.do("GET", "/get?k=theme", nc.Value).Body.String() != "dark" {
		t.Fatal("the current session was not carried over")
	}
	if h.whoami(bob) != "bob" {
		t.Fatal("other user affected")
	}
	if w := h.do("POST", "/logout-others"); w.Code != 500 {
		t.Fatalf("anonymous LogoutOthers = %d", w.Code)
	}
}

// LogoutOthers deletes the other sessions with a plain Delete and
// never reads their renewal markers, so a session that another device
// renews while LogoutOthers runs (between its ListUser and its deletes)
// survives the password change.
func TestLogoutOthersFollowsASessionRenewedMeanwhile(t *testing.T) {
	t.Parallel()
	h, hs := newHookHarness(t, nil)
	here := h.login("alice")
	there := h.login("alice") // another device: say, an attacker with a stolen cookie
	var renewed string
	var lists atomic.Int32
	hs.afterList = func(string) {
		// The store has no Replace, so LogoutOthers lists twice: first
		// for the per-user cap, as it creates the renewed record, then
		// the sessions to end. The other device renews (a step-up, a role
		// change) after the second listing and before the deletes; its
		// own listings (the third and later) pass through.
		if lists.Add(1) != 2 {
			return
		}
		w := h.do("POST", "/renew", there)
		if c := sessionCookie(t, w, h.m.cookie.Name); w.Code == 200 && c != nil && c.Value != "" {
			renewed = c.Value
		}
	}
	if w := h.do("POST", "/logout-others", here); w.Code != 200 {
		t.Fatalf("LogoutOthers: %d %s", w.Code, w.Body)
	}
	if renewed == "" {
		t.Fatal("the other device's Renew did not run inside LogoutOthers")
	}
	if got := h.whoami(there); got != "" {
		t.Fatalf("the other device's pre-renewal cookie is signed in as %q", got)
	}
	if got := h.whoami(renewed); got != "" {
		t.Fatalf("after LogoutOthers returned success, the other device's renewed session is still signed in as %q", got)
	}
}

// A LogoutAll or a LogoutSession (the devices page) that runs while a Renew
// of the same session is paused before any one of its five store calls (the
// load, the marker, the new record, the check, the delete) ends the renewed
// session too, on the memory store and on Redis: after both have
// returned, neither the old nor the new cookie is signed in.
func TestLogoutAllAndLogoutSessionCannotBeUndoneByARenewAtAnyStep(t *testing.T) {
	t.Parallel()
	srv := redistest.New(t)
	client := srv.Client(t)
	stores := map[string]func() Store{
		"memory": func() Store { return NewMemoryStore() },
		"redis":  func() Store { return NewRedisStore(client, RedisConfig{KeyPrefix: redistest.Prefix()}) },
	}
	revocations := map[string]func(m *Manager, id string) error{
		"LogoutAll":     func(m *Manager, _ string) error { return m.LogoutAll(context.Background(), "alice") },
		"LogoutSession": func(m *Manager, id string) error { return m.LogoutSession(context.Background(), "alice", id) },
	}
	for storeName, newStore := range stores {
		for revName, revoke := range revocations {
			for step := 1; step <= 5; step++ {
				t.Run(fmt.Sprintf("%s/%s/before call %d", storeName, revName, step), func(t *testing.T) {
					t.Parallel()
					h, hs := newHookHarness(t, func(c *Config) { c.Store.(*hookStore).Store = newStore(); c.StoreTimeout = -1 })
					h.m.now = time.Now
					old := h.login("alice")
					list, err := h.m.ListSessions(context.Background(), "alice")
					if err != nil || len(list) != 1 {
						t.Fatalf("ListSessions: %d, %v", len(list), err)
					}
					reached, release := make(chan struct{}), make(chan struct{})
					var calls atomic.Int32
					hs.before = func(ctx context.Context, _, _ string, _ Record) error {
						if ctx.Value(renewingKey{}) != nil && calls.Add(1) == int32(step) {
							close(reached)
							<-release
						}
						return nil
					}
					done := make(chan *httptest.ResponseRecorder, 1)
					go func() {
						r := httptest.NewRequest("POST", "/renew", nil)
						r = r.WithContext(context.WithValue(r.Context(), renewingKey{}, true))
						r.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: old})
						w := httptest.NewRecorder()
						h.app.ServeHTTP(w, r)
						done <- w
					}()
					var w *httptest.ResponseRecorder
					select {
					case <-reached:
						if err := revoke(h.m, list[0].ID); err != nil {
							t.Errorf("%s: %v", revName, err)
						}
						close(release)
						w = <-done
					case w = <-done:
						t.Fatalf("the renewal made fewer than %d store calls", step)
					}
					if got := h.whoami(old); got != "" {
						t.Fatalf("old cookie after %s: %q", revName, got)
					}
					if c := sessionCookie(t, w, h.m.cookie.Name); c != nil && c.Value != "" {
						if got := h.whoami(c.Value); got != "" {
							t.Fatalf("the renewed cookie (Renew answered %d) is signed in as %q after %s returned", w.Code, got, revName)
						}
					}
				})
			}
		}
	}
}

// LogoutAll called from a request of that user expires the request's cookie
// too, whether or not the handler had read the session before.
func TestLogoutAllFromTheUsersRequestExpiresItsCookie(t *testing.T) {
	t.Parallel()
	for _, readFirst := range []bool{false, true} {
		h := newHarness(t, nil)
		c := h.login("alice")
		bob := h.login("bob")
		app := h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if readFirst {
				FromContext(r.Context()).UserID()
			}
			if err := h.m.LogoutAll(r.Context(), "alice"); err != nil {
				t.Error(err)
			}
		}))
		for _, tc := range []struct {
			cookie string
			expire bool
		}{{c, true}, {bob, false}} {
			r := httptest.NewRequest("POST", "/", nil)
			r.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: tc.cookie})
			w := httptest.NewRecorder()
			app.ServeHTTP(w, r)
			if got := isExpiry(sessionCookie(t, w, h.m.cookie.Name)); got != tc.expire {
				t.Fatalf("read first %v: cookie expired %v, want %v", readFirst, got, tc.expire)
			}
		}
		if h.whoami(bob) != "bob" {
			t.Fatal("another user's session ended")
		}
	}
}
