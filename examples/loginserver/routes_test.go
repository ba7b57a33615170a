package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
)

// Cross-origin POSTs are refused, the login form included, and change
// nothing: a signed-in victim's sessions and password survive every one.
func TestCrossOriginPostsAreRefusedLoginIncluded(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	victim, phone := e.browser("192.0.2.1:1"), e.browser("192.0.2.2:1")
	victim.mustLogin()
	phone.mustLogin()
	var list []sessionJSON
	phone.get("/sessions").json(t, &list)
	form := url.Values{"username": {testUser}, "password": {testPassword}, "current_password": {testPassword}, "new_password": {newPassword}}
	for _, path := range []string{"/login", "/logout", "/logout-all", "/register", "/password", "/sessions/" + list[0].ID + "/logout"} {
		for name, hdr := range map[string][2]string{
			"sec-fetch-site": {"Sec-Fetch-Site", "cross-site"},
			"origin":         {"Origin", "https://evil.example"},
		} {
			req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set(hdr[0], hdr[1])
			r := victim.do(req)
			if r.StatusCode != http.StatusForbidden || r.cookie() != nil {
				t.Errorf("%s by %s: status %d, cookie %v", path, name, r.StatusCode, r.cookie())
			}
		}
	}
	wantStatus(t, victim.get("/me"), http.StatusOK)
	wantStatus(t, phone.get("/me"), http.StatusOK)
	if u, _ := e.users.ByID(t.Context(), e.demo.ID); u.PasswordHash != testHash() {
		t.Fatal("a cross-origin POST changed the password")
	}
	// The same form from our own origin works.
	wantStatus(t, e.browser("192.0.2.1:1").postForm("/login", url.Values{"username": {testUser}, "password": {testPassword}}), http.StatusSeeOther)
}

func TestAuthEndpointsArePostOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct{ method, path, allow string }{
		{"GET", "/login", "POST"},
		{"GET", "/logout", "POST"},
		{"GET", "/logout-all", "POST"},
		{"PUT", "/register", "POST"},
		{"GET", "/sessions/0123456789abcdef/logout", "POST"},
		{"DELETE", "/password", "GET, HEAD, POST"},
		{"POST", "/signup", "GET, HEAD"},
		{"POST", "/me", "GET, HEAD"},
		{"DELETE", "/sessions", "GET, HEAD"},
		{"POST", "/", "GET, HEAD"},
	}
	for _, tc := range tests {
		r := e.browser("192.0.2.1:1").do(httptest.NewRequest(tc.method, tc.path, nil))
		if r.StatusCode != http.StatusMethodNotAllowed || r.Header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d Allow %q", tc.method, tc.path, r.StatusCode, r.Header.Get("Allow"))
		}
		r.errorMsg(t)
	}
	r := e.browser("192.0.2.1:1").get("/nope")
	wantStatus(t, r, http.StatusNotFound)
	r.errorMsg(t)
}

// The limits of CrossOriginProtection that the root README states hold
// for this server, and the README states them: a cross-site GET is not
// checked (so GET handlers must have no side effects), and a POST with
// neither Sec-Fetch-Site nor Origin (a non-browser client) passes the check,
// which is why SameSite=Lax stays on as the second layer.
func TestCrossOriginLimitsAreDocumentedAndReal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	get := httptest.NewRequest("GET", "/", nil)
	get.Header.Set("Sec-Fetch-Site", "cross-site")
	if r := e.browser("192.0.2.1:1").do(get); r.StatusCode != http.StatusOK || r.cookie() != nil {
		t.Fatalf("cross-site GET /: %d, cookie %v (GET is not checked and must change nothing)", r.StatusCode, r.cookie())
	}
	post := httptest.NewRequest("POST", "/login", strings.NewReader("username=demo&password=wrong-password-here"))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r := e.browser("192.0.2.1:1").do(post); r.StatusCode == http.StatusForbidden {
		t.Fatal("a POST without Sec-Fetch-Site or Origin was refused; the README says it passes")
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(string(readme)), " ")
	for _, limit := range []string{
		"GET requests are not checked",
		"same-site subdomains are rejected unless you trust them",
		"neither `Sec-Fetch-Site` nor `Origin`",
		"SameSite=Lax stays on as the second layer",
		"Protect the login form too",
	} {
		if !strings.Contains(text, limit) {
			t.Errorf("README does not state: %q", limit)
		}
	}
}
