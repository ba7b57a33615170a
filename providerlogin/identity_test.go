package providerlogin

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/sessionauth/session"
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

// TestUserCallbackRunsInTheRequest: Config.User gets the request's context
// (with the visitor's session in it), and what it sets in the session of an
// anonymous visitor is kept in the signed-in session, so an app can keep
// identity fields there.
func TestUserCallbackRunsInTheRequest(t *testing.T) {
	t.Parallel()
	op := startProvider(t, false)
	a := startApp(t, func(base string) []*Provider {
		registerApp(op, base, "demo")
		return []*Provider{oidcProvider(t, "demo", op, nil)}
	}, func(c *Config) {
		c.User = func(ctx context.Context, id Identity) (string, error) {
			s := session.FromContext(ctx)
			if err := s.Set("email", id.Email); err != nil {
				return "", err
			}
			s.Set("name", id.Name)
			return "u1", nil
		}
	})
	b := newBrowser(t)
	if res := b.signIn(a, "demo", ""); res.status != http.StatusSeeOther {
		t.Fatalf("sign-in: %d %s", res.status, res.body)
	}
	if who := b.whoami(a); who != "u1" {
		t.Fatalf("whoami = %q", who)
	}
	if email, name := b.get(a.base+"/value?key=email").body, b.get(a.base+"/value?key=name").body; email != "alice@example.test" || name != "Alice" {
		t.Errorf("session values after sign-in: email %q, name %q", email, name)
	}
}

func TestAuthTimeAndMethodsAreReadLeniently(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		raw  string
		want int64 // Unix seconds, 0 for none
	}{
		{`1800000000`, 1800000000}, {`1800000000.9`, 1800000000}, {`"1800000000"`, 0}, {`-1`, 0},
		{`null`, 0}, {``, 0}, {`1e300`, 0}, {`true`, 0},
	} {
		got := authTime([]byte(tc.raw))
		if (tc.want == 0) != got.IsZero() || (tc.want != 0 && got.Unix() != tc.want) {
			t.Errorf("auth_time %s: %v", tc.raw, got)
		}
	}
	for _, tc := range []struct{ raw, want string }{
		{`["pwd","otp"]`, "pwd otp"},
		{`["PWD","mfa","with space",""]`, "mfa"}, // only values a session can record
		{`["a","b","c","d","e","f","g","h","i","j"]`, "a b c d e f g h"},
		{`"pwd"`, ""}, {`[{"method":"pwd"}]`, ""}, {`[]`, ""}, {`null`, ""}, {``, ""},
	} {
		got := authMethods([]byte(tc.raw))
		if strings.Join(got, " ") != tc.want || (tc.want == "" && got != nil) {
			t.Errorf("amr %s: %q, want %q", tc.raw, got, tc.want)
		}
	}
}

// With FetchUserInfo, a user-info answer other than 200 reaches neither
// the log nor the ErrorHandler with its body, which may echo the access
// token: only its status does.
func TestUserInfoErrorBodyIsNotLogged(t *testing.T) {
	t.Parallel()
	op := newHostileOP(t)
	op.set(func(op *hostileOP) {
		op.userinfo = func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, "invalid_token: "+r.Header.Get("Authorization")+" "+strings.Repeat("#", 4096))
		}
	})
	logs := &syncBuffer{}
	var handed string
	a := hostileApp(t, op.issuer, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(logs, nil))
		c.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			handed = err.Error()
			WriteError(w, r, err)
		}
	}, func(c *OIDCConfig) { c.FetchUserInfo = true })
	b := newBrowser(t)
	res := b.get(hostileCallback(t, a, b, op))
	if res.status != http.StatusBadGateway {
		t.Fatalf("status %d", res.status)
	}
	if strings.Contains(logs.String(), "at-SECRET-ACCESS-TOKEN") || strings.Contains(handed, "at-SECRET-ACCESS-TOKEN") {
		t.Fatalf("the access token reached the log (%d bytes logged):\n%.300s", len(logs.String()), logs.String())
	}
}
