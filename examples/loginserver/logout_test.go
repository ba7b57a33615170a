package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestLogoutDeletesSessionAndExpiresCookie(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, form := range []bool{false, true} {
		b := e.browser("192.0.2.1:1")
		b.mustLogin()
		old := b.cookies[hostCookieName].Value
		var r *response
		if form {
			r = b.postForm("/logout", url.Values{})
			wantStatus(t, r, http.StatusSeeOther)
		} else {
			r = b.do(httptest.NewRequest("POST", "/logout", nil))
			wantStatus(t, r, http.StatusNoContent)
		}
		if c := r.cookie(); c == nil || c.MaxAge >= 0 {
			t.Fatalf("form=%v: cookie %+v, want expired", form, c)
		}
		// The session is gone from the store: the old cookie no longer works.
		replay := e.browser("192.0.2.1:1")
		replay.cookies[hostCookieName] = &http.Cookie{Name: hostCookieName, Value: old}
		wantStatus(t, replay.get("/me"), http.StatusUnauthorized)
		if l, err := e.store.ListUser(context.Background(), e.demo.ID); err != nil || len(l) != 0 {
			t.Fatalf("store still has %d sessions (%v)", len(l), err)
		}
	}
	// Signing out when signed out is fine.
	wantStatus(t, e.browser("192.0.2.1:1").do(httptest.NewRequest("POST", "/logout", nil)), http.StatusNoContent)
}

func TestLogoutAllSignsOutEveryDevice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	laptop, phone := e.browser("192.0.2.1:1"), e.browser("192.0.2.2:1")
	laptop.mustLogin()
	phone.mustLogin()
	wantStatus(t, phone.get("/me"), http.StatusOK)
	r := laptop.do(httptest.NewRequest("POST", "/logout-all", nil))
	wantStatus(t, r, http.StatusNoContent)
	if c := r.cookie(); c == nil || c.MaxAge >= 0 {
		t.Fatalf("logout-all did not expire this device's cookie: %+v", c)
	}
	wantStatus(t, phone.get("/me"), http.StatusUnauthorized)
	wantStatus(t, laptop.get("/me"), http.StatusUnauthorized)
	// The form variant redirects; anonymous gets 401.
	laptop.mustLogin()
	wantStatus(t, laptop.postForm("/logout-all", url.Values{}), http.StatusSeeOther)
	r = laptop.do(httptest.NewRequest("POST", "/logout-all", nil))
	wantStatus(t, r, http.StatusUnauthorized)
	if msg := r.errorMsg(t); msg != "not authenticated" {
		t.Fatalf("anonymous logout-all: %q", msg)
	}
}

// A sign-out whose request carries more session cookies than the library
// reads (tossed from a sibling site) cannot end the sessions past those it
// reads, and says so: a 400 with the reason, never the 303 of a sign-out
// that worked, nor a 503 that blames the store.
func TestLogoutWithTooManySessionCookiesSaysSomeMayLiveOn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser("192.0.2.1:1")
	b.mustLogin()
	var junk []string
	for i := range 16 {
		junk = append(junk, fmt.Sprintf("%s=junk%d", e.app.cookieName, i))
	}
	b.header = http.Header{"Cookie": {strings.Join(junk, "; ")}}
	own := *b.cookies[e.app.cookieName] // the 17th: past what the library reads
	r := b.submit("/logout", nil)
	wantStatus(t, r, http.StatusBadRequest)
	wantBody(t, r, "could not end every session they name")
	b.cookies[own.Name] = &own // the response expired the path-/ cookie; a tossed one elsewhere stays
	r = b.postJSON("/logout", "")
	wantStatus(t, r, http.StatusBadRequest)
	if msg := r.errorMsg(t); msg != "too many session cookies" {
		t.Fatalf("JSON error %q, want %q", msg, "too many session cookies")
	}
	b.header = nil
	b.cookies[own.Name] = &own
	if r := b.get("/me"); r.StatusCode != http.StatusOK {
		t.Fatalf("without the tossed cookies the session answers %d, want 200 (nothing was ended)", r.StatusCode)
	}
}
