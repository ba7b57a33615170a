package accesstoken

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sessionauth/session"
)

func TestMintCarriesSessionClaims(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	cookie := e.login("alice")
	w := e.do("POST", "/token", cookie)
	if w.Code != http.StatusOK {
		t.Fatalf("POST /token: %d %s", w.Code, w.Body)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control = %q", cc)
	}
	var tok Token
	json.Unmarshal(w.Body.Bytes(), &tok)
	if tok.TokenType != "Bearer" || tok.ExpiresIn != 300 {
		t.Fatalf("token response %+v", tok)
	}
	c, err := e.issuer.Verify(context.Background(), tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	if c.Subject != "alice" || c.Issuer != testIssuer || len(c.Audience) != 1 || c.Audience[0] != testAudience ||
		!c.IssuedAt.Equal(now) || !c.Expiry.Equal(now.Add(5*time.Minute)) || len(c.ID) < 20 {
		t.Fatalf("claims %+v", c)
	}
	// sid is the session's public ID, as SessionInfo.ID lists it.
	infos, _ := e.sessions.ListSessions(context.Background(), "alice")
	if len(infos) != 1 || c.SessionID != infos[0].ID {
		t.Fatalf("sid %q, sessions %+v", c.SessionID, infos)
	}
	if h, _ := parseHeader(tok.AccessToken); h.alg != "EdDSA" || h.typ != "at+jwt" || h.kid != e.key.KeyID() {
		t.Fatalf("header %+v", h)
	}
	// Two mints never share a jti.
	if c2, _ := e.issuer.Verify(context.Background(), e.mint(cookie)); c2.ID == c.ID {
		t.Fatal("jti repeated")
	}
}

// TestTokenNeverCarriesSessionTokenOrStoreKey decodes a minted token and
// looks for the session's token, its raw bytes and its store key.
func TestTokenNeverCarriesSessionTokenOrStoreKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(_ *Config, s *session.Config) { s.Bearer = true })
	cookie := e.login("alice")
	var sessionToken string
	probe := e.sessions.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sessionToken = session.FromContext(r.Context()).Token()
	}))
	r, _ := http.NewRequest("GET", "https://api.example.test/", nil)
	r.AddCookie(cookie)
	probe.ServeHTTP(discard{}, r)
	if sessionToken == "" {
		t.Fatal("no session token")
	}
	tok := e.mint(cookie)
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	storeKeys := e.store.keys()
	if len(storeKeys) == 0 {
		t.Fatal("no store key seen")
	}
	for _, s := range append([]string{sessionToken, cookie.Value}, storeKeys...) {
		if strings.Contains(tok, s) || strings.Contains(string(payload), s) {
			t.Fatal("the access token carries a session credential")
		}
	}
	var claims map[string]any
	json.Unmarshal(payload, &claims)
	for name, v := range claims {
		if s, ok := v.(string); ok && len(s) >= 64 {
			t.Fatalf("claim %s is suspiciously long: %d characters", name, len(s))
		}
	}
	want := map[string]bool{"iss": true, "sub": true, "aud": true, "exp": true, "iat": true, "jti": true, "sid": true, "auth_time": true, "amr": true}
	for name := range claims {
		if !want[name] {
			t.Fatalf("unexpected claim %q", name)
		}
	}
}

type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) WriteHeader(int)             {}

func TestMintHandlerRefuses(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	cookie := e.login("alice")
	cases := []struct {
		name    string
		method  string
		cookie  *http.Cookie
		headers []string
		want    int
	}{
		{"GET", "GET", cookie, nil, http.StatusMethodNotAllowed},
		{"PUT", "PUT", cookie, nil, http.StatusMethodNotAllowed},
		{"cross-site fetch", "POST", cookie, []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"same-site fetch from a sibling subdomain", "POST", cookie, []string{"Sec-Fetch-Site", "same-site"}, http.StatusForbidden},
		{"cross-origin Origin without Sec-Fetch-Site", "POST", cookie, []string{"Origin", "https://evil.test"}, http.StatusForbidden},
		{"anonymous", "POST", nil, nil, http.StatusUnauthorized},
		{"forged cookie", "POST", &http.Cookie{Name: cookie.Name, Value: "forged"}, nil, http.StatusUnauthorized},
		{"an access token is not a refresh credential", "POST", nil, bearer(e.mint(cookie)), http.StatusUnauthorized},
		{"control: same-origin fetch", "POST", cookie, []string{"Sec-Fetch-Site", "same-origin"}, http.StatusOK},
		{"control: same Origin", "POST", cookie, []string{"Origin", "https://api.example.test"}, http.StatusOK},
		{"control: non-browser client", "POST", cookie, nil, http.StatusOK},
	}
	for _, tc := range cases {
		w := e.do(tc.method, "/token", tc.cookie, tc.headers...)
		if w.Code != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, w.Code, w.Body, tc.want)
		}
		if tc.want == http.StatusMethodNotAllowed && w.Header().Get("Allow") != "POST" {
			t.Errorf("%s: Allow = %q", tc.name, w.Header().Get("Allow"))
		}
	}
}

func TestMintAfterLogoutIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	cookie := e.login("alice")
	e.mint(cookie)
	e.do("POST", "/logout", cookie)
	if w := e.do("POST", "/token", cookie); w.Code != http.StatusUnauthorized {
		t.Fatalf("mint after logout: %d", w.Code)
	}
}

func TestMintAfterLogoutAllIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	phone, laptop := e.login("alice"), e.login("alice")
	e.mint(phone)
	e.mint(laptop)
	if err := e.sessions.LogoutAll(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*http.Cookie{phone, laptop} {
		if w := e.do("POST", "/token", c); w.Code != http.StatusUnauthorized {
			t.Fatalf("mint after LogoutAll: %d", w.Code)
		}
	}
}

// TestMintAfterSessionExpiredIsRefused runs the Manager's timeouts out on
// the virtual clock of a testing/synctest bubble.
func TestMintAfterSessionExpiredIsRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		idle, life time.Duration
	}{
		{"idle timeout", time.Second, time.Hour},
		{"absolute lifetime", time.Hour, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				e := newEnv(t, func(_ *Config, s *session.Config) { s.IdleTimeout, s.Lifetime = tc.idle, tc.life })
				cookie := e.login("alice")
				e.mint(cookie)
				time.Sleep(time.Second + time.Millisecond)
				if w := e.do("POST", "/token", cookie); w.Code != http.StatusUnauthorized {
					t.Fatalf("mint once the session expired: %d", w.Code)
				}
			})
		})
	}
}

func TestMintWhileStoreDownIs503(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	cookie := e.login("alice")
	e.store.down.Store(true)
	if w := e.do("POST", "/token", cookie); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("mint with the store down: %d, want 503", w.Code)
	}
}

func TestMintOutsideMiddlewareIsErrNoSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	if _, err := e.issuer.Mint(context.Background()); err != ErrNoSession {
		t.Fatalf("Mint without a session: %v", err)
	}
}
