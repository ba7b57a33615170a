package main

import (
	"net/http"
	"testing"
)

func TestInsecureCookiesDropSecureAttribute(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *appConfig) { c.Sessions.Cookie.DisableSecure = true })
	r := e.browser("192.0.2.1:1").login(testUser, testPassword)
	wantStatus(t, r, http.StatusOK)
	var found bool
	for _, c := range r.Cookies() {
		if c.Name == "sid" {
			found = true
			if c.Secure || !c.HttpOnly {
				t.Fatalf("cookie %+v", c)
			}
		}
	}
	if !found {
		t.Fatalf("no %q cookie: %v", "sid", r.Header["Set-Cookie"])
	}
}
