package providerlogin

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/sessionauth/session/providerlogin/providertest"
	"golang.org/x/oauth2"
)

// tokenTap stands in front of a providertest server: it counts how many
// times its token endpoint receives each code and how the client
// authenticated, and can answer in place of the provider.
type tokenTap struct {
	op *providertest.Server

	mu     sync.Mutex
	answer func(w http.ResponseWriter) // nil: the provider answers
	codes  map[string]int
	basic  int // requests with HTTP Basic client authentication
	inBody int // requests with client_secret in the body
	edit   func(doc map[string]any)
}

// startTap runs a provider (plain or OpenID) behind a tokenTap. methods, if
// not nil, replaces the discovery document's
// token_endpoint_auth_methods_supported.
func startTap(t *testing.T, plain bool, methods []string) *tokenTap {
	t.Helper()
	var edit func(map[string]any)
	if methods != nil {
		edit = func(doc map[string]any) { doc["token_endpoint_auth_methods_supported"] = methods }
	}
	return startTapEditing(t, plain, edit)
}

// startTapEditing is startTap with edit, if not nil, changing the
// discovery document.
func startTapEditing(t *testing.T, plain bool, edit func(doc map[string]any)) *tokenTap {
	t.Helper()
	tap := &tokenTap{codes: map[string]int{}, edit: edit}
	serve(t, func(base string) http.Handler {
		var err error
		tap.op, err = providertest.New(providertest.Config{Issuer: base, Plain: plain})
		if err != nil {
			t.Fatal(err)
		}
		return tap
	})
	tap.op.AddUser(providertest.User{Username: testUser, Password: testPassword, Subject: testSubject, Email: "alice@example.test", Name: "Alice"})
	return tap
}

func (tap *tokenTap) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/token":
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		r.ParseForm()
		tap.mu.Lock()
		tap.codes[r.PostForm.Get("code")]++
		if _, _, ok := r.BasicAuth(); ok {
			tap.basic++
		}
		if r.PostForm.Get("client_secret") != "" {
			tap.inBody++
		}
		answer := tap.answer
		tap.mu.Unlock()
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		r.PostForm, r.Form = nil, nil
		if answer != nil {
			answer(w)
			return
		}
	case "/.well-known/openid-configuration":
		if tap.edit != nil {
			rec := &bufferedResponse{header: http.Header{}}
			tap.op.ServeHTTP(rec, r)
			var doc map[string]any
			if err := json.Unmarshal([]byte(rec.body.String()), &doc); err == nil {
				tap.edit(doc)
				w.Header().Set("Content-Type", "application/json")
				json.NewEncoder(w).Encode(doc)
				return
			}
		}
	}
	tap.op.ServeHTTP(w, r)
}

type bufferedResponse struct {
	header http.Header
	body   strings.Builder
}

func (b *bufferedResponse) Header() http.Header         { return b.header }
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bufferedResponse) WriteHeader(int)             {}

func (tap *tokenTap) setAnswer(fn func(w http.ResponseWriter)) {
	tap.mu.Lock()
	defer tap.mu.Unlock()
	tap.answer = fn
}

// received returns how many token requests carried code, and how many
// authenticated with Basic and with the secret in the body.
func (tap *tokenTap) received(code string) (n, basic, inBody int) {
	tap.mu.Lock()
	defer tap.mu.Unlock()
	return tap.codes[code], tap.basic, tap.inBody
}

// TestFailedCodeExchangeSendsTheCodeOnce: whatever the token endpoint
// answers, the code reaches it exactly once (a provider may treat a second
// use as an attack and revoke what it issued), and an outage is reported as
// one: 502 provider_unavailable, not "start again".
func TestFailedCodeExchangeSendsTheCodeOnce(t *testing.T) {
	t.Parallel()
	answers := []struct {
		name   string
		answer func(w http.ResponseWriter)
		status int
		code   string
	}{
		{"HTTP 500", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, "<h1>Internal Server Error</h1>")
		}, http.StatusBadGateway, "provider_unavailable"},
		{"HTTP 500 server_error", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"error":"server_error"}`)
		}, http.StatusBadGateway, "provider_unavailable"},
		{"HTTP 200, not JSON", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html>maintenance</html>")
		}, http.StatusBadGateway, "provider_unavailable"},
		{"HTTP 400 invalid_grant", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_grant"}`)
		}, http.StatusBadRequest, "code_rejected"},
		{"HTTP 401 invalid_client", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"invalid_client"}`)
		}, http.StatusServiceUnavailable, "misconfigured"},
	}
	for _, plain := range []bool{false, true} {
		kind := map[bool]string{false: "OpenID", true: "plain OAuth 2"}[plain]
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			tap := startTap(t, plain, nil)
			a := startApp(t, func(base string) []*Provider {
				registerApp(tap.op, base, "p")
				if plain {
					return []*Provider{plainProvider(t, "p", tap.op)}
				}
				return []*Provider{oidcProvider(t, "p", tap.op, nil)}
			}, nil)
			for _, tt := range answers {
				t.Run(tt.name, func(t *testing.T) { // sequential: the answer is provider-wide
					tap.setAnswer(tt.answer)
					defer tap.setAnswer(nil)
					b := newBrowser(t)
					cb := b.approve(b.startLogin(a, "p", ""), "approve")
					code := cb.Query().Get("code")
					res := b.get(cb.String())
					if n, _, _ := tap.received(code); n != 1 {
						t.Errorf("the token endpoint received the code %d times, want exactly once", n)
					}
					wantError(t, res, tt.status, tt.code)
					if who := b.whoami(a); who != "anonymous" {
						t.Errorf("signed in as %q", who)
					}
				})
			}
		})
	}
}

// TestTokenEndpointAuthStyleFromDiscovery: the client authenticates the way
// the discovery document says the provider accepts (Basic when listed,
// else the body), or as configured, and never both ways.
func TestTokenEndpointAuthStyleFromDiscovery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name              string
		methods           []string
		configured        oauth2.AuthStyle
		wantBasic, wantIn int
	}{
		{"basic and post listed", []string{"client_secret_post", "client_secret_basic"}, 0, 1, 0},
		{"only post listed", []string{"client_secret_post"}, 0, 0, 1},
		{"nothing listed: basic, the default", []string{}, 0, 1, 0},
		{"configured post although basic is listed", []string{"client_secret_basic", "client_secret_post"}, oauth2.AuthStyleInParams, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tap := startTap(t, false, tt.methods)
			a := startApp(t, func(base string) []*Provider {
				registerApp(tap.op, base, "p")
				return []*Provider{oidcProvider(t, "p", tap.op, func(c *OIDCConfig) { c.AuthStyle = tt.configured })}
			}, nil)
			b := newBrowser(t)
			if res := b.signIn(a, "p", ""); res.status != http.StatusSeeOther {
				t.Fatalf("sign-in: %d %s", res.status, res.body)
			}
			if _, basic, inBody := tap.received(""); basic != tt.wantBasic || inBody != tt.wantIn {
				t.Errorf("token requests with Basic: %d, with the secret in the body: %d; want %d and %d", basic, inBody, tt.wantBasic, tt.wantIn)
			}
		})
	}
}
