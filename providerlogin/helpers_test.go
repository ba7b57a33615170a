package providerlogin

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/sessionauth/session"
	"github.com/sessionauth/session/providerlogin/providertest"
	"github.com/sessionauth/session/storetest"
)

const (
	testClientID     = "app"
	testClientSecret = "app-secret"
	testUser         = "alice"
	testPassword     = "alice-password"
	testSubject      = "1001"
)

// serve runs h on a fresh loopback port until the test ends and returns
// its base URL.
func serve(t testing.TB, h func(base string) http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	srv := &http.Server{Handler: h(base)}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return base
}

// startProvider runs a providertest server on loopback with the test user
// and a client whose callback is under appBase.
func startProvider(t testing.TB, plain bool) *providertest.Server {
	t.Helper()
	var op *providertest.Server
	serve(t, func(base string) http.Handler {
		var err error
		op, err = providertest.New(providertest.Config{Issuer: base, Plain: plain})
		if err != nil {
			t.Fatal(err)
		}
		return op
	})
	op.AddUser(providertest.User{Username: testUser, Password: testPassword, Subject: testSubject, Email: "alice@example.test", Name: "Alice"})
	return op
}

// registerApp registers the app's callbacks for the named providers at op.
func registerApp(op *providertest.Server, appBase string, names ...string) {
	var cbs []string
	for _, n := range names {
		cbs = append(cbs, appBase+"/auth/"+n+"/callback")
	}
	op.AddClient(providertest.Client{
		ID: testClientID, Secret: testClientSecret, Name: "Test App",
		RedirectURIs: cbs, PostLogoutRedirectURIs: []string{appBase + "/"},
	})
}

// testApp is an app using Handler, with a browser-like client.
type testApp struct {
	t        testing.TB
	base     string
	h        *Handler
	sessions *session.Manager
	faults   *storetest.Faults // the session store's

	mu         sync.Mutex
	identities []Identity
	userErr    error
	skew       atomic.Int64 // added to the Handler's clock
}

// advance moves the Handler's clock by d (safe while requests run).
func (a *testApp) advance(d time.Duration) { a.skew.Add(int64(d)) }

func oidcProvider(t testing.TB, name string, op *providertest.Server, mod func(*OIDCConfig)) *Provider {
	t.Helper()
	cfg := OIDCConfig{Name: name, Issuer: op.Issuer(), ClientID: testClientID, ClientSecret: testClientSecret, RPLogout: true}
	if mod != nil {
		mod(&cfg)
	}
	p, err := NewOIDC(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func plainProvider(t testing.TB, name string, op *providertest.Server) *Provider {
	t.Helper()
	p, err := NewOAuth2(OAuth2Config{
		Name: name, DisplayName: "Plain Hub", Issuer: op.Issuer(),
		ClientID: testClientID, ClientSecret: testClientSecret,
		AuthURL: op.Issuer() + "/authorize", TokenURL: op.Issuer() + "/token", UserInfoURL: op.Issuer() + "/user",
		Scopes: []string{"read:user"}, SubjectField: "id",
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// startApp runs the app with the given providers. Routes besides the
// Handler: GET /whoami (user ID or "anonymous"), GET /flows (the raw
// pending-flows value), GET /value?key=K (a session value), GET /proof
// (user ID, AuthTime in ns, AuthMethods and session ID, one a line), GET / ("home").
func startApp(t testing.TB, providers func(base string) []*Provider, configure func(*Config)) *testApp {
	t.Helper()
	a := &testApp{t: t}
	keys, err := session.NewKeyRing(session.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	store, faults := storetest.WithFaults(session.NewMemoryStore())
	a.faults = faults
	a.sessions, err = session.New(session.Config{Keys: keys, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	a.base = serve(t, func(base string) http.Handler {
		cfg := Config{
			Sessions:  a.sessions,
			Providers: providers(base),
			BaseURL:   base,
			User: func(ctx context.Context, id Identity) (string, error) {
				a.mu.Lock()
				defer a.mu.Unlock()
				a.identities = append(a.identities, id)
				if a.userErr != nil {
					return "", a.userErr
				}
				return "user:" + id.Issuer + "|" + id.Subject, nil
			},
		}
		if configure != nil {
			configure(&cfg)
		}
		a.h, err = New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		a.h.now = func() time.Time { return time.Now().Add(time.Duration(a.skew.Load())) }
		mux := http.NewServeMux()
		mux.Handle("/auth/", a.h)
		mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
			if id := session.FromContext(r.Context()).UserID(); id != "" {
				io.WriteString(w, id)
				return
			}
			io.WriteString(w, "anonymous")
		})
		mux.HandleFunc("GET /flows", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, session.FromContext(r.Context()).Get(flowsKey))
		})
		mux.HandleFunc("GET /value", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, session.FromContext(r.Context()).Get(r.URL.Query().Get("key")))
		})
		mux.HandleFunc("GET /proof", func(w http.ResponseWriter, r *http.Request) {
			s := session.FromContext(r.Context())
			fmt.Fprintf(w, "%s\n%d\n%s\n%s", s.UserID(), s.AuthTime().UnixNano(), strings.Join(s.AuthMethods(), " "), s.ID())
		})
		mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "home") })
		return a.sessions.Middleware(mux)
	})
	return a
}

func (a *testApp) lastIdentity() Identity {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.identities) == 0 {
		a.t.Fatal("Config.User was never called")
	}
	return a.identities[len(a.identities)-1]
}

func (a *testApp) calls() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.identities)
}

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	t testing.TB
	c *http.Client
}

func newBrowser(t testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type response struct {
	status   int
	location string
	body     string
	header   http.Header
}

func (b *browser) do(req *http.Request) response {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header.Get("Location"), string(body), res.Header}
}

func (b *browser) get(u string) response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) getJSON(u string) response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Accept", "application/json")
	return b.do(req)
}

func (b *browser) post(u string, form url.Values) response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// startLogin posts the "Sign in with" form and returns the authorization
// request URL it redirects to.
func (b *browser) startLogin(a *testApp, provider, returnTo string) *url.URL {
	b.t.Helper()
	form := url.Values{}
	if returnTo != "" {
		form.Set("return_to", returnTo)
	}
	res := b.post(a.base+"/auth/"+provider+"/login", form)
	if res.status != http.StatusSeeOther {
		b.t.Fatalf("login: status %d, want 303; body %s", res.status, res.body)
	}
	u, err := url.Parse(res.location)
	if err != nil {
		b.t.Fatal(err)
	}
	return u
}

// approve signs in at the provider's page and returns the callback URL the
// provider redirects to.
func (b *browser) approve(authURL *url.URL, action string) *url.URL {
	b.t.Helper()
	if res := b.get(authURL.String()); res.status != http.StatusOK || !strings.Contains(res.body, `id="op-login"`) {
		b.t.Fatalf("authorize page: status %d, location %q, body %s", res.status, res.location, res.body)
	}
	res := b.post(authURL.String(), url.Values{"username": {testUser}, "password": {testPassword}, "action": {action}})
	if res.status != http.StatusSeeOther {
		b.t.Fatalf("authorize: status %d, want 303; body %s", res.status, res.body)
	}
	u, err := url.Parse(res.location)
	if err != nil {
		b.t.Fatal(err)
	}
	return u
}

// approveAs is approve with another account's credentials.
func (b *browser) approveAs(authURL *url.URL, user, password string) *url.URL {
	b.t.Helper()
	if res := b.get(authURL.String()); res.status != http.StatusOK || !strings.Contains(res.body, `id="op-login"`) {
		b.t.Fatalf("authorize page: status %d, location %q", res.status, res.location)
	}
	res := b.post(authURL.String(), url.Values{"username": {user}, "password": {password}, "action": {"approve"}})
	if res.status != http.StatusSeeOther {
		b.t.Fatalf("authorize: status %d, want 303; body %s", res.status, res.body)
	}
	return mustParse(b.t, res.location)
}

// signIn runs the whole flow and returns the callback's response.
func (b *browser) signIn(a *testApp, provider, returnTo string) response {
	b.t.Helper()
	return b.get(b.approve(b.startLogin(a, provider, returnTo), "approve").String())
}

func (b *browser) whoami(a *testApp) string {
	b.t.Helper()
	return b.get(a.base + "/whoami").body
}

// wantError checks an error answer's status and the code on its page.
func wantError(t testing.TB, res response, status int, code string) {
	t.Helper()
	if res.status != status {
		t.Fatalf("status %d, want %d; body %s", res.status, status, res.body)
	}
	if !strings.Contains(res.body, fmt.Sprintf(`data-error="%s"`, code)) && !strings.Contains(res.body, fmt.Sprintf(`"error":"%s"`, code)) {
		t.Fatalf("answer does not carry error code %q: %s", code, res.body)
	}
}

var errTestUserStore = errors.New("user store down")

func mustParse(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// hostileOP is an OpenID provider a test controls in full (an httptest
// server): its discovery document, key set, token and user-info answers,
// and the ID tokens it signs, for tests of what a hostile or broken
// provider can do to the Handler.
type hostileOP struct {
	t   testing.TB
	srv *httptest.Server
	key *rsa.PrivateKey
	kid string

	mu        sync.Mutex
	issuer    string // what the discovery document and ID tokens claim
	nonce     string // put in the next ID tokens
	subject   string
	claims    func(c map[string]any)
	sign      func(payload []byte) string // replaces RS256 signing with key
	doc       func(d map[string]any)
	jwks      http.HandlerFunc
	token     http.HandlerFunc
	userinfo  http.HandlerFunc
	tokenReqs []url.Values
}

func newHostileOP(t testing.TB) *hostileOP {
	t.Helper()
	op := &hostileOP{t: t, kid: "k1", subject: "victim-subject"}
	var err error
	if op.key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	op.srv = httptest.NewServer(http.HandlerFunc(op.serve))
	t.Cleanup(op.srv.Close)
	op.issuer = op.srv.URL
	return op
}

func (op *hostileOP) set(f func(op *hostileOP)) {
	op.mu.Lock()
	defer op.mu.Unlock()
	f(op)
}

func writeProviderJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (op *hostileOP) document() map[string]any {
	op.mu.Lock()
	defer op.mu.Unlock()
	d := map[string]any{
		"issuer":                                op.issuer,
		"authorization_endpoint":                op.srv.URL + "/authorize",
		"token_endpoint":                        op.srv.URL + "/token",
		"userinfo_endpoint":                     op.srv.URL + "/userinfo",
		"jwks_uri":                              op.srv.URL + "/jwks",
		"id_token_signing_alg_values_supported": []string{"RS256"},
	}
	if op.doc != nil {
		op.doc(d)
	}
	return d
}

func (op *hostileOP) publicJWKS() []byte {
	b, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &op.key.PublicKey, KeyID: op.kid, Algorithm: "RS256", Use: "sig"}}})
	return b
}

func (op *hostileOP) serve(w http.ResponseWriter, r *http.Request) {
	op.mu.Lock()
	jwks, token, userinfo := op.jwks, op.token, op.userinfo
	op.mu.Unlock()
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		writeProviderJSON(w, http.StatusOK, op.document())
	case "/jwks":
		if jwks != nil {
			jwks(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(op.publicJWKS())
	case "/token":
		r.ParseForm()
		op.mu.Lock()
		op.tokenReqs = append(op.tokenReqs, r.PostForm)
		op.mu.Unlock()
		if token != nil {
			token(w, r)
			return
		}
		writeProviderJSON(w, http.StatusOK, map[string]any{"access_token": "at-SECRET-ACCESS-TOKEN", "token_type": "Bearer", "id_token": op.idToken()})
	case "/userinfo":
		if userinfo != nil {
			userinfo(w, r)
			return
		}
		writeProviderJSON(w, http.StatusOK, map[string]any{"sub": op.subject})
	default:
		http.NotFound(w, r)
	}
}

func (op *hostileOP) idToken() string {
	op.mu.Lock()
	defer op.mu.Unlock()
	now := time.Now()
	c := map[string]any{
		"iss": op.issuer, "sub": op.subject, "aud": testClientID,
		"exp": now.Add(5 * time.Minute).Unix(), "iat": now.Unix(), "nonce": op.nonce,
	}
	if op.claims != nil {
		op.claims(c)
	}
	payload, _ := json.Marshal(c)
	if op.sign != nil {
		return op.sign(payload)
	}
	return signJWS(op.t, jose.RS256, jose.JSONWebKey{Key: op.key, KeyID: op.kid}, payload)
}

func signJWS(t testing.TB, alg jose.SignatureAlgorithm, key any, payload []byte) string {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// hostileApp runs an app with one OpenID provider, "hostile", at issuer.
func hostileApp(t testing.TB, issuer string, configure func(*Config), mod func(*OIDCConfig)) *testApp {
	t.Helper()
	return startApp(t, func(base string) []*Provider {
		cfg := OIDCConfig{Name: "hostile", Issuer: issuer, ClientID: testClientID, ClientSecret: testClientSecret}
		if mod != nil {
			mod(&cfg)
		}
		p, err := NewOIDC(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return []*Provider{p}
	}, configure)
}

// hostileCallback starts a sign-in at the app, hands the nonce to the
// provider (as its authorization endpoint would), and returns the callback
// URL the provider would redirect to (code "c1").
func hostileCallback(t testing.TB, a *testApp, b *browser, op *hostileOP) string {
	t.Helper()
	authURL := b.startLogin(a, "hostile", "")
	q := authURL.Query()
	op.set(func(op *hostileOP) { op.nonce = q.Get("nonce") })
	return a.base + "/auth/hostile/callback?" + url.Values{"code": {"c1"}, "state": {q.Get("state")}}.Encode()
}
