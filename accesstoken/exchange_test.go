package accesstoken

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/sessionauth/session"
)

// exchangeEnv is an env whose mux also has POST /exchange for an idp.
type exchangeEnv struct {
	*env
	idp    *idp
	key    *idpKey
	mapped []string
}

func newExchangeEnv(t *testing.T) *exchangeEnv {
	return newExchangeEnvWith(t, nil)
}

// newExchangeEnvWith is newExchangeEnv with the ProviderConfig modified by
// mod (AuthorizedParties is {idpClient, "our-mobile-app"} before it runs).
func newExchangeEnvWith(t *testing.T, mod func(*ProviderConfig)) *exchangeEnv {
	x := &exchangeEnv{env: newEnv(t, nil)}
	x.key = newIDPKey(t, "k1", "RS256", false)
	x.idp = newIDP(t, x.key)
	pr := x.idp.provider(func(c *ProviderConfig) {
		c.AuthorizedParties = []string{idpClient, "our-mobile-app"}
		if mod != nil {
			mod(c)
		}
	})
	users := map[string]string{idpIssuer + " auth0|42": "user-42"}
	mapper := func(ctx context.Context, c *Claims) (string, error) {
		id, ok := users[c.Issuer+" "+c.Subject]
		if !ok {
			return "", errors.New("no such user")
		}
		x.mapped = append(x.mapped, id)
		return id, nil
	}
	mux := http.NewServeMux()
	mux.Handle("/exchange", pr.ExchangeHandler(x.sessions, mapper))
	mux.Handle("/", x.env.handler)
	x.env.handler = mux // the exchange applies the session middleware itself
	return x
}

func TestExchangeTurnsProviderTokenIntoSession(t *testing.T) {
	t.Parallel()
	x := newExchangeEnv(t)
	w := x.do("POST", "/exchange", nil, bearer(x.idp.sign(x.key, x.idp.claims(nil)))...)
	if w.Code != http.StatusNoContent {
		t.Fatalf("exchange: %d %s", w.Code, w.Body)
	}
	var cookie *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Value != "" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || !cookie.Secure {
		t.Fatalf("session cookie %+v", cookie)
	}
	// The new session is ours: it mints our tokens, and Logout ends it.
	tok := x.mint(cookie)
	c, err := x.issuer.Verify(context.Background(), tok)
	if err != nil || c.Subject != "user-42" {
		t.Fatalf("minted from the exchanged session: %+v %v", c, err)
	}
	// A federated sign-in: the session's proof says so.
	if len(c.AuthMethods) != 1 || c.AuthMethods[0] != "fed" || c.AuthTime.IsZero() {
		t.Fatalf("exchanged session's proof: %v at %v, want fed", c.AuthMethods, c.AuthTime)
	}
	infos, _ := x.sessions.ListSessions(context.Background(), "user-42")
	if len(infos) != 1 {
		t.Fatalf("%d sessions for user-42", len(infos))
	}
	x.do("POST", "/logout", cookie)
	if w := x.do("POST", "/token", cookie); w.Code != http.StatusUnauthorized {
		t.Fatalf("mint after logging the exchanged session out: %d", w.Code)
	}
}

func TestExchangeRefuses(t *testing.T) {
	t.Parallel()
	x := newExchangeEnv(t)
	good := x.idp.sign(x.key, x.idp.claims(nil))
	forger := newIDPKey(t, "k1", "RS256", true)
	cases := []struct {
		name    string
		method  string
		headers []string
		want    int
	}{
		{"GET", "GET", bearer(good), http.StatusMethodNotAllowed},
		{"cross-site", "POST", append(bearer(good), "Sec-Fetch-Site", "cross-site"), http.StatusForbidden},
		{"no token", "POST", nil, http.StatusUnauthorized},
		{"forged token", "POST", bearer(x.idp.sign(forger, x.idp.claims(nil))), http.StatusUnauthorized},
		{"wrong audience", "POST", bearer(x.idp.sign(x.key, x.idp.claims(map[string]any{"aud": "api://other"}))), http.StatusUnauthorized},
		{"unknown user", "POST", bearer(x.idp.sign(x.key, x.idp.claims(map[string]any{"sub": "auth0|7"}))), http.StatusForbidden},
		{"our own access token is not a provider token", "POST", bearer(x.mint(x.login("alice"))), http.StatusUnauthorized},
	}
	for _, tc := range cases {
		w := x.do(tc.method, "/exchange", nil, tc.headers...)
		if w.Code != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, w.Code, w.Body, tc.want)
		}
		for _, c := range w.Result().Cookies() {
			if c.Value != "" {
				t.Errorf("%s: a session cookie was set", tc.name)
			}
		}
	}
	if len(x.mapped) != 0 {
		t.Fatalf("the mapper ran for refused requests: %v", x.mapped)
	}
}

func TestExchangeWithStoreDownIs503(t *testing.T) {
	t.Parallel()
	x := newExchangeEnv(t)
	x.store.down.Store(true)
	x.store.Store = downStore{x.store.Store}
	w := x.do("POST", "/exchange", nil, bearer(x.idp.sign(x.key, x.idp.claims(nil)))...)
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("exchange with the store down: %d", w.Code)
	}
}

// downStore fails Create, so Login fails.
type downStore struct{ session.Store }

func (downStore) Create(context.Context, string, session.Record) error { return errStoreDown }

func TestExchangeHandlerPanicsWithoutMapper(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	p := newIDP(t, newIDPKey(t, "k", "ES256", false))
	p.provider(nil).ExchangeHandler(nil, nil)
}

// TestExchangeRefusesTokenIssuedToAnotherClient: a token with the right
// issuer and audience (an API identifier every client of the tenant shares)
// becomes a session only when it was issued to one of our own clients: its
// azp, else its client_id, else its single aud. Before AuthorizedParties
// existed, the third-party app's token got a session.
func TestExchangeRefusesTokenIssuedToAnotherClient(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		claims map[string]any
		want   int
	}{
		{"control: azp is our SPA", nil, http.StatusNoContent},
		{"control: azp is our mobile app", map[string]any{"azp": "our-mobile-app"}, http.StatusNoContent},
		{"control: no azp, client_id is ours (Cognito, RFC 9068)", map[string]any{"azp": nil, "client_id": idpClient}, http.StatusNoContent},
		{"azp is a third-party app", map[string]any{"azp": "third-party-app"}, http.StatusForbidden},
		{"azp differs in case", map[string]any{"azp": "OUR-SPA"}, http.StatusForbidden},
		{"no azp, client_id of a third-party app", map[string]any{"azp": nil, "client_id": "third-party-app"}, http.StatusForbidden},
		{"azp of a third party beside our client_id", map[string]any{"azp": "third-party-app", "client_id": idpClient}, http.StatusForbidden},
		{"empty azp beside our client_id", map[string]any{"azp": "", "client_id": idpClient}, http.StatusForbidden},
		{"azp not a string", map[string]any{"azp": []string{idpClient}}, http.StatusForbidden},
		{"neither azp nor client_id, two audiences", map[string]any{"azp": nil}, http.StatusForbidden},
		{"neither azp nor client_id, the API audience alone", map[string]any{"azp": nil, "aud": idpAudience}, http.StatusForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			x := newExchangeEnv(t)
			w := x.do("POST", "/exchange", nil, bearer(x.idp.sign(x.key, x.idp.claims(tc.claims)))...)
			if w.Code != tc.want {
				t.Fatalf("exchange: %d %s, want %d", w.Code, w.Body, tc.want)
			}
			cookies := 0
			for _, c := range w.Result().Cookies() {
				if c.Value != "" {
					cookies++
				}
			}
			infos, err := x.sessions.ListSessions(context.Background(), "user-42")
			if err != nil {
				t.Fatal(err)
			}
			if tc.want != http.StatusNoContent {
				if cookies != 0 || len(infos) != 0 || len(x.mapped) != 0 {
					t.Fatalf("refused, yet %d cookies, %d sessions, mapper ran %d times", cookies, len(infos), len(x.mapped))
				}
				if !strings.Contains(w.Body.String(), `"error":"access_denied"`) {
					t.Fatalf("body %s", w.Body)
				}
				return
			}
			if cookies != 1 || len(infos) != 1 {
				t.Fatalf("%d cookies, %d sessions", cookies, len(infos))
			}
		})
	}
}

// TestExchangeAcceptsIDTokenWhoseSingleAudienceIsOurClient: an ID token
// (Firebase's shape: aud is the project, no azp or client_id) was issued to
// its one audience, which AuthorizedParties names.
func TestExchangeAcceptsIDTokenWhoseSingleAudienceIsOurClient(t *testing.T) {
	t.Parallel()
	x := newExchangeEnvWith(t, func(c *ProviderConfig) {
		c.Audience = "our-project"
		c.AuthorizedParties = []string{"our-project"}
	})
	tok := x.idp.sign(x.key, x.idp.claims(map[string]any{"azp": nil, "aud": "our-project"}))
	if w := x.do("POST", "/exchange", nil, bearer(tok)...); w.Code != http.StatusNoContent {
		t.Fatalf("exchange: %d %s", w.Code, w.Body)
	}
	tok = x.idp.sign(x.key, x.idp.claims(map[string]any{"azp": nil, "aud": []string{"our-project", "other-project"}}))
	if w := x.do("POST", "/exchange", nil, bearer(tok)...); w.Code != http.StatusForbidden {
		t.Fatalf("two audiences, no azp: %d %s", w.Code, w.Body)
	}
}

// TestExchangeHandlerRefusesToRunWithoutAuthorizedParties: with no
// authorised party configured, building the handler panics with
// ErrInvalidConfig (at start-up, never a handler that exchanges any token).
func TestExchangeHandlerRefusesToRunWithoutAuthorizedParties(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	p := newIDP(t, newIDPKey(t, "k", "ES256", false))
	mapper := func(context.Context, *Claims) (string, error) { return "u", nil }
	for _, parties := range [][]string{nil, {}} {
		func() {
			defer func() {
				err, _ := recover().(error)
				if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "AuthorizedParties") {
					t.Fatalf("AuthorizedParties %#v: panic %v, want ErrInvalidConfig naming the field", parties, err)
				}
			}()
			p.provider(func(c *ProviderConfig) { c.AuthorizedParties = parties }).ExchangeHandler(e.sessions, mapper)
		}()
	}
	// Verify and Middleware do not need it.
	if _, err := NewProvider(ProviderConfig{JWKSURL: p.srv.URL, Issuer: idpIssuer, Audience: idpAudience}); err != nil {
		t.Fatal(err)
	}
	if _, err := NewProvider(ProviderConfig{JWKSURL: p.srv.URL, Issuer: idpIssuer, Audience: idpAudience, AuthorizedParties: []string{"a", ""}}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("an empty client ID: %v", err)
	}
}

// TestExchangeProvedWithOfTheCallerReplacesFed: a session.ProvedWith among
// ExchangeHandler's options is what the session records, not "fed".
func TestExchangeProvedWithOfTheCallerReplacesFed(t *testing.T) {
	t.Parallel()
	x := newExchangeEnv(t)
	pr := x.idp.provider(func(c *ProviderConfig) { c.AuthorizedParties = []string{idpClient} })
	mapper := func(context.Context, *Claims) (string, error) { return "user-42", nil }
	mux := http.NewServeMux()
	mux.Handle("/exchange-mfa", pr.ExchangeHandler(x.sessions, mapper, session.ProvedWith("mfa", "hwk")))
	mux.Handle("/", x.env.handler)
	x.env.handler = mux
	w := x.do("POST", "/exchange-mfa", nil, bearer(x.idp.sign(x.key, x.idp.claims(nil)))...)
	if w.Code != http.StatusNoContent {
		t.Fatalf("exchange: %d %s", w.Code, w.Body)
	}
	c, err := x.issuer.Verify(context.Background(), x.mint(cookieOf(t, w)))
	if err != nil || strings.Join(c.AuthMethods, " ") != "mfa hwk" {
		t.Fatalf("exchanged session's proof: %+v %v, want mfa hwk", c, err)
	}
}
