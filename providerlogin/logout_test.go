package providerlogin

import (
	"net/http"
	"net/url"
	"testing"
)

func TestLogoutEndsOurSessionAndTheProviders(t *testing.T) {
	t.Parallel()
	a, op := oidcApp(t, nil)
	b := newBrowser(t)
	if res := b.signIn(a, "demo", ""); res.status != http.StatusSeeOther {
		t.Fatalf("sign-in: %d %s", res.status, res.body)
	}
	res := b.post(a.base+"/auth/logout", nil)
	if res.status != http.StatusSeeOther {
		t.Fatalf("logout: %d %s", res.status, res.body)
	}
	if who := b.whoami(a); who != "anonymous" {
		t.Fatalf("after logout, whoami = %q", who)
	}
	end := mustParse(t, res.location)
	q := end.Query()
	if end.Scheme+"://"+end.Host+end.Path != op.Issuer()+"/end_session" ||
		q.Get("client_id") != testClientID || q.Get("post_logout_redirect_uri") != a.base+"/" || q.Get("id_token_hint") == "" {
		t.Fatalf("logout redirects to %s, want the provider's end_session with hint, client_id and our post-logout URI", res.location)
	}
	// At the provider: its session ends and the browser comes back home.
	before := op.Logouts()
	back := b.get(res.location)
	if back.status != http.StatusSeeOther || back.location != a.base+"/" {
		t.Fatalf("end_session: %d to %q", back.status, back.location)
	}
	if op.Logouts() != before+1 {
		t.Error("the provider's session did not end")
	}
	// Signing in again asks for the password again (no provider session).
	if page := b.get(b.startLogin(a, "demo", "").String()); page.status != http.StatusOK {
		t.Errorf("after RP-initiated logout the provider signed in silently: %d to %q", page.status, page.location)
	}
}

func TestLogoutWithoutRPLogout(t *testing.T) {
	t.Parallel()
	a, op := oidcApp(t, func(c *OIDCConfig) { c.RPLogout = false })
	b := newBrowser(t)
	b.signIn(a, "demo", "")
	if b.get(a.base+"/flows").body != "" {
		t.Error("flows left behind")
	}
	res := b.post(a.base+"/auth/logout", nil)
	if res.status != http.StatusSeeOther || res.location != "/" {
		t.Fatalf("logout: %d to %q, want 303 to /", res.status, res.location)
	}
	if who := b.whoami(a); who != "anonymous" {
		t.Fatalf("after logout, whoami = %q", who)
	}
	// The provider session is still there: the next sign-in is silent.
	cb := b.get(b.startLogin(a, "demo", "").String())
	if cb.status != http.StatusSeeOther {
		t.Fatalf("expected single sign-on at the provider, got %d", cb.status)
	}
	if u := mustParse(t, cb.location); u.Query().Get("code") == "" {
		t.Fatalf("no code in %s", cb.location)
	}
	_ = op
}

func TestLogoutOfAnAnonymousVisitor(t *testing.T) {
	t.Parallel()
	a, _ := oidcApp(t, nil)
	res := newBrowser(t).post(a.base+"/auth/logout", url.Values{})
	if res.status != http.StatusSeeOther || res.location != "/" {
		t.Fatalf("logout: %d to %q", res.status, res.location)
	}
}
