package session

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLoginThenAuthenticatedRead(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.login("alice")
	if got := h.whoami(c); got != "alice" {
		t.Fatalf("whoami = %q, want alice", got)
	}
	if w := h.do("GET", "/private", c); w.Code != 200 || w.Body.String() != "private:alice" {
		t.Fatalf("private = %d %q", w.Code, w.Body)
	}
}

func TestS1_TokensAre32RandomBytes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	seen := map[string]bool{}
	for range 50 {
		c := h.login("u")
		tok, _, ok := h.m.signer.verifyBytes(c)
		if !ok || len(tok) != 32 {
			t.Fatalf("token of %d bytes (verified %v)", len(tok), ok)
		}
		if seen[string(tok)] {
			t.Fatal("token repeated")
		}
		seen[string(tok)] = true
		// The cookie value is URL-safe base64 (no padding-sensitive characters).
		if _, err := base64.URLEncoding.DecodeString(c); err != nil {
			t.Fatalf("cookie value is not base64url: %v", err)
		}
	}
}

func TestS2_StoreKeyIsHashAndHashIsNotAToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.login("alice")
	tok, _, _ := h.m.signer.verifyBytes(c)
	entries, _ := h.mem.ListUser(context.Background(), "alice")
	if len(entries) != 1 {
		t.Fatalf("%d entries", len(entries))
	}
	key := entries[0].Key
	if key != storeKey(tok) || len(key) != 64 || strings.Contains(key, string(tok)) {
		t.Fatalf("store key %q is not hex SHA-256 of the token", key)
	}
	for i := range h.mem.shards {
		for k := range h.mem.shards[i].records {
			if strings.Contains(k, base64.RawURLEncoding.EncodeToString(tok)) {
				t.Fatal("raw token found in the store")
			}
		}
	}
	// A cookie carrying the store key (even validly signed) is not a session.
	hashBytes, _ := hexDecode(key)
	forged, err := h.m.signer.sign(hashBytes)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.whoami(forged); got != "" {
		t.Fatalf("the store key worked as a token: %q", got)
	}
}

func TestS3_SignatureVerifiedBeforeStoreAndBoundToName(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.login("alice")
	before := h.store.gets.Load()
	tampered := []byte(c)
	tampered[len(tampered)/2] ^= 1
	for _, v := range []string{string(tampered), c[:len(c)-2], c + "A"} {
		if got := h.whoami(v); got != "" {
			t.Fatalf("tampered cookie accepted as %q", got)
		}
	}
	if n := h.store.gets.Load() - before; n != 0 {
		t.Fatalf("%d store reads for cookies that do not verify", n)
	}
	// The same value under another cookie name does not verify.
	other, err := NewKeyRing(testKeyA)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := other.newSigner("other", time.Hour).verifyBytes(c); ok {
		t.Fatal("a value signed for one cookie name verified under another")
	}
}

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

func mustVerify(t *testing.T, h *harness, v string) []byte {
	tok, _, ok := h.m.signer.verifyBytes(v)
	if !ok {
		t.Fatal("does not verify")
	}
	return tok
}

func TestS5_TokenNotAcceptedFromQueryOrForm(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.Bearer = true })
	c := h.login("alice")
	name := h.m.cookie.Name
	for _, target := range []string{"/whoami?" + name + "=" + c, "/whoami?token=" + c, "/whoami?access_token=" + c} {
		if got := h.do("GET", target).Body.String(); got != "" {
			t.Fatalf("%s authenticated as %q", target, got)
		}
	}
	r := httptest.NewRequest("POST", "/whoami", strings.NewReader(name+"="+c))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	h.app.ServeHTTP(w, r)
	if w.Body.String() != "" {
		t.Fatal("token accepted from a form")
	}
}

func TestBearerToken(t *testing.T) {
	t.Parallel()
	for _, enabled := range []bool{false, true} {
		h := newHarness(t, func(c *Config) { c.Bearer = enabled })
		c := h.login("bob")
		r := httptest.NewRequest("GET", "/private", nil)
		r.Header.Set("Authorization", "Bearer "+c)
		w := httptest.NewRecorder()
		h.app.ServeHTTP(w, r)
		if enabled && w.Code != 200 {
			t.Fatalf("bearer enabled: %d", w.Code)
		}
		if !enabled && w.Code != 401 {
			t.Fatalf("bearer disabled: %d", w.Code)
		}
		if enabled && w.Header().Get("Set-Cookie") != "" {
			t.Fatal("bearer read set a cookie")
		}
	}
}

func TestTokenForBearerClients(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.Bearer = true })
	var token string
	app := h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h.m.Login(w, r, "api-user"); err != nil {
			t.Error(err)
		}
		token = FromContext(r.Context()).Token()
	}))
	app.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/", nil))
	if token == "" {
		t.Fatal("no token after Login")
	}
	r := httptest.NewRequest("GET", "/whoami", nil)
	r.Header.Set("Authorization", "bearer "+token)
	w := httptest.NewRecorder()
	h.app.ServeHTTP(w, r)
	if w.Body.String() != "api-user" {
		t.Fatalf("bearer token from Token() = %q", w.Body)
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

func TestS7_CookieTossing(t *testing.T) {
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
	if c.MaxAge <= 0 || c.MaxAge > int(DefaultRememberMeLifetime/time.Second) {
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

func TestS12_LogsNeverContainSecrets(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := newHarness(t, func(c *Config) { c.Logger = logger })
	c := h.login("alice")
	tok := mustVerify(t, h, c)
	key := storeKey(tok)
	// Corrupt the record, fail the store, send several live cookies: every
	// path that logs.
	bob := h.login("bob")
	h.do("GET", "/whoami", c, bob)
	h.store.fail.Store(true)
	h.do("GET", "/private", c)
	h.do("GET", "/set?k=a&v=b", c)
	h.store.fail.Store(false)
	sh := h.mem.shard(key)
	sh.mu.Lock()
	sh.records[key] = Record{UserID: "alice", Expires: h.clock.Now().Add(time.Hour), Data: []byte{9, 9}}
	sh.mu.Unlock()
	h.do("GET", "/whoami", c)
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	if !strings.Contains(out, "corrupt") || !strings.Contains(out, "store read failed") {
		t.Fatalf("expected log lines missing:\n%s", out)
	}
	secrets := []string{c, bob, key, string(testKeyA), base64.RawURLEncoding.EncodeToString(tok), base64.URLEncoding.EncodeToString(tok), hexEncode(tok)}
	if s := containsAny(out, secrets...); s != "" {
		t.Fatalf("log contains a secret:\n%s", out)
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestS13_LoginIssuesNewTokenAndDeletesOld(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	// Anonymous session with data.
	w := h.do("GET", "/set?k=cart&v=42")
	anon := sessionCookie(t, w, h.m.cookie.Name).Value
	alice := h.login("alice", anon)
	if alice == anon {
		t.Fatal("Login kept the session token (fixation)")
	}
	if got := h.do("GET", "/get?k=cart", alice).Body.String(); got != "42" {
		t.Fatalf("anonymous data lost at login: %q", got)
	}
	if got := h.do("GET", "/get?k=cart", anon).Body.String(); got != "" {
		t.Fatalf("old token still works: %q", got)
	}
	// Re-login of the same user keeps data, with a new token.
	alice2 := h.login("alice", alice)
	if alice2 == alice || h.do("GET", "/get?k=cart", alice2).Body.String() != "42" {
		t.Fatal("same-user re-login lost data or kept the token")
	}
	if h.whoami(alice) != "" {
		t.Fatal("token from before re-login still works")
	}
}

func TestS13_LoginWipesOtherUsersData(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	alice := h.login("alice")
	h.do("GET", "/set?k=secret&v=alice-data", alice)
	bob := h.login("bob", alice)
	if got := h.do("GET", "/get?k=secret", bob).Body.String(); got != "" {
		t.Fatalf("bob inherited alice's data: %q", got)
	}
	if h.whoami(bob) != "bob" || h.whoami(alice) != "" {
		t.Fatal("wrong users after switching")
	}
}

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
	if n := h.mem.Len(); n != 0 {
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

func TestS16_IndexExpiresWithSessions(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.login("alice")
	h.clock.Advance(DefaultLifetime + time.Second)
	h.mem.Sweep()
	h.mem.usersMu.Lock()
	n := len(h.mem.users)
	h.mem.usersMu.Unlock()
	if n != 0 || h.mem.Len() != 0 {
		t.Fatalf("index has %d users, store %d records after expiry", n, h.mem.Len())
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
	h.clock.Advance(DefaultLifetime)
	// On access.
	h.whoami(cookies[0])
	if h.mem.Len() != 9 {
		t.Fatalf("expired record not removed on access: %d left", h.mem.Len())
	}
	// By the sweep.
	h.mem.Sweep()
	if h.mem.Len() != 0 {
		t.Fatalf("sweep left %d records", h.mem.Len())
	}
}

func TestS22_S39_MemoryStoreSweepsInBackground(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Now()}
	mem := NewMemoryStore(WithSweepInterval(time.Minute))
	mem.now = clk.Now
	mem.nextSweep.Store(clk.Now().Add(time.Minute).UnixNano())
	ctx := context.Background()
	for i := range 100 {
		mem.Create(ctx, hexEncode([]byte{byte(i)}), Record{Expires: clk.Now().Add(time.Second)})
	}
	clk.Advance(2 * time.Minute)
	mem.Create(ctx, "trigger", Record{Expires: clk.Now().Add(time.Hour)})
	deadline := time.Now().Add(5 * time.Second)
	for mem.Len() != 1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if mem.Len() != 1 {
		t.Fatalf("background sweep left %d records, want 1", mem.Len())
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
	h.clock.Advance(DefaultIdleTimeout + time.Minute)
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
			if h.mem.Len() != 0 || h.whoami(c) != "" {
				t.Fatal("the slow request resurrected the session")
			}
			if sc := sessionCookie(t, w, h.m.cookie.Name); !isExpiry(sc) {
				t.Fatalf("slow request after logout sent cookie %+v, want expiry", sc)
			}
		})
	}
}

func TestS36_StoreOutage(t *testing.T) {
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

func TestS38_StoreWriteCompletesBeforeHeaders(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	var storedAtHeaders int
	app := h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h.m.Login(w, r, "alice"); err != nil {
			t.Error(err)
		}
		FromContext(r.Context()).Set("k", "v")
		http.Redirect(w, r, "/", http.StatusSeeOther)
	}))
	rec := &headerHook{ResponseRecorder: httptest.NewRecorder(), onHeader: func() {
		list, _ := h.mem.ListUser(context.Background(), "alice")
		storedAtHeaders = len(list)
		if len(list) == 1 {
			if v, _ := decodeValuesOf(list[0].Data); v["k"] != "v" {
				storedAtHeaders = -1
			}
		}
	}}
	app.ServeHTTP(rec, httptest.NewRequest("POST", "/login", nil))
	if storedAtHeaders != 1 {
		t.Fatalf("at WriteHeader the store held %d sessions of alice (with data: %v)", storedAtHeaders, storedAtHeaders != -1)
	}
}

func decodeValuesOf(data []byte) (map[string]string, error) {
	_, raw, err := decodeHeader(data)
	if err != nil {
		return nil, err
	}
	return decodeValues(raw)
}

type headerHook struct {
	*httptest.ResponseRecorder
	onHeader func()
}

func (h *headerHook) WriteHeader(code int) {
	h.onHeader()
	h.ResponseRecorder.WriteHeader(code)
}

func TestB14_MiddlewareTwiceIsHarmless(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.login("alice")
	app := h.m.Middleware(h.m.Middleware(h.routes()))
	r := httptest.NewRequest("GET", "/set?k=a&v=b", nil)
	r.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: c})
	updates := h.store.updates.Load()
	w := httptest.NewRecorder()
	app.ServeHTTP(w, r)
	if h.store.updates.Load()-updates != 1 || w.Code != 200 {
		t.Fatalf("double middleware: %d updates, status %d", h.store.updates.Load()-updates, w.Code)
	}
}

func TestB10_PanicDoesNotCommit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.login("alice")
	app := h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		FromContext(r.Context()).Set("k", "v")
		panic("boom")
	}))
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: c})
	writes := h.store.writes()
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Fatalf("panic = %v, want it to propagate", p)
			}
		}()
		app.ServeHTTP(httptest.NewRecorder(), r)
	}()
	if h.store.writes() != writes {
		t.Fatal("a panicking handler's session was committed")
	}
}

func TestMissingMiddleware(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	r := httptest.NewRequest("GET", "/", nil)
	w := httptest.NewRecorder()
	s := FromContext(r.Context())
	if s == nil || s.UserID() != "" {
		t.Fatal("FromContext outside the middleware")
	}
	if err := s.Err(); !errors.Is(err, ErrNoMiddleware) {
		t.Fatalf("detached session's Err = %v, want ErrNoMiddleware", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("Set on a detached session did not panic in a test binary")
			}
		}()
		s.Set("a", "b")
	}()
	for name, err := range map[string]error{
		"Login":        h.m.Login(w, r, "alice"),
		"Logout":       h.m.Logout(w, r),
		"Renew":        h.m.Renew(w, r),
		"LogoutOthers": h.m.LogoutOthers(w, r),
	} {
		if !errors.Is(err, ErrNoMiddleware) {
			t.Fatalf("%s without middleware = %v", name, err)
		}
	}
	// RequireAuth alone applies the middleware.
	c := h.login("alice")
	rr := httptest.NewRequest("GET", "/", nil)
	rr.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: c})
	w = httptest.NewRecorder()
	h.m.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(FromContext(r.Context()).UserID()))
	})).ServeHTTP(w, rr)
	if w.Body.String() != "alice" {
		t.Fatalf("RequireAuth without Middleware: %d %q", w.Code, w.Body)
	}
}

func TestRequireAuthDefault401(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	w := h.do("GET", "/private")
	if w.Code != 401 || strings.TrimSpace(w.Body.String()) != `{"error":"not authenticated"}` || w.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("401: %d %q %v", w.Code, w.Body, w.Header())
	}
	h.store.fail.Store(true)
	c := h.login
	_ = c
	forged, _ := h.m.signer.sign(newToken())
	w = h.do("GET", "/private", forged)
	if w.Code != 503 || strings.TrimSpace(w.Body.String()) != `{"error":"session store unavailable"}` {
		t.Fatalf("503: %d %q", w.Code, w.Body)
	}
}

func TestChangesAfterHeadersAreSaved(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.login("alice")
	app := h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("body first"))
		FromContext(r.Context()).Set("late", "yes")
		if err := h.m.Login(w, r, "bob"); !errors.Is(err, ErrHeadersWritten) {
			t.Errorf("Login after the body = %v", err)
		}
	}))
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: c})
	app.ServeHTTP(httptest.NewRecorder(), r)
	if got := h.do("GET", "/get?k=late", c).Body.String(); got != "yes" || h.whoami(c) != "alice" {
		t.Fatalf("late change lost: %q", got)
	}
}

func TestFlushAndHijackThroughResponseController(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	srv := httptest.NewServer(h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if r.URL.Path == "/hijack" {
			conn, buf, err := rc.Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
			buf.Flush()
			conn.Close()
			return
		}
		FromContext(r.Context()).Set("k", "v")
		w.Write([]byte("a"))
		if err := rc.Flush(); err != nil {
			t.Error(err)
		}
		if _, ok := w.(http.Flusher); !ok {
			t.Error("not a Flusher")
		}
	})))
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL + "/flush")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if len(res.Cookies()) != 1 {
		t.Fatal("flushing handler's session not committed before the flush")
	}
	res, err = srv.Client().Get(srv.URL + "/hijack")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatal(res.Status)
	}
}

func TestSessionsAndLogoutSession(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	a1 := h.login("alice")
	a2 := h.login("alice")
	list, err := h.m.ListSessions(context.Background(), "alice")
	if err != nil || len(list) != 2 {
		t.Fatalf("Sessions = %v, %v", list, err)
	}
	var id string
	app := h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id = FromContext(r.Context()).ID()
	}))
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: a1})
	app.ServeHTTP(httptest.NewRecorder(), r)
	found := false
	for _, s := range list {
		if len(s.ID) != 16 || s.Created.IsZero() || s.LastSeen.Before(s.Created) {
			t.Fatalf("bad SessionInfo %+v", s)
		}
		found = found || s.ID == id
	}
	if !found {
		t.Fatal("Session.ID does not match SessionInfo.ID")
	}
	if err := h.m.LogoutSession(context.Background(), "alice", id); err != nil {
		t.Fatal(err)
	}
	if h.whoami(a1) != "" || h.whoami(a2) != "alice" {
		t.Fatal("LogoutSession ended the wrong session")
	}
	if err := h.m.LogoutSession(context.Background(), "bob", id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("LogoutSession of another user's ID = %v", err)
	}
}

func TestTypedValues(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	type cart struct {
		Items []string
		Total int
	}
	var cookie string
	app := h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		if r.URL.Path == "/put" {
			if err := Put(s, "cart", cart{Items: []string{"a", "b"}, Total: 3}); err != nil {
				t.Error(err)
			}
			Put(s, "n", 42)
			s.Set("flash", "hello")
			return
		}
		c, ok, err := Value[cart](s, "cart")
		n, _, _ := Value[int](s, "n")
		_, missing, _ := Value[int](s, "nope")
		_, _, wrongType := Value[int](s, "cart")
		if !ok || err != nil || c.Total != 3 || len(c.Items) != 2 || n != 42 || missing || wrongType == nil {
			t.Errorf("Value: %+v %v %v n=%d", c, ok, err, n)
		}
		if s.Pop("flash") != "hello" || s.Get("flash") != "" {
			t.Error("Pop")
		}
		if k := s.Keys(); strings.Join(k, ",") != "cart,n" {
			t.Errorf("Keys = %v", k)
		}
	}))
	w := httptest.NewRecorder()
	app.ServeHTTP(w, httptest.NewRequest("GET", "/put", nil))
	cookie = sessionCookie(t, w, h.m.cookie.Name).Value
	r := httptest.NewRequest("GET", "/get", nil)
	r.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: cookie})
	app.ServeHTTP(httptest.NewRecorder(), r)
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

// replacingStore adds Replacer to a countingStore.
type replacingStore struct {
	*countingStore
	replaces int
}

func (r *replacingStore) Replace(ctx context.Context, oldKey, newKey string, rec Record) error {
	r.replaces++
	if err := r.Store.Delete(ctx, oldKey); err != nil {
		return err
	}
	return r.Store.Create(ctx, newKey, rec)
}

func TestLoginUsesReplacer(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	rs := &replacingStore{countingStore: h.store}
	h.m.store = rs
	first := h.login("alice")
	second := h.login("alice", first)
	if rs.replaces != 1 || h.store.deletes.Load() != 0 {
		t.Fatalf("re-login: %d replaces, %d deletes; want one Replace", rs.replaces, h.store.deletes.Load())
	}
	if h.whoami(first) != "" || h.whoami(second) != "alice" {
		t.Fatal("Replace did not swap the sessions")
	}
}

func TestRequestContextKeepsParentValuesAndCancellation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	type key struct{}
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	var ctx context.Context
	app := h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx = r.Context()
	}))
	app.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil).WithContext(parent))
	if ctx.Value(key{}) != "v" || FromContext(ctx) == nil || FromContext(ctx).detached {
		t.Fatal("the handler's context lost the parent's value or the session")
	}
	derived, stop := context.WithCancel(ctx)
	defer stop()
	fired := make(chan struct{})
	context.AfterFunc(ctx, func() { close(fired) })
	cancel()
	<-derived.Done()
	<-fired
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatalf("ctx.Err() = %v", ctx.Err())
	}
}
