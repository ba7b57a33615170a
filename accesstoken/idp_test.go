package accesstoken

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// idp is a stand-in identity provider on loopback: it publishes a JWKS that
// the test can rotate, slow down or break, and signs tokens.
type idp struct {
	t     *testing.T
	srv   *httptest.Server // nil for an in-memory idp
	url   string           // the JWKS URL
	hits  atomic.Int64
	clock *clock
	// refuse makes an in-memory idp's transport fail as a refused
	// connection would.
	refuse atomic.Bool

	mu           sync.Mutex
	published    []*idpKey
	extra        []json.RawMessage // raw JWKs appended to the set
	cacheControl string
	status       int           // answer status; 0 means 200
	delay        time.Duration // answer delay
	body         []byte        // replaces the answer when set
}

type idpKey struct {
	kid  string
	alg  string
	priv crypto.Signer
}

const (
	idpIssuer   = "https://idp.example.test/"
	idpAudience = "api://orders"
	// idpClient is our app's client ID at the idp: the azp of its tokens.
	idpClient = "our-spa"
)

var rsaKeyOnce = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// newIDPKey returns a key for alg; RSA keys are generated once per test
// binary (2048-bit generation is slow) unless fresh is set.
func newIDPKey(t testing.TB, kid, alg string, fresh bool) *idpKey {
	var priv crypto.Signer
	switch alg {
	case "RS256", "PS256":
		if fresh {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				t.Fatal(err)
			}
			priv = k
		} else {
			priv = rsaKeyOnce()
		}
	case "ES256":
		priv, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ES384":
		priv, _ = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "EdDSA":
		_, priv, _ = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("newIDPKey: %s", alg)
	}
	return &idpKey{kid: kid, alg: alg, priv: priv}
}

func newIDP(t *testing.T, keys ...*idpKey) *idp {
	p := &idp{t: t, clock: newClock(), published: keys, cacheControl: "public, max-age=600"}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serveJWKS))
	p.url = p.srv.URL + "/.well-known/jwks.json"
	t.Cleanup(func() {
		p.srv.CloseClientConnections() // ends hanging answers at once
		p.srv.Close()
	})
	return p
}

// newMemIDP is an idp without a network: its Providers fetch through
// RoundTrip, which calls serveJWKS directly. Inside a testing/synctest
// bubble, its delays and the Provider's timeouts then run on the virtual
// clock.
func newMemIDP(t *testing.T, keys ...*idpKey) *idp {
	return &idp{t: t, clock: newClock(), published: keys, cacheControl: "public, max-age=600",
		url: "http://127.0.0.1:1/.well-known/jwks.json"}
}

var errRefused = errors.New("dial tcp 127.0.0.1:1: connect: connection refused")

// RoundTrip serves a JWKS request of an in-memory idp.
func (p *idp) RoundTrip(r *http.Request) (*http.Response, error) {
	if p.refuse.Load() {
		return nil, errRefused
	}
	w := httptest.NewRecorder()
	p.serveJWKS(w, r)
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	return w.Result(), nil
}

func (p *idp) serveJWKS(w http.ResponseWriter, r *http.Request) {
	p.hits.Add(1)
	p.mu.Lock()
	delay, status, cc, body := p.delay, p.status, p.cacheControl, p.body
	set := struct {
		Keys []any `json:"keys"`
	}{}
	for _, k := range p.published {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: k.alg, Use: "sig"})
	}
	for _, raw := range p.extra {
		set.Keys = append(set.Keys, raw)
	}
	p.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if status != 0 {
		w.WriteHeader(status)
		return
	}
	if body == nil {
		body, _ = json.Marshal(set)
	}
	if cc != "" {
		w.Header().Set("Cache-Control", cc)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

func (p *idp) set(f func(p *idp)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p)
}

// claims returns valid provider claims at the idp's clock, with changes
// (nil removes a claim).
func (p *idp) claims(changes map[string]any) string {
	now := p.clock.Now()
	m := map[string]any{
		"iss": idpIssuer, "sub": "auth0|42", "aud": []string{idpAudience, "https://idp.example.test/userinfo"},
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "email": "ada@example.test",
		"azp": idpClient,
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

// sign returns a token signed by k with the claims.
func (p *idp) sign(k *idpKey, claims string) string {
	return craft(`{"alg":"`+k.alg+`","kid":"`+k.kid+`","typ":"JWT"}`, claims, signWith(p.t, k.priv, k.alg))
}

// provider returns a Provider for this idp on its clock, with mod applied.
func (p *idp) provider(mod func(*ProviderConfig)) *Provider {
	cfg := ProviderConfig{
		JWKSURL: p.url, Issuer: idpIssuer, Audience: idpAudience,
		now: p.clock.Now, FetchTimeout: 2 * time.Second,
	}
	if p.srv == nil {
		cfg.HTTPClient = &http.Client{Transport: p}
	}
	if mod != nil {
		mod(&cfg)
	}
	pr, err := NewProvider(cfg)
	if err != nil {
		p.t.Fatal(err)
	}
	return pr
}

// waitHits waits (bounded) until the JWKS has been fetched n times.
func (p *idp) waitHits(n int64) {
	p.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for p.hits.Load() < n {
		if time.Now().After(deadline) {
			p.t.Fatalf("JWKS fetched %d times, want %d", p.hits.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// jsonWebKey encodes a public key as a JWK.
func jsonWebKey(pub any, kid, alg, use string) ([]byte, error) {
	return json.Marshal(jose.JSONWebKey{Key: pub, KeyID: kid, Algorithm: alg, Use: use})
}
