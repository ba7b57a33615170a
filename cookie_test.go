package session

import (
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestS24_S28_CookieDefaults(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := sessionCookie(t, h.do("POST", "/login?user=a"), defaultCookieName)
	if c == nil {
		t.Fatal("default cookie name not used")
	}
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" || c.MaxAge != 0 {
		t.Fatalf("default attributes: %+v", c)
	}
	lower := strings.ToLower(c.Name)
	for _, fingerprint := range []string{"go", "gorilla", "session", "scs", "connect", "koa", "phpsessid", "jsessionid"} {
		if strings.Contains(lower, fingerprint) {
			t.Fatalf("default cookie name %q names the stack (%s)", c.Name, fingerprint)
		}
	}
}

func TestS25_HostPrefixRules(t *testing.T) {
	t.Parallel()
	ring, _ := NewKeyRing(testKeyA)
	tests := []struct {
		name string
		opts CookieOptions
		want error
	}{
		{"default", CookieOptions{}, nil},
		{"host ok", CookieOptions{Name: "__Host-x"}, nil},
		{"host with domain", CookieOptions{Name: "__Host-x", Domain: "example.com"}, ErrInvalidConfig},
		{"host with path", CookieOptions{Name: "__Host-x", Path: "/app"}, ErrInvalidConfig},
		{"host insecure", CookieOptions{Name: "__Host-x", DisableSecure: true}, ErrInvalidConfig},
		{"secure prefix insecure", CookieOptions{Name: "__Secure-x", DisableSecure: true}, ErrInvalidConfig},
		{"bad name", CookieOptions{Name: "a b"}, ErrInvalidConfig},
		{"bad name semicolon", CookieOptions{Name: "a;b"}, ErrInvalidConfig},
		{"bad path", CookieOptions{Name: "a", Path: "/;x"}, ErrInvalidConfig},
		{"partitioned insecure", CookieOptions{Name: "a", Partitioned: true, DisableSecure: true}, ErrInvalidConfig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(Config{Keys: ring, Cookie: tc.opts})
			if !errors.Is(err, tc.want) {
				t.Fatalf("New = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestS25_DefaultNameFallsBackWhenPrefixImpossible(t *testing.T) {
	t.Parallel()
	ring, _ := NewKeyRing(testKeyA)
	for _, opts := range []CookieOptions{{DisableSecure: true}, {Domain: "example.com"}, {Path: "/app"}} {
		m, err := New(Config{Keys: ring, Cookie: opts})
		if err != nil || m.cookie.Name != defaultInsecureCookieName {
			t.Fatalf("%+v: %v, name %q", opts, err, m.cookie.Name)
		}
	}
}

func TestS26_SameSiteNoneNeedsSecure(t *testing.T) {
	t.Parallel()
	ring, _ := NewKeyRing(testKeyA)
	_, err := New(Config{Keys: ring, Cookie: CookieOptions{SameSite: http.SameSiteNoneMode, DisableSecure: true}})
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("SameSite=None without Secure: %v", err)
	}
	if _, err := New(Config{Keys: ring, Cookie: CookieOptions{SameSite: http.SameSiteNoneMode}}); err != nil {
		t.Fatalf("SameSite=None with Secure: %v", err)
	}
}

func TestS27_SecureIsStaticConfiguration(t *testing.T) {
	t.Parallel()
	for _, insecure := range []bool{false, true} {
		h := newHarness(t, func(c *Config) { c.Cookie.DisableSecure = insecure })
		for _, mk := range []func(*http.Request){
			func(r *http.Request) {},
			func(r *http.Request) { r.TLS = &tls.ConnectionState{} },
			func(r *http.Request) { r.Header.Set("X-Forwarded-Proto", "http") },
			func(r *http.Request) { r.Header.Set("X-Forwarded-Proto", "https") },
		} {
			r := httptest.NewRequest("POST", "http://plain.example/login?user=a", nil)
			mk(r)
			w := httptest.NewRecorder()
			h.app.ServeHTTP(w, r)
			c := sessionCookie(t, w, h.m.cookie.Name)
			if w.Code != 200 || c == nil || c.Secure == insecure {
				t.Fatalf("DisableSecure=%v: status %d cookie %+v", insecure, w.Code, c)
			}
		}
	}
}

func TestForEachCookie(t *testing.T) {
	t.Parallel()
	tests := []struct {
		headers []string
		want    []string
	}{
		{nil, nil},
		{[]string{"sid=a"}, []string{"a"}},
		{[]string{"x=1; sid=a; y=2"}, []string{"a"}},
		{[]string{"sid=a;sid=b"}, []string{"a", "b"}},
		{[]string{"sid=a", "sid=b"}, []string{"a", "b"}},
		{[]string{`sid="quoted"`}, []string{"quoted"}},
		{[]string{"sidx=a; xsid=b; sid"}, nil},
		{[]string{"  sid=a  ;"}, []string{"a"}},
		{[]string{"x=1;\t sid=a \t; y=2"}, []string{"a"}},
		{[]string{"sid= a"}, []string{" a"}}, // space after "=" is the value's
		{[]string{"\t\t"}, nil},
		{[]string{"sid="}, []string{""}},
	}
	for _, tc := range tests {
		h := http.Header{"Cookie": tc.headers}
		var got []string
		forEachCookie(h, "sid", func(v string) bool { got = append(got, v); return true })
		if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
			t.Fatalf("%q: got %q, want %q", tc.headers, got, tc.want)
		}
	}
}

func TestTooManyCookiesBounded(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.login("alice")
	var cookies []string
	for range 50 {
		cookies = append(cookies, "junk"+strings.Repeat("x", 100))
	}
	cookies = append(cookies, c)
	// The valid cookie comes after the verification budget: the request is
	// anonymous, and nothing fails.
	if w := h.do("GET", "/private", cookies...); w.Code != 401 {
		t.Fatalf("status %d", w.Code)
	}
}

// Regression (found in review, fixed): cookie prefixes are matched case-insensitively by browsers
// (RFC 6265bis), so "__HOST-sid" with a Domain is silently rejected by the
// browser, yet New accepts it (S25).
func TestS25_PrefixRulesAreCaseInsensitive(t *testing.T) {
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
func TestS24_InvalidDomainOrPathRejectedAtNew(t *testing.T) {
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

// New accepts a SameSite value that is none of net/http's modes;
// the cookie then goes out without a SameSite attribute (browsers other
// than Chrome treat that as None), silently dropping the SameSite=Lax layer
// the README's CSRF advice relies on.
func TestNewRejectsAnUnknownSameSite(t *testing.T) {
	t.Parallel()
	ring, _ := NewKeyRing(testKeyA)
	m, err := New(Config{Keys: ring, Cookie: CookieOptions{SameSite: http.SameSite(42)}})
	if err == nil {
		c := m.cookie.cookie("v", 0, time.Now())
		t.Fatalf("New accepted SameSite(42); the session cookie is: %s", c)
	}
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("New = %v, want ErrInvalidConfig", err)
	}
}
