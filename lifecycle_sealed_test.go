package session

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// newCookieOnlyHarness is newHarness with a cookie-only Manager. Its
// counting store is not the Manager's: every test checks it stays unused.
func newCookieOnlyHarness(t *testing.T, mod func(*Config)) *harness {
	t.Helper()
	h := newHarness(t, func(c *Config) {
		c.Store, c.CookieOnly = nil, true
		if mod != nil {
			mod(c)
		}
	})
	t.Cleanup(func() {
		if n := h.store.calls(); n != 0 {
			t.Errorf("%d store calls in cookie-only mode", n)
		}
	})
	return h
}

// cookieOf returns the value of the session Set-Cookie of w, or fails.
func (h *harness) cookieOf(w *httptest.ResponseRecorder) string {
	h.t.Helper()
	c := sessionCookie(h.t, w, h.m.cookie.Name)
	if c == nil || c.Value == "" {
		h.t.Fatalf("no session cookie set (status %d, %s)", w.Code, w.Body)
	}
	return c.Value
}

func noSessionCookie(t *testing.T, h *harness, w *httptest.ResponseRecorder) {
	t.Helper()
	if c := sessionCookie(t, w, h.m.cookie.Name); c != nil {
		t.Fatalf("unexpected Set-Cookie: %s", c)
	}
}

func TestCookieOnlyLoginReadAndWrite(t *testing.T) {
	t.Parallel()
	h := newCookieOnlyHarness(t, nil)
	c := h.login("alice")
	if _, _, _, ok := h.m.testSealer().open(c); !ok {
		t.Fatal("the login cookie is not a sealed session")
	}
	if got := h.whoami(c); got != "alice" {
		t.Fatalf("whoami = %q", got)
	}
	// An unchanged request sends no Set-Cookie.
	w := h.do("GET", "/whoami", c)
	noSessionCookie(t, h, w)
	// A change reseals, and the new cookie carries it.
	c2 := h.cookieOf(h.do("GET", "/set?k=cart&v=42", c))
	if c2 == c {
		t.Fatal("the changed session kept its cookie")
	}
	if got := h.do("GET", "/get?k=cart", c2).Body.String(); got != "42" {
		t.Fatalf("value = %q", got)
	}
	if got := h.whoami(c2); got != "alice" {
		t.Fatalf("whoami after a change = %q", got)
	}
	// Setting the value it already has changes nothing.
	noSessionCookie(t, h, h.do("GET", "/set?k=cart&v=42", c2))
}

func TestCookieOnlyAnonymousValuesStartASession(t *testing.T) {
	t.Parallel()
	h := newCookieOnlyHarness(t, nil)
	c := h.cookieOf(h.do("GET", "/set?k=theme&v=dark"))
	if got := h.do("GET", "/get?k=theme", c).Body.String(); got != "dark" {
		t.Fatalf("value = %q", got)
	}
	if got := h.whoami(c); got != "" {
		t.Fatalf("anonymous session signed in as %q", got)
	}
	// Login keeps the anonymous values and changes the cookie and the ID.
	w := h.do("POST", "/login?user=alice", c)
	c2 := h.cookieOf(w)
	if got := h.do("GET", "/get?k=theme", c2).Body.String(); got != "dark" {
		t.Fatalf("value after login = %q", got)
	}
	if h.sessionID(c) == h.sessionID(c2) {
		t.Fatal("Login kept the session ID")
	}
	// No value, no session: nothing is sent.
	noSessionCookie(t, h, h.do("GET", "/whoami"))
}

// sessionID returns Session.ID of a request carrying cookie c.
func (h *harness) sessionID(c string) string {
	h.t.Helper()
	var id string
	app := h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id = FromContext(r.Context()).ID()
	}))
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: c})
	app.ServeHTTP(httptest.NewRecorder(), r)
	return id
}

func TestS54_S13_CookieOnlyLoginAlwaysChangesTheCookie(t *testing.T) {
	t.Parallel()
	h := newCookieOnlyHarness(t, nil)
	a := h.login("alice")
	a2 := h.login("alice", a)
	if a2 == a || h.sessionID(a2) == h.sessionID(a) || h.sessionID(a) == "" {
		t.Fatal("a second Login of the same user kept the cookie or its ID")
	}
	// Another user's values do not survive Login.
	withCart := h.cookieOf(h.do("GET", "/set?k=cart&v=42", a2))
	b := h.login("bob", withCart)
	if got := h.do("GET", "/get?k=cart", b).Body.String(); got != "" {
		t.Fatalf("bob got alice's value %q", got)
	}
	if got := h.whoami(b); got != "bob" {
		t.Fatalf("whoami = %q", got)
	}
}

func TestS54_CookieOnlyLogoutExpiresTheCookieButNotItsCopies(t *testing.T) {
	t.Parallel()
	h := newCookieOnlyHarness(t, func(c *Config) { c.ClearSiteData = true })
	c := h.login("alice")
	w := h.do("POST", "/logout", c)
	if w.Code != http.StatusNoContent {
		t.Fatalf("logout: %d", w.Code)
	}
	if got := sessionCookie(t, w, h.m.cookie.Name); !isExpiry(got) {
		t.Fatalf("logout did not expire the cookie: %+v", got)
	}
	if w.Header().Get("Clear-Site-Data") == "" {
		t.Fatal("ClearSiteData not sent")
	}
	// The trade-off the README states: a copy stays valid until it expires.
	if got := h.whoami(c); got != "alice" {
		t.Fatalf("a copied cookie after logout: %q (the documented behaviour is that it still works)", got)
	}
}

func TestS54_S21_CookieOnlyIdleTimeoutAndExtension(t *testing.T) {
	t.Parallel()
	h := newCookieOnlyHarness(t, func(c *Config) { c.IdleTimeout, c.Lifetime = 10*time.Minute, time.Hour })
	c := h.login("alice")
	// Before half the idle window: no reseal.
	h.clock.Advance(4 * time.Minute)
	noSessionCookie(t, h, h.do("GET", "/whoami", c))
	// Past half of it: resealed once, with the deadline moved.
	h.clock.Advance(2 * time.Minute)
	w := h.do("GET", "/whoami", c)
	c2 := h.cookieOf(w)
	if w.Body.String() != "alice" {
		t.Fatalf("whoami = %q", w.Body)
	}
	noSessionCookie(t, h, h.do("GET", "/whoami", c2))
	// The old cookie ends at its own deadline, the new one later.
	h.clock.Advance(5 * time.Minute) // 11 min after login, 5 after the reseal
	if got := h.whoami(c); got != "" {
		t.Fatalf("the old cookie outlived its idle deadline: %q", got)
	}
	if got := h.whoami(c2); got != "alice" {
		t.Fatalf("the extended cookie ended: %q", got)
	}
	// Unused for the whole window: ended, and the lone cookie is expired.
	h.clock.Advance(10 * time.Minute)
	w = h.do("GET", "/whoami", c2)
	if w.Body.String() != "" {
		t.Fatal("signed in past the idle timeout")
	}
	if got := sessionCookie(t, w, h.m.cookie.Name); !isExpiry(got) {
		t.Fatalf("the ended cookie was not expired: %+v", got)
	}
	if h.do("GET", "/private", c2).Code != http.StatusUnauthorized {
		t.Fatal("RequireAuth let an ended session in")
	}
}

func TestS54_S20_CookieOnlyAbsoluteLifetimeNotExtended(t *testing.T) {
	t.Parallel()
	h := newCookieOnlyHarness(t, func(c *Config) { c.IdleTimeout, c.Lifetime = 10*time.Minute, 30*time.Minute })
	c := h.login("alice")
	for range 4 { // active every 6 minutes, resealed each time
		h.clock.Advance(6 * time.Minute)
		w := h.do("GET", "/whoami", c)
		if w.Body.String() != "alice" {
			t.Fatalf("ended early at %v", h.clock.Now())
		}
		if next := sessionCookie(t, w, h.m.cookie.Name); next != nil {
			c = next.Value
		}
	}
	// An active session lives to its lifetime (the last reseal reached
	// it), and not a moment longer.
	h.clock.Advance(5 * time.Minute)
	if got := h.whoami(c); got != "alice" {
		t.Fatalf("ended before its lifetime: %q", got)
	}
	h.clock.Advance(time.Minute)
	if got := h.whoami(c); got != "" {
		t.Fatalf("signed in past the absolute lifetime: %q", got)
	}
}

// A cookie or record carries the timeouts it was created with; the current
// configuration's shorter ones bound it anyway, for its kind (normal or
// remember-me), however long the other kind's are.
func TestShorterConfiguredTimeoutsEndOlderSessions(t *testing.T) {
	t.Parallel()
	long := func(c *Config) {
		c.IdleTimeout, c.Lifetime = 24*time.Hour, 24*time.Hour
		c.RememberMeIdleTimeout, c.RememberMeLifetime = 24*time.Hour, 48*time.Hour
	}
	tests := []struct {
		name     string
		remember bool
		short    func(c *Config)
		after    time.Duration // since login; the long config keeps it signed in
	}{
		{"Lifetime", false, func(c *Config) { c.Lifetime = time.Second }, 2 * time.Second},
		{"IdleTimeout", false, func(c *Config) { c.IdleTimeout = time.Second }, 2 * time.Second},
		{"RememberMeLifetime", true, func(c *Config) { c.RememberMeLifetime = time.Hour }, 2 * time.Hour},
		{"RememberMeIdleTimeout", true, func(c *Config) { c.RememberMeIdleTimeout = time.Hour }, 2 * time.Hour},
	}
	for _, mode := range []string{"cookie-only", "server-side"} {
		for _, tt := range tests {
			t.Run(mode+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				mk := func(mod func(*Config)) *harness {
					if mode == "cookie-only" {
						return newCookieOnlyHarness(t, mod)
					}
					return newHarness(t, mod)
				}
				h := mk(long)
				target := "/login?user=alice"
				if tt.remember {
					target += "&remember=1"
				}
				c := h.cookieOf(h.do("POST", target))
				h.clock.Advance(tt.after)
				if got := h.whoami(c); got != "alice" {
					t.Fatalf("the long configuration ended the session: %q", got)
				}
				// The same keys (and store), one timeout shortened.
				short := mk(func(c *Config) { long(c); tt.short(c) })
				short.m.now = h.clock.Now
				if mode == "server-side" {
					short.m.setStore(newGuard(h.store, 0, nil))
				}
				if got := short.do("GET", "/whoami", c); got.Body.String() != "" || !isExpiry(sessionCookie(t, got, short.m.cookie.Name)) {
					t.Fatalf("a session older than the configured %s is signed in (%q), or its cookie was kept", tt.name, got.Body)
				}
			})
		}
	}
}

func TestCookieOnlyRememberMe(t *testing.T) {
	t.Parallel()
	h := newCookieOnlyHarness(t, nil)
	w := h.do("POST", "/login?user=alice&remember=1")
	c := sessionCookie(t, w, h.m.cookie.Name)
	if c == nil || c.MaxAge != int(defaultRememberMeLifetime/time.Second) {
		t.Fatalf("remember-me cookie: %+v", c)
	}
	plain := sessionCookie(t, h.do("POST", "/login?user=bob"), h.m.cookie.Name)
	if plain.MaxAge != 0 {
		t.Fatalf("a session without remember-me got Max-Age %d", plain.MaxAge)
	}
	// Remember-me's own idle timeout applies.
	h.clock.Advance(defaultIdleTimeout + time.Minute)
	if got := h.whoami(c.Value); got != "alice" {
		t.Fatalf("remember-me session ended at the normal idle timeout: %q", got)
	}
	if got := h.whoami(plain.Value); got != "" {
		t.Fatalf("normal session outlived its idle timeout: %q", got)
	}
}

func TestS54_S9_CookieOnlyRotationReseals(t *testing.T) {
	t.Parallel()
	ringB, _ := NewKeyRing(testKeyB)
	old := newCookieOnlyHarness(t, func(c *Config) { c.Keys = ringB })
	c := old.cookieOf(old.do("POST", "/login?user=alice&remember=1"))
	ringAB, _ := NewKeyRing(testKeyA, testKeyB)
	h := newCookieOnlyHarness(t, func(c *Config) { c.Keys = ringAB })
	w := h.do("GET", "/whoami", c)
	if w.Body.String() != "alice" {
		t.Fatalf("old-key cookie after rotation: %q", w.Body)
	}
	next := sessionCookie(t, w, h.m.cookie.Name)
	if next == nil || next.Value == c {
		t.Fatal("the old-key cookie was not resealed in the same response")
	}
	if _, _, idx, ok := h.m.testSealer().open(next.Value); !ok || idx != 0 {
		t.Fatalf("resealed under key %d (ok=%v), want the first", idx, ok)
	}
	if next.MaxAge <= 0 || !next.Secure || !next.HttpOnly || next.Path != "/" {
		t.Fatalf("resealed cookie lost its attributes: %+v", next)
	}
	if h.sessionID(next.Value) != h.sessionID(c) {
		t.Fatal("resealing changed the session ID")
	}
	noSessionCookie(t, h, h.do("GET", "/whoami", next.Value))
	// With the old key removed, the old cookie is anonymous, cleanly.
	ringA, _ := NewKeyRing(testKeyA)
	onlyNew := newCookieOnlyHarness(t, func(c *Config) { c.Keys = ringA })
	w = onlyNew.do("GET", "/private", c)
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("removed key: status %d", w.Code)
	}
	noSessionCookie(t, onlyNew, w)
}

func TestS54_CookieOnlyBadCookiesAreAnonymous(t *testing.T) {
	t.Parallel()
	h := newCookieOnlyHarness(t, nil)
	valid := h.login("alice")
	server := newHarness(t, nil)
	signed := server.login("alice")
	cases := map[string]string{
		"tampered":         valid[:20] + flip(valid[20]) + valid[21:],
		"truncated":        valid[:len(valid)-3],
		"oversized":        strings.Repeat("A", 5000),
		"garbled":          "%%%\x01",
		"server-side mode": signed,
	}
	for name, c := range cases {
		r := httptest.NewRequest("GET", "/private", nil)
		r.Header.Set("Cookie", h.m.cookie.Name+"="+c)
		w := httptest.NewRecorder()
		h.app.ServeHTTP(w, r)
		if w.Code != http.StatusUnauthorized {
			t.Errorf("%s: status %d", name, w.Code)
		}
		noSessionCookie(t, h, w)
	}
	// And the other way round: a sealed cookie means nothing to a
	// server-side Manager with the same keys.
	before := server.store.calls()
	if got := server.whoami(valid); got != "" {
		t.Fatalf("server-side mode accepted a sealed cookie: %q", got)
	}
	if server.store.calls() != before {
		t.Fatal("a sealed cookie cost the server-side mode a store call")
	}
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

func TestS54_S7_CookieOnlyCookieTossing(t *testing.T) {
	t.Parallel()
	h := newCookieOnlyHarness(t, nil)
	alice := h.login("alice")
	bob := h.login("bob")
	tests := []struct {
		name    string
		cookies []string
		want    string
	}{
		{"one", []string{alice}, "alice"},
		{"with junk", []string{"junk", alice, strings.Repeat("z", 4000)}, "alice"},
		{"twice the same", []string{alice, alice}, "alice"},
		{"two sessions", []string{bob, alice}, ""},
		{"too many", append(make([]string, maxSessionCookies), alice), ""},
	}
	for _, tt := range tests {
		for i := range tt.cookies {
			if tt.cookies[i] == "" {
				tt.cookies[i] = "x"
			}
		}
		if got := h.whoami(tt.cookies...); got != tt.want {
			t.Errorf("%s: whoami = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestS54_CookieOnlySetReportsATooLargeSession(t *testing.T) {
	t.Parallel()
	h := newCookieOnlyHarness(t, nil)
	var setErr, bigErr, putErr error
	var kept string
	app := h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		setErr = s.Set("note", strings.Repeat("n", 1000))
		bigErr = s.Set("big", strings.Repeat("b", 3000))
		putErr = Put(s, "list", make([]int, 2000))
		kept = s.Get("big")
	}))
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: h.login("alice")})
	w := httptest.NewRecorder()
	app.ServeHTTP(w, r)
	if setErr != nil {
		t.Fatalf("a 1000-byte value: %v", setErr)
	}
	if !errors.Is(bigErr, ErrCookieTooLarge) || !errors.Is(putErr, ErrCookieTooLarge) {
		t.Fatalf("Set: %v, Put: %v; want ErrCookieTooLarge", bigErr, putErr)
	}
	if kept != "" {
		t.Fatal("the value that does not fit was stored")
	}
	c := sessionCookie(t, w, h.m.cookie.Name)
	if c == nil || len(c.String()) > maxSetCookieLen {
		t.Fatalf("cookie: %v", c)
	}
	if got := h.do("GET", "/get?k=note", c.Value).Body.Len(); got != 1000 {
		t.Fatalf("the value that fits: %d bytes", got)
	}
}

func TestS54_CookieOnlyLoginReportsATooLargeSession(t *testing.T) {
	t.Parallel()
	h := newCookieOnlyHarness(t, nil)
	var anonErr, loginErr error
	app := h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		// Fill the anonymous session to the last byte.
		n := 2000
		for s.Set("fill", strings.Repeat("f", n)) == nil {
			n++
		}
		anonErr = s.Set("fill", strings.Repeat("f", n))
		loginErr = h.m.Login(w, r, strings.Repeat("u", 100))
	}))
	w := httptest.NewRecorder()
	app.ServeHTTP(w, httptest.NewRequest("POST", "/", nil))
	if !errors.Is(anonErr, ErrCookieTooLarge) || !errors.Is(loginErr, ErrCookieTooLarge) {
		t.Fatalf("Set: %v, Login: %v", anonErr, loginErr)
	}
	// The anonymous session that fits is still sent, not signed in.
	c := h.cookieOf(w)
	if len(sessionCookie(t, w, h.m.cookie.Name).String()) > maxSetCookieLen {
		t.Fatal("cookie beyond the browser limit")
	}
	if got := h.whoami(c); got != "" {
		t.Fatalf("signed in as %q after a failed Login", got)
	}
}

func TestCookieOnlyChangesAfterHeadersAreReported(t *testing.T) {
	t.Parallel()
	h := newCookieOnlyHarness(t, nil)
	var err error
	app := h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		err = FromContext(r.Context()).Set("late", "x")
	}))
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: h.m.cookie.Name, Value: h.login("alice")})
	app.ServeHTTP(httptest.NewRecorder(), r)
	if !errors.Is(err, ErrHeadersWritten) {
		t.Fatalf("Set after the headers: %v, want ErrHeadersWritten", err)
	}
}

func TestCookieOnlyCacheHeaders(t *testing.T) {
	t.Parallel()
	h := newCookieOnlyHarness(t, nil)
	w := h.do("POST", "/login?user=alice")
	if w.Header().Get("Cache-Control") != "no-store" || w.Header().Get("Vary") != "Cookie" {
		t.Fatalf("headers: %v", w.Header())
	}
}

// FuzzCookieOnlyHeader feeds arbitrary Cookie headers to a cookie-only
// Manager: never a panic or a 5xx, and signed in only with a cookie that
// opens as that user's session.
func FuzzCookieOnlyHeader(f *testing.F) {
	ring, _ := NewKeyRing(testKeyA)
	m, err := New(Config{Keys: ring, CookieOnly: true})
	if err != nil {
		f.Fatal(err)
	}
	login := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.Login(w, r, "fuzz-user")
	}))
	rec := httptest.NewRecorder()
	login.ServeHTTP(rec, httptest.NewRequest("POST", "/", nil))
	valid := rec.Result().Cookies()[0].Value
	name := m.cookie.Name
	for _, s := range []string{"", name + "=" + valid, name + "=\"" + valid + "\"", name + "=" + valid[:40], name + "=" + valid + "; " + name + "=x", "a=b; " + name + "=%%"} {
		f.Add(s)
	}
	var user string
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := FromContext(r.Context())
		user = s.UserID()
		s.Set("seen", "1")
	}))
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", header)
		user = ""
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("status %d", w.Code)
		}
		// Seeds may come from another process, which sealed its own
		// cookie: what counts is that a cookie of the header opens as
		// fuzz-user's session.
		sealed := false
		forEachCookie(r.Header, name, func(v string) bool {
			if p, _, _, ok := m.testSealer().open(v); ok && string(p.userID) == "fuzz-user" {
				sealed = true
			}
			return true
		})
		if user != "" && (user != "fuzz-user" || !sealed) {
			t.Fatalf("signed in as %q without a sealed cookie of that user", user)
		}
		if header == name+"="+valid && user != "fuzz-user" {
			t.Fatal("the valid cookie alone is not signed in")
		}
	})
}

func benchCookieOnly(b *testing.B) (*Manager, *http.Request) {
	b.Helper()
	ring, _ := NewKeyRing(testKeyA)
	m, err := New(Config{Keys: ring, CookieOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	login := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := m.Login(w, r, "user-1"); err != nil {
			b.Fatal(err)
		}
	}))
	w := httptest.NewRecorder()
	login.ServeHTTP(w, httptest.NewRequest("POST", "/login", nil))
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: m.cookie.Name, Value: w.Result().Cookies()[0].Value})
	return m, r
}

func BenchmarkCookieOnlyRead(b *testing.B) {
	m, r := benchCookieOnly(b)
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if FromContext(r.Context()).UserID() == "" {
			b.Fatal("not signed in")
		}
	}))
	runBench(b, h, r)
}

func BenchmarkCookieOnlyWrite(b *testing.B) {
	m, r := benchCookieOnly(b)
	n := 0
	vals := []string{"a", "b"}
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		if err := FromContext(r.Context()).Set("k", vals[n%2]); err != nil {
			b.Fatal(err)
		}
	}))
	runBench(b, h, r)
}

func BenchmarkCookieOnlyLogin(b *testing.B) {
	m, _ := benchCookieOnly(b)
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := m.Login(w, r, "user-2"); err != nil {
			b.Fatal(err)
		}
	}))
	runBench(b, h, httptest.NewRequest("POST", "/login", nil))
}

// TestCookieOnlySizesAsDocumented checks the README's numbers: about 110
// bytes for a signed-in session with a short user ID, about 2.8 KB of room
// for values, and the server-side token it is compared with.
func TestCookieOnlySizesAsDocumented(t *testing.T) {
	t.Parallel()
	h := newCookieOnlyHarness(t, nil)
	if n := len(h.login("42")); n < 100 || n > 120 {
		t.Fatalf("cookie-only cookie of %d bytes, README says about 110", n)
	}
	if n := len(newHarness(t, nil).login("42")); n != 120 {
		t.Fatalf("server-side token of %d bytes, README says 120", n)
	}
	room := 0
	for h.m.testSealer().checkSet("user-12345", "", nil, "k", strings.Repeat("v", room+1)) == nil {
		room++
	}
	if room < 2750 || room > 2900 {
		t.Fatalf("room for values: %d bytes, README says about 2.8 KB", room)
	}
}

// A session kept busy after IdleTimeout was shortened lives on under the
// shorter timeout: extending it must not apply the cut a second time (the
// stored record still carries the longer timeout it was created with).
func TestAnActiveSessionOutlivesAShortenedIdleTimeout(t *testing.T) {
	t.Parallel()
	long := func(c *Config) { c.IdleTimeout, c.Lifetime = 24*time.Hour, 48*time.Hour }
	for _, mode := range []string{"cookie-only", "server-side"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			mk := func(mod func(*Config)) *harness {
				if mode == "cookie-only" {
					return newCookieOnlyHarness(t, mod)
				}
				return newHarness(t, mod)
			}
			h := mk(long)
			c := h.cookieOf(h.do("POST", "/login?user=alice"))
			short := mk(func(c *Config) { long(c); c.IdleTimeout = time.Hour })
			short.m.now = h.clock.Now
			if mode == "server-side" {
				short.m.setStore(newGuard(h.store, 0, nil))
			}
			// A request every 20 minutes, for five hours: never idle for
			// as long as the shortened IdleTimeout.
			for i := range 15 {
				h.clock.Advance(20 * time.Minute)
				w := short.do("GET", "/whoami", c)
				if w.Body.String() != "alice" {
					t.Fatalf("request %d, %v after login: signed out (%q) although never idle for an hour", i+1, time.Duration(i+1)*20*time.Minute, w.Body)
				}
				if next := sessionCookie(t, w, short.m.cookie.Name); next != nil {
					c = next.Value
				}
			}
			// Unused for longer than the shortened timeout, it ends.
			h.clock.Advance(time.Hour)
			if got := short.whoami(c); got != "" {
				t.Fatalf("idle for an hour under a one-hour IdleTimeout, still signed in as %q", got)
			}
		})
	}
}

// A session filled near the cookie's limit, then served under cookie
// settings that leave less room (a Domain added on a deploy, a key
// rotation), is served as it is: the request that would only extend it or
// move it to the current key keeps the client's cookie, says so in the
// log, and is answered as usual, not with the ErrorHandler.
func TestCookieOnlySessionThatNoLongerFitsIsServedNotExtended(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		later func(*Config) // the next deploy's settings
		wait  time.Duration
	}{
		{"a longer Domain, extension due", func(c *Config) {
			c.Cookie.Domain = "accounts.eu-west-1.internal.corp.example.com"
		}, defaultRememberMeIdleTimeout/2 + time.Minute},
		{"a longer Domain and a new signing key", func(c *Config) {
			c.Cookie.Domain = "accounts.eu-west-1.internal.corp.example.com"
			c.Keys, _ = NewKeyRing(testKeyB, testKeyA)
		}, time.Minute},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base := func(c *Config) { c.Cookie = CookieOptions{Name: "sid", DisableSecure: true} }
			h := newCookieOnlyHarness(t, base)
			app := h.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if err := h.m.Login(w, r, "alice", RememberMe()); err != nil {
					t.Error(err)
				}
				s := FromContext(r.Context())
				for n := 2000; s.Set("cart", strings.Repeat("x", n)) == nil; n++ {
				}
			}))
			w := httptest.NewRecorder()
			app.ServeHTTP(w, httptest.NewRequest("POST", "/", nil))
			c := h.cookieOf(w)

			var logs strings.Builder
			later := newCookieOnlyHarness(t, func(cf *Config) {
				base(cf)
				tt.later(cf)
				cf.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			})
			later.m.now = h.clock.Now
			h.clock.Advance(tt.wait)
			for i := range 2 {
				w := later.do("GET", "/whoami", c)
				if w.Code != http.StatusOK || w.Body.String() != "alice" {
					t.Fatalf("request %d: %d %q, want 200 alice", i, w.Code, strings.TrimSpace(w.Body.String()))
				}
				noSessionCookie(t, later, w)
			}
			if !strings.Contains(logs.String(), "no longer fits") {
				t.Fatalf("log: %q, want a line saying the session no longer fits", logs.String())
			}
		})
	}
}

// A change that cannot be saved in cookie-only mode is answered by the
// default ErrorHandler as what it is, not as a store outage: the mode has
// no store.
func TestCookieOnlyDefaultErrorHandlerNamesATooLargeSession(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	defaultErrorHandler(w, httptest.NewRequest("GET", "/", nil), ErrCookieTooLarge)
	if w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), "session too large for its cookie") {
		t.Fatalf("ErrCookieTooLarge: %d %s", w.Code, w.Body)
	}
	w = httptest.NewRecorder()
	defaultErrorHandler(w, httptest.NewRequest("GET", "/", nil), fmt.Errorf("%w: down", ErrStoreUnavailable))
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "session store unavailable") {
		t.Fatalf("ErrStoreUnavailable: %d %s", w.Code, w.Body)
	}
}
