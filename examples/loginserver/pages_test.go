package main

import (
	"net/http"
	"strings"
	"testing"
)

func TestHomeSignedOutShowsSignInFormAndSafeHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.browser("192.0.2.1:1234").get("/")
	wantStatus(t, r, http.StatusOK)
	for _, s := range []string{`<form id="login-form" method="post" action="/login">`, `name="username"`, `name="password"`, `name="remember"`, "Demo account"} {
		if !strings.Contains(r.body, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	if r.cookie() != nil {
		t.Error("anonymous page set a session cookie")
	}
	for h, want := range map[string]string{
		"Cache-Control":          "no-store",
		"Content-Type":           "text/html; charset=utf-8",
		"X-Content-Type-Options": "nosniff",
	} {
		if got := r.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
}

func TestHomeEscapesUserAgent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser("192.0.2.1:1")
	b.ua = `<script>alert(1)</script>"><img src=x>`
	b.mustLogin()
	r := b.get("/")
	wantStatus(t, r, http.StatusOK)
	if strings.Contains(r.body, "<script>alert") || strings.Contains(r.body, "<img src=x>") {
		t.Fatal("user agent rendered unescaped")
	}
	if !strings.Contains(r.body, "&lt;script&gt;") {
		t.Fatal("user agent missing from the page")
	}
}
