package session

// Review tests. Tests marked "// BUG:" fail on the current code and show a
// defect; the others pass and add coverage that the existing tests lack
// (each was checked to fail when the code it guards is broken).

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Regression (found in review, fixed): Renew and LogoutOthers re-create a session that a concurrent Logout or
// LogoutAll deleted (replace() ignores that the old record is gone): S35 says
// only Login creates.
func TestReview_S35_RenewAfterConcurrentLogoutDoesNotResurrect(t *testing.T) {
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

// Regression (found in review, fixed): with two verified cookies and the store down, load keeps no key, so
// Logout deletes nothing and returns nil; DESIGN's failure table says Logout
// returns an error wrapping the cause.
func TestReview_S15_LogoutDuringOutageWithTwoCookiesReportsError(t *testing.T) {
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
func TestReview_S15_LogoutWithTossedCookieStillDeletesOwnSession(t *testing.T) {
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

// Fixed: the decoder used to reject more than 4096 values, so a session that
// saved more was deleted as "corrupt" on the next request.
func TestReview_ManyValuesDoNotDestroySession(t *testing.T) {
	t.Parallel()
	const maxRecordValues = 4096
	h := newHarness(t, nil)
	c := h.login("alice")
	app := h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		for i := range maxRecordValues + 1 {
			s.Set(fmt.Sprint("item", i), "1")
		}
	}))
	r := httptest.NewRequest("POST", "/", nil)
	r.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: c})
	w := httptest.NewRecorder()
	app.ServeHTTP(w, r)
	if w.Code != 200 {
		t.Logf("saving %d values answered %d", maxRecordValues+1, w.Code)
	}
	if got := h.whoami(c); got != "alice" {
		t.Fatalf("after saving %d values the session is gone (whoami %q); it was deleted as corrupt", maxRecordValues+1, got)
	}
}

// Regression (found in review, fixed): cookie prefixes are matched case-insensitively by browsers
// (RFC 6265bis), so "__HOST-sid" with a Domain is silently rejected by the
// browser, yet New accepts it (S25).
func TestReview_S25_PrefixRulesAreCaseInsensitive(t *testing.T) {
	t.Parallel()
	ring, _ := NewKeyRing(testKeyA)
	for _, opts := range []CookieOptions{
		{Name: "__HOST-sid", Domain: "example.com"},
		{Name: "__host-sid", Path: "/app"},
		{Name: "__SECURE-sid", DisableSecure: true},
	} {
		if _, err := New(Config{Keys: ring, Cookie: opts}); err == nil {
			t.Errorf("New accepted %+v, which browsers reject", opts)
		}
	}
}

// Regression (found in review, fixed): cookie attributes that net/http silently drops (invalid Domain) or
// that browsers ignore (a Path not starting with "/", control bytes) pass
// New; the cookie then has a different scope than configured, and a Path
// like "app" makes the browser use the request's directory, so Logout's
// expiry may not hit the login cookie.
func TestReview_S24_InvalidDomainOrPathRejectedAtNew(t *testing.T) {
	t.Parallel()
	ring, _ := NewKeyRing(testKeyA)
	for _, opts := range []CookieOptions{
		{Domain: "example.com:8443"},
		{Domain: "ex_ample.com"},
		{Path: "app"},
		{Path: "/app\x01"},
	} {
		if _, err := New(Config{Keys: ring, Cookie: opts}); err == nil {
			t.Errorf("New accepted cookie options %q/%q that net/http or browsers drop", opts.Domain, opts.Path)
		}
	}
}

// Coverage for B14: the inner Middleware must pass through (one store read,
// one Set-Cookie). TestB14_MiddlewareTwiceIsHarmless still passes when the
// pass-through is removed; this one fails (two Gets, and a Login under a
// due touch gets the new cookie followed by an expiry of the old one).
func TestReview_B14_InnerMiddlewarePassesThrough(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.IdleTimeout = 10 * time.Minute })
	c := h.login("alice")
	h.clock.Advance(6 * time.Minute) // a touch of the old session is due
	app := h.m.Middleware(h.m.Middleware(h.routes()))
	gets := h.store.gets.Load()
	r := httptest.NewRequest("POST", "/login?user=alice", nil)
	r.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: c})
	w := httptest.NewRecorder()
	app.ServeHTTP(w, r)
	if n := h.store.gets.Load() - gets; n != 1 {
		t.Fatalf("double middleware read the store %d times, want 1", n)
	}
	if n := len(w.Header().Values("Set-Cookie")); n != 1 {
		t.Fatalf("double middleware sent %d Set-Cookie headers: %q", n, w.Header().Values("Set-Cookie"))
	}
	nc := sessionCookie(t, w, h.m.cookie.Name)
	if nc == nil || isExpiry(nc) || h.whoami(nc.Value) != "alice" {
		t.Fatalf("login through double middleware: %+v", nc)
	}
}

// forgeSigned builds a token signed under the ring's first key with a chosen
// securecookie timestamp (the wire format: base64url("date|b64(value)|mac"),
// mac = HMAC-SHA256(name|date|b64(value))).
func forgeSigned(ring *KeyRing, name string, token []byte, unix int64) string {
	v := base64.URLEncoding.EncodeToString(token)
	mac := hmac.New(sha256.New, ring.hashKeys[0])
	fmt.Fprintf(mac, "%s|%d|%s", name, unix, v)
	raw := fmt.Sprintf("%d|%s|", unix, v) + string(mac.Sum(nil))
	return base64.URLEncoding.EncodeToString([]byte(raw))
}

// Coverage for S23/"MaxAge never caps our own lifetime": a remember-me
// lifetime of 90 days must accept a token signed 60 days ago (securecookie's
// default MaxAge is 30 days) and reject one older than the lifetime, before
// any store call. TestTooOldTokenRejectedWithoutStore passes even when
// newSigner never sets MaxAge; this test fails then.
func TestReview_S23_SignerMaxAgeFollowsLifetime(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) {
		c.RememberMeLifetime = 90 * 24 * time.Hour
		c.RememberMeIdleTimeout = 30 * 24 * time.Hour
	})
	ring, _ := NewKeyRing(testKeyA)
	tok := newToken()
	now := time.Now().Unix()
	day := int64(24 * 3600)
	fresh := forgeSigned(ring, h.m.cookie.Name, tok, now)
	if _, _, ok := h.m.signer.verifyBytes(fresh); !ok {
		t.Fatal("forged fresh token does not verify: the test's wire format is wrong")
	}
	if _, _, ok := h.m.signer.verifyBytes(forgeSigned(ring, h.m.cookie.Name, tok, now-60*day)); !ok {
		t.Fatal("a 60-day-old token is rejected although remember-me sessions live 90 days")
	}
	old := forgeSigned(ring, h.m.cookie.Name, tok, now-91*day)
	if _, _, ok := h.m.signer.verifyBytes(old); ok {
		t.Fatal("a token older than the longest lifetime verifies")
	}
	calls := h.store.calls()
	if w := h.do("GET", "/private", old); w.Code != 401 || h.store.calls() != calls {
		t.Fatalf("too-old token: %d, %d store calls", w.Code, h.store.calls()-calls)
	}
}

// getFailStore fails only Get: a store whose reads time out while writes
// still go through (a flapping connection, a read replica down).
type getFailStore struct {
	Store
	failGet atomic.Bool
}

func (g *getFailStore) Get(ctx context.Context, key string) (Record, error) {
	if g.failGet.Load() {
		return Record{}, errStoreDown
	}
	return g.Store.Get(ctx, key)
}

// Coverage for S36: when the read failed, commit must not write anything or
// set a cookie, even if writes work again. Removing the loadErr guard in
// commit passes every existing test; this one then fails (the due touch
// writes a zero expiry and destroys the session, and a Set with two cookies
// creates a new anonymous session whose cookie overwrites the valid one).
func TestReview_S36_ReadFailureNeverWritesOrOverwritesCookie(t *testing.T) {
	t.Parallel()
	var gf *getFailStore
	h := newHarness(t, func(c *Config) {
		gf = &getFailStore{Store: c.Store}
		c.Store = gf
		c.IdleTimeout = 30 * time.Minute
	})
	alice := h.login("alice")
	stale := h.login("carol")
	h.do("POST", "/logout", stale)
	h.clock.Advance(20 * time.Minute) // touch due
	gf.failGet.Store(true)
	for _, tc := range []struct {
		target  string
		cookies []string
	}{
		{"/whoami", []string{alice}},
		{"/set?k=a&v=b", []string{alice}},
		{"/set?k=a&v=b", []string{stale, alice}},
		{"/whoami", []string{stale, alice}},
	} {
		writes := h.store.writes()
		w := h.do("GET", tc.target, tc.cookies...)
		if sc := w.Header().Values("Set-Cookie"); len(sc) != 0 {
			t.Errorf("%s with %d cookies during a read outage sent Set-Cookie %q", tc.target, len(tc.cookies), sc)
		}
		if n := h.store.writes() - writes; n != 0 {
			t.Errorf("%s with %d cookies during a read outage made %d store writes", tc.target, len(tc.cookies), n)
		}
	}
	gf.failGet.Store(false)
	if got := h.whoami(alice); got != "alice" {
		t.Fatalf("session lost after a read outage: %q", got)
	}
}

// Coverage for S9 x S36: a cookie under an older key is not re-issued while
// the store cannot confirm the session.
func TestReview_S9_S36_OldKeyCookieNotReissuedDuringOutage(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.Keys, _ = NewKeyRing(testKeyB) })
	cookieB := h.login("alice")
	ring, _ := NewKeyRing(testKeyA, testKeyB)
	m2, err := New(Config{Store: h.store, Keys: ring})
	if err != nil {
		t.Fatal(err)
	}
	m2.now = h.clock.Now
	h.m, h.app = m2, m2.Middleware(h.routes())
	h.store.fail.Store(true)
	w := h.do("GET", "/whoami", cookieB)
	if sc := w.Header().Values("Set-Cookie"); len(sc) != 0 || w.Code != 200 {
		t.Fatalf("outage with an old-key cookie: %d, Set-Cookie %q", w.Code, sc)
	}
	h.store.fail.Store(false)
	if sc := sessionCookie(t, h.do("GET", "/whoami", cookieB), h.m.cookie.Name); sc == nil || sc.Value == cookieB {
		t.Fatalf("after the outage the old-key cookie is not re-signed: %+v", sc)
	}
}

// Coverage for S16: LogoutAll running while logins are in flight. Every login
// that finished before LogoutAll started is dead afterwards, and a second
// LogoutAll leaves nothing. (TestS16_LogoutAllWithConcurrentLogins waits for
// all logins before calling LogoutAll, so nothing in it is concurrent.)
func TestReview_S16_LogoutAllDuringLogins(t *testing.T) {
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

// Coverage for S10: the README gives the three-step multi-instance rollout in
// order: [old,new] everywhere, then [new,old], then drop old.
func TestReview_S10_READMEDocumentsRolloutOrder(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	steps := []string{"SESSION_KEYS=old,new", "SESSION_KEYS=new,old", "SESSION_KEYS=new`"}
	at := 0
	for _, s := range steps {
		i := strings.Index(readme[at:], s)
		if i < 0 {
			t.Fatalf("README lacks rollout step %q after offset %d", s, at)
		}
		at += i + len(s)
	}
}

// Coverage: handler goroutines using the session while the response is
// being written (run with -race).
func TestReview_SessionConcurrentUseInHandler(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.login("alice")
	app := h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				s.Set(fmt.Sprint("k", i), "v")
				_ = s.Get("k0")
				_ = s.Token()
				_ = s.ID()
				_ = s.Keys()
			})
		}
		w.Write([]byte("x")) // commits while the goroutines run
		wg.Wait()
	}))
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: c})
	app.ServeHTTP(httptest.NewRecorder(), r)
	if h.whoami(c) != "alice" {
		t.Fatal("session lost")
	}
	n := 0
	for i := range 8 {
		if h.do("GET", fmt.Sprint("/get?k=k", i), c).Body.String() == "v" {
			n++
		}
	}
	if n != 8 {
		t.Fatalf("%d of 8 values set during the response were saved (commit plus late save)", n)
	}
}
