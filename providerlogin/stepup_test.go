package providerlogin

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sessionauth/session/providerlogin/providertest"
)

// proof is what GET /proof shows of the browser's session.
type proof struct {
	user, authTime, methods, sessionID string
}

func (b *browser) proof(a *testApp) proof {
	b.t.Helper()
	f := strings.Split(b.get(a.base+"/proof").body, "\n")
	if len(f) != 4 {
		b.t.Fatalf("GET /proof: %q", f)
	}
	return proof{f[0], f[1], f[2], f[3]}
}

// startWithMaxAge posts the login form with a max_age field and returns the
// authorization request it redirects to.
func (b *browser) startWithMaxAge(a *testApp, provider, maxAge string) *url.URL {
	b.t.Helper()
	res := b.post(a.base+"/auth/"+provider+"/login", url.Values{"max_age": {maxAge}, "return_to": {"/confirmed"}})
	if res.status != http.StatusSeeOther {
		b.t.Fatalf("login with max_age: status %d; body %s", res.status, res.body)
	}
	return mustParse(b.t, res.location)
}

// signedInApp returns an app with one OpenID provider (also knowing bob)
// and a browser signed in there as alice, whose ID token had no amr.
func signedInApp(t *testing.T) (*testApp, *providertest.Server, *browser, proof) {
	t.Helper()
	a, op := oidcApp(t, nil)
	op.AddUser(providertest.User{Username: "bob", Password: "bob-password", Subject: "1002", Name: "Bob"})
	op.SetIDTokenHook(func(c map[string]any) { delete(c, "amr") })
	b := newBrowser(t)
	if res := b.signIn(a, "demo", "/"); res.status != http.StatusSeeOther {
		t.Fatalf("sign-in: %d %s", res.status, res.body)
	}
	op.SetIDTokenHook(nil)
	before := b.proof(a)
	if before.user != "user:"+op.Issuer()+"|"+testSubject || before.methods != "fed" {
		t.Fatalf("after sign-in: %+v", before)
	}
	return a, op, b, before
}

// TestStepUpThroughTheProviderRecordsAFreshProof: a signed-in user posts
// the login form with max_age; the provider is asked to authenticate again
// (max_age, prompt=login), and the callback records the ID token's amr on
// the same user's session under a new ID, without a second session.
func TestStepUpThroughTheProviderRecordsAFreshProof(t *testing.T) {
	t.Parallel()
	a, _, b, before := signedInApp(t)
	infos, err := a.sessions.ListSessions(context.Background(), before.user)
	if err != nil || len(infos) != 1 {
		t.Fatalf("sessions after sign-in: %d, %v", len(infos), err)
	}
	created := infos[0].Created
	authURL := b.startWithMaxAge(a, "demo", "300")
	if q := authURL.Query(); q.Get("max_age") != "300" || q.Get("prompt") != "login" {
		t.Fatalf("authorization request %s: want max_age=300 and prompt=login", authURL)
	}
	res := b.get(b.approve(authURL, "approve").String())
	if res.status != http.StatusSeeOther || res.location != "/confirmed" {
		t.Fatalf("step-up callback: %d to %q; body %s", res.status, res.location, res.body)
	}
	after := b.proof(a)
	if after.user != before.user || after.methods != "pwd" || after.sessionID == before.sessionID || after.authTime < before.authTime {
		t.Fatalf("after step-up %+v, before %+v: want the same user, amr pwd, a new session ID", after, before)
	}
	if flows := b.get(a.base + "/flows").body; flows != "" {
		t.Errorf("the step-up's flow is still pending: %q", flows)
	}
	// Not a new login: the same session (its creation time), one session.
	if infos, err = a.sessions.ListSessions(context.Background(), after.user); err != nil || len(infos) != 1 || !infos[0].Created.Equal(created) {
		t.Fatalf("sessions after step-up: %+v, %v; want 1, created %v", infos, err, created)
	}
}

// TestStepUpAsAnotherSubjectIsRefused: the step-up comes back signed in as
// bob at the provider; alice's session keeps its user, ID and proof.
func TestStepUpAsAnotherSubjectIsRefused(t *testing.T) {
	t.Parallel()
	a, _, b, before := signedInApp(t)
	res := b.get(b.approveAs(b.startWithMaxAge(a, "demo", "0"), "bob", "bob-password").String())
	wantError(t, res, http.StatusForbidden, "other_user")
	if after := b.proof(a); after != before {
		t.Fatalf("after a refused step-up %+v, before %+v", after, before)
	}
	if id := a.lastIdentity(); id.Subject != "1002" {
		t.Fatalf("Config.User saw %q", id.Subject)
	}
}

// TestStepUpWithStaleAuthTimeIsRefused: an ID token whose auth_time is
// missing, older than the max_age asked (beyond the minute allowed for the
// redirect and clock skew) or in the future is refused; the session keeps
// its proof. A sign-in with max_age from an anonymous visitor is checked
// the same way.
func TestStepUpWithStaleAuthTimeIsRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		maxAge string
		hook   func(map[string]any)
		ok     bool
	}{
		{"older than max_age", "300", func(c map[string]any) { c["auth_time"] = time.Now().Add(-7 * time.Minute).Unix() }, false},
		{"max_age 0, two minutes old", "0", func(c map[string]any) { c["auth_time"] = time.Now().Add(-2 * time.Minute).Unix() }, false},
		{"missing", "300", func(c map[string]any) { delete(c, "auth_time") }, false},
		{"a string", "300", func(c map[string]any) { c["auth_time"] = "1800000000" }, false},
		{"in the future", "300", func(c map[string]any) { c["auth_time"] = time.Now().Add(10 * time.Minute).Unix() }, false},
		{"control: within max_age and the allowance", "300", func(c map[string]any) { c["auth_time"] = time.Now().Add(-5*time.Minute - 30*time.Second).Unix() }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, op, b, before := signedInApp(t)
			op.SetIDTokenHook(tc.hook)
			res := b.get(b.approve(b.startWithMaxAge(a, "demo", tc.maxAge), "approve").String())
			after := b.proof(a)
			if tc.ok {
				// Accepted, but authenticated before this step-up began: the
				// provider's amr is not recorded as a fresh "pwd".
				if res.status != http.StatusSeeOther || after.methods != "fed" || after.sessionID == before.sessionID {
					t.Fatalf("control: %d %s, %+v", res.status, res.body, after)
				}
				return
			}
			wantError(t, res, http.StatusBadGateway, "stale_auth_time")
			if after != before {
				t.Fatalf("after a refused step-up %+v, before %+v", after, before)
			}
			// An anonymous visitor's sign-in with max_age: refused too.
			anon := newBrowser(t)
			res = anon.get(anon.approve(anon.startWithMaxAge(a, "demo", tc.maxAge), "approve").String())
			wantError(t, res, http.StatusBadGateway, "stale_auth_time")
			if who := anon.whoami(a); who != "anonymous" {
				t.Fatalf("signed in as %q", who)
			}
		})
	}
}

// TestSignInWithMaxAgeFromAnAnonymousVisitorSignsIn: without a session
// user, max_age is a sign-in that wants a fresh authentication.
func TestSignInWithMaxAgeFromAnAnonymousVisitorSignsIn(t *testing.T) {
	t.Parallel()
	a, op := oidcApp(t, nil)
	b := newBrowser(t)
	res := b.get(b.approve(b.startWithMaxAge(a, "demo", "60"), "approve").String())
	if res.status != http.StatusSeeOther || b.proof(a).user != "user:"+op.Issuer()+"|"+testSubject || b.proof(a).methods != "pwd" {
		t.Fatalf("sign-in with max_age: %d %s, %+v", res.status, res.body, b.proof(a))
	}
}

func TestMaxAgeFieldIsChecked(t *testing.T) {
	t.Parallel()
	op := startProvider(t, false)
	plain := startProvider(t, true)
	a := startApp(t, func(base string) []*Provider {
		registerApp(op, base, "demo")
		registerApp(plain, base, "plain")
		return []*Provider{oidcProvider(t, "demo", op, nil), plainProvider(t, "plain", plain)}
	}, nil)
	b := newBrowser(t)
	for _, tc := range []struct {
		provider string
		form     url.Values
	}{
		{"demo", url.Values{"max_age": {""}}},
		{"demo", url.Values{"max_age": {"-1"}}},
		{"demo", url.Values{"max_age": {"1e3"}}},
		{"demo", url.Values{"max_age": {" 60"}}},
		{"demo", url.Values{"max_age": {"86401"}}},
		{"demo", url.Values{"max_age": {"99999999999999999999"}}},
		{"demo", url.Values{"max_age": {"60", "60"}}},
		{"plain", url.Values{"max_age": {"60"}}}, // no auth_time to check
	} {
		res := b.post(a.base+"/auth/"+tc.provider+"/login", tc.form)
		if res.status != http.StatusBadRequest {
			t.Errorf("%s %v: %d, want 400", tc.provider, tc.form, res.status)
		}
	}
	if res := b.post(a.base+"/auth/demo/login", url.Values{"max_age": {"86400"}}); res.status != http.StatusSeeOther {
		t.Errorf("max_age of a day: %d", res.status)
	}
}
