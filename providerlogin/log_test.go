package providerlogin

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestFailuresAreLoggedWithoutSecrets: every failed sign-in reaches the
// logger, and no code, state, nonce, token or client secret does.
func TestFailuresAreLoggedWithoutSecrets(t *testing.T) {
	t.Parallel()
	op := startProvider(t, false)
	logs := &syncBuffer{}
	a := startApp(t, func(base string) []*Provider {
		registerApp(op, base, "demo")
		return []*Provider{oidcProvider(t, "demo", op, nil)}
	}, func(c *Config) { c.Logger = slog.New(slog.NewTextHandler(logs, nil)) })

	var secrets []string
	b := newBrowser(t)
	cb := b.approve(b.startLogin(a, "demo", ""), "approve")
	secrets = append(secrets, cb.Query().Get("code"), cb.Query().Get("state"))
	b.get(cb.String()) // signs in
	wantCount := 0
	b.get(cb.String()) // replayed state
	wantCount++

	op.SetIDTokenHook(func(c map[string]any) { c["aud"] = "other-app" })
	b = newBrowser(t)
	authURL := b.startLogin(a, "demo", "")
	secrets = append(secrets, authURL.Query().Get("nonce"), authURL.Query().Get("code_challenge"))
	b.get(b.approve(authURL, "approve").String()) // bad audience
	wantCount++
	op.SetIDTokenHook(nil)

	out := logs.String()
	if n := strings.Count(out, "sign-in failed"); n != wantCount {
		t.Errorf("%d failures logged, want %d:\n%s", n, wantCount, out)
	}
	for _, s := range append(secrets, testClientSecret, "eyJ") {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("log contains a secret (%.6s…):\n%s", s, out)
		}
	}
	if !strings.Contains(out, "status=400") || !strings.Contains(out, "status=502") {
		t.Errorf("log lacks the statuses:\n%s", out)
	}
}

// TestSignInIssuesANewSessionToken: the anonymous session that carried the
// state is replaced at sign-in (no session fixation).
func TestSignInIssuesANewSessionToken(t *testing.T) {
	t.Parallel()
	a, _ := oidcApp(t, nil)
	b := newBrowser(t)
	authURL := b.startLogin(a, "demo", "")
	u := mustParse(t, a.base)
	sid := func() string { // the provider's cookie shares the host: cookies ignore ports
		for _, c := range b.c.Jar.Cookies(u) {
			if c.Name == "__Host-sid" {
				return c.Value
			}
		}
		return ""
	}
	before := sid()
	if before == "" {
		t.Fatal("starting a sign-in did not create an anonymous session")
	}
	res := b.get(b.approve(authURL, "approve").String())
	if res.status != http.StatusSeeOther {
		t.Fatalf("callback %d", res.status)
	}
	if after := sid(); after == "" || after == before {
		t.Fatal("the session token did not change at sign-in")
	}
}
