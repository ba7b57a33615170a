package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sessionauth/session/providerlogin"
	"github.com/sessionauth/session/providerlogin/providertest"
)

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func TestExampleServesButtonsAndProtectsAccount(t *testing.T) {
	base := startExample(t)
	res, err := http.Get(base + "/?return_to=" + url.QueryEscape("//evil.example"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{`id="signin-demo"`, `id="signin-hub"`, `action="/auth/demo/login"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("home page lacks %s", want)
		}
	}
	if strings.Contains(string(body), "evil.example") {
		t.Error("home page carries a foreign return_to into its forms")
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}

	res, err = noRedirect.Get(base + "/account")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/?return_to=%2Faccount" {
		t.Errorf("signed-out /account: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}

	// A cross-site form cannot start a sign-in or sign anyone out.
	for _, path := range []string{"/auth/demo/login", "/auth/logout"} {
		req, _ := http.NewRequest(http.MethodPost, base+path, nil)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		res, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site POST %s: %d, want 403", path, res.StatusCode)
		}
	}
}

func TestExampleConfigFromEnvironment(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if _, err := loadConfig(env(map[string]string{"OIDC_ISSUER": "https://id.example"})); err == nil {
		t.Error("OIDC_ISSUER without OIDC_CLIENT_ID accepted")
	}
	if _, err := loadConfig(env(map[string]string{"INSECURE_COOKIES": "maybe"})); err == nil {
		t.Error("INSECURE_COOKIES=maybe accepted")
	}
	if _, err := loadConfig(env(map[string]string{"SESSION_KEYS": "short"})); err == nil {
		t.Error("a short SESSION_KEYS accepted")
	}
	c, err := loadConfig(env(nil))
	if err != nil || c.Addr != "localhost:8080" || c.ProviderAddr != "127.0.0.1:8081" || c.Keys == nil {
		t.Errorf("defaults: %+v, %v", c, err)
	}
}

// TestExampleRefusesAMisconfiguredIssuerAtBoot: a wrong issuer (here, a
// trailing slash) stops the example at start-up instead of showing users
// an error at their first sign-in.
func TestExampleRefusesAMisconfiguredIssuerAtBoot(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String()
	op, err := providertest.New(providertest.Config{Issuer: issuer})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: op}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	env := map[string]string{"ADDR": "127.0.0.1:0", "OIDC_ISSUER": issuer + "/", "OIDC_CLIENT_ID": "app"}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	err = run(ctx, func(k string) string { return env[k] }, io.Discard, func(string) { t.Error("the example started serving") })
	if !errors.Is(err, providerlogin.ErrInvalidConfig) || !strings.Contains(err.Error(), "trailing slash") {
		t.Fatalf("run = %v, want ErrInvalidConfig about the trailing slash", err)
	}
}

// TestExampleConfirmsItIsStillYouOnTheSameSession: after signing in with
// Demo ID, "Confirm it's you" (the sign-in form with max_age=0) asks the
// provider for the password again although its session is live, and comes
// back to /account signed in as the same user, under a new session cookie,
// with a fresh proof.
func TestExampleConfirmsItIsStillYouOnTheSameSession(t *testing.T) {
	base := startExample(t)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: noRedirect.CheckRedirect}
	do := func(method, u string, form url.Values) (*http.Response, string) {
		t.Helper()
		var res *http.Response
		var err error
		if method == http.MethodPost {
			res, err = c.PostForm(u, form)
		} else {
			res, err = c.Get(u)
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res, string(body)
	}
	// signIn posts a sign-in form, types the password at the provider (it
	// must ask) and follows the callback back to the app.
	signIn := func(form url.Values) *url.URL {
		t.Helper()
		res, _ := do(http.MethodPost, base+"/auth/demo/login", form)
		authURL, err := url.Parse(res.Header.Get("Location"))
		if res.StatusCode != http.StatusSeeOther || err != nil {
			t.Fatalf("sign-in form: %d to %q", res.StatusCode, res.Header.Get("Location"))
		}
		if res, body := do(http.MethodGet, authURL.String(), nil); res.StatusCode != http.StatusOK || !strings.Contains(body, `id="op-login"`) {
			t.Fatalf("the provider did not ask for the password: %d to %q", res.StatusCode, res.Header.Get("Location"))
		}
		res, _ = do(http.MethodPost, authURL.String(), url.Values{"username": {demoUser}, "password": {demoPassword}, "action": {"approve"}})
		res, body := do(http.MethodGet, res.Header.Get("Location"), nil)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account" {
			t.Fatalf("callback: %d to %q: %s", res.StatusCode, res.Header.Get("Location"), body)
		}
		return authURL
	}
	account := func() (userID, provedWith string, cookies string) {
		t.Helper()
		res, body := do(http.MethodGet, base+"/account", nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("/account: %d", res.StatusCode)
		}
		field := func(id string) string {
			_, rest, _ := strings.Cut(body, `id="`+id+`">`)
			v, _, _ := strings.Cut(rest, "<")
			return v
		}
		u, _ := url.Parse(base)
		return field("user-id"), field("proved-with"), fmt.Sprint(jar.Cookies(u))
	}

	signIn(url.Values{"return_to": {"/account"}})
	user, proved, cookies := account()
	if user == "" || proved != "pwd" {
		t.Fatalf("after sign-in: user %q, proved with %q", user, proved)
	}
	_, body := do(http.MethodGet, base+"/account", nil)
	if !strings.Contains(body, `id="confirm"`) || !strings.Contains(body, `name="max_age" value="0"`) {
		t.Fatal("the account page offers no confirmation")
	}

	authURL := signIn(url.Values{"max_age": {"0"}, "return_to": {"/account"}})
	if q := authURL.Query(); q.Get("prompt") != "login" || q.Get("max_age") != "0" {
		t.Errorf("confirmation request %s: want prompt=login and max_age=0", authURL)
	}
	user2, proved2, cookies2 := account()
	if user2 != user || proved2 != "pwd" || cookies2 == cookies {
		t.Fatalf("after confirming: user %q (was %q), proved with %q, cookie changed: %v", user2, user, proved2, cookies2 != cookies)
	}
}
