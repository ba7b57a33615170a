package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
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
