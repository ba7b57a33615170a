package session

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestS4_StrictModeUnknownTokenNotAdopted(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	forged, _ := h.m.signer.sign(newToken()) // validly signed, never stored
	w := h.do("GET", "/set?k=a&v=b", forged)
	c := sessionCookie(t, w, h.m.cookie.Name)
	if c == nil || c.Value == forged || c.Value == "" {
		t.Fatalf("the unknown token was adopted: %+v", c)
	}
	if tok, _, _ := h.m.signer.verifyBytes(c.Value); bytes.Equal(tok, mustVerify(t, h, forged)) {
		t.Fatal("new session reuses the client's token")
	}
	// Without a change, the stale cookie is expired.
	w = h.do("GET", "/whoami", forged)
	if c := sessionCookie(t, w, h.m.cookie.Name); !isExpiry(c) {
		t.Fatalf("stale cookie not expired: %+v", c)
	}
}

func TestS6_OversizedAndGarbledCookiesAreAnonymous(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	valid := h.login("alice")
	before := h.store.calls()
	cases := []string{
		"", "x", "%%%", strings.Repeat("A", 5000), strings.Repeat("a", maxCookieLen+1),
		"\x00\x01", "\"quoted\"", valid[:10], "MTIzfDQ1Nnw3ODk=",
		base64.URLEncoding.EncodeToString([]byte("1|2|3")),
		base64.URLEncoding.EncodeToString([]byte("notanumber|" + base64.URLEncoding.EncodeToString(make([]byte, 32)) + "|" + strings.Repeat("m", 32))),
	}
	for _, v := range cases {
		r := httptest.NewRequest("GET", "/private", nil)
		r.Header.Set("Cookie", h.m.cookie.Name+"="+v)
		w := httptest.NewRecorder()
		h.app.ServeHTTP(w, r)
		if w.Code != 401 {
			t.Fatalf("cookie %q: status %d", v, w.Code)
		}
		if w.Header().Get("Set-Cookie") != "" {
			t.Fatalf("cookie %q: Set-Cookie on an unverified cookie", v)
		}
	}
	if n := h.store.calls() - before; n != 0 {
		t.Fatalf("%d store calls for garbage cookies", n)
	}
}

func TestS7_SeveralCookiesSignInOnlyWithExactlyOneLiveToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	alice := h.login("alice")
	bob := h.login("bob")
	stale := h.login("carol")
	h.do("POST", "/logout", stale)
	forged, _ := h.m.signer.sign(newToken())
	tests := []struct {
		name    string
		cookies []string
		want    string
	}{
		{"one valid", []string{alice}, "alice"},
		{"valid and junk", []string{"junk", alice, strings.Repeat("z", 4000)}, "alice"},
		{"junk first", []string{"junk", alice}, "alice"},
		// The stale token is known to be dead (this Manager logged it out),
		// so it costs no read and does not count.
		{"valid and stale", []string{stale, alice}, "alice"},
		// A second token that verifies but is not known to be dead would
		// need a second store read to tell apart: anonymous.
		{"valid and signed but unknown", []string{alice, forged}, ""},
		{"same cookie twice", []string{alice, alice}, "alice"},
		{"two live sessions", []string{alice, bob}, ""},
		{"two live, reversed", []string{bob, alice}, ""},
		{"only stale", []string{stale}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := h.do("GET", "/private", tc.cookies...)
			got := strings.TrimPrefix(w.Body.String(), "private:")
			if tc.want == "" {
				if w.Code != 401 {
					t.Fatalf("status %d (%s), want 401", w.Code, got)
				}
				return
			}
			if w.Code != 200 || got != tc.want {
				t.Fatalf("status %d %q, want %q", w.Code, got, tc.want)
			}
			if c := sessionCookie(t, w, h.m.cookie.Name); c != nil {
				t.Fatalf("Set-Cookie %v on an unchanged authenticated request", c)
			}
		})
	}
}

func TestS9_RotationReSignsOldCookies(t *testing.T) {
	t.Parallel()
	// Sessions created under key B, then the app moves to [A, B].
	old := newHarness(t, func(c *Config) {
		c.Keys, _ = NewKeyRing(testKeyB)
		c.Cookie.Domain = "example.com"
		c.Cookie.Path = "/app"
		c.Cookie.Name = "__Secure-s"
		c.Cookie.SameSite = http.SameSiteStrictMode
		c.Cookie.Partitioned = true
	})
	remember := old.do("POST", "/login?user=alice&remember=1")
	cookieB := sessionCookie(t, remember, "__Secure-s").Value
	ring, _ := NewKeyRing(testKeyA, testKeyB)
	m2, err := New(Config{Store: old.store, Keys: ring, Cookie: old.m.cookie})
	if err != nil {
		t.Fatal(err)
	}
	m2.now = old.clock.Now
	old.m = m2
	old.app = m2.Middleware(old.routes())

	w := old.do("GET", "/whoami", cookieB)
	if w.Body.String() != "alice" {
		t.Fatalf("cookie under the old key rejected: %q", w.Body)
	}
	c := sessionCookie(t, w, "__Secure-s")
	if c == nil || c.Value == cookieB {
		t.Fatalf("old cookie not re-signed: %+v", c)
	}
	if _, idx, ok := m2.signer.verifyBytes(c.Value); !ok || idx != 0 {
		t.Fatalf("re-signed cookie verified with key %d (%v), want 0", idx, ok)
	}
	if c.Path != "/app" || c.Domain != "example.com" || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || !c.Partitioned {
		t.Fatalf("re-signed cookie lost attributes: %+v", c)
	}
	if c.MaxAge <= 0 || c.MaxAge > int(defaultRememberMeLifetime/time.Second) {
		t.Fatalf("persistent cookie re-signed with Max-Age %d", c.MaxAge)
	}
	if got := old.whoami(c.Value); got != "alice" {
		t.Fatalf("re-signed cookie = %q", got)
	}
	// And the re-signed cookie needs no more re-signing.
	if c2 := sessionCookie(t, old.do("GET", "/whoami", c.Value), "__Secure-s"); c2 != nil {
		t.Fatalf("current-key cookie re-signed again: %+v", c2)
	}
}

func TestS11_RemovedKeyInvalidatesCleanly(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.Keys, _ = NewKeyRing(testKeyB) })
	cookieB := h.login("alice")
	ring, _ := NewKeyRing(testKeyA)
	m2, _ := New(Config{Store: h.store, Keys: ring})
	m2.now = h.clock.Now
	h.m = m2
	h.app = m2.Middleware(h.routes())
	before := h.store.calls()
	w := h.do("GET", "/private", cookieB)
	if w.Code != 401 || h.store.calls() != before {
		t.Fatalf("cookie of a removed key: %d, %d store calls", w.Code, h.store.calls()-before)
	}
}

func TestS18_CacheHeadersOnCookieResponses(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.ClearSiteData = true })
	w := h.do("POST", "/login?user=alice")
	if w.Header().Get("Cache-Control") != "no-store" || !strings.Contains(strings.Join(w.Header().Values("Vary"), ","), "Cookie") {
		t.Fatalf("login headers: %v", w.Header())
	}
	c := sessionCookie(t, w, h.m.cookie.Name).Value
	w = h.do("POST", "/logout", c)
	if w.Header().Get("Cache-Control") != "no-store" || w.Header().Get("Clear-Site-Data") != `"cookies"` {
		t.Fatalf("logout headers: %v", w.Header())
	}
}

func TestS19_IdleTimeoutEnforcedServerSide(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.IdleTimeout = 10 * time.Minute })
	c := h.login("alice")
	h.clock.Advance(9 * time.Minute)
	if h.whoami(c) != "alice" {
		t.Fatal("expired before the idle timeout")
	}
	// That request extended the window (more than half had passed).
	h.clock.Advance(9 * time.Minute)
	if h.whoami(c) != "alice" {
		t.Fatal("activity did not extend the idle window")
	}
	h.clock.Advance(10*time.Minute + time.Second)
	w := h.do("GET", "/whoami", c)
	if w.Body.String() != "" || !isExpiry(sessionCookie(t, w, h.m.cookie.Name)) {
		t.Fatalf("idle session still valid or cookie not expired: %q", w.Body)
	}
}

func TestS19_IdleCheckDoesNotTrustStore(t *testing.T) {
	t.Parallel()
	// A store that ignores expiry must not keep a session alive.
	h := newHarness(t, func(c *Config) { c.IdleTimeout = time.Minute })
	c := h.login("alice")
	key := storeKey(mustVerify(t, h, c))
	h.mem.now = func() time.Time { return time.Time{} } // the store never expires anything
	h.clock.Advance(2 * time.Minute)
	if h.whoami(c) != "" {
		t.Fatalf("idle-expired record accepted from a lax store (key %d chars)", len(key))
	}
}

func TestS20_AbsoluteLifetimeNotExtended(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.IdleTimeout = 10 * time.Minute; c.Lifetime = time.Hour })
	c := h.login("alice")
	for range 11 { // busy every 5.5 minutes: 60.5 minutes in total
		h.clock.Advance(5*time.Minute + 30*time.Second)
		if w := h.do("POST", "/renew", c); w.Code == 200 {
			if nc := sessionCookie(t, w, h.m.cookie.Name); nc != nil && nc.Value != "" {
				c = nc.Value
			}
		}
	}
	if h.whoami(c) != "" {
		t.Fatal("activity and Renew kept the session past its absolute lifetime")
	}
}

func TestS21_SlidingRenewalIsThrottled(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.IdleTimeout = 30 * time.Minute })
	c := h.login("alice")
	writes := h.store.writes()
	for range 5 {
		h.clock.Advance(time.Second)
		w := h.do("GET", "/whoami", c)
		if w.Header().Get("Set-Cookie") != "" {
			t.Fatal("Set-Cookie on a plain read")
		}
	}
	if n := h.store.writes() - writes; n != 0 {
		t.Fatalf("%d store writes for reads one second apart", n)
	}
	h.clock.Advance(15 * time.Minute)
	h.do("GET", "/whoami", c)
	if h.store.touches.Load() != 1 {
		t.Fatalf("touches = %d after half the window, want 1", h.store.touches.Load())
	}
}

func TestS22_ExpiredSessionsRemoved(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	var cookies []string
	for i := range 10 {
		cookies = append(cookies, h.login("u"+string(rune('a'+i))))
	}
	h.clock.Advance(defaultLifetime)
	// On access.
	h.whoami(cookies[0])
	if h.mem.count() != 9 {
		t.Fatalf("expired record not removed on access: %d left", h.mem.count())
	}
	// By the sweep.
	h.mem.sweep()
	if h.mem.count() != 0 {
		t.Fatalf("sweep left %d records", h.mem.count())
	}
}

func TestS23_RememberMeIsPerSessionAndCapped(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) {
		c.RememberMeLifetime = 1000 * 24 * time.Hour
		c.RememberMeIdleTimeout = 500 * 24 * time.Hour
	})
	plain := sessionCookie(t, h.do("POST", "/login?user=a"), h.m.cookie.Name)
	if plain.MaxAge != 0 || !plain.Expires.IsZero() {
		t.Fatalf("session without remember-me is persistent: %+v", plain)
	}
	rem := sessionCookie(t, h.do("POST", "/login?user=b&remember=1"), h.m.cookie.Name)
	if rem.MaxAge != int(maxPersistentAge/time.Second) {
		t.Fatalf("remember-me Max-Age = %d, want the 400-day cap", rem.MaxAge)
	}
	// The remember-me session outlives the normal idle timeout.
	h.clock.Advance(defaultIdleTimeout + time.Minute)
	if h.whoami(rem.Value) != "b" || h.whoami(plain.Value) != "" {
		t.Fatal("remember-me timeouts not applied per session")
	}
}

func TestS29_S33_UnchangedSessionNotWritten(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.login("alice")
	h.do("GET", "/set?k=a&v=1", c)
	writes := h.store.writes()
	for _, target := range []string{"/whoami", "/get?k=a", "/private", "/set?k=a&v=1"} {
		w := h.do("GET", target, c)
		if w.Header().Get("Set-Cookie") != "" {
			t.Fatalf("%s: Set-Cookie on an unchanged session", target)
		}
	}
	if n := h.store.writes() - writes; n != 0 {
		t.Fatalf("%d store writes for unchanged requests", n)
	}
	// Anonymous requests: no store call, no cookie.
	calls := h.store.calls()
	w := h.do("GET", "/whoami")
	if w.Header().Get("Set-Cookie") != "" || h.store.calls() != calls {
		t.Fatal("anonymous request touched the store or set a cookie")
	}
}

func TestS34_ConcurrentWritersLastWriteWins(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.login("alice")
	var wg sync.WaitGroup
	for _, v := range []string{"1", "2", "3", "4"} {
		wg.Go(func() { h.do("GET", "/set?k=x&v="+v, c) })
	}
	wg.Wait()
	if got := h.do("GET", "/get?k=x", c).Body.String(); !strings.Contains("1234", got) || got == "" {
		t.Fatalf("value after concurrent writes = %q, want one of the writes", got)
	}
}

func TestS35_SlowRequestCannotUndoLogout(t *testing.T) {
	t.Parallel()
	for _, change := range []string{"write", "touch"} {
		t.Run(change, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.IdleTimeout = 10 * time.Minute })
			c := h.login("alice")
			if change == "touch" {
				h.clock.Advance(6 * time.Minute) // touch is due
			}
			// slowRequest loads the session, then waits for release.
			release := slowRequest(t, h, c, func(w http.ResponseWriter, r *http.Request) {
				if change == "write" {
					FromContext(r.Context()).Set("k", "v")
				}
			})
			h.do("POST", "/logout", c)
			w := release()
			if h.mem.count() != 0 || h.whoami(c) != "" {
				t.Fatal("the slow request resurrected the session")
			}
			if sc := sessionCookie(t, w, h.m.cookie.Name); !isExpiry(sc) {
				t.Fatalf("slow request after logout sent cookie %+v, want expiry", sc)
			}
		})
	}
}

func TestS36_StoreOutageLeavesPublicRoutesAnonymousAndProtectedOnes503(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	var mu sync.Mutex
	var hookErr error
	h := newHarness(t, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
		c.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			mu.Lock()
			hookErr = err
			mu.Unlock()
			http.Error(w, "down", http.StatusServiceUnavailable)
		}
	})
	c := h.login("alice")
	h.store.fail.Store(true)
	w := h.do("GET", "/private", c)
	if w.Code != 503 {
		t.Fatalf("RequireAuth during an outage = %d, want 503", w.Code)
	}
	mu.Lock()
	if !errors.Is(hookErr, ErrStoreUnavailable) || !errors.Is(hookErr, errStoreDown) {
		t.Fatalf("hook got %v", hookErr)
	}
	mu.Unlock()
	w = h.do("GET", "/whoami", c)
	if w.Code != 200 || w.Body.String() != "" || w.Header().Get("Set-Cookie") != "" {
		t.Fatalf("public route during outage: %d %q %v", w.Code, w.Body, w.Header())
	}
	// A change that cannot be saved is not silently lost, and the client's
	// cookie is not overwritten.
	w = h.do("GET", "/set?k=a&v=b", c)
	if w.Code != 503 || w.Header().Get("Set-Cookie") != "" {
		t.Fatalf("write during outage: %d %v", w.Code, w.Header())
	}
	if w := h.do("POST", "/login?user=bob"); w.Code != 500 || !strings.Contains(w.Body.String(), "unavailable") {
		t.Fatalf("Login during outage: %d %q", w.Code, w.Body)
	}
	h.store.fail.Store(false)
	if h.whoami(c) != "alice" {
		t.Fatal("session lost after the outage")
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "store read failed") {
		t.Fatalf("outage not logged: %s", logs.String())
	}
}

func TestS37_CorruptRecordIsAnonymousDeletedLogged(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	var mu sync.Mutex
	h := newHarness(t, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
	})
	for _, data := range [][]byte{nil, {}, {1}, {2, 0}, {1, 0, 0}, {1, 0, 2, 2, 2, 5}, {1, 0, 2, 2, 2, 1, 9, 'a'}, bytes.Repeat([]byte{0xff}, 40)} {
		c := h.login("alice")
		key := storeKey(mustVerify(t, h, c))
		sh := h.mem.shard(key)
		sh.mu.Lock()
		rec := sh.records[key]
		rec.Data = data
		sh.records[key] = rec
		sh.mu.Unlock()
		w := h.do("GET", "/private", c)
		if w.Code != 401 {
			t.Fatalf("corrupt record %v: status %d", data, w.Code)
		}
		if _, err := h.mem.Get(context.Background(), key); !errors.Is(err, ErrNotFound) {
			t.Fatalf("corrupt record %v not deleted", data)
		}
		if !isExpiry(sessionCookie(t, w, h.m.cookie.Name)) {
			t.Fatal("cookie of a corrupt record not expired")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "corrupt") {
		t.Fatal("corrupt record not logged")
	}
}

func decodeValuesOf(data []byte) (map[string]string, error) {
	_, raw, err := decodeHeader(data)
	if err != nil {
		return nil, err
	}
	return decodeValues(raw)
}

func TestUnusedSessionCostsNoStoreCall(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.login("alice")
	static := h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("static file"))
	}))
	r := httptest.NewRequest("GET", "/app.css", nil)
	r.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: c})
	before := h.store.calls()
	w := httptest.NewRecorder()
	static.ServeHTTP(w, r)
	if n := h.store.calls() - before; n != 0 || w.Header().Get("Set-Cookie") != "" {
		t.Fatalf("a handler that never used the session cost %d store calls (Set-Cookie %q)", n, w.Header().Get("Set-Cookie"))
	}
}

// Fixed: the decoder used to reject more than 4096 values, so a session that
// saved more was deleted as "corrupt" on the next request.
func TestManyValuesDoNotDestroySession(t *testing.T) {
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
func TestS36_ReadFailureNeverWritesOrOverwritesCookie(t *testing.T) {
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
func TestS9_S36_OldKeyCookieNotReissuedDuringOutage(t *testing.T) {
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

// The idle timeout is throttled (the stored expiry moves at most once per
// half window, so that a busy session is not written on every request), so
// a session unused for IdleTimeout always ends, and one unused for less than
// half of it never does; in between, as documented on Config.IdleTimeout, it
// depends on when the expiry last moved: used at 14 minutes (no extension
// yet) and then left for 17, it ends.
func TestIdleSessionEndsBetweenHalfAndAllOfIdleTimeoutUnused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil) // IdleTimeout 30 min
	c := h.login("alice")
	for range 4 { // used every 14 minutes: never ends
		h.clock.Advance(14 * time.Minute)
		if got := h.whoami(c); got != "alice" {
			t.Fatal("a session used every 14 minutes (under half of a 30-minute IdleTimeout) ended")
		}
	}
	c = h.login("carol")
	h.clock.Advance(14 * time.Minute)
	if got := h.whoami(c); got != "carol" {
		t.Fatal("used after 14 minutes: ended")
	}
	h.clock.Advance(17 * time.Minute)
	if got := h.whoami(c); got != "" {
		t.Fatal("left for 17 minutes right before its expiry was due to move: still signed in, want ended as documented")
	}
	c = h.login("bob")
	h.clock.Advance(30 * time.Minute)
	if got := h.whoami(c); got != "" {
		t.Fatal("unused for the whole IdleTimeout: still signed in")
	}
}

// Hostile combinations of cookies of our name and a Bearer header: the
// request is signed in only with exactly one live token that is not known
// to be dead, and never costs more than one store read.
func TestHostileTokenMixesCostAtMostOneRead(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.Bearer = true })
	alice := h.login("alice")
	bob := h.login("bob")
	loggedOut := h.login("carol")
	h.do("POST", "/logout", loggedOut)
	unknown, _ := h.m.signer.sign(newToken()) // signed, never stored, not yet known dead
	resigned, _ := h.m.signer.sign(mustToken(t, h, alice))
	junk := func(n int) []string {
		v := make([]string, n)
		for i := range v {
			v[i] = fmt.Sprintf("junk%02d", i)
		}
		return v
	}
	tests := []struct {
		name    string
		cookies []string
		bearer  string
		want    string
	}{
		{"bearer alone", nil, alice, "alice"},
		{"bearer and the same token as cookie", []string{alice}, alice, "alice"},
		{"bearer and the same token signed at another time", []string{resigned}, alice, "alice"},
		{"bearer and another user's cookie", []string{bob}, alice, ""},
		{"bearer beside a logged-out cookie", []string{loggedOut}, alice, "alice"},
		{"logged-out bearer beside a live cookie", []string{alice}, loggedOut, "alice"},
		{"bearer beside a signed unknown cookie", []string{unknown}, alice, ""},
		{"15 junk cookies, then the live one", append(junk(15), alice), "", "alice"},
		{"16 junk cookies, then the live one", append(junk(16), alice), "", ""},
		{"16 junk cookies and a live bearer", junk(16), alice, "alice"},
		{"17 junk cookies and a live bearer", junk(17), alice, ""},
		{"the live cookie 16 times", []string{alice, alice, alice, alice, alice, alice, alice, alice, alice, alice, alice, alice, alice, alice, alice, alice}, "", "alice"},
		{"empty and quoted values", []string{"", `""`, alice}, "", "alice"},
		{"oversized value and the live one", []string{strings.Repeat("a", 4097), alice}, "", "alice"},
		{"bearer with junk", []string{alice}, "junk", "alice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/private", nil)
			for _, c := range tc.cookies {
				r.Header.Add("Cookie", h.m.cookie.Name+"="+c)
			}
			if tc.bearer != "" {
				r.Header.Set("Authorization", "Bearer "+tc.bearer)
			}
			before := h.store.gets.Load()
			w := httptest.NewRecorder()
			h.app.ServeHTTP(w, r)
			if n := h.store.gets.Load() - before; n > 1 {
				t.Fatalf("%d store reads", n)
			}
			got := strings.TrimPrefix(w.Body.String(), "private:")
			if tc.want == "" && w.Code != 401 || tc.want != "" && (w.Code != 200 || got != tc.want) {
				t.Fatalf("status %d %q, want %q", w.Code, got, tc.want)
			}
		})
	}
}

// A cookie answered from the verified-value cache is trusted for
// verifiedTTL only. The Middleware takes the cached answer without reading
// the clock; load, which reads it anyway, checks the entry's age and
// verifies an older one again, so a stale entry never decides who the
// request is. Each case plants an entry that names bob's session under
// alice's cookie (or under a value no key signed).
func TestLoadVerifiesAgainACookieCachedPastItsTTL(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	alice, bob := h.login("alice"), h.login("bob")
	bobEntry, ok := h.m.signer.verifyUnaged(bob)
	if !ok {
		t.Fatal("bob's cookie does not verify")
	}
	unsigned := alice[:len(alice)-4] + "AAAA"
	if unsigned == alice {
		unsigned = alice[:len(alice)-4] + "BBBB"
	}
	for _, tc := range []struct {
		name  string
		value string
		stale bool
		want  string
	}{
		{"a fresh entry is believed (the planted entry counts)", alice, false, "bob"},
		{"a stale entry is verified again", alice, true, "alice"},
		{"a fresh entry for a value no key signed is believed", unsigned, false, "bob"},
		{"a stale entry for a value no key signed is anonymous", unsigned, true, ""},
	} {
		e := *bobEntry
		e.value = tc.value
		e.sum = maphash.String(h.m.signer.seed, tc.value)
		e.until = monoNow() + int64(time.Hour)
		if tc.stale {
			e.until = monoNow() - 1
		}
		h.m.signer.cache[e.sum&(verifiedSlots-1)].Store(&e)
		if got := h.whoami(tc.value); got != tc.want {
			t.Errorf("%s: whoami = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// A request the browser sent with its old cookie just before the answer to
// a Login or a renewal reached it (a poll, another tab, a stylesheet)
// arrives late: it is anonymous, and its answer leaves the cookie alone,
// since deleting it would delete the new one the browser now holds. Once
// the renewal's moment has passed, or when the token ended by a sign-out,
// the stale cookie is expired as always.
func TestALateRequestDoesNotDeleteTheCookieOfALoginOrRenewal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		replace  func(h *harness, old string) string // returns the new cookie
		keepsOld bool                                // the old cookie's answer leaves it alone
	}{
		{"login over an anonymous session", func(h *harness, old string) string { return h.login("alice", old) }, true},
		{"login over a signed-in session", func(h *harness, old string) string { return h.login("bob", old) }, true},
		{"renew", func(h *harness, old string) string {
			return sessionCookie(h.t, h.do("POST", "/renew", old), h.m.cookie.Name).Value
		}, true},
		{"logout others", func(h *harness, old string) string {
			return sessionCookie(h.t, h.do("POST", "/logout-others", old), h.m.cookie.Name).Value
		}, true},
		{"logout", func(h *harness, old string) string { h.do("POST", "/logout", old); return "" }, false},
	}
	for _, tc := range tests {
		for _, path := range []string{"/whoami", "/no-session-use"} {
			t.Run(tc.name+path, func(t *testing.T) {
				t.Parallel()
				h := newHarness(t, nil)
				var old string
				if strings.HasPrefix(tc.name, "login over an anonymous") {
					old = sessionCookie(t, h.do("GET", "/set?k=cart&v=1"), h.m.cookie.Name).Value
				} else {
					old = h.login("carol")
				}
				tc.replace(h, old)
				w := h.do("GET", path, old)
				c := sessionCookie(t, w, h.m.cookie.Name)
				if w.Body.String() != "" && path == "/whoami" {
					t.Fatalf("the late request was signed in as %q", w.Body.String())
				}
				if tc.keepsOld && c != nil {
					t.Fatalf("the late request's answer sets the cookie: %+v", c)
				}
				if !tc.keepsOld && !isExpiry(c) {
					t.Fatalf("a signed-out cookie was not expired: %+v", c)
				}
				h.clock.Advance(h.m.successorLife())
				if c := sessionCookie(t, h.do("GET", path, old), h.m.cookie.Name); !isExpiry(c) {
					t.Fatalf("after the renewal's moment the stale cookie was not expired: %+v", c)
				}
			})
		}
	}
}

// A response that depends on the session the handler used carries Vary:
// Cookie even when it sets no cookie, so that a shared cache never serves
// one visitor's page to another; one that never looked at the session
// does not.
func TestAResponseThatUsedTheSessionVariesOnTheCookie(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.login("alice")
	tests := []struct {
		path string
		want bool
	}{
		{"/whoami", true},
		{"/get?k=x", true},
		{"/no-session-use", false},
	}
	for _, tc := range tests {
		w := h.do("GET", tc.path, c)
		if got := slices.Contains(w.Header().Values("Vary"), "Cookie"); got != tc.want {
			t.Errorf("GET %s: Vary %q, want Cookie: %v", tc.path, w.Header().Values("Vary"), tc.want)
		}
		if n := len(w.Header().Values("Vary")); n > 1 {
			t.Errorf("GET %s: Vary %q given twice", tc.path, w.Header().Values("Vary"))
		}
	}
}

// A late request whose handler sets a value (a CSRF token, a flash) does
// not start a new anonymous session: its cookie would replace the one the
// Login just sent. The value is dropped.
func TestALateRequestThatSetsAValueKeepsTheNewCookie(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	old := h.login("carol")
	h.login("alice", old)
	w := h.do("GET", "/set?k=csrf&v=1", old)
	if c := sessionCookie(t, w, h.m.cookie.Name); c != nil {
		t.Fatalf("the late request's answer replaces the login cookie: %s=%.12s... MaxAge=%d", c.Name, c.Value, c.MaxAge)
	}
}

// The usual Unauthenticated handler that remembers where to come back to:
// a late request to a protected page is refused, and its answer leaves the
// renewed cookie alone.
func TestALateRequestToAProtectedPageKeepsTheNewCookie(t *testing.T) {
	t.Parallel()
	var m *Manager
	h := newHarness(t, func(c *Config) {
		c.Unauthenticated = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			FromContext(r.Context()).Set("return_to", r.URL.Path)
			http.Redirect(w, r, "/login", http.StatusSeeOther)
		})
	})
	m = h.m
	old := h.login("carol")
	nw := sessionCookie(t, h.do("POST", "/renew", old), m.cookie.Name).Value
	w := h.do("GET", "/private", old)
	if c := sessionCookie(t, w, m.cookie.Name); c != nil {
		t.Fatalf("the late request's answer replaces the renewed cookie (%.8s...) with an anonymous one (%.8s..., MaxAge=%d)", nw, c.Value, c.MaxAge)
	}
}

// A request of another tab that read its session just before a renewal on
// this instance deleted the record, and saves after it (a value set, or
// the idle window due), does not expire the cookie either.
func TestARequestInFlightDuringARenewalDoesNotDeleteTheNewCookie(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		use  func(h *harness, s *Session)
	}{
		{"sets a value", func(h *harness, s *Session) { s.Set("seen", "1") }},
		{"idle window due", func(h *harness, s *Session) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil)
			old := h.login("carol")
			if tc.name == "idle window due" {
				h.clock.Advance(16 * time.Minute) // past half the 30-minute idle timeout
			}
			var renewed string
			app := h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s := FromContext(r.Context())
				if s.UserID() != "carol" { // loaded now
					t.Fatalf("in-flight request is %q", s.UserID())
				}
				// Meanwhile the other tab's renewal completes.
				renewed = sessionCookie(t, h.do("POST", "/renew", old), h.m.cookie.Name).Value
				tc.use(h, s)
				w.Write([]byte("ok"))
			}))
			r := httptest.NewRequest("GET", "/poll", nil)
			r.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: old})
			rec := httptest.NewRecorder()
			app.ServeHTTP(rec, r)
			if renewed == "" {
				t.Fatal("no renewal")
			}
			if c := sessionCookie(t, rec, h.m.cookie.Name); isExpiry(c) {
				t.Fatalf("the in-flight request's answer expires the cookie (the renewed one in the browser): %v", c)
			}
		})
	}
}
