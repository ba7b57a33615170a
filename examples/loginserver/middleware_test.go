package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Logs carry user IDs, short session IDs and coarse networks, never
// passwords, cookie values, tokens, full client addresses, or the username
// of a failed login.
func TestLogsHoldNoSecrets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser("192.0.2.123:1")
	const typo = "correct-horse-battery-stapl"
	wantStatus(t, b.login("correct-horse-battery-staple-in-name-field", typo), http.StatusUnauthorized)
	b.mustLogin()
	cookie := b.cookies[hostCookieName].Value
	wantStatus(t, b.get("/me"), http.StatusOK)
	wantStatus(t, b.postJSON("/password", `{"current_password":"not my current one, sorry","new_password":"`+newPassword+`"}`), http.StatusForbidden)
	wantStatus(t, b.postJSON("/password", `{"current_password":"`+testPassword+`","new_password":"`+newPassword+`"}`), http.StatusNoContent)
	renewed := b.cookies[hostCookieName].Value
	wantStatus(t, b.do(httptest.NewRequest("POST", "/logout", nil)), http.StatusNoContent)
	e.faults.Fail(nil)
	b.login(testUser, testPassword)
	logs := e.logs.String()
	for _, secret := range []string{testPassword, typo, newPassword, "not my current one, sorry", cookie, cookie[:16], renewed, "in-name-field", testHash()[30:], "192.0.2.123"} {
		if strings.Contains(logs, secret) {
			t.Fatalf("logs contain a secret %q:\n%s", secret, logs)
		}
	}
	for _, want := range []string{"login failed", "signed in", "signed out", e.demo.ID, "status=401", "network=192.0.2.0/24", "password changed"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q", want)
		}
	}
}
