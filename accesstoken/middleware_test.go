package accesstoken

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionauth/session"
)

// TestMiddlewareKeepsTokenValidAfterLogout documents what revocation means
// without Strict: the token lives until its exp.
func TestMiddlewareKeepsTokenValidAfterLogout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	cookie := e.login("alice")
	tok := e.mint(cookie)
	e.do("POST", "/logout", cookie)
	if w := e.do("GET", "/api", nil, bearer(tok)...); w.Code != 200 {
		t.Fatalf("Middleware after logout: %d, want 200 until exp", w.Code)
	}
	e.clock.Advance(defaultTTL + defaultLeeway)
	if w := e.do("GET", "/api", nil, bearer(tok)...); w.Code != 401 {
		t.Fatalf("Middleware after exp: %d", w.Code)
	}
}

func TestMiddlewareMakesNoStoreCall(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tok := e.mint(e.login("alice"))
	e.store.down.Store(true) // any store read would fail the request
	if w := e.do("GET", "/api", nil, bearer(tok)...); w.Code != 200 {
		t.Fatalf("Middleware with the store down: %d", w.Code)
	}
}

func TestStrictStopsTokensOfEndedSessions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	a, b := e.login("alice"), e.login("alice")
	tokA, tokB := e.mint(a), e.mint(b)
	other := e.mint(e.login("bob"))
	for _, tok := range []string{tokA, tokB, other} {
		if w := e.do("GET", "/strict", nil, bearer(tok)...); w.Code != 200 {
			t.Fatalf("Strict with a live session: %d %s", w.Code, w.Body)
		}
	}
	e.do("POST", "/logout", a)
	want := `Bearer error="invalid_token", error_description="the session of the access token has ended"`
	if w := e.do("GET", "/strict", nil, bearer(tokA)...); w.Code != 401 || w.Header().Get("WWW-Authenticate") != want {
		t.Fatalf("Strict after Logout: %d %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
	if w := e.do("GET", "/strict", nil, bearer(tokB)...); w.Code != 200 {
		t.Fatalf("Strict for the other, live session: %d", w.Code)
	}
	e.sessions.LogoutAll(context.Background(), "alice")
	if w := e.do("GET", "/strict", nil, bearer(tokB)...); w.Code != 401 {
		t.Fatalf("Strict after LogoutAll: %d", w.Code)
	}
	if w := e.do("GET", "/strict", nil, bearer(other)...); w.Code != 200 {
		t.Fatalf("Strict for another user after alice's LogoutAll: %d", w.Code)
	}
}

func TestStrictWithStoreDownIs503(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tok := e.mint(e.login("alice"))
	e.store.down.Store(true)
	w := e.do("GET", "/strict", nil, bearer(tok)...)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("WWW-Authenticate") != "" {
		t.Fatalf("Strict with the store down: %d %q, want 503 without a challenge", w.Code, w.Header().Get("WWW-Authenticate"))
	}
}

func TestStrictAfterLogoutSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tok := e.mint(e.login("alice"))
	// Ended from a "your devices" page on another device.
	if err := e.sessions.LogoutSession(context.Background(), "alice", sidOf(t, e, tok)); err != nil {
		t.Fatal(err)
	}
	if w := e.do("GET", "/strict", nil, bearer(tok)...); w.Code != 401 {
		t.Fatalf("Strict after LogoutSession: %d", w.Code)
	}
}

// TestStrictRemembersEndedSessions: once Strict has found a session ended,
// its tokens cost no more store calls, and a live session is never
// affected.
func TestStrictRemembersEndedSessions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	dead, live := e.login("alice"), e.login("alice")
	deadTok, liveTok := e.mint(dead), e.mint(live)
	e.do("POST", "/logout", dead)
	if w := e.do("GET", "/strict", nil, bearer(deadTok)...); w.Code != 401 {
		t.Fatalf("first refusal: %d", w.Code)
	}
	e.store.down.Store(true) // a store call would now answer 503
	for range 3 {
		if w := e.do("GET", "/strict", nil, bearer(deadTok)...); w.Code != 401 {
			t.Fatalf("known-dead session: %d, want 401 with no store call", w.Code)
		}
	}
	if w := e.do("GET", "/strict", nil, bearer(liveTok)...); w.Code != 503 {
		t.Fatalf("live session with the store down: %d, want 503", w.Code)
	}
}

// TestStrictRefusesCookieOnlyManager: over a cookie-only Manager, which
// cannot say whether a session has ended, Strict refuses to be built (it
// used to answer 503 on every request), while minting and Middleware work.
func TestStrictRefusesCookieOnlyManager(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(_ *Config, s *session.Config) { s.CookieOnly = true })
	cookie := e.login("alice")
	tok := e.mint(cookie)
	if w := e.do("GET", "/api", nil, bearer(tok)...); w.Code != http.StatusOK {
		t.Fatalf("Middleware over a cookie-only Manager: %d %s", w.Code, w.Body)
	}
	defer func() {
		err, _ := recover().(error)
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "cookie-only") {
			t.Fatalf("Strict over a cookie-only Manager: panic %v, want ErrInvalidConfig saying why", err)
		}
	}()
	e.issuer.Strict(http.NotFoundHandler())
}

// TestStrictOverAStoreAsksNoStoreWhenBuilt: telling a cookie-only Manager
// apart costs a store-backed one no store call (the probe's context has
// already ended), and a store that is down does not stop the route from
// being built.
func TestStrictOverAStoreAsksNoStoreWhenBuilt(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.store.down.Store(true)
	counting := &countingStore{Store: e.store}
	ring, _ := session.NewKeyRing(session.GenerateKey())
	sessions, err := session.New(session.Config{Store: counting, Keys: ring, StoreTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := NewKeyRing(mustKey(t, EdDSA))
	i, err := New(Config{Sessions: sessions, Keys: keys, Issuer: testIssuer, Audience: testAudience})
	if err != nil {
		t.Fatal(err)
	}
	i.Strict(http.NotFoundHandler()) // must not panic
	if n := counting.liveCalls.Load(); n != 0 {
		t.Fatalf("building Strict made %d store calls with a live context", n)
	}
}

// countingStore counts ListUser calls made with a context still live.
type countingStore struct {
	session.Store
	liveCalls atomic.Int64
}

func (s *countingStore) ListUser(ctx context.Context, userID string) ([]session.Entry, error) {
	if ctx.Err() == nil {
		s.liveCalls.Add(1)
	}
	return s.Store.ListUser(ctx, userID)
}

// TestCookieOnlyCopiedCookieStillMintsAfterLogout documents the
// limit the README states: Logout in cookie-only mode only expires the
// browser's copy, so a copy of the cookie keeps minting until the
// session's own timeout.
func TestCookieOnlyCopiedCookieStillMintsAfterLogout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(_ *Config, s *session.Config) { s.CookieOnly = true })
	cookie := e.login("alice")
	if w := e.do("POST", "/logout", cookie); w.Code != http.StatusOK {
		t.Fatalf("logout: %d", w.Code)
	}
	if w := e.do("POST", "/token", cookie); w.Code != http.StatusOK {
		t.Fatalf("mint with a copy of a logged-out cookie-only session: %d, want 200 (no server-side state to revoke)", w.Code)
	}
}
