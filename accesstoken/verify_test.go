package accesstoken

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// attackerJWKS serves the JWKS of key and counts requests: a token that
// points at it (jku, x5u) must never make us fetch it.
func attackerJWKS(t *testing.T, key *PrivateKey) (*httptest.Server, *atomic.Int64) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		b, _ := json.Marshal(map[string]any{"keys": []any{map[string]any{
			"kty": "OKP", "crv": "Ed25519", "kid": key.KeyID(), "alg": "EdDSA",
			"x": b64(key.pub.pub.(ed25519.PublicKey)),
		}}})
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// TestVerifyRefusesBadTokens is the battery of hostile tokens against our
// own verifier: each one must be refused with ErrInvalidToken and the
// reason named, and the controls must pass.
func TestVerifyRefusesBadTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	now := e.clock.Now()
	kid := e.key.KeyID()
	pub := e.key.pub.pub.(ed25519.PublicKey)
	ours := signWith(t, e.key.key, "EdDSA")
	hdr := func(ch map[string]any) string { return headerJSON("EdDSA", kid, ch) }
	cl := func(ch map[string]any) string { return claimsJSON(now, testIssuer, testAudience, ch) }

	attacker := mustKey(t, EdDSA)
	theirs := signWith(t, attacker.key, "EdDSA")
	srv, hits := attackerJWKS(t, attacker)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	der, _ := x509.MarshalPKIXPublicKey(pub)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	jwks, _ := json.Marshal(e.issuer.jwks())
	attackerJWK, _ := json.Marshal(map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64(attacker.pub.pub.(ed25519.PublicKey))})

	valid := craft(hdr(nil), cl(nil), ours)
	parts := strings.Split(valid, ".")
	lastFlip := map[byte]byte{'A': 'B', 'Q': 'R', 'g': 'h', 'w': 'x'}

	cases := []struct {
		name  string
		token string
		want  error // nil: accepted
	}{
		{"control: valid", valid, nil},
		{"control: expired but within the leeway", craft(hdr(nil), cl(map[string]any{"iat": now.Add(-5 * time.Minute).Unix(), "exp": now.Add(-20 * time.Second).Unix()}), ours), nil},
		{"control: nbf within the leeway", craft(hdr(nil), cl(map[string]any{"nbf": now.Add(20 * time.Second).Unix()}), ours), nil},
		{"control: aud list holding ours", craft(hdr(nil), cl(map[string]any{"aud": []string{"other", testAudience}}), ours), nil},

		{"alg none, empty signature", craft(headerJSON("none", kid, nil), cl(nil), nil), ErrMalformed},
		{"alg none with a signature", craft(headerJSON("none", kid, nil), cl(nil), ours), ErrAlgorithm},
		{"alg NONE", craft(headerJSON("NONE", kid, nil), cl(nil), ours), ErrAlgorithm},
		{"alg eddsa (case)", craft(headerJSON("eddsa", kid, nil), cl(nil), ours), ErrAlgorithm},
		{"HS256 keyed with the raw public key", craft(headerJSON("HS256", kid, nil), cl(nil), hmacWith(pub)), ErrAlgorithm},
		{"HS256 keyed with the PEM public key", craft(headerJSON("HS256", kid, nil), cl(nil), hmacWith(pubPEM)), ErrAlgorithm},
		{"HS256 keyed with the published JWKS", craft(headerJSON("HS256", kid, nil), cl(nil), hmacWith(jwks)), ErrAlgorithm},
		{"ES256 header on our Ed25519 kid", craft(headerJSON("ES256", kid, nil), cl(nil), signWith(t, ecKey, "ES256")), ErrAlgorithm},
		{"RS256 header on our kid", craft(headerJSON("RS256", kid, nil), cl(nil), signWith(t, rsaKey, "RS256")), ErrAlgorithm},
		{"alg missing", craft(hdr(map[string]any{"alg": nil}), cl(nil), ours), ErrHeader},
		{"alg a number", craft(hdr(map[string]any{"alg": 1}), cl(nil), ours), ErrHeader},

		{"our kid, another key's signature", craft(hdr(nil), cl(nil), theirs), ErrSignature},
		{"unknown kid", craft(headerJSON("EdDSA", attacker.KeyID(), nil), cl(nil), theirs), ErrUnknownKey},
		{"path-like kid", craft(headerJSON("EdDSA", "../../../../../../dev/null", nil), cl(nil), theirs), ErrUnknownKey},
		{"absolute path kid", craft(headerJSON("EdDSA", "/etc/passwd", nil), cl(nil), theirs), ErrUnknownKey},
		{"SQL-like kid", craft(headerJSON("EdDSA", "x' OR '1'='1", nil), cl(nil), theirs), ErrUnknownKey},
		{"URL kid", craft(headerJSON("EdDSA", srv.URL, nil), cl(nil), theirs), ErrUnknownKey},
		{"overlong kid", craft(headerJSON("EdDSA", strings.Repeat("k", 300), nil), cl(nil), theirs), ErrUnknownKey},
		{"empty kid", craft(headerJSON("EdDSA", "", nil), cl(nil), ours), ErrUnknownKey},
		{"no kid", craft(hdr(map[string]any{"kid": nil}), cl(nil), ours), ErrHeader},
		{"kid a number", craft(hdr(map[string]any{"kid": 7}), cl(nil), ours), ErrHeader},

		{"jku to the attacker's JWKS", craft(headerJSON("EdDSA", attacker.KeyID(), map[string]any{"jku": srv.URL}), cl(nil), theirs), ErrHeader},
		{"jku on a token we signed", craft(hdr(map[string]any{"jku": srv.URL}), cl(nil), ours), ErrHeader},
		{"x5u to the attacker", craft(headerJSON("EdDSA", attacker.KeyID(), map[string]any{"x5u": srv.URL}), cl(nil), theirs), ErrHeader},
		{"jwk embedding the attacker's key", craft(headerJSON("EdDSA", attacker.KeyID(), map[string]any{"jwk": json.RawMessage(attackerJWK)}), cl(nil), theirs), ErrHeader},
		{"x5c chain", craft(hdr(map[string]any{"x5c": []string{"MIIB"}}), cl(nil), ours), ErrHeader},
		{"crit header", craft(hdr(map[string]any{"crit": []string{"exp"}, "exp": 1}), cl(nil), ours), ErrHeader},
		{"crit b64 (unencoded payload)", craft(hdr(map[string]any{"crit": []string{"b64"}, "b64": false}), cl(nil), ours), ErrHeader},
		{"typ JWT", craft(hdr(map[string]any{"typ": "JWT"}), cl(nil), ours), ErrHeader},
		{"no typ", craft(hdr(map[string]any{"typ": nil}), cl(nil), ours), ErrHeader},
		{"duplicate alg in header", craft(`{"alg":"EdDSA","kid":"`+kid+`","typ":"at+jwt","alg":"none"}`, cl(nil), ours), ErrHeader},
		{"header an array", craft(`["EdDSA"]`, cl(nil), ours), ErrHeader},
		{"header not JSON", craft(`{alg:EdDSA}`, cl(nil), ours), ErrHeader},
		{"header null", craft(`null`, cl(nil), ours), ErrHeader},

		{"expired beyond the leeway", craft(hdr(nil), cl(map[string]any{"iat": now.Add(-6 * time.Minute).Unix(), "exp": now.Add(-31 * time.Second).Unix()}), ours), ErrExpired},
		{"nbf beyond the leeway", craft(hdr(nil), cl(map[string]any{"nbf": now.Add(31 * time.Second).Unix()}), ours), ErrNotYetValid},
		{"iat in the future", craft(hdr(nil), cl(map[string]any{"iat": now.Add(time.Minute).Unix()}), ours), ErrNotYetValid},
		{"lifetime over the TTL", craft(hdr(nil), cl(map[string]any{"exp": now.Add(2 * time.Hour).Unix()}), ours), ErrClaims},
		{"wrong audience", craft(hdr(nil), cl(map[string]any{"aud": "https://other.test"}), ours), ErrAudience},
		{"audience list without ours", craft(hdr(nil), cl(map[string]any{"aud": []string{"a", "b"}}), ours), ErrAudience},
		{"audience differs in case", craft(hdr(nil), cl(map[string]any{"aud": strings.ToUpper(testAudience)}), ours), ErrAudience},
		{"wrong issuer", craft(hdr(nil), cl(map[string]any{"iss": "https://evil.test"}), ours), ErrIssuer},
		{"issuer with a trailing slash", craft(hdr(nil), cl(map[string]any{"iss": testIssuer + "/"}), ours), ErrIssuer},

		{"missing sub", craft(hdr(nil), cl(map[string]any{"sub": nil}), ours), ErrMissingClaim},
		{"empty sub", craft(hdr(nil), cl(map[string]any{"sub": ""}), ours), ErrMissingClaim},
		{"missing sid", craft(hdr(nil), cl(map[string]any{"sid": nil}), ours), ErrMissingClaim},
		{"missing iat", craft(hdr(nil), cl(map[string]any{"iat": nil}), ours), ErrMissingClaim},
		{"missing exp", craft(hdr(nil), cl(map[string]any{"exp": nil}), ours), ErrMissingClaim},
		{"missing iss", craft(hdr(nil), cl(map[string]any{"iss": nil}), ours), ErrMissingClaim},
		{"missing aud", craft(hdr(nil), cl(map[string]any{"aud": nil}), ours), ErrMissingClaim},
		{"empty aud list", craft(hdr(nil), cl(map[string]any{"aud": []string{}}), ours), ErrMissingClaim},
		{"missing jti", craft(hdr(nil), cl(map[string]any{"jti": nil}), ours), ErrMissingClaim},
		{"sub a number", craft(hdr(nil), cl(map[string]any{"sub": 42}), ours), ErrClaims},
		{"exp a string", craft(hdr(nil), cl(map[string]any{"exp": "1900000000"}), ours), ErrClaims},
		{"exp negative", craft(hdr(nil), cl(map[string]any{"exp": -1}), ours), ErrClaims},
		{"exp past the year 9999", craft(hdr(nil), cl(map[string]any{"exp": 1e300}), ours), ErrClaims},
		{"aud a number", craft(hdr(nil), cl(map[string]any{"aud": 1}), ours), ErrClaims},
		{"aud list with a number", craft(hdr(nil), cl(map[string]any{"aud": []any{testAudience, 1}}), ours), ErrClaims},
		{"duplicate sub", craft(hdr(nil), strings.Replace(cl(nil), `"sub":"alice"`, `"sub":"alice","sub":"admin"`, 1), ours), ErrClaims},
		{"duplicate exp", craft(hdr(nil), strings.Replace(cl(nil), `"sub":"alice"`, `"sub":"alice","exp":4102444800`, 1), ours), ErrClaims},
		{"payload an array", craft(hdr(nil), `[1,2]`, ours), ErrClaims},
		{"payload not JSON", craft(hdr(nil), `{"sub":`, ours), ErrClaims},
		{"payload with trailing data", craft(hdr(nil), cl(nil)+`{}`, ours), ErrClaims},

		{"tampered payload", parts[0] + "." + b64([]byte(cl(map[string]any{"sub": "admin"}))) + "." + parts[2], ErrSignature},
		{"signature from another token", craft(hdr(nil), cl(map[string]any{"jti": "j2"}), nil) + parts[2], ErrSignature},
		{"empty", "", ErrMalformed},
		{"one part", parts[0], ErrMalformed},
		{"two parts", parts[0] + "." + parts[1], ErrMalformed},
		{"four parts", valid + "." + parts[2], ErrMalformed},
		{"empty payload", parts[0] + ".." + parts[2], ErrMalformed},
		{"padded base64", parts[0] + "=." + parts[1] + "." + parts[2], ErrMalformed},
		{"standard base64 alphabet", strings.NewReplacer("-", "+", "_", "/").Replace(valid) + "+/", ErrMalformed},
		{"white space", parts[0] + ". " + parts[1] + "." + parts[2], ErrMalformed},
		{"stray bits in the signature's last character", valid[:len(valid)-1] + string(lastFlip[valid[len(valid)-1]]), ErrMalformed},
		{"garbled header base64", "!!!." + parts[1] + "." + parts[2], ErrMalformed},
		{"oversized", craft(hdr(nil), cl(map[string]any{"pad": strings.Repeat("x", DefaultMaxTokenSize)}), ours), ErrTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := e.issuer.Verify(context.Background(), tc.token)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused a valid token: %v", err)
				}
				if c.Subject != "alice" {
					t.Fatalf("sub = %q", c.Subject)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted; want %v", tc.want)
			}
			if !errors.Is(err, ErrInvalidToken) || !errors.Is(err, tc.want) {
				t.Fatalf("err = %v; want ErrInvalidToken and %v", err, tc.want)
			}
			if sig := strings.Split(tc.token, ".")[len(strings.Split(tc.token, "."))-1]; len(sig) > 8 && strings.Contains(err.Error(), sig) {
				t.Fatal("the error contains the token's signature")
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the attacker's key URL was fetched %d times", n)
	}
}
