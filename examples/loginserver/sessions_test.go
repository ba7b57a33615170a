package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestSessionsListsDevicesWithoutSecrets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	wantStatus(t, e.browser("192.0.2.1:1").get("/sessions"), http.StatusUnauthorized)
	laptop, phone := e.browser("192.0.2.1:1"), e.browser("192.0.2.2:1")
	phone.ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1"
	laptop.mustLogin()
	phone.mustLogin()
	r := laptop.get("/sessions")
	wantStatus(t, r, http.StatusOK)
	var list []sessionJSON
	r.json(t, &list)
	if len(list) != 2 || !list[0].Current || list[1].Current {
		t.Fatalf("sessions %+v: want 2, the current one first", list)
	}
	if list[0].Device != "Chrome on Linux" || list[1].Device != "Safari on iOS" {
		t.Fatalf("devices %q, %q", list[0].Device, list[1].Device)
	}
	for _, s := range list {
		if s.ID == "" || s.Created.IsZero() || s.LastSeen.IsZero() || !s.Expires.After(s.LastSeen) {
			t.Fatalf("incomplete session %+v", s)
		}
	}
	// No token, cookie value or store key in the answer.
	for _, b := range []*browser{laptop, phone} {
		v := b.cookies[hostCookieName].Value
		if strings.Contains(r.body, v) || strings.Contains(r.body, v[:20]) {
			t.Fatal("the sessions list contains a cookie value")
		}
	}
	entries, _ := e.store.ListUser(context.Background(), e.demo.ID)
	for _, en := range entries {
		if strings.Contains(r.body, en.Key) {
			t.Fatal("the sessions list contains a store key")
		}
	}
	e.faults.Fail(nil)
	wantStatus(t, laptop.get("/sessions"), http.StatusServiceUnavailable)
}

// The sign-out button of another device ends that session only; signing
// out a session that has already ended says so.
func TestLogoutDeviceSignsOutThatDeviceOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	laptop, phone, tablet := e.browser("192.0.2.1:1"), e.browser("192.0.2.2:1"), e.browser("192.0.2.3:1")
	for _, b := range []*browser{laptop, phone, tablet} {
		b.mustLogin()
	}
	var list []sessionJSON
	phone.get("/sessions").json(t, &list)
	phoneID := list[0].ID

	r := laptop.postForm("/sessions/"+phoneID+"/logout", nil)
	wantStatus(t, r, http.StatusSeeOther)
	if r.cookie() != nil {
		t.Fatal("signing out another device touched this device's cookie")
	}
	wantStatus(t, phone.get("/me"), http.StatusUnauthorized)
	wantStatus(t, laptop.get("/me"), http.StatusOK)
	wantStatus(t, tablet.get("/me"), http.StatusOK)
	// Again (a second tab, a double click): a notice, no error.
	wantStatus(t, laptop.postForm("/sessions/"+phoneID+"/logout", nil), http.StatusSeeOther)
	wantBody(t, laptop.get("/"), "That device was already signed out.")
	// The API: 404 for a session that is not there, 204 otherwise.
	r = laptop.do(httptest.NewRequest("POST", "/sessions/"+phoneID+"/logout", nil))
	wantStatus(t, r, http.StatusNotFound)
	if msg := r.errorMsg(t); msg != "no such session" {
		t.Fatalf("error %q", msg)
	}
	tablet.get("/sessions").json(t, &list)
	wantStatus(t, laptop.do(httptest.NewRequest("POST", "/sessions/"+list[0].ID+"/logout", nil)), http.StatusNoContent)
	wantStatus(t, tablet.get("/me"), http.StatusUnauthorized)
}

// A session ID of another user's session signs out nothing: IDs are only
// looked up among the signed-in user's own sessions.
func TestLogoutDeviceCannotEndAnotherUsersSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.users.Create(context.Background(), "mallory", testHash()); err != nil {
		t.Fatal(err)
	}
	victim, mallory := e.browser("192.0.2.1:1"), e.browser("203.0.113.1:1")
	victim.mustLogin()
	wantStatus(t, mallory.login("mallory", testPassword), http.StatusOK)
	var list []sessionJSON
	victim.get("/sessions").json(t, &list)
	wantStatus(t, mallory.do(httptest.NewRequest("POST", "/sessions/"+list[0].ID+"/logout", nil)), http.StatusNotFound)
	wantStatus(t, victim.get("/me"), http.StatusOK)
	wantStatus(t, e.browser("203.0.113.1:1").do(httptest.NewRequest("POST", "/sessions/"+list[0].ID+"/logout", nil)), http.StatusUnauthorized)
	wantStatus(t, victim.get("/me"), http.StatusOK)
}

// Naming this device's own session signs this device out, cookie included.
func TestLogoutDeviceOfThisSessionSignsThisDeviceOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser("192.0.2.1:1")
	b.mustLogin()
	var list []sessionJSON
	b.get("/sessions").json(t, &list)
	r := b.postForm("/sessions/"+list[0].ID+"/logout", nil)
	wantStatus(t, r, http.StatusSeeOther)
	if c := r.cookie(); c == nil || c.MaxAge >= 0 {
		t.Fatalf("cookie %+v, want expired", c)
	}
	wantStatus(t, b.get("/me"), http.StatusUnauthorized)
}

// An account with many sessions gets a bounded list: this session first,
// then the most recent others, and the count of the rest on the page. (The
// library caps a user's sessions at 32 by default; the list stays bounded
// when an application raises that cap.)
func TestSessionsListIsBounded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *appConfig) { c.Sessions.MaxSessionsPerUser = 100 })
	for range maxListedSessions + 7 {
		e.loginDirect(e.demo.ID)
	}
	b := e.browser("192.0.2.1:1")
	b.mustLogin()
	r := b.get("/sessions")
	wantStatus(t, r, http.StatusOK)
	var list []sessionJSON
	r.json(t, &list)
	if len(list) != maxListedSessions || !list[0].Current {
		t.Fatalf("%d sessions listed (current first: %v), want %d", len(list), len(list) > 0 && list[0].Current, maxListedSessions)
	}
	page := b.get("/")
	wantBody(t, page, "…and 8 older sessions.")
	if n := strings.Count(page.body, `<tr id="session-`); n != maxListedSessions {
		t.Fatalf("%d rows on the page", n)
	}
}
