package accesstoken

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestMiddlewareAnswersRFC6750(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	cookie := e.login("alice")
	tok := e.mint(cookie)
	e2 := newEnv(t, nil) // same issuer and audience, another key
	foreign := e2.mint(e2.login("alice"))
	cases := []struct {
		name      string
		target    string
		headers   []string
		code      int
		challenge string // WWW-Authenticate, "" = none
	}{
		{"no Authorization", "/api", nil, 401, "Bearer"},
		{"Basic scheme", "/api", []string{"Authorization", "Basic YWxpY2U6cHc="}, 401, "Bearer"},
		{"token in the query string is never read", "/api?access_token=" + tok, nil, 401, "Bearer"},
		{"session cookie is not an access token", "/api", []string{"Cookie", cookie.Name + "=" + cookie.Value}, 401, "Bearer"},
		{"empty Bearer", "/api", []string{"Authorization", "Bearer "}, 400, `Bearer error="invalid_request"`},
		{"token with a bad character", "/api", []string{"Authorization", "Bearer a,b"}, 400, `Bearer error="invalid_request"`},
		{"two Authorization headers", "/api", append(bearer(tok), bearer(tok)...), 400, `Bearer error="invalid_request"`},
		{"garbage token", "/api", bearer("abc.def.ghi"), 401, `Bearer error="invalid_token"`},
		{"token of another issuer's key", "/api", bearer(foreign), 401, `Bearer error="invalid_token", error_description="the access token is invalid"`},
		{"control: valid", "/api", bearer(tok), 200, ""},
		{"control: scheme in lower case", "/api", []string{"Authorization", "bearer " + tok}, 200, ""},
	}
	for _, tc := range cases {
		w := e.do("GET", tc.target, nil, tc.headers...)
		if w.Code != tc.code {
			t.Errorf("%s: %d %s, want %d", tc.name, w.Code, w.Body, tc.code)
			continue
		}
		got := w.Header().Get("WWW-Authenticate")
		if !strings.HasPrefix(got, tc.challenge) || (tc.challenge == "") != (got == "") {
			t.Errorf("%s: WWW-Authenticate %q, want prefix %q", tc.name, got, tc.challenge)
		}
		if tc.code != 200 {
			if w.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("%s: error response cacheable", tc.name)
			}
			var body struct{ Error string }
			if json.Unmarshal(w.Body.Bytes(), &body) != nil || body.Error == "" {
				t.Errorf("%s: body %q", tc.name, w.Body)
			}
			if strings.Contains(w.Body.String(), tok) || strings.Contains(got, tok) {
				t.Errorf("%s: the token is echoed", tc.name)
			}
		}
	}
	if w := e.do("GET", "/api", nil, bearer(tok)...); w.Body.String() != "alice "+sidOf(t, e, tok) {
		t.Fatalf("handler saw %q", w.Body)
	}
}

func sidOf(t *testing.T, e *env, tok string) string {
	c, err := e.issuer.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	return c.SessionID
}

func TestMiddlewareExpiredTokenSaysExpired(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tok := e.mint(e.login("alice"))
	e.clock.Advance(DefaultTTL + DefaultLeeway)
	w := e.do("GET", "/api", nil, bearer(tok)...)
	want := `Bearer error="invalid_token", error_description="the access token expired"`
	if w.Code != 401 || w.Header().Get("WWW-Authenticate") != want {
		t.Fatalf("%d %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
}

// TestMiddlewareKeepsTokenValidAfterLogout documents what revocation means
// without Strict: the token lives until its exp.
func TestMiddlewareDescribesRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	now := e.clock.Now()
	sign := signWith(t, e.key.key, "EdDSA")
	hdr := headerJSON("EdDSA", e.key.KeyID(), nil)
	for _, tc := range []struct{ token, desc string }{
		{craft(hdr, claimsJSON(now, testIssuer, testAudience, map[string]any{"nbf": now.Add(time.Hour).Unix()}), sign), "the access token is not valid yet"},
		{strings.Repeat("a", DefaultMaxTokenSize+1), "the access token is too large"},
		{craft(hdr, claimsJSON(now, testIssuer, "other", nil), sign), "the access token is invalid"},
	} {
		w := e.do("GET", "/api", nil, bearer(tc.token)...)
		want := `Bearer error="invalid_token", error_description="` + tc.desc + `"`
		if w.Code != 401 || w.Header().Get("WWW-Authenticate") != want {
			t.Errorf("%d %q, want %q", w.Code, w.Header().Get("WWW-Authenticate"), want)
		}
	}
}

func TestMiddlewareKeepsTokenValidAfterLogout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	cookie := e.login("alice")
	tok := e.mint(cookie)
	e.do("POST", "/logout", cookie)
	if w := e.do("GET", "/api", nil, bearer(tok)...); w.Code != 200 {
		t.Fatalf("Middleware after logout: %d, want 200 until exp", w.Code)
	}
	e.clock.Advance(DefaultTTL + DefaultLeeway)
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

func TestEndedSessionsIsBoundedAndExpires(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	e := newEndedSessions(16)
	for i := range 100 {
		e.add(strings.Repeat("x", i+1), now.Add(time.Minute), now)
		if len(e.ids) > 16 {
			t.Fatalf("%d entries", len(e.ids))
		}
	}
	e.add("sid", now.Add(time.Minute), now)
	if !e.has("sid", now) || e.has("sid", now.Add(time.Minute)) {
		t.Fatal("remembered past its token's exp, or not at all")
	}
}
