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
// the same way. A step-up also refuses an authentication from before it
// began, even within max_age (a sign-in takes it, as fed).
func TestStepUpWithStaleAuthTimeIsRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		maxAge         string
		hook           func(map[string]any)
		stepUp, signIn string // the methods recorded, "" when refused
	}{
		{"older than max_age", "300", func(c map[string]any) { c["auth_time"] = time.Now().Add(-7 * time.Minute).Unix() }, "", ""},
		{"max_age 0, two minutes old", "0", func(c map[string]any) { c["auth_time"] = time.Now().Add(-2 * time.Minute).Unix() }, "", ""},
		{"missing", "300", func(c map[string]any) { delete(c, "auth_time") }, "", ""},
		{"a string", "300", func(c map[string]any) { c["auth_time"] = "1800000000" }, "", ""},
		{"in the future", "300", func(c map[string]any) { c["auth_time"] = time.Now().Add(10 * time.Minute).Unix() }, "", ""},
		{"within max_age and the allowance, before the flow began", "300", func(c map[string]any) { c["auth_time"] = time.Now().Add(-5*time.Minute - 30*time.Second).Unix() }, "", "fed"},
		{"control: during the flow", "300", nil, "pwd", "pwd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, op, b, before := signedInApp(t)
			op.SetIDTokenHook(tc.hook)
			res := b.get(b.approve(b.startWithMaxAge(a, "demo", tc.maxAge), "approve").String())
			after := b.proof(a)
			if tc.stepUp != "" {
				if res.status != http.StatusSeeOther || after.methods != tc.stepUp || after.sessionID == before.sessionID {
					t.Fatalf("step-up: %d %s, %+v; want %s", res.status, res.body, after, tc.stepUp)
				}
			} else {
				wantError(t, res, http.StatusBadGateway, "stale_auth_time")
				if after != before {
					t.Fatalf("after a refused step-up %+v, before %+v", after, before)
				}
			}
			// An anonymous visitor's sign-in with max_age.
			anon := newBrowser(t)
			res = anon.get(anon.approve(anon.startWithMaxAge(a, "demo", tc.maxAge), "approve").String())
			if tc.signIn != "" {
				if res.status != http.StatusSeeOther || anon.proof(a).methods != tc.signIn {
					t.Fatalf("sign-in: %d %s, %+v; want %s", res.status, res.body, anon.proof(a), tc.signIn)
				}
				return
			}
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

// TestStepUpFlowIsBoundToItsUserAndUsedOnce: a step-up started as alice
// cannot be finished once the browser is signed in as bob (another tab) or
// signed out, nor replayed after it was used; each time the session keeps
// its user and proof.
func TestStepUpFlowIsBoundToItsUserAndUsedOnce(t *testing.T) {
	t.Parallel()
	t.Run("bob signed in meanwhile", func(t *testing.T) {
		t.Parallel()
		a, _, b, _ := signedInApp(t)
		stepUp := b.startWithMaxAge(a, "demo", "0")
		// Another tab: a plain sign-in as bob (prompt=login added at the
		// provider so that its single sign-on as alice does not answer).
		login := b.startLogin(a, "demo", "/")
		q := login.Query()
		q.Set("prompt", "login")
		login.RawQuery = q.Encode()
		if res := b.get(b.approveAs(login, "bob", "bob-password").String()); res.status != http.StatusSeeOther {
			t.Fatalf("bob's sign-in: %d %s", res.status, res.body)
		}
		asBob := b.proof(a)
		for _, who := range []struct{ user, password string }{{"alice", "alice-password"}, {"bob", "bob-password"}} {
			res := b.get(b.approveAs(stepUp, who.user, who.password).String())
			if res.status != http.StatusBadRequest && res.status != http.StatusForbidden {
				t.Fatalf("alice's step-up finished as %s in bob's session: %d %s", who.user, res.status, res.body)
			}
			if after := b.proof(a); after != asBob {
				t.Fatalf("after %s's answer to alice's step-up: %+v, want bob's %+v", who.user, after, asBob)
			}
		}
	})
	t.Run("signed out meanwhile", func(t *testing.T) {
		t.Parallel()
		a, _, b, _ := signedInApp(t)
		stepUp := b.startWithMaxAge(a, "demo", "0")
		if res := b.post(a.base+"/auth/logout", nil); res.status != http.StatusSeeOther {
			t.Fatalf("logout: %d", res.status)
		}
		res := b.get(b.approve(stepUp, "approve").String())
		if res.status != http.StatusBadRequest && res.status != http.StatusForbidden {
			t.Fatalf("step-up after logout: %d %s", res.status, res.body)
		}
		if who := b.whoami(a); who != "anonymous" {
			t.Fatalf("after a step-up answered once signed out: %q", who)
		}
	})
	t.Run("replayed callback", func(t *testing.T) {
		t.Parallel()
		a, _, b, _ := signedInApp(t)
		cb := b.approve(b.startWithMaxAge(a, "demo", "0"), "approve")
		if res := b.get(cb.String()); res.status != http.StatusSeeOther {
			t.Fatalf("step-up: %d %s", res.status, res.body)
		}
		stepped := b.proof(a)
		wantError(t, b.get(cb.String()), http.StatusBadRequest, "invalid_state")
		if after := b.proof(a); after != stepped {
			t.Fatalf("after a replayed step-up callback %+v, want %+v", after, stepped)
		}
	})
	t.Run("refused step-up replayed", func(t *testing.T) {
		t.Parallel()
		a, _, b, before := signedInApp(t)
		cb := b.approveAs(b.startWithMaxAge(a, "demo", "0"), "bob", "bob-password")
		wantError(t, b.get(cb.String()), http.StatusForbidden, "other_user")
		wantError(t, b.get(cb.String()), http.StatusBadRequest, "invalid_state")
		if after := b.proof(a); after != before {
			t.Fatalf("after a replayed refused step-up %+v, before %+v", after, before)
		}
	})
}

// TestStepUpChecksTheNonce: the step-up's ID token is verified as a
// sign-in's: one with another nonce is refused and the proof stays.
func TestStepUpChecksTheNonce(t *testing.T) {
	t.Parallel()
	a, op, b, before := signedInApp(t)
	op.SetIDTokenHook(func(c map[string]any) { c["nonce"] = "not-this-flows-nonce" })
	wantError(t, b.get(b.approve(b.startWithMaxAge(a, "demo", "0"), "approve").String()), http.StatusBadGateway, "invalid_id_token")
	if after := b.proof(a); after != before {
		t.Fatalf("after a step-up with another nonce %+v, before %+v", after, before)
	}
}

// TestStepUpCannotRideOnAnOlderAuthentication: max_age is a form field,
// so the browser picks it. A step-up posted with max_age of a day, answered
// by a provider that ignores prompt=login with an authentication from two
// hours ago, must not record a fresh proof (the session's AuthTime would
// be now): a step-up needs an auth_time from within its own flow.
func TestStepUpCannotRideOnAnOlderAuthentication(t *testing.T) {
	t.Parallel()
	a, op, b, before := signedInApp(t)
	op.SetIDTokenHook(func(c map[string]any) { c["auth_time"] = time.Now().Add(-2 * time.Hour).Unix() })
	res := b.get(b.approve(b.startWithMaxAge(a, "demo", "86400"), "approve").String())
	wantError(t, res, http.StatusBadGateway, "stale_auth_time")
	if after := b.proof(a); after != before {
		t.Fatalf("after a step-up on a two-hour-old authentication %+v, before %+v", after, before)
	}
	// A sign-in (no one signed in) with the same answer is one: Login
	// records fed, as any single sign-on.
	anon := newBrowser(t)
	res = anon.get(anon.approve(anon.startWithMaxAge(a, "demo", "86400"), "approve").String())
	if res.status != http.StatusSeeOther || anon.proof(a).methods != "fed" {
		t.Fatalf("sign-in with max_age: %d %s, %+v", res.status, res.body, anon.proof(a))
	}
}
