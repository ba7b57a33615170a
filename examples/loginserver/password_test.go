package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const newPassword = "a brand new passphrase for demo"

// Changing the password ends every other session of the user and renews
// this one (a new token); the notice says how many devices were signed out;
// the old password stops working and the new one works.
func TestChangePasswordSignsOutOtherDevicesAndRenewsThisOne(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	laptop, phone, tablet := e.browser("192.0.2.1:1"), e.browser("192.0.2.2:1"), e.browser("192.0.2.3:1")
	for _, b := range []*browser{laptop, phone, tablet} {
		b.mustLogin()
	}
	before := laptop.cookies[hostCookieName].Value
	r := laptop.postForm("/password", url.Values{"current_password": {testPassword}, "new_password": {newPassword}})
	wantStatus(t, r, http.StatusSeeOther)
	if c := r.cookie(); c == nil || c.Value == before {
		t.Fatalf("this session was not renewed: cookie %v", c)
	}
	wantStatus(t, laptop.get("/me"), http.StatusOK)
	wantStatus(t, phone.get("/me"), http.StatusUnauthorized)
	wantStatus(t, tablet.get("/me"), http.StatusUnauthorized)
	// The token from before the change is dead too.
	old := e.browser("192.0.2.1:1")
	old.cookies[hostCookieName] = &http.Cookie{Name: hostCookieName, Value: before}
	wantStatus(t, old.get("/me"), http.StatusUnauthorized)

	wantBody(t, laptop.get("/"), "Your password was changed. Your 2 other devices were signed out; this one stays signed in.")
	wantStatus(t, e.browser("192.0.2.9:1").login(testUser, testPassword), http.StatusUnauthorized)
	wantStatus(t, e.browser("192.0.2.9:1").login(testUser, newPassword), http.StatusOK)
}

func TestChangePasswordJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	laptop, phone := e.browser("192.0.2.1:1"), e.browser("192.0.2.2:1")
	laptop.mustLogin()
	phone.mustLogin()
	r := laptop.postJSON("/password", `{"current_password":"`+testPassword+`","new_password":"`+newPassword+`"}`)
	wantStatus(t, r, http.StatusNoContent)
	if r.cookie() == nil {
		t.Fatal("no renewed cookie")
	}
	wantStatus(t, laptop.get("/me"), http.StatusOK)
	wantStatus(t, phone.get("/me"), http.StatusUnauthorized)
}

// Each refusal has its JSON code and, on the page, a sentence and the focus
// on the field to fix. Nothing changes.
func TestChangePasswordRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, current, new string
		status             int
		code, human, field string
	}{
		{"wrong current password", "not my password at all", newPassword, http.StatusForbidden,
			"current password is wrong", "Your current password is not right.", "current_password"},
		{"no current password", "", newPassword, http.StatusBadRequest,
			"current_password and new_password are required", "Enter your current password.", "current_password"},
		{"no new password", testPassword, "", http.StatusBadRequest,
			"current_password and new_password are required", "Enter a new password.", "new_password"},
		{"weak new password", testPassword, "short one", http.StatusBadRequest,
			"password must be at least 15 characters", "Use at least 15 characters for your password.", "new_password"},
		{"same password", testPassword, testPassword, http.StatusBadRequest,
			"new password must differ from the current one", "Your new password is the same as the current one.", "new_password"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			b, other := e.browser("192.0.2.1:1"), e.browser("192.0.2.2:1")
			b.mustLogin()
			other.mustLogin()
			body := fmt.Sprintf(`{"current_password":%q,"new_password":%q}`, tc.current, tc.new)
			r := b.postJSON("/password", body)
			wantStatus(t, r, tc.status)
			if msg := r.errorMsg(t); msg != tc.code {
				t.Fatalf("JSON error %q, want %q", msg, tc.code)
			}
			r = b.postForm("/password", url.Values{"current_password": {tc.current}, "new_password": {tc.new}})
			wantStatus(t, r, tc.status)
			wantBody(t, r, tc.human)
			if f := r.focused(); f != tc.field {
				t.Fatalf("focus on %q, want %q", f, tc.field)
			}
			if strings.Contains(r.body, tc.code) && tc.code != tc.human {
				t.Fatalf("the page shows the API code %q", tc.code)
			}
			wantStatus(t, other.get("/me"), http.StatusOK) // nothing ended
			u, _ := e.users.ByID(context.Background(), e.demo.ID)
			if u.PasswordHash != testHash() {
				t.Fatal("the password changed")
			}
		})
	}
}

// A stolen session cannot be used to guess the current password: wrong
// guesses count like failed sign-ins to the account, here against the
// budget of the device that signed in (10 per 15 minutes).
func TestChangePasswordWrongGuessesAreThrottled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser("192.0.2.1:1")
	b.mustLogin()
	e.cheapDemoHash()
	for range 10 {
		wantStatus(t, b.postJSON("/password", `{"current_password":"a wrong guess, long enough","new_password":"`+newPassword+`"}`), http.StatusForbidden)
	}
	r := b.postJSON("/password", `{"current_password":"`+testPassword+`","new_password":"`+newPassword+`"}`)
	wantStatus(t, r, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	r = b.postForm("/password", url.Values{"current_password": {testPassword}, "new_password": {newPassword}})
	wantStatus(t, r, http.StatusTooManyRequests)
	if f := r.focused(); f != "current_password" {
		t.Fatalf("focus on %q", f)
	}
}

// A thief holding only the session cookie (no device cookie) guesses
// against the account's budget: once it is spent, sign-ins from unknown
// devices are refused too.
func TestChangePasswordGuessesWithoutDeviceCookieSpendTheAccountBudget(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser("192.0.2.1:1")
	b.mustLogin()
	e.cheapDemoHash()
	thief := e.browser("198.51.100.1:1")
	thief.cookies[hostCookieName] = b.cookies[hostCookieName]
	for range 10 {
		wantStatus(t, thief.postJSON("/password", `{"current_password":"a wrong guess, long enough","new_password":"`+newPassword+`"}`), http.StatusForbidden)
	}
	retryAfter(t, thief.postJSON("/password", `{"current_password":"`+testPassword+`","new_password":"`+newPassword+`"}`))
	retryAfter(t, e.browser("203.0.113.1:1").login(testUser, testPassword))
	wantStatus(t, b.login(testUser, testPassword), http.StatusOK) // the owner's device
}

func TestChangePasswordNeedsSignIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser("192.0.2.1:1")
	wantStatus(t, b.postJSON("/password", `{"current_password":"`+testPassword+`","new_password":"`+newPassword+`"}`), http.StatusUnauthorized)
	r := b.postForm("/password", url.Values{"current_password": {testPassword}, "new_password": {newPassword}})
	wantStatus(t, r, http.StatusSeeOther)
	u, _ := e.users.ByID(context.Background(), e.demo.ID)
	if u.PasswordHash != testHash() {
		t.Fatal("an anonymous request changed the password")
	}
}

// cheapDemoHash gives the demo account a cheap bcrypt hash of its password,
// so that a test can fail many password checks without an argon2id hash
// each (a successful sign-in upgrades it again).
func (e *env) cheapDemoHash() {
	e.t.Helper()
	if err := e.users.SetPasswordHash(context.Background(), e.demo.ID, cheapHash(e.t, testPassword)); err != nil {
		e.t.Fatal(err)
	}
}

// A password change during which this device's session is signed out (from
// another device, say by whoever holds the other session) still ends the
// other sessions, and answers this device as signed out.
func TestChangePasswordWhileThisDeviceIsSignedOutEndsTheOthers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	laptop, phone := e.browser("192.0.2.1:1"), e.browser("192.0.2.2:1")
	laptop.mustLogin()
	phone.mustLogin()
	// The change's check that this session still lives: sign it out first,
	// as the other device's "sign out this device" would.
	fired := e.signOutAtFirstTouch()
	r := laptop.postJSON("/password", `{"current_password":"`+testPassword+`","new_password":"`+newPassword+`"}`)
	e.faults.SetHook(nil)
	if !fired.Load() {
		t.Fatal("the change never checked this session")
	}
	wantStatus(t, r, http.StatusUnauthorized)
	wantStatus(t, phone.get("/me"), http.StatusUnauthorized)
	wantStatus(t, laptop.get("/me"), http.StatusUnauthorized)
	wantStatus(t, e.browser("192.0.2.9:1").login(testUser, newPassword), http.StatusOK)
}
