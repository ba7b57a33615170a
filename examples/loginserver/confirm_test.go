package main

import (
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
