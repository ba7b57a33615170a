package accesstoken

import (
	"context"
	"errors"
	"net/http"
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
	x := &exchangeEnv{env: newEnv(t, nil)}
	x.key = newIDPKey(t, "k1", "RS256", false)
	x.idp = newIDP(t, x.key)
	pr := x.idp.provider(nil)
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
