package main

import (
	"net/http"
	"testing"

	"github.com/sessionauth/session"
)

func TestInsecureCookiesDropSecureAttribute(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *appConfig) { c.Sessions.Cookie.DisableSecure = true })
	r := e.browser("192.0.2.1:1").login(testUser, testPassword)
	wantStatus(t, r, http.StatusOK)
	var found bool
	for _, c := range r.Cookies() {
		if c.Name == session.DefaultInsecureCookieName {
			found = true
			if c.Secure || !c.HttpOnly {
				t.Fatalf("cookie %+v", c)
			}
		}
	}
	if !found {
		t.Fatalf("no %q cookie: %v", session.DefaultInsecureCookieName, r.Header["Set-Cookie"])
	}
}
