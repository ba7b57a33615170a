package accesstoken

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestBearerRefusalsFollowRFC6750(t *testing.T) {
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
			if json.Unmarshal(w.Body.Bytes(), &body) != nil || body.Error != challengeError(got) {
				t.Errorf("%s: body %q disagrees with WWW-Authenticate %q", tc.name, w.Body, got)
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

func TestBearerExpiredTokenSaysExpired(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tok := e.mint(e.login("alice"))
	e.clock.Advance(defaultTTL + defaultLeeway)
	w := e.do("GET", "/api", nil, bearer(tok)...)
	want := `Bearer error="invalid_token", error_description="the access token expired"`
	if w.Code != 401 || w.Header().Get("WWW-Authenticate") != want {
		t.Fatalf("%d %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
}

func TestBearerDescribesRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	now := e.clock.Now()
	sign := signWith(t, e.key.key, "EdDSA")
	hdr := headerJSON("EdDSA", e.key.KeyID(), nil)
	for _, tc := range []struct{ token, desc string }{
		{craft(hdr, claimsJSON(now, testIssuer, testAudience, map[string]any{"nbf": now.Add(time.Hour).Unix()}), sign), "the access token is not valid yet"},
		{strings.Repeat("a", defaultMaxTokenSize+1), "the access token is too large"},
		{craft(hdr, claimsJSON(now, testIssuer, "other", nil), sign), "the access token is invalid"},
	} {
		w := e.do("GET", "/api", nil, bearer(tc.token)...)
		want := `Bearer error="invalid_token", error_description="` + tc.desc + `"`
		if w.Code != 401 || w.Header().Get("WWW-Authenticate") != want {
			t.Errorf("%d %q, want %q", w.Code, w.Header().Get("WWW-Authenticate"), want)
		}
	}
}

// challengeError is the "error" a JSON body must carry next to a
// WWW-Authenticate challenge: the challenge's error code, or, for a bare
// `Bearer` (no credentials were sent), "unauthorized".
func challengeError(challenge string) string {
	_, rest, ok := strings.Cut(challenge, `error="`)
	if !ok {
		return "unauthorized"
	}
	code, _, _ := strings.Cut(rest, `"`)
	return code
}

// TestNoTokenAnswerAgreesWithItsChallenge: with no token at all, every
// endpoint answers 401 with a bare `Bearer` challenge (RFC 6750 3.1: no
// error code when no credentials were sent) and a body that carries no
// RFC 6750 error code either: {"error":"unauthorized",...}. Before, the body
// said invalid_token.
func TestNoTokenAnswerAgreesWithItsChallenge(t *testing.T) {
	t.Parallel()
	x := newExchangeEnv(t)
	pmux := x.idp.provider(nil).Middleware(http.NotFoundHandler())
	cases := []struct {
		name    string
		handler http.Handler
		method  string
		target  string
	}{
		{"Issuer.Middleware", x.handler, "GET", "/api"},
		{"Issuer.Strict", x.handler, "GET", "/strict"},
		{"Provider.Middleware", pmux, "GET", "/orders"},
		{"Provider.ExchangeHandler", x.handler, "POST", "/exchange"},
	}
	for _, tc := range cases {
		for _, auth := range []string{"", "Basic YWxpY2U6cHc="} {
			r := httptest.NewRequest(tc.method, "https://api.example.test"+tc.target, nil)
			if auth != "" {
				r.Header.Set("Authorization", auth)
			}
			w := httptest.NewRecorder()
			tc.handler.ServeHTTP(w, r)
			if w.Code != http.StatusUnauthorized || w.Header().Get("WWW-Authenticate") != "Bearer" {
				t.Errorf("%s, Authorization %q: %d, WWW-Authenticate %q", tc.name, auth, w.Code, w.Header().Get("WWW-Authenticate"))
				continue
			}
			var body struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("%s: %v: %s", tc.name, err, w.Body)
			}
			if body.Error != "unauthorized" || body.Description == "" {
				t.Errorf("%s, Authorization %q: body %s, want error \"unauthorized\"", tc.name, auth, w.Body)
			}
		}
	}
}
