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

// A link intent serves its own sign-in's callback, once: a Link cancelled
// at the provider (or failed) drops it, so an ordinary sign-in after it,
// within the intent's five minutes, is refused as any other would be; and
// while a Link is pending (abandoned at the provider), a sign-in with the
// linked account works and one with another account is refused, as
// neither is that Link's callback.
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
	// the linked account is an ordinary one, and the next one, with
	// another account at the provider, is refused and links nothing.
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

// A link intent is bound to the sign-in the Link button started: someone
// holding a copy of the session cookie (stolen, however old: starting a
// sign-in needs no recent proof) who keeps a callback of their own
// account at the provider ready cannot have it take the intent when the
// user presses Link. Their callback is refused as not linked, and the
// user's own link still goes through, with the user's provider account.
func TestOnlyTheLinkButtonsOwnSignInCanLink(t *testing.T) {
	t.Parallel()
	e := newProviderEnv(t)
	victim := e.browser("192.0.2.1:1")
	victim.mustLogin()
	thief := e.browser("198.51.100.7:1")
	for k, c := range victim.cookies {
		thief.cookies[k] = &http.Cookie{Name: c.Name, Value: c.Value}
	}
	r := thief.submit("/auth/demo/login", url.Values{"return_to": {"/"}})
	wantStatus(t, r, http.StatusSeeOther)
	thiefCallback := atProviderAs(t, r.Header.Get("Location"), "other", "other-password", "approve")

	link := victim.submit("/account/link/demo", nil)
	wantStatus(t, link, http.StatusSeeOther)
	r = thief.page(thiefCallback)
	if e.linked(e.demo.ID) {
		t.Fatalf("the thief's callback (%d) linked their provider account to the victim", r.StatusCode)
	}
	wantStatus(t, r, http.StatusForbidden)
	wantBody(t, r, "not linked to your account")

	r = victim.page(atProvider(t, link.Header.Get("Location")))
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		t.Fatalf("the victim's link callback: %d to %q, want 303 to /", r.StatusCode, r.Header.Get("Location"))
	}
	links, err := e.users.Links(context.Background(), e.demo.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(links) != 1 || links[0].Subject != "attacker-subject" { // demoProviderUser, the victim here
		t.Fatalf("links %+v, want the victim's own provider account only", links)
	}
}

// A Link whose sign-in cannot start (the provider does not answer) ends
// on the sign-in's own error page, with its status.
func TestALinkThatCannotStartSaysSo(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *appConfig) {
		c.Providers = []providerSpec{{OIDC: true, Name: "demo", Display: "Demo ID", Issuer: "http://127.0.0.1:9",
			ClientID: demoProviderClient, ClientSecret: demoProviderSecret}}
	})
	b := e.browser("192.0.2.1:1")
	b.mustLogin()
	r := b.submit("/account/link/demo", nil)
	wantStatus(t, r, http.StatusBadGateway)
	wantBody(t, r, "The provider could not sign you in right now.")
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

// bubbleProvider is an OpenID provider "demo" at http://op.test that the
// app reaches in process, for synctest bubbles (a socket would keep the
// bubble's clock from moving): it takes over http.DefaultTransport until
// the test ends, so its tests must not be parallel. Its page keeps its
// own cookie, as a browser signed in there would.
type bubbleProvider struct {
	t      *testing.T
	op     *providertest.Server
	cookie *http.Cookie
}

func newBubbleProvider(t *testing.T) (*env, *bubbleProvider) {
	t.Helper()
	op, err := providertest.New(providertest.Config{Issuer: "http://op.test", Name: "Demo ID"})
	if err != nil {
		t.Fatal(err)
	}
	op.AddUser(providertest.User{Username: demoProviderUser, Password: demoProviderPassword, Subject: "vic-subject", Email: "vic@example.test"})
	op.AddClient(providertest.Client{ID: demoProviderClient, Secret: demoProviderSecret, Name: "loginserver",
		RedirectURIs: []string{"http://localhost:8080/auth/demo/callback"}})
	old := http.DefaultTransport
	http.DefaultTransport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		rec := httptest.NewRecorder()
		op.ServeHTTP(rec, r)
		return rec.Result(), nil
	})
	t.Cleanup(func() { http.DefaultTransport = old })
	e := newEnv(t, func(c *appConfig) {
		c.Providers = []providerSpec{{OIDC: true, Name: "demo", Display: "Demo ID", Issuer: "http://op.test",
			ClientID: demoProviderClient, ClientSecret: demoProviderSecret}}
	})
	return e, &bubbleProvider{t: t, op: op}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// visit opens location (the app's redirect to the provider) as the
// browser does: with the password typed on its page when form holds one
// (POST), else a GET that its single sign-on answers at once. It returns
// the app's callback path with its query.
func (p *bubbleProvider) visit(location string, typePassword bool) string {
	p.t.Helper()
	req := httptest.NewRequest("GET", location, nil)
	if typePassword {
		form := url.Values{"username": {demoProviderUser}, "password": {demoProviderPassword}, "action": {"approve"}}
		req = httptest.NewRequest("POST", location, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if p.cookie != nil {
		req.AddCookie(p.cookie)
	}
	rec := httptest.NewRecorder()
	p.op.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		p.cookie = c
	}
	cb, err := url.Parse(rec.Header().Get("Location"))
	if rec.Code != http.StatusSeeOther || err != nil || cb.Path != "/auth/demo/callback" {
		p.t.Fatalf("provider %s: %d to %q, want 303 to the app's callback", req.Method, rec.Code, rec.Header().Get("Location"))
	}
	return cb.RequestURI()
}

// A provider's single sign-on answers "Sign in with" without asking
// anyone, and the session records "fed" with a fresh time: on a borrowed
// laptop whose own proof is stale, that must not let anyone add a way in
// (link a provider, add a passkey), which would outlast the session. The
// refusal says "method" (API: RFC 9470's 401; pages: the confirm page,
// which says why); removing a passkey still takes any recent proof; and
// confirming by a real sign-in at the provider (max_age=0, prompt=login:
// it records the ID token's "pwd") lets the user add one.
func TestASilentSingleSignOnCannotAddAWayIn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e, op := newBubbleProvider(t)
		laptop := e.browser("192.0.2.1:1")
		// The user signs up through the provider, typing the password there.
		r := laptop.submit("/auth/demo/login", url.Values{"return_to": {"/"}})
		wantStatus(t, r, http.StatusSeeOther)
		wantStatus(t, laptop.page(op.visit(r.Header.Get("Location"), true)), http.StatusSeeOther)
		wantStatus(t, laptop.get("/me"), http.StatusOK)

		// Later, someone at the laptop, whose proof is stale, presses "Sign
		// in with Demo ID", and the provider answers at once.
		time.Sleep(recentAuth + time.Minute)
		r = laptop.submit("/auth/demo/login", url.Values{"return_to": {"/"}})
		wantStatus(t, laptop.page(op.visit(r.Header.Get("Location"), false)), http.StatusSeeOther)

		for _, path := range []string{"/account/link/demo", "/passkey/register/begin", "/passkey/register/finish"} {
			r := laptop.postJSON(path, `{}`)
			if r.StatusCode != http.StatusUnauthorized {
				t.Fatalf("after a silent single sign-on, %s answers %d: a way in can be added with no one at the keyboard", path, r.StatusCode)
			}
			var body struct{ Error, Reason string }
			r.json(t, &body)
			if body.Error != "insufficient_user_authentication" || body.Reason != "method" ||
				!strings.Contains(r.Header.Get("WWW-Authenticate"), `error="insufficient_user_authentication"`) {
				t.Fatalf("after a silent single sign-on, %s answers %d %s, want RFC 9470's 401 for the method", path, r.StatusCode, r.body)
			}
		}
		r = laptop.submit("/account/link/demo", nil)
		if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/confirm?return=") {
			t.Fatalf("form link after a silent single sign-on: %d to %q, want 303 to /confirm", r.StatusCode, r.Header.Get("Location"))
		}
		page := laptop.page(r.Header.Get("Location"))
		wantStatus(t, page, http.StatusOK)
		wantBody(t, page, "adding a way to sign in needs your password, a passkey, or signing in again at your provider",
			`id="confirm-demo"`, `name="max_age" value="0"`)
		// What takes a way away still takes any recent proof.
		wantStatus(t, laptop.postJSON("/passkey/remove", `{"id":"AAAA"}`), http.StatusNotFound)

		// "Confirm with Demo ID": the provider asks for the password.
		r = laptop.submit("/auth/demo/login", url.Values{"max_age": {"0"}, "return_to": {"/"}})
		wantStatus(t, r, http.StatusSeeOther)
		wantStatus(t, laptop.page(op.visit(r.Header.Get("Location"), true)), http.StatusSeeOther)
		wantStatus(t, laptop.postJSON("/passkey/register/begin", `{}`), http.StatusOK)
		r = laptop.submit("/account/link/demo", nil)
		if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "http://op.test/") {
			t.Fatalf("link after confirming: %d to %q, want 303 to the provider", r.StatusCode, r.Header.Get("Location"))
		}
	})
}
