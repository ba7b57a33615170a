package main

import (
	"net/http"
	"net/netip"
	"testing"
)

// Each passwordless sign-in start by a signed-out browser stores a session
// (the challenge): one address gets ceremonyRule's budget of them, then
// 429 with Retry-After and nothing stored; another address has its own.
func TestPasswordlessSignInStartsAreBudgetedPerAddress(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := range ceremonyRule.Limit {
		// A new browser each time, as a script that drops its cookies is.
		if r := e.browser("192.0.2.1:1").postJSON("/passkey/signin/begin", "{}"); r.StatusCode != http.StatusOK {
			t.Fatalf("start %d of %d: %d %s", i+1, ceremonyRule.Limit, r.StatusCode, r.body)
		}
	}
	writes := e.faults.Calls()
	r := e.browser("192.0.2.1:1").postJSON("/passkey/signin/begin", "{}")
	wantStatus(t, r, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	if n := e.faults.Calls() - writes; n != 0 {
		t.Errorf("a refused start made %d store calls", n)
	}
	// A finish without a start (no session) stores nothing either.
	for range 3 {
		r := e.browser("192.0.2.1:1").postJSON("/passkey/signin/finish", "{}")
		if c := r.cookie(); c != nil && c.Value != "" && c.MaxAge >= 0 {
			t.Fatalf("a passkey sign-in finish without a start (%d) stored a session", r.StatusCode)
		}
	}
	if n := e.faults.Calls() - writes; n != 0 {
		t.Errorf("finishes without a start made %d store calls", n)
	}
	wantStatus(t, e.browser("192.0.2.2:1").postJSON("/passkey/signin/begin", "{}"), http.StatusOK)
	// Password sign-in has budgets of its own, untouched by these.
	wantStatus(t, e.browser("192.0.2.1:1").login(testUser, testPassword), http.StatusOK)
}

func TestAddressKeyIsTheIPv4AddressOrTheIPv6Slash64(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"192.0.2.7", "192.0.2.7"},
		{"::ffff:192.0.2.7", "192.0.2.7"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"},
	}
	for _, tt := range tests {
		if got := addressKey(netip.MustParseAddr(tt.in)); got != tt.want {
			t.Errorf("addressKey(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := addressKey(netip.Addr{}); got != "" {
		t.Errorf("addressKey of no address = %q, want \"\"", got)
	}
}
