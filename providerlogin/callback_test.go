package providerlogin

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sessionauth/session/providerlogin/providertest"
)

// oidcApp starts a provider and an app with one OIDC provider, "demo".
func oidcApp(t *testing.T, mod func(*OIDCConfig)) (*testApp, *providertest.Server) {
	t.Helper()
	op := startProvider(t, false)
	a := startApp(t, func(base string) []*Provider {
		registerApp(op, base, "demo")
		return []*Provider{oidcProvider(t, "demo", op, mod)}
	}, nil)
	return a, op
}

func TestSignInWithOIDCEndsInOurSession(t *testing.T) {
	t.Parallel()
	a, op := oidcApp(t, nil)
	b := newBrowser(t)
	b.get(a.base + "/") // an anonymous visitor
	authURL := b.startLogin(a, "demo", "/settings?tab=2")
	q := authURL.Query()
	if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 {
		t.Errorf("authorization request without PKCE S256: %s", authURL)
	}
	if len(q.Get("state")) != 43 || len(q.Get("nonce")) != 43 || q.Get("state") == q.Get("nonce") {
		t.Errorf("state %q / nonce %q: want two different 256-bit values", q.Get("state"), q.Get("nonce"))
	}
	if q.Get("redirect_uri") != a.base+"/auth/demo/callback" || q.Get("client_id") != testClientID || q.Get("response_type") != "code" {
		t.Errorf("authorization request %s", authURL)
	}
	if !strings.Contains(q.Get("scope"), "openid") {
		t.Errorf("scope %q lacks openid", q.Get("scope"))
	}
	if flows := b.get(a.base + "/flows").body; !strings.Contains(flows, q.Get("state")) {
		t.Fatalf("state not kept in the visitor's session: %q", flows)
	}

	res := b.get(b.approve(authURL, "approve").String())
	if res.status != http.StatusSeeOther || res.location != "/settings?tab=2" {
		t.Fatalf("callback: %d to %q, want 303 to /settings?tab=2; body %s", res.status, res.location, res.body)
	}
	if cc := res.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("callback Cache-Control %q", cc)
	}
	id := a.lastIdentity()
	if id.Provider != "demo" || id.Issuer != op.Issuer() || id.Subject != testSubject || id.Email != "alice@example.test" || !id.EmailVerified || id.Name != "Alice" {
		t.Errorf("identity %+v", id)
	}
	if !strings.Contains(string(id.Claims), `"sub":"1001"`) {
		t.Errorf("claims %s", id.Claims)
	}
	if who := b.whoami(a); who != "user:"+op.Issuer()+"|"+testSubject {
		t.Fatalf("after sign-in, whoami = %q", who)
	}
	if flows := b.get(a.base + "/flows").body; flows != "" {
		t.Errorf("pending flows left in the session after sign-in: %q", flows)
	}
}

func TestSignInWithPlainOAuth2Provider(t *testing.T) {
	t.Parallel()
	op := startProvider(t, true)
	a := startApp(t, func(base string) []*Provider {
		registerApp(op, base, "hub")
		return []*Provider{plainProvider(t, "hub", op)}
	}, nil)
	b := newBrowser(t)
	authURL := b.startLogin(a, "hub", "")
	if q := authURL.Query(); q.Get("nonce") != "" || q.Get("code_challenge_method") != "S256" || q.Get("scope") != "read:user" {
		t.Errorf("plain OAuth 2 authorization request %s", authURL)
	}
	res := b.get(b.approve(authURL, "approve").String())
	if res.status != http.StatusSeeOther || res.location != "/" {
		t.Fatalf("callback: %d to %q; body %s", res.status, res.location, res.body)
	}
	id := a.lastIdentity()
	if id.Provider != "hub" || id.Issuer != op.Issuer() || id.Subject != testSubject || id.Email != "alice@example.test" {
		t.Errorf("identity %+v", id)
	}
	if who := b.whoami(a); who != "user:"+op.Issuer()+"|"+testSubject {
		t.Fatalf("whoami = %q", who)
	}
}

func TestCallbackStateAttacks(t *testing.T) {
	t.Parallel()
	a, op := oidcApp(t, nil)
	tests := []struct {
		name   string
		attack func(t *testing.T, victim *browser) response
	}{
		{"missing state", func(t *testing.T, b *browser) response {
			cb := b.approve(b.startLogin(a, "demo", ""), "approve")
			q := cb.Query()
			q.Del("state")
			cb.RawQuery = q.Encode()
			return b.get(cb.String())
		}},
		{"mismatched state", func(t *testing.T, b *browser) response {
			cb := b.approve(b.startLogin(a, "demo", ""), "approve")
			q := cb.Query()
			q.Set("state", randomToken())
			cb.RawQuery = q.Encode()
			return b.get(cb.String())
		}},
		{"replayed state", func(t *testing.T, b *browser) response {
			cb := b.approve(b.startLogin(a, "demo", ""), "approve")
			if res := b.get(cb.String()); res.status != http.StatusSeeOther {
				t.Fatalf("first use: %d %s", res.status, res.body)
			}
			return b.get(cb.String())
		}},
		{"state of another visitor (login CSRF)", func(t *testing.T, victim *browser) response {
			attacker := newBrowser(t)
			cb := attacker.approve(attacker.startLogin(a, "demo", ""), "approve")
			victim.startLogin(a, "demo", "") // the victim has a flow of its own
			return victim.get(cb.String())
		}},
		{"state without a session", func(t *testing.T, b *browser) response {
			cb := b.approve(b.startLogin(a, "demo", ""), "approve")
			return newBrowser(t).get(cb.String())
		}},
		{"expired state", func(t *testing.T, b *browser) response {
			cb := b.approve(b.startLogin(a, "demo", ""), "approve")
			a.advance(11 * time.Minute)
			defer a.advance(-11 * time.Minute)
			return b.get(cb.String())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { // sequential: "expired state" moves the clock
			b := newBrowser(t)
			before := op.Exchanges()
			res := tt.attack(t, b)
			wantError(t, res, http.StatusBadRequest, "invalid_state")
			if who := b.whoami(a); who != "anonymous" && tt.name != "replayed state" {
				t.Errorf("signed in as %q after the attack", who)
			}
			if tt.name != "replayed state" && op.Exchanges() != before {
				t.Errorf("the code was exchanged despite a bad state")
			}
		})
	}
}

func TestCallbackRefusesRepeatedOrMalformedParameters(t *testing.T) {
	t.Parallel()
	a, _ := oidcApp(t, nil)
	b := newBrowser(t)
	cb := b.approve(b.startLogin(a, "demo", ""), "approve")
	for _, raw := range []string{
		cb.RawQuery + "&state=" + randomToken(),
		cb.RawQuery + "&code=other",
		cb.RawQuery + "&iss=x",
		cb.RawQuery + "&%zz",
		cb.RawQuery + "&state2;x",
		"state=" + strings.Repeat("a", 200) + "&code=x",
		"state=a%00b&code=x",
	} {
		res := b.get(a.base + "/auth/demo/callback?" + raw)
		wantError(t, res, http.StatusBadRequest, "bad_request")
	}
	// The flow survived the malformed attempts: the genuine response works.
	if res := b.get(cb.String()); res.status != http.StatusSeeOther {
		t.Fatalf("genuine callback after malformed ones: %d %s", res.status, res.body)
	}
}

func TestCallbackIDTokenAttacks(t *testing.T) {
	t.Parallel()
	a, op := oidcApp(t, nil)
	hour := time.Hour
	tests := []struct {
		name    string
		hook    func(c map[string]any)
		rogue   bool
		wantErr bool
	}{
		{name: "genuine token", hook: func(map[string]any) {}},
		{name: "wrong nonce", hook: func(c map[string]any) { c["nonce"] = randomToken() }, wantErr: true},
		{name: "no nonce", hook: func(c map[string]any) { delete(c, "nonce") }, wantErr: true},
		{name: "another audience", hook: func(c map[string]any) { c["aud"] = "other-app" }, wantErr: true},
		{name: "several audiences without azp", hook: func(c map[string]any) { c["aud"] = []string{testClientID, "other-app"} }, wantErr: true},
		{name: "several audiences, azp another client", hook: func(c map[string]any) {
			c["aud"], c["azp"] = []string{testClientID, "other-app"}, "other-app"
		}, wantErr: true},
		{name: "several audiences, azp us", hook: func(c map[string]any) {
			c["aud"], c["azp"] = []string{testClientID, "other-app"}, testClientID
		}},
		{name: "azp another client", hook: func(c map[string]any) { c["azp"] = "other-app" }, wantErr: true},
		{name: "another issuer", hook: func(c map[string]any) { c["iss"] = "http://127.0.0.1:1" }, wantErr: true},
		{name: "expired", hook: func(c map[string]any) { c["exp"] = time.Now().Add(-hour).Unix() }, wantErr: true},
		{name: "issued in the future", hook: func(c map[string]any) { c["iat"] = time.Now().Add(hour).Unix() }, wantErr: true},
		{name: "not yet valid", hook: func(c map[string]any) { c["nbf"] = time.Now().Add(hour).Unix() }, wantErr: true},
		{name: "at_hash of another access token", hook: func(c map[string]any) { c["at_hash"] = "AAAAAAAAAAAAAAAAAAAAAA" }, wantErr: true},
		{name: "no subject", hook: func(c map[string]any) { delete(c, "sub") }, wantErr: true},
		{name: "signed with an unknown key", rogue: true, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { // sequential: the hooks are provider-wide
			op.SetIDTokenHook(tt.hook)
			op.SignWithUnknownKey(tt.rogue)
			defer op.SetIDTokenHook(nil)
			defer op.SignWithUnknownKey(false)
			b := newBrowser(t)
			res := b.signIn(a, "demo", "")
			if !tt.wantErr {
				if res.status != http.StatusSeeOther || b.whoami(a) == "anonymous" {
					t.Fatalf("genuine sign-in refused: %d %s", res.status, res.body)
				}
				return
			}
			wantError(t, res, http.StatusBadGateway, "invalid_id_token")
			if who := b.whoami(a); who != "anonymous" {
				t.Errorf("signed in as %q with a bad ID token", who)
			}
		})
	}
}

func TestCallbackCodeAttacks(t *testing.T) {
	t.Parallel()
	a, op := oidcApp(t, nil)

	t.Run("code replayed with a fresh state", func(t *testing.T) {
		b := newBrowser(t)
		cb := b.approve(b.startLogin(a, "demo", ""), "approve")
		if res := b.get(cb.String()); res.status != http.StatusSeeOther {
			t.Fatalf("first use: %d %s", res.status, res.body)
		}
		// An attacker who saw the code starts a sign-in of their own and
		// presents the old code with their own valid state.
		attacker := newBrowser(t)
		fresh := attacker.startLogin(a, "demo", "").Query().Get("state")
		q := cb.Query()
		q.Set("state", fresh)
		cb.RawQuery = q.Encode()
		wantError(t, attacker.get(cb.String()), http.StatusBadRequest, "code_rejected")
		if who := attacker.whoami(a); who != "anonymous" {
			t.Errorf("replayed code signed the attacker in as %q", who)
		}
	})
	t.Run("expired code", func(t *testing.T) {
		b := newBrowser(t)
		cb := b.approve(b.startLogin(a, "demo", ""), "approve")
		op.SetClock(func() time.Time { return time.Now().Add(2 * time.Minute) })
		defer op.SetClock(time.Now)
		wantError(t, b.get(cb.String()), http.StatusBadRequest, "code_rejected")
	})
	t.Run("code of another client's flow: PKCE verifier mismatch", func(t *testing.T) {
		victim := newBrowser(t)
		cb := victim.approve(victim.startLogin(a, "demo", ""), "approve")
		attacker := newBrowser(t) // stole the code before the victim used it
		q := cb.Query()
		q.Set("state", attacker.startLogin(a, "demo", "").Query().Get("state"))
		stolen := *cb
		stolen.RawQuery = q.Encode()
		wantError(t, attacker.get(stolen.String()), http.StatusBadRequest, "code_rejected")
	})
}

func TestProviderErrorAnswers(t *testing.T) {
	t.Parallel()
	a, op := oidcApp(t, nil)

	b := newBrowser(t)
	cb := b.approve(b.startLogin(a, "demo", ""), "cancel")
	if cb.Query().Get("error") != "access_denied" {
		t.Fatalf("provider did not answer access_denied: %s", cb)
	}
	res := b.get(cb.String())
	wantError(t, res, http.StatusForbidden, "access_denied")
	if !strings.Contains(res.body, "cancelled") || strings.Contains(res.body, "The user cancelled.") {
		t.Errorf("error page shows %q; want our message, never the provider's description", res.body)
	}

	// JSON clients get JSON.
	b = newBrowser(t)
	cb = b.approve(b.startLogin(a, "demo", ""), "cancel")
	res = b.getJSON(cb.String())
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	wantError(t, res, http.StatusForbidden, "access_denied")

	// Any other error code, known or not, is a 502 that names no details.
	for _, code := range []string{"server_error", "invalid_scope", "<script>"} {
		b = newBrowser(t)
		state := b.startLogin(a, "demo", "").Query().Get("state")
		res = b.get(a.base + "/auth/demo/callback?" + url.Values{"state": {state}, "iss": {op.Issuer()}, "error": {code}, "error_description": {"<b>phish</b>"}}.Encode())
		wantError(t, res, http.StatusBadGateway, "provider_error")
		if strings.Contains(res.body, "phish") || strings.Contains(res.body, "<script>") {
			t.Errorf("error page echoes the provider's text: %s", res.body)
		}
	}
}

func TestProviderDownIsNot500(t *testing.T) {
	t.Parallel()
	ln := "http://127.0.0.1:1" // nothing listens on port 1
	a := startApp(t, func(base string) []*Provider {
		p, err := NewOIDC(OIDCConfig{Name: "down", Issuer: ln, ClientID: "x"})
		if err != nil {
			t.Fatal(err)
		}
		return []*Provider{p}
	}, nil)
	b := newBrowser(t)
	res := b.post(a.base+"/auth/down/login", nil)
	wantError(t, res, http.StatusBadGateway, "provider_unavailable")
	if err := a.h.Discover(t.Context()); err == nil {
		t.Error("Discover reported no error for a provider that is down")
	}
}

func TestUserCallbackRefusalAndFailure(t *testing.T) {
	t.Parallel()
	a, _ := oidcApp(t, nil)
	for _, tt := range []struct {
		err    error
		status int
		code   string
	}{
		{ErrAccessDenied, http.StatusForbidden, "account_refused"},
		{errTestUserStore, http.StatusServiceUnavailable, "unavailable"},
	} {
		a.mu.Lock()
		a.userErr = tt.err
		a.mu.Unlock()
		b := newBrowser(t)
		wantError(t, b.signIn(a, "demo", ""), tt.status, tt.code)
		if who := b.whoami(a); who != "anonymous" {
			t.Errorf("signed in as %q although Config.User failed", who)
		}
	}
}

func TestUnknownRoutesAndMethods(t *testing.T) {
	t.Parallel()
	a, _ := oidcApp(t, nil)
	b := newBrowser(t)
	for _, r := range []func() response{
		func() response { return b.get(a.base + "/auth/demo/login") },
		func() response { return b.post(a.base+"/auth/nope/login", nil) },
		func() response { return b.get(a.base + "/auth/nope/callback?state=x&code=y") },
		func() response { return b.get(a.base + "/auth/logout") },
		func() response { return b.get(a.base + "/auth/") },
	} {
		wantError(t, r(), http.StatusBadRequest, "bad_request")
	}
}

// A callback that arrives while the session store cannot be read answers
// 503 (try again), not invalid_state: the state may well be stored, and the
// code is not exchanged.
func TestCallbackDuringSessionStoreOutageIs503(t *testing.T) {
	t.Parallel()
	a, op := oidcApp(t, nil)
	b := newBrowser(t)
	cb := b.approve(b.startLogin(a, "demo", ""), "approve")
	before := op.Exchanges()
	a.faults.Fail(nil, "Get")
	res := b.get(cb.String())
	a.faults.Heal()
	wantError(t, res, http.StatusServiceUnavailable, "unavailable")
	if op.Exchanges() != before {
		t.Fatal("the code was exchanged while the session store was down")
	}
	if res := b.get(cb.String()); res.status != http.StatusSeeOther {
		t.Fatalf("the same callback once the store is back: %d, want 303", res.status)
	}
}

// TestSignInRecordsTheIDTokensMethods: a sign-in records the ID token's
// amr on the session (session.ProvedWith) when its auth_time falls within
// this sign-in; "fed" when it has none a session can record, when the
// authentication is older than the sign-in (single sign-on), and for a
// plain OAuth 2 provider; Identity carries auth_time and amr for
// Config.User.
func TestSignInRecordsTheIDTokensMethods(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		hook func(map[string]any)
		want string
	}{
		{"the provider's amr", nil, "pwd"},
		{"several", func(c map[string]any) { c["amr"] = []string{"pwd", "otp", "mfa"} }, "pwd otp mfa"},
		{"none", func(c map[string]any) { delete(c, "amr") }, "fed"},
		{"none usable", func(c map[string]any) { c["amr"] = []string{"PWD", "two words"} }, "fed"},
		{"not strings", func(c map[string]any) { c["amr"] = []map[string]any{{"method": "pwd"}} }, "fed"},
		// A single sign-on on an authentication from before this sign-in:
		// the provider's amr does not count as a fresh proof.
		{"an earlier authentication", func(c map[string]any) { c["auth_time"] = time.Now().Add(-2 * time.Minute).Unix() }, "fed"},
		{"no auth_time", func(c map[string]any) { delete(c, "auth_time") }, "fed"},
		{"control: during this sign-in, within the minute allowed", func(c map[string]any) { c["auth_time"] = time.Now().Add(-50 * time.Second).Unix() }, "pwd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, op := oidcApp(t, nil)
			op.SetIDTokenHook(tc.hook)
			b := newBrowser(t)
			if res := b.signIn(a, "demo", ""); res.status != http.StatusSeeOther {
				t.Fatalf("sign-in: %d %s", res.status, res.body)
			}
			if p := b.proof(a); p.methods != tc.want {
				t.Fatalf("AuthMethods %q, want %q", p.methods, tc.want)
			}
			if id := a.lastIdentity(); tc.hook == nil && (id.AuthTime.IsZero() || time.Since(id.AuthTime) > time.Minute) {
				t.Fatalf("Identity.AuthTime %v", id.AuthTime)
			}
		})
	}
	t.Run("plain OAuth 2", func(t *testing.T) {
		t.Parallel()
		op := startProvider(t, true)
		a := startApp(t, func(base string) []*Provider {
			registerApp(op, base, "hub")
			return []*Provider{plainProvider(t, "hub", op)}
		}, nil)
		b := newBrowser(t)
		if res := b.signIn(a, "hub", ""); res.status != http.StatusSeeOther {
			t.Fatalf("sign-in: %d %s", res.status, res.body)
		}
		if p := b.proof(a); p.methods != "fed" {
			t.Fatalf("AuthMethods %q, want fed", p.methods)
		}
	})
}

// TestSignInSurvivesAProvidersOddMethods: whatever the provider puts in
// amr (values a session cannot hold, too many, too long, mixed with
// numbers, a string), the sign-in goes through with the values a session
// can record, or "fed": never a failed sign-in.
func TestSignInSurvivesAProvidersOddMethods(t *testing.T) {
	t.Parallel()
	many := make([]string, 1000)
	for i := range many {
		many[i] = "otp"
	}
	for _, tc := range []struct {
		name string
		amr  any
		want string
	}{
		{"a thousand values", many, "otp otp otp otp otp otp otp otp"},
		{"a long value", []string{strings.Repeat("p", 10000), "hwk"}, "hwk"},
		{"a number among strings", []any{"pwd", 1}, "fed"},
		{"null among strings", []any{"pwd", nil}, "pwd"},
		{"a string", "hwk", "fed"},
		{"an object", map[string]any{"hwk": true}, "fed"},
		{"control characters", []string{"pwd\r\nx", "pwd\x00"}, "fed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, op := oidcApp(t, nil)
			op.SetIDTokenHook(func(c map[string]any) { c["amr"] = tc.amr })
			b := newBrowser(t)
			if res := b.signIn(a, "demo", ""); res.status != http.StatusSeeOther {
				t.Fatalf("sign-in: %d %s", res.status, res.body)
			}
			if p := b.proof(a); p.methods != tc.want {
				t.Fatalf("AuthMethods %q, want %q", p.methods, tc.want)
			}
		})
	}
}

// TestSignInWithAFutureAuthTimeRecordsFed: an auth_time beyond the clock
// skew allowed does not fall within the sign-in, so the provider's amr is
// not recorded as a fresh proof ("fed" is).
func TestSignInWithAFutureAuthTimeRecordsFed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		ahead time.Duration
		want  string
	}{
		{"an hour ahead", time.Hour, "fed"},
		{"ten minutes ahead", 10 * time.Minute, "fed"},
		{"control: now", 0, "hwk"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, op := oidcApp(t, nil)
			op.SetIDTokenHook(func(c map[string]any) {
				c["auth_time"] = time.Now().Add(tc.ahead).Unix()
				c["amr"] = []string{"hwk"}
			})
			b := newBrowser(t)
			if res := b.signIn(a, "demo", ""); res.status != http.StatusSeeOther {
				t.Fatalf("sign-in: %d %s", res.status, res.body)
			}
			if p := b.proof(a); p.methods != tc.want {
				t.Fatalf("AuthMethods %q, want %q", p.methods, tc.want)
			}
		})
	}
}
