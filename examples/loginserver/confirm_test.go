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
)

// Signing out everywhere right after signing in needs nothing more; once
// the last proof is older than recentAuth, a form goes to /confirm and an
// API call gets RFC 9470's 401, and nobody is signed out. The password on
// the confirm page steps the session up (a new cookie, the same session
// list) and then it works. A wrong password is refused and counted.
func TestSignOutEverywhereNeedsARecentProof(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		laptop, phone := e.browser("192.0.2.1:1"), e.browser("192.0.2.2:1")
		laptop.mustLogin()
		phone.mustLogin()
		time.Sleep(recentAuth + time.Second)

		r := laptop.postJSON("/logout-all", "")
		if r.StatusCode != http.StatusUnauthorized || !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="insufficient_user_authentication"`) {
			t.Fatalf("stale API sign-out everywhere: %d %q, want RFC 9470's 401", r.StatusCode, r.Header.Get("WWW-Authenticate"))
		}
		r = laptop.submit("/logout-all", nil)
		if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/confirm?return=") {
			t.Fatalf("stale form sign-out everywhere: %d to %q, want 303 to /confirm", r.StatusCode, r.Header.Get("Location"))
		}
		if r := phone.get("/me"); r.StatusCode != http.StatusOK {
			t.Fatalf("the phone was signed out by a refused request: %d", r.StatusCode)
		}
		page := laptop.page("/confirm?return=%2Flogout-all")
		wantStatus(t, page, http.StatusOK)
		wantBody(t, page, `id="confirm-form"`, `name="return" value="/"`, `class="notice info"`)

		r = laptop.postForm("/confirm", url.Values{"password": {"not the password, but long"}, "return": {"/logout-all"}})
		wantStatus(t, r, http.StatusForbidden)
		wantBody(t, r, "That password is not right.")

		before := laptop.cookies[e.app.cookieName].Value
		r = laptop.postForm("/confirm", url.Values{"password": {testPassword}, "return": {"/logout-all"}})
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
			t.Fatalf("confirm: %d to %q, want 303 to /", r.StatusCode, r.Header.Get("Location"))
		}
		if c := laptop.cookies[e.app.cookieName]; c == nil || c.Value == before {
			t.Fatal("the step-up did not give the session a new token")
		}
		var list []sessionJSON
		laptop.get("/sessions").json(t, &list)
		if len(list) != 2 {
			t.Fatalf("after the step-up the user has %d sessions, want the same 2", len(list))
		}
		wantStatus(t, laptop.submit("/logout-all", nil), http.StatusSeeOther)
		if r := phone.get("/me"); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("after signing out everywhere the phone gets %d, want 401", r.StatusCode)
		}
	})
}

// confirmReturn goes back to pages only, and to pages of this site only.
func TestConfirmReturnsToPagesOfThisSiteOnly(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/password": "/password", "/": "/", "/logout-all": "/", "": "/",
		"//evil.example/password": "/", "https://evil.example/": "/", "/%2F%2Fevil.example": "/",
	} {
		if got := confirmReturn(in); got != want {
			t.Errorf("confirmReturn(%q) = %q, want %q", in, got, want)
		}
	}
}

// submit POSTs a form as a browser does (Accept: text/html).
func (b *browser) submit(path string, form url.Values) *response {
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	return b.do(req)
}

// A step-up whose session is signed out meanwhile (in another tab) answers
// as signed out, 401, not as a store failure.
func TestConfirmRacingASignOutAnswersSignedOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	laptop := e.browser("192.0.2.1:1")
	laptop.mustLogin()
	fired := e.signOutAtFirstTouch()
	r := laptop.postJSON("/confirm", `{"password":"`+testPassword+`"}`)
	e.faults.SetHook(nil)
	if !fired.Load() {
		t.Fatal("the step-up never checked this session")
	}
	wantStatus(t, r, http.StatusUnauthorized)
	if msg := r.errorMsg(t); msg != "not authenticated" {
		t.Errorf("error %q; want not authenticated", msg)
	}
}

// The confirm page says why it is shown: a proof too old, or a recent one
// by no method that may add a way in (wayInProofs; a sign-in that recorded
// none here). An account with neither a password, a passkey nor an OpenID
// provider to confirm with is told it cannot add a way in this way.
func TestTheConfirmPageSaysWhyARecentProofCannotAddAWayIn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		stale := e.browser("192.0.2.1:1")
		stale.mustLogin()
		time.Sleep(recentAuth + time.Second)
		page := stale.page("/confirm?return=%2F")
		wantBody(t, page, "your last sign-in was more than a few minutes ago", `id="confirm-form"`)

		noMethod := e.browser("192.0.2.2:1")
		noMethod.cookies[hostCookieName] = e.loginDirect(e.demo.ID)
		page = noMethod.page("/confirm?return=%2F")
		wantBody(t, page, "adding a way to sign in needs your password, a passkey, or signing in again at your provider", `id="confirm-form"`)
		if strings.Contains(page.body, "more than a few minutes ago") {
			t.Fatal("a recent proof is called old")
		}

		u, err := e.users.Create(context.Background(), "no-password", "")
		if err != nil {
			t.Fatal(err)
		}
		nothing := e.browser("192.0.2.3:1")
		nothing.cookies[hostCookieName] = e.loginDirect(u.ID)
		page = nothing.page("/confirm?return=%2F")
		wantBody(t, page, "so it cannot confirm adding a way to sign in")
		if strings.Contains(page.body, `id="confirm-form"`) || strings.Contains(page.body, "that is a fresh sign-in") {
			t.Fatal("an account with nothing to confirm with is offered a way that cannot work")
		}
	})
}

// wayInProofs are methods that need someone at the keyboard: never the
// provider's bare "fed", nor a method a device or a network asserts alone.
func TestWayInProofsNeedSomeoneAtTheKeyboard(t *testing.T) {
	t.Parallel()
	for _, m := range []string{"fed", "wia", "user", "pop", "geo", "rba"} {
		if provedInPerson([]string{m}) {
			t.Errorf("%q may add a way in", m)
		}
	}
	for _, ms := range [][]string{{"pwd"}, {"hwk"}, {"swk"}, {"fed", "mfa", "otp"}} {
		if !provedInPerson(ms) {
			t.Errorf("%q may not add a way in", ms)
		}
	}
}
