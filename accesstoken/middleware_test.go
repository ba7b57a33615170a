package accesstoken

import (
	"context"
	"net/http"
	"testing"
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
