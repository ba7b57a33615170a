package accesstoken

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestNewProviderRefusesUnsafeConfig(t *testing.T) {
	t.Parallel()
	ok := ProviderConfig{JWKSURL: "https://idp.example.test/jwks", Issuer: idpIssuer, Audience: idpAudience}
	for name, mod := range map[string]func(*ProviderConfig){
		"HS256 allowed":             func(c *ProviderConfig) { c.Algorithms = []string{"RS256", "HS256"} },
		"none allowed":              func(c *ProviderConfig) { c.Algorithms = []string{"none"} },
		"empty algorithm list":      func(c *ProviderConfig) { c.Algorithms = []string{} },
		"plain http":                func(c *ProviderConfig) { c.JWKSURL = "http://idp.example.test/jwks" },
		"relative URL":              func(c *ProviderConfig) { c.JWKSURL = "/jwks" },
		"file URL":                  func(c *ProviderConfig) { c.JWKSURL = "file:///etc/jwks.json" },
		"no issuer":                 func(c *ProviderConfig) { c.Issuer = "" },
		"no audience":               func(c *ProviderConfig) { c.Audience = "" },
		"leeway over the maximum":   func(c *ProviderConfig) { c.Leeway = time.Hour },
		"max cache age below min":   func(c *ProviderConfig) { c.MinCacheAge, c.MaxCacheAge = time.Hour, time.Minute },
		"negative refetch interval": func(c *ProviderConfig) { c.RefetchInterval = -time.Second },
	} {
		cfg := ok
		mod(&cfg)
		if _, err := NewProvider(cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: err = %v, want ErrInvalidConfig", name, err)
		}
	}
	for _, u := range []string{"http://127.0.0.1:9/jwks", "http://localhost/jwks", "http://[::1]:8080/jwks"} {
		cfg := ok
		cfg.JWKSURL = u
		if _, err := NewProvider(cfg); err != nil {
			t.Errorf("loopback %s refused: %v", u, err)
		}
	}
}

// TestProviderRefusesBadTokens is the battery against a provider's tokens
// (RS256, as most hosted providers sign), with controls for every key type.
func TestProviderRefusesBadTokens(t *testing.T) {
	t.Parallel()
	rs := newIDPKey(t, "rs-1", "RS256", false)
	es := newIDPKey(t, "es-1", "ES256", false)
	ed := newIDPKey(t, "ed-1", "EdDSA", false)
	ps := newIDPKey(t, "ps-1", "PS256", true)
	weak, _ := rsa.GenerateKey(rand.Reader, 1024)
	p := newIDP(t, rs, es, ed, ps)
	p.set(func(p *idp) {
		p.extra = append(p.extra,
			json.RawMessage(`{"kty":"oct","kid":"hmac-1","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}`),
			mustJWK(t, weak.Public(), "rsa-1024", "RS256", "sig"),
			mustJWK(t, es.priv.Public(), "enc-1", "", "enc"),
		)
	})
	pr := p.provider(nil)
	attacker := newIDPKey(t, "rs-1", "RS256", true) // same kid, another key
	jku, jkuHits := attackerJWKS(t, mustKey(t, EdDSA))
	der, _ := x509.MarshalPKIXPublicKey(rs.priv.Public())
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(rs.priv.Public().(*rsa.PublicKey))})
	now := p.clock.Now()
	hdr := func(alg, kid string, extra string) string {
		return `{"alg":"` + alg + `","kid":"` + kid + `"` + extra + `}`
	}
	good := p.sign(rs, p.claims(nil))
	parts := strings.Split(good, ".")

	cases := []struct {
		name  string
		token string
		want  error
	}{
		{"control: RS256", good, nil},
		{"control: PS256", p.sign(ps, p.claims(nil)), nil},
		{"control: ES256", p.sign(es, p.claims(nil)), nil},
		{"control: EdDSA", p.sign(ed, p.claims(nil)), nil},
		{"control: no iat, string aud", p.sign(rs, p.claims(map[string]any{"iat": nil, "aud": idpAudience})), nil},

		{"alg none", craft(hdr("none", "rs-1", ""), p.claims(nil), nil), errMalformed},
		{"alg none with a signature", craft(hdr("none", "rs-1", ""), p.claims(nil), hmacWith(nil)), errAlgorithm},
		{"HS256 keyed with the RSA public key (PEM)", craft(hdr("HS256", "rs-1", ""), p.claims(nil), hmacWith(pubPEM)), errAlgorithm},
		{"HS256 keyed with the RSA public key (PKCS #1 PEM)", craft(hdr("HS256", "rs-1", ""), p.claims(nil), hmacWith(pkcs1)), errAlgorithm},
		{"HS256 keyed with the DER public key", craft(hdr("HS256", "rs-1", ""), p.claims(nil), hmacWith(der)), errAlgorithm},
		{"HS256 with a symmetric key from the JWKS", craft(hdr("HS256", "hmac-1", ""), p.claims(nil), hmacWith([]byte("secret-secret-secret-secret-secret"))), errAlgorithm},
		{"RS256 on the EC key's kid", craft(hdr("RS256", "es-1", ""), p.claims(nil), signWith(t, rs.priv, "RS256")), errAlgorithm},
		{"ES256 on the RSA key's kid", craft(hdr("ES256", "rs-1", ""), p.claims(nil), signWith(t, es.priv, "ES256")), errAlgorithm},
		{"ES384 on a P-256 key", craft(hdr("ES384", "es-1", ""), p.claims(nil), signWith(t, es.priv, "ES384")), errAlgorithm},
		{"PS256 where the JWK says RS256", craft(hdr("PS256", "rs-1", ""), p.claims(nil), signWith(t, rs.priv, "PS256")), errAlgorithm},
		{"EdDSA on the RSA key's kid", craft(hdr("EdDSA", "rs-1", ""), p.claims(nil), signWith(t, ed.priv, "EdDSA")), errAlgorithm},
		{"RSA key under 2048 bits", craft(hdr("RS256", "rsa-1024", ""), p.claims(nil), signWith(t, weak, "RS256")), errUnknownKey},
		{"key whose use is enc", craft(hdr("ES256", "enc-1", ""), p.claims(nil), signWith(t, es.priv, "ES256")), errUnknownKey},
		{"forged signature under a real kid", p.sign(attacker, p.claims(nil)), errSignature},
		{"unknown kid", craft(hdr("RS256", "rs-2", ""), p.claims(nil), signWith(t, rs.priv, "RS256")), errUnknownKey},
		{"path-like kid", craft(hdr("RS256", "../../.well-known/jwks.json", ""), p.claims(nil), signWith(t, rs.priv, "RS256")), errUnknownKey},
		{"kid with a URL", craft(hdr("RS256", jku.URL, ""), p.claims(nil), signWith(t, rs.priv, "RS256")), errUnknownKey},
		{"jku to the attacker", craft(hdr("RS256", "rs-1", `,"jku":"`+jku.URL+`"`), p.claims(nil), signWith(t, rs.priv, "RS256")), errHeader},
		{"x5u to the attacker", craft(hdr("RS256", "rs-1", `,"x5u":"`+jku.URL+`"`), p.claims(nil), signWith(t, rs.priv, "RS256")), errHeader},
		{"embedded jwk", craft(hdr("RS256", "rs-1", `,"jwk":`+string(mustJWK(t, attacker.priv.Public(), "", "", ""))), p.claims(nil), signWith(t, attacker.priv, "RS256")), errHeader},
		{"x5c chain", craft(hdr("RS256", "rs-1", `,"x5c":["MIIB"]`), p.claims(nil), signWith(t, rs.priv, "RS256")), errHeader},
		{"crit header", craft(hdr("RS256", "rs-1", `,"crit":["foo"],"foo":1`), p.claims(nil), signWith(t, rs.priv, "RS256")), errHeader},
		{"expired", p.sign(rs, p.claims(map[string]any{"exp": now.Add(-time.Minute).Unix()})), ErrExpired},
		{"not yet valid", p.sign(rs, p.claims(map[string]any{"nbf": now.Add(time.Minute).Unix()})), errNotYetValid},
		{"issued in the future", p.sign(rs, p.claims(map[string]any{"iat": now.Add(time.Minute).Unix()})), errNotYetValid},
		{"wrong issuer", p.sign(rs, p.claims(map[string]any{"iss": "https://idp.example.test"})), errIssuer},
		{"wrong audience", p.sign(rs, p.claims(map[string]any{"aud": "api://payments"})), errAudience},
		{"missing sub", p.sign(rs, p.claims(map[string]any{"sub": nil})), errMissingClaim},
		{"missing exp", p.sign(rs, p.claims(map[string]any{"exp": nil})), errMissingClaim},
		{"missing iss", p.sign(rs, p.claims(map[string]any{"iss": nil})), errMissingClaim},
		{"missing aud", p.sign(rs, p.claims(map[string]any{"aud": nil})), errMissingClaim},
		{"duplicate sub", p.sign(rs, strings.Replace(p.claims(nil), `"sub":"auth0|42"`, `"sub":"auth0|42","sub":"auth0|1"`, 1)), errClaims},
		{"duplicate aud", p.sign(rs, strings.Replace(p.claims(map[string]any{"aud": "api://payments"}), `"sub"`, `"aud":"`+idpAudience+`","sub"`, 1)), errClaims},
		{"garbled base64", parts[0] + ".e30*." + parts[2], errMalformed},
		{"oversized", p.sign(rs, p.claims(map[string]any{"groups": strings.Repeat("g", defaultProviderMaxTokenSize)})), errTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := pr.Verify(context.Background(), tc.token)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				var extra struct {
					Email string `json:"email"`
				}
				if err := c.Decode(&extra); err != nil || extra.Email != "ada@example.test" || c.Subject != "auth0|42" {
					t.Fatalf("claims %+v, email %q, %v", c, extra.Email, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidToken) || !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want ErrInvalidToken and %v", err, tc.want)
			}
		})
	}
	if n := jkuHits.Load(); n != 0 {
		t.Fatalf("a URL from a token was fetched %d times", n)
	}
}

func mustJWK(t *testing.T, pub any, kid, alg, use string) json.RawMessage {
	b, err := jsonWebKey(pub, kid, alg, use)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
