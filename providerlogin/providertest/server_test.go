package providertest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// newTestServer serves a provider with one client and one user.
func newTestServer(t *testing.T) (*Server, *httptest.Server) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	ts.Start()
	t.Cleanup(ts.Close)
	s, err := New(Config{Issuer: ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = s
	s.AddClient(Client{ID: "c", Secret: "s", RedirectURIs: []string{"http://app.test/cb"}})
	s.AddUser(User{Username: "u", Password: "p", Subject: "1"})
	return s, ts
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func authURL(ts *httptest.Server, mod func(url.Values)) string {
	q := url.Values{
		"client_id": {"c"}, "redirect_uri": {"http://app.test/cb"}, "response_type": {"code"},
		"scope": {"openid"}, "state": {"st"}, "nonce": {"n"},
		"code_challenge": {s256("verifier-verifier-verifier-verifier-verifier")}, "code_challenge_method": {"S256"},
	}
	if mod != nil {
		mod(q)
	}
	return ts.URL + "/authorize?" + q.Encode()
}

func TestAuthorizeNeverRedirectsToAnUnregisteredURI(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t)
	for _, mod := range []func(url.Values){
		func(q url.Values) { q.Set("redirect_uri", "http://evil.test/cb") },
		func(q url.Values) { q.Set("client_id", "nobody") },
	} {
		res, err := noRedirect.Get(authURL(ts, mod))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest || res.Header.Get("Location") != "" {
			t.Errorf("status %d, Location %q: want 400 and no redirect", res.StatusCode, res.Header.Get("Location"))
		}
	}
}

func TestAuthorizeRequiresPKCES256AndNonce(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t)
	for _, mod := range []func(url.Values){
		func(q url.Values) { q.Del("code_challenge") },
		func(q url.Values) { q.Set("code_challenge_method", "plain") },
		func(q url.Values) { q.Del("nonce") },
		func(q url.Values) { q.Set("response_type", "token") },
	} {
		res, err := noRedirect.Get(authURL(ts, mod))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		loc, _ := url.Parse(res.Header.Get("Location"))
		if res.StatusCode != http.StatusSeeOther || loc.Query().Get("error") == "" || loc.Query().Get("state") != "st" {
			t.Errorf("status %d to %q: want an error response to the client", res.StatusCode, loc)
		}
	}
}

func TestTokenChecksVerifierAndUsesCodesOnce(t *testing.T) {
	t.Parallel()
	_, ts := newTestServer(t)
	code := func() string {
		res, err := noRedirect.PostForm(authURL(ts, nil), url.Values{"username": {"u"}, "password": {"p"}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		loc, _ := url.Parse(res.Header.Get("Location"))
		return loc.Query().Get("code")
	}
	exchange := func(c, verifier string) (int, map[string]any) {
		res, err := http.PostForm(ts.URL+"/token", url.Values{
			"grant_type": {"authorization_code"}, "code": {c}, "redirect_uri": {"http://app.test/cb"},
			"client_id": {"c"}, "client_secret": {"s"}, "code_verifier": {verifier},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		var m map[string]any
		json.Unmarshal(b, &m)
		return res.StatusCode, m
	}
	good := "verifier-verifier-verifier-verifier-verifier"
	if st, m := exchange(code(), "wrong-verifier-wrong-verifier-wrong-verifier"); st != 400 || m["error"] != "invalid_grant" {
		t.Errorf("wrong verifier: %d %v", st, m)
	}
	c := code()
	st, m := exchange(c, good)
	if st != 200 || m["id_token"] == nil || m["access_token"] == nil {
		t.Fatalf("good exchange: %d %v", st, m)
	}
	if st, m := exchange(c, good); st != 400 || m["error"] != "invalid_grant" {
		t.Errorf("replayed code: %d %v", st, m)
	}
	// The replay revoked the access token the code had given.
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+m["access_token"].(string))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("access token of a replayed code still works: %d", res.StatusCode)
	}
}

func TestNewRefusesABadIssuer(t *testing.T) {
	t.Parallel()
	for _, iss := range []string{"", "127.0.0.1:1", "http://x/", "ftp://x"} {
		if _, err := New(Config{Issuer: iss}); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "Config.Issuer") {
			t.Errorf("New(%q): %v", iss, err)
		}
	}
}

// TestSingleSignOnHonoursPromptAndMaxAge: a browser signed in at the
// provider gets a code without the form, unless prompt=login or its
// sign-in is older than max_age; the ID token's auth_time is when the
// password was typed and its amr is ["pwd"].
func TestSingleSignOnHonoursPromptAndMaxAge(t *testing.T) {
	t.Parallel()
	s, ts := newTestServer(t)
	now := time.Unix(1_800_000_000, 0)
	s.SetClock(func() time.Time { return now })
	res, err := noRedirect.PostForm(authURL(ts, nil), url.Values{"username": {"u"}, "password": {"p"}, "action": {"approve"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var cookie *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == sessionCookie {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatal("no provider session")
	}
	now = now.Add(10 * time.Minute)
	for _, tc := range []struct {
		name string
		mod  func(url.Values)
		form bool // the login form, not a code
	}{
		{"signed in", nil, false},
		{"prompt=login", func(q url.Values) { q.Set("prompt", "login") }, true},
		{"max_age older than the sign-in", func(q url.Values) { q.Set("max_age", "599") }, true},
		{"max_age covering the sign-in", func(q url.Values) { q.Set("max_age", "600") }, false},
	} {
		req, _ := http.NewRequest(http.MethodGet, authURL(ts, tc.mod), nil)
		req.AddCookie(cookie)
		res, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if form := res.StatusCode == http.StatusOK; form != tc.form {
			t.Errorf("%s: status %d, want the form: %v", tc.name, res.StatusCode, tc.form)
			continue
		}
		if tc.form {
			continue
		}
		loc, _ := url.Parse(res.Header.Get("Location"))
		tok, err := http.PostForm(ts.URL+"/token", url.Values{
			"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "client_id": {"c"}, "client_secret": {"s"},
			"redirect_uri": {"http://app.test/cb"}, "code_verifier": {"verifier-verifier-verifier-verifier-verifier"},
		})
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			IDToken string `json:"id_token"`
		}
		json.NewDecoder(tok.Body).Decode(&body)
		tok.Body.Close()
		parts := strings.Split(body.IDToken, ".")
		if len(parts) != 3 {
			t.Fatalf("%s: no ID token", tc.name)
		}
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var claims struct {
			AuthTime int64    `json:"auth_time"`
			AMR      []string `json:"amr"`
		}
		json.Unmarshal(payload, &claims)
		if claims.AuthTime != 1_800_000_000 || len(claims.AMR) != 1 || claims.AMR[0] != "pwd" {
			t.Errorf("%s: auth_time %d amr %v, want the sign-in's time and [pwd]", tc.name, claims.AuthTime, claims.AMR)
		}
	}
}
