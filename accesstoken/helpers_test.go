package accesstoken

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/sessionauth/session"
)

// clock is a settable clock for tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Unix(1_800_000_000, 0).UTC()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// flakyStore is a session.Store that fails every call while down is set.
// It also remembers the store keys it was asked to create.
type flakyStore struct {
	session.Store
	down atomic.Bool

	mu      sync.Mutex
	created []string
}

func (s *flakyStore) Create(ctx context.Context, key string, rec session.Record) error {
	s.mu.Lock()
	s.created = append(s.created, key)
	s.mu.Unlock()
	return s.Store.Create(ctx, key, rec)
}

func (s *flakyStore) keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.created...)
}

var errStoreDown = errors.New("test store down")

func (s *flakyStore) Get(ctx context.Context, key string) (session.Record, error) {
	if s.down.Load() {
		return session.Record{}, errStoreDown
	}
	return s.Store.Get(ctx, key)
}

func (s *flakyStore) ListUser(ctx context.Context, userID string) ([]session.Entry, error) {
	if s.down.Load() {
		return nil, errStoreDown
	}
	return s.Store.ListUser(ctx, userID)
}

// env is an Issuer on a memory-store session manager, behind a mux:
// POST /login?user=U, POST /logout, POST /token, GET /api (Middleware),
// GET /strict (Strict), GET /.well-known/jwks.json.
type env struct {
	t        *testing.T
	clock    *clock
	store    *flakyStore
	sessions *session.Manager
	issuer   *Issuer
	key      *PrivateKey
	handler  http.Handler
}

const (
	testIssuer   = "https://api.example.test"
	testAudience = "https://api.example.test/v1"
)

func newEnv(t *testing.T, mod func(*Config, *session.Config)) *env {
	t.Helper()
	e := &env{t: t, clock: newClock(), store: &flakyStore{Store: session.NewMemoryStore()}}
	ring, err := session.NewKeyRing(session.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	e.key = mustKey(t, EdDSA)
	keys, err := NewKeyRing(e.key)
	if err != nil {
		t.Fatal(err)
	}
	scfg := session.Config{Store: e.store, Keys: ring}
	cfg := Config{Keys: keys, Issuer: testIssuer, Audience: testAudience, now: e.clock.Now}
	if mod != nil {
		mod(&cfg, &scfg)
	}
	if scfg.CookieOnly {
		scfg.Store = nil
	}
	if e.sessions, err = session.New(scfg); err != nil {
		t.Fatal(err)
	}
	cfg.Sessions = e.sessions
	if e.issuer, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if err := e.sessions.Login(w, r, r.URL.Query().Get("user")); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		e.sessions.Logout(w, r)
	})
	mux.Handle("/token", e.issuer.MintHandler())
	mux.Handle("GET /.well-known/jwks.json", e.issuer.JWKSHandler())
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := FromContext(r.Context())
		w.Write([]byte(c.Subject + " " + c.SessionID))
	})
	mux.Handle("GET /api", e.issuer.Middleware(api))
	if !scfg.CookieOnly { // Strict refuses a cookie-only Manager
		mux.Handle("GET /strict", e.issuer.Strict(api))
	}
	e.handler = e.sessions.Middleware(mux)
	return e
}

func mustKey(t testing.TB, alg string) *PrivateKey {
	t.Helper()
	k, err := GenerateKey(alg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// do sends a request through the env's handler. Headers come in pairs.
func (e *env) do(method, target string, cookie *http.Cookie, headers ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "https://api.example.test"+target, nil)
	if cookie != nil {
		r.AddCookie(cookie)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, r)
	return w
}

// login signs user in and returns the session cookie.
func (e *env) login(user string) *http.Cookie {
	e.t.Helper()
	w := e.do("POST", "/login?user="+user, nil)
	for _, c := range w.Result().Cookies() {
		if c.Value != "" {
			return c
		}
	}
	e.t.Fatalf("login: no session cookie (status %d)", w.Code)
	return nil
}

// mint calls POST /token with cookie and returns the access token.
func (e *env) mint(cookie *http.Cookie) string {
	e.t.Helper()
	w := e.do("POST", "/token", cookie)
	if w.Code != http.StatusOK {
		e.t.Fatalf("POST /token: %d %s", w.Code, w.Body)
	}
	var tok Token
	if err := json.Unmarshal(w.Body.Bytes(), &tok); err != nil {
		e.t.Fatal(err)
	}
	return tok.AccessToken
}

func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// craft builds a compact JWS from raw header and payload JSON, signed by
// sign (nil: an empty signature).
func craft(headerJSON, payloadJSON string, sign func(input []byte) []byte) string {
	input := b64([]byte(headerJSON)) + "." + b64([]byte(payloadJSON))
	var sig []byte
	if sign != nil {
		sig = sign([]byte(input))
	}
	return input + "." + b64(sig)
}

// signWith returns a signer for craft with a private key and algorithm.
func signWith(t testing.TB, key crypto.Signer, alg string) func([]byte) []byte {
	return func(input []byte) []byte {
		switch k := key.(type) {
		case ed25519.PrivateKey:
			return ed25519.Sign(k, input)
		case *ecdsa.PrivateKey:
			var h []byte
			size := (k.Curve.Params().BitSize + 7) / 8
			switch alg {
			case "ES384":
				s := sha512.Sum384(input)
				h = s[:]
			case "ES512":
				s := sha512.Sum512(input)
				h = s[:]
			default:
				s := sha256.Sum256(input)
				h = s[:]
			}
			r, s, err := ecdsa.Sign(rand.Reader, k, h)
			if err != nil {
				t.Fatal(err)
			}
			out := make([]byte, 2*size)
			r.FillBytes(out[:size])
			s.FillBytes(out[size:])
			return out
		case *rsa.PrivateKey:
			h := sha256.Sum256(input)
			var sig []byte
			var err error
			if strings.HasPrefix(alg, "PS") {
				sig, err = rsa.SignPSS(rand.Reader, k, crypto.SHA256, h[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
			} else {
				sig, err = rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, h[:])
			}
			if err != nil {
				t.Fatal(err)
			}
			return sig
		}
		t.Fatalf("signWith: %T", key)
		return nil
	}
}

// hmacWith signs like HS256 with secret.
func hmacWith(secret []byte) func([]byte) []byte {
	return func(input []byte) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write(input)
		return m.Sum(nil)
	}
}

// claimsJSON returns a payload with the registered claims of a valid token
// of ours at now, with fields replaced or (value nil) removed.
func claimsJSON(now time.Time, iss, aud string, changes map[string]any) string {
	m := map[string]any{
		"iss": iss, "sub": "alice", "aud": aud,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"jti": "j1", "sid": "0123456789abcdef",
	}
	for k, v := range changes {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// headerJSON returns {"alg":alg,"kid":kid,"typ":"at+jwt"} with changes.
func headerJSON(alg, kid string, changes map[string]any) string {
	m := map[string]any{"alg": alg, "kid": kid, "typ": "at+jwt"}
	for k, v := range changes {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func sigAlg(a string) jose.SignatureAlgorithm { return jose.SignatureAlgorithm(a) }
