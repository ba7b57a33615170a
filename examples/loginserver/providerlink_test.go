package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sessionauth/session/providerlogin/providertest"
)

// newProviderEnv is newEnv with an OpenID provider "demo" served in the
// test process, holding one account (demoProviderUser).
func newProviderEnv(t *testing.T) *env {
	t.Helper()
	var op http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { op.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	p, err := providertest.New(providertest.Config{Issuer: srv.URL, Name: "Demo ID"})
	if err != nil {
		t.Fatal(err)
	}
	p.AddUser(providertest.User{Username: demoProviderUser, Password: demoProviderPassword, Subject: "attacker-subject", Email: "mallory@example.test"})
	p.AddUser(providertest.User{Username: "other", Password: "other-password", Subject: "other-subject"})
	p.AddClient(providertest.Client{ID: demoProviderClient, Secret: demoProviderSecret, Name: "loginserver",
		RedirectURIs: []string{"http://localhost:8080/auth/demo/callback"}})
	op = p
	return newEnv(t, func(c *appConfig) {
		c.Providers = []providerSpec{{OIDC: true, Name: "demo", Display: "Demo ID", Issuer: srv.URL,
			ClientID: demoProviderClient, ClientSecret: demoProviderSecret}}
	})
}

// atProvider signs in at the provider's page that location (a redirect to
// its authorization endpoint) leads to, and returns the app's callback
// path with its query.
func atProvider(t *testing.T, location string) string {
	t.Helper()
	return atProviderAs(t, location, demoProviderUser, demoProviderPassword, "approve")
}

// atProviderAs is atProvider as another account at the provider, with the
// button pressed there: "approve" or "cancel".
func atProviderAs(t *testing.T, location, user, password, action string) string {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.PostForm(location, url.Values{"username": {user}, "password": {password}, "action": {action}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	cb, err := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || err != nil || cb.Path != "/auth/demo/callback" {
		t.Fatalf("provider: %d to %q, want 303 to the app's callback", res.StatusCode, res.Header.Get("Location"))
	}
	return cb.RequestURI()
}

// linked reports whether the demo provider's account is linked to uid.
func (e *env) linked(uid string) bool {
	links, err := e.users.Links(context.Background(), uid)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, l := range links {
		if l.Provider == "demo" {
			return true
		}
	}
	return false
}

// A signed-in user who signs in or confirms (max_age) through an account
// at the provider that nobody here has, without asking to link it, is
// refused, and nothing is linked: else a session with an old proof could
// step up with an account of its own at the provider and keep it as a way
// in for good.
func TestAProviderAccountIsLinkedOnlyWhenTheUserAskedToLinkIt(t *testing.T) {
	t.Parallel()
	for _, form := range []url.Values{{"max_age": {"0"}, "return_to": {"/"}}, {"return_to": {"/"}}} {
		e := newProviderEnv(t)
		b := e.browser("192.0.2.1:1")
		b.mustLogin()
		r := b.submit("/auth/demo/login", form)
		wantStatus(t, r, http.StatusSeeOther)
		r = b.page(atProvider(t, r.Header.Get("Location")))
		wantStatus(t, r, http.StatusForbidden)
		wantBody(t, r, "not linked to your account")
		if e.linked(e.demo.ID) {
			t.Fatalf("form %v: the provider account was linked without a link request", form)
		}
		if got := b.get("/me"); got.StatusCode != http.StatusOK {
			t.Fatalf("form %v: the refusal signed the user out: %d", form, got.StatusCode)
		}
		if !strings.Contains(e.logs.String(), "provider account not linked; refused") {
			t.Fatalf("form %v: no log line for the refusal", form)
		}
	}
}

// The account page's Link button links, once: its intent is taken by the
// callback, and a second sign-in with the same account is an ordinary one.
func TestLinkingAProviderLinksItToTheSignedInUser(t *testing.T) {
	t.Parallel()
	e := newProviderEnv(t)
	b := e.browser("192.0.2.1:1")
	b.mustLogin()
	wantBody(t, b.page("/"), `action="/account/link/demo"`)
	r := b.submit("/account/link/demo", nil)
	wantStatus(t, r, http.StatusSeeOther)
	r = b.page(atProvider(t, r.Header.Get("Location")))
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		t.Fatalf("callback: %d to %q, want 303 to /", r.StatusCode, r.Header.Get("Location"))
	}
	if !e.linked(e.demo.ID) {
		t.Fatal("the Link button did not link the provider account")
	}
	wantStatus(t, b.submit("/account/link/nosuch", nil), http.StatusNotFound)
}

// A link intent serves the next callback or none: a Link cancelled at the
// provider (or failed) drops it, so an ordinary sign-in after it, within
// the intent's five minutes, is refused as any other would be; a callback
// that brings an account already linked takes it too.
func TestALinkIntentServesOneCallback(t *testing.T) {
	t.Parallel()
	e := newProviderEnv(t)
	b := e.browser("192.0.2.1:1")
	b.mustLogin()
	r := b.submit("/account/link/demo", nil)
	wantStatus(t, r, http.StatusSeeOther)
	wantStatus(t, b.page(atProviderAs(t, r.Header.Get("Location"), demoProviderUser, demoProviderPassword, "cancel")), http.StatusForbidden)
	for _, form := range []url.Values{{"return_to": {"/"}}, {"max_age": {"0"}, "return_to": {"/"}}} {
		r = b.submit("/auth/demo/login", form)
		wantStatus(t, r, http.StatusSeeOther)
		r = b.page(atProvider(t, r.Header.Get("Location")))
		wantStatus(t, r, http.StatusForbidden)
		wantBody(t, r, "not linked to your account")
	}
	if e.linked(e.demo.ID) {
		t.Fatal("a sign-in after a cancelled Link linked the provider account")
	}

	// Linked, then Link again, abandoned at the provider; a sign-in with
	// the linked account takes the intent, so the next one, with another
	// account at the provider, is refused and links nothing.
	r = b.submit("/account/link/demo", nil)
	wantStatus(t, b.page(atProvider(t, r.Header.Get("Location"))), http.StatusSeeOther)
	if !e.linked(e.demo.ID) {
		t.Fatal("the Link flow did not link")
	}
	wantStatus(t, b.submit("/account/link/demo", nil), http.StatusSeeOther) // abandoned
	r = b.submit("/auth/demo/login", url.Values{"return_to": {"/"}})
	wantStatus(t, b.page(atProvider(t, r.Header.Get("Location"))), http.StatusSeeOther)
	r = b.submit("/auth/demo/login", url.Values{"return_to": {"/"}})
	r = b.page(atProviderAs(t, r.Header.Get("Location"), "other", "other-password", "approve"))
	wantStatus(t, r, http.StatusForbidden)
	wantBody(t, r, "not linked to your account")
	if got := b.get("/me"); got.StatusCode != http.StatusOK {
		t.Fatalf("signed out by the refused sign-in: %d", got.StatusCode)
	}
}

// Linking a provider or adding a passkey needs a proof of at most
// recentAuth, as removing one does: a way in must not outlive the session
// that added it. Pages go to the confirm page, API calls get RFC 9470's
// 401; nothing starts.
func TestAddingAWayInNeedsARecentProof(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// No provider is reached (and a server in the bubble would keep
		// its clock from moving): the provider's address is never dialled.
		e := newEnv(t, func(c *appConfig) {
			c.Providers = []providerSpec{{OIDC: true, Name: "demo", Display: "Demo ID", Issuer: "http://127.0.0.1:9",
				ClientID: demoProviderClient, ClientSecret: demoProviderSecret}}
		})
		b := e.browser("192.0.2.1:1")
		b.mustLogin()
		time.Sleep(recentAuth + time.Second)

		r := b.submit("/account/link/demo", nil)
		if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/confirm?return=") {
			t.Fatalf("stale link: %d to %q, want 303 to /confirm", r.StatusCode, r.Header.Get("Location"))
		}
		for _, path := range []string{"/account/link/demo", "/passkey/register/begin", "/passkey/register/finish"} {
			r := b.postJSON(path, `{}`)
			if r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="insufficient_user_authentication"`) {
				t.Fatalf("stale %s: %d %q, want RFC 9470's 401", path, r.StatusCode, r.Header.Get("WWW-Authenticate"))
			}
		}
	})
}
