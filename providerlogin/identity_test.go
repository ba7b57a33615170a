package providerlogin

import (
	"net/http"
	"testing"
)

func TestFetchUserInfoFillsAndChecksTheSubject(t *testing.T) {
	t.Parallel()
	a, op := oidcApp(t, func(c *OIDCConfig) { c.FetchUserInfo = true })

	op.SetIDTokenHook(func(c map[string]any) { delete(c, "email"); delete(c, "name") })
	b := newBrowser(t)
	if res := b.signIn(a, "demo", ""); res.status != http.StatusSeeOther {
		t.Fatalf("%d %s", res.status, res.body)
	}
	if id := a.lastIdentity(); id.Email != "alice@example.test" || !id.EmailVerified || id.Name != "Alice" {
		t.Errorf("identity not completed from user info: %+v", id)
	}

	op.SetIDTokenHook(func(c map[string]any) { c["sub"] = "someone-else" })
	defer op.SetIDTokenHook(nil)
	b = newBrowser(t)
	wantError(t, b.signIn(a, "demo", ""), http.StatusBadGateway, "invalid_userinfo")
	if who := b.whoami(a); who != "anonymous" {
		t.Errorf("signed in as %q", who)
	}
}

func TestParseUserInfo(t *testing.T) {
	t.Parallel()
	p := &Provider{name: "hub", issuer: "https://hub.example", subjectField: "id"}
	tests := []struct {
		body, sub string
		ok        bool
	}{
		{`{"id": 583231, "email": "a@b", "email_verified": "true", "name": "A"}`, "583231", true},
		{`{"id": "abc"}`, "abc", true},
		{`{"id": 1.5}`, "", false},
		{`{"id": 1e3}`, "", false},
		{`{"id": null}`, "", false},
		{`{"id": ""}`, "", false},
		{`{"id": true}`, "", false},
		{`{"sub": "x"}`, "", false},
		{`[1]`, "", false},
		{`null`, "", false},
		{`{"id": 1} {"id": 2}`, "", false},
		{`{"id": "a\u0000b"}`, "", false},
	}
	for _, tt := range tests {
		id, err := parseUserInfo(p, []byte(tt.body))
		if (err == nil) != tt.ok || id.Subject != tt.sub {
			t.Errorf("parseUserInfo(%s) = %q, %v; want %q, ok %v", tt.body, id.Subject, err, tt.sub, tt.ok)
		}
		if err == nil && (id.Issuer != p.issuer || id.Provider != "hub") {
			t.Errorf("identity %+v", id)
		}
	}
}

func FuzzParseUserInfo(f *testing.F) {
	for _, s := range []string{`{"id": 583231, "email": "a@b"}`, `{"id": "abc"}`, `{"id": 1e3}`, `null`, `{"id":1}{}`} {
		f.Add([]byte(s))
	}
	p := &Provider{name: "hub", issuer: "https://hub.example", subjectField: "id"}
	f.Fuzz(func(t *testing.T, body []byte) {
		id, err := parseUserInfo(p, body)
		if err != nil {
			if id.Subject != "" {
				t.Fatalf("error with a subject: %q", id.Subject)
			}
			return
		}
		if !validSubject(id.Subject) || id.Issuer != p.issuer {
			t.Fatalf("accepted identity %+v", id)
		}
	})
}
