package providerlogin

import (
	"net/http"
	"net/url"
	"testing"
)

// TestMixUpDefence runs two OpenID providers and a plain OAuth 2 provider
// side by side: a response from one, presented at another's callback,
// never signs anyone in.
func TestMixUpDefence(t *testing.T) {
	t.Parallel()
	opA, opB, hub := startProvider(t, false), startProvider(t, false), startProvider(t, true)
	a := startApp(t, func(base string) []*Provider {
		registerApp(opA, base, "a")
		registerApp(opB, base, "b")
		registerApp(hub, base, "hub")
		return []*Provider{oidcProvider(t, "a", opA, nil), oidcProvider(t, "b", opB, nil), plainProvider(t, "hub", hub)}
	}, nil)

	moveTo := func(cb *url.URL, provider string) string {
		u := *cb
		u.Path = "/auth/" + provider + "/callback"
		return u.String()
	}
	tests := []struct {
		name   string
		from   string // provider the sign-in was started with
		attack func(cb *url.URL) string
	}{
		{"A's response at B's callback", "a", func(cb *url.URL) string { return moveTo(cb, "b") }},
		{"B's response at A's callback", "b", func(cb *url.URL) string { return moveTo(cb, "a") }},
		{"OIDC response at the plain provider's callback", "a", func(cb *url.URL) string { return moveTo(cb, "hub") }},
		{"plain provider's response at an OIDC callback", "hub", func(cb *url.URL) string { return moveTo(cb, "a") }},
		{"iss parameter of another provider", "a", func(cb *url.URL) string {
			q := cb.Query()
			q.Set("iss", opB.Issuer())
			u := *cb
			u.RawQuery = q.Encode()
			return u.String()
		}},
		{"iss parameter missing though promised", "a", func(cb *url.URL) string {
			q := cb.Query()
			q.Del("iss")
			u := *cb
			u.RawQuery = q.Encode()
			return u.String()
		}},
		{"plain provider's iss parameter of another issuer", "hub", func(cb *url.URL) string {
			q := cb.Query()
			q.Set("iss", opA.Issuer())
			u := *cb
			u.RawQuery = q.Encode()
			return u.String()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBrowser(t)
			cb := b.approve(b.startLogin(a, tt.from, ""), "approve")
			before := opA.Exchanges() + opB.Exchanges() + hub.Exchanges()
			wantError(t, b.get(tt.attack(cb)), http.StatusBadRequest, "provider_mismatch")
			if who := b.whoami(a); who != "anonymous" {
				t.Errorf("signed in as %q", who)
			}
			if after := opA.Exchanges() + opB.Exchanges() + hub.Exchanges(); after != before {
				t.Errorf("a code was sent to a token endpoint despite the mix-up")
			}
			// The state was used up: the genuine response fails too now.
			wantError(t, b.get(cb.String()), http.StatusBadRequest, "invalid_state")
		})
	}

	// Each provider still works on its own, in the same browser.
	b := newBrowser(t)
	for _, p := range []string{"a", "b", "hub"} {
		if res := b.signIn(a, p, ""); res.status != http.StatusSeeOther {
			t.Fatalf("sign-in with %s: %d %s", p, res.status, res.body)
		}
		if id := a.lastIdentity(); id.Provider != p {
			t.Errorf("signed in with %s, identity says %s", p, id.Provider)
		}
	}
}

// TestPlainProviderWithoutIssParameter: a provider that never sends "iss"
// (most plain OAuth 2 providers) still works; the per-provider callback and
// the provider bound into the state keep its responses apart.
func TestPlainProviderWithoutIssParameter(t *testing.T) {
	t.Parallel()
	hub := startProvider(t, true)
	hub.OmitIssParameter(true)
	a := startApp(t, func(base string) []*Provider {
		registerApp(hub, base, "hub")
		return []*Provider{plainProvider(t, "hub", hub)}
	}, nil)
	b := newBrowser(t)
	if res := b.signIn(a, "hub", ""); res.status != http.StatusSeeOther {
		t.Fatalf("%d %s", res.status, res.body)
	}
}

// TestMixUpWithoutIssParameter: two plain providers that send no "iss";
// only the provider bound into the stored state tells their responses
// apart, and it must.
func TestMixUpWithoutIssParameter(t *testing.T) {
	t.Parallel()
	hub1, hub2 := startProvider(t, true), startProvider(t, true)
	hub1.OmitIssParameter(true)
	hub2.OmitIssParameter(true)
	a := startApp(t, func(base string) []*Provider {
		registerApp(hub1, base, "hub1")
		registerApp(hub2, base, "hub2")
		return []*Provider{plainProvider(t, "hub1", hub1), plainProvider(t, "hub2", hub2)}
	}, nil)
	b := newBrowser(t)
	cb := b.approve(b.startLogin(a, "hub1", ""), "approve")
	moved := *cb
	moved.Path = "/auth/hub2/callback"
	wantError(t, b.get(moved.String()), http.StatusBadRequest, "provider_mismatch")
	if hub2.Exchanges() != 0 {
		t.Error("hub1's code was sent to hub2's token endpoint")
	}
	if who := b.whoami(a); who != "anonymous" {
		t.Errorf("signed in as %q", who)
	}
}
