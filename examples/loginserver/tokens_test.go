package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A signed-in session mints a token; /api/me accepts it as Bearer with no
// cookie and names the user and the minting session; a forged or missing
// token is 401 with the RFC 6750 challenge; a signed-out session cannot
// mint; a cross-site POST /token is refused.
func TestTokenIsMintedFromTheSessionAndVerifiedByBearer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser("192.0.2.1:1")
	if r := b.postJSON("/token", ""); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("POST /token signed out: %d, want 401", r.StatusCode)
	}
	b.mustLogin()
	r := b.postJSON("/token", "")
	wantStatus(t, r, http.StatusOK)
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	r.json(t, &tok)
	if tok.TokenType != "Bearer" || tok.ExpiresIn != 300 || strings.Count(tok.AccessToken, ".") != 2 {
		t.Fatalf("token answer %+v", tok)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("POST /token Cache-Control %q", cc)
	}

	api := e.browser("198.51.100.1:1") // no cookie
	call := func(auth string) *response {
		req := httptest.NewRequest("GET", "/api/me", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		return api.do(req)
	}
	r = call("Bearer " + tok.AccessToken)
	wantStatus(t, r, http.StatusOK)
	var me apiMeJSON
	r.json(t, &me)
	if me.Username != "demo" || me.SessionID == "" || me.Expires.IsZero() {
		t.Fatalf("/api/me %+v", me)
	}
	forged := tok.AccessToken[:len(tok.AccessToken)-4] + "AAAA"
	for _, auth := range []string{"", "Bearer " + forged, "Basic ZGVtbzpkZW1v"} {
		r := call(auth)
		if r.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("Authorization %.20q: %d %q, want 401 with a Bearer challenge", auth, r.StatusCode, r.Header.Get("WWW-Authenticate"))
		}
	}

	req := httptest.NewRequest("POST", "/token", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if r := b.do(req); r.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site POST /token: %d, want 403", r.StatusCode)
	}
	wantStatus(t, b.postJSON("/logout", ""), http.StatusNoContent)
	if r := b.postJSON("/token", ""); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("POST /token after sign-out: %d, want 401", r.StatusCode)
	}
}

// The JWKS publishes the public key only.
func TestJWKSPublishesPublicKeysOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.browser("192.0.2.1:1").get("/.well-known/jwks.json")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, `"keys":[{`, `"kty":"OKP"`, `"crv":"Ed25519"`)
	if strings.Contains(r.body, `"d":`) {
		t.Fatalf("the JWKS holds private material: %s", r.body)
	}
}
