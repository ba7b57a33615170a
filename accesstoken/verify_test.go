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

		{"alg none, empty signature", craft(headerJSON("none", kid, nil), cl(nil), nil), errMalformed},
		{"alg none with a signature", craft(headerJSON("none", kid, nil), cl(nil), ours), errAlgorithm},
		{"alg NONE", craft(headerJSON("NONE", kid, nil), cl(nil), ours), errAlgorithm},
		{"alg eddsa (case)", craft(headerJSON("eddsa", kid, nil), cl(nil), ours), errAlgorithm},
		{"HS256 keyed with the raw public key", craft(headerJSON("HS256", kid, nil), cl(nil), hmacWith(pub)), errAlgorithm},
		{"HS256 keyed with the PEM public key", craft(headerJSON("HS256", kid, nil), cl(nil), hmacWith(pubPEM)), errAlgorithm},
		{"HS256 keyed with the published JWKS", craft(headerJSON("HS256", kid, nil), cl(nil), hmacWith(jwks)), errAlgorithm},
		{"ES256 header on our Ed25519 kid", craft(headerJSON("ES256", kid, nil), cl(nil), signWith(t, ecKey, "ES256")), errAlgorithm},
		{"RS256 header on our kid", craft(headerJSON("RS256", kid, nil), cl(nil), signWith(t, rsaKey, "RS256")), errAlgorithm},
		{"alg missing", craft(hdr(map[string]any{"alg": nil}), cl(nil), ours), errHeader},
		{"alg a number", craft(hdr(map[string]any{"alg": 1}), cl(nil), ours), errHeader},

		{"our kid, another key's signature", craft(hdr(nil), cl(nil), theirs), errSignature},
		{"unknown kid", craft(headerJSON("EdDSA", attacker.KeyID(), nil), cl(nil), theirs), errUnknownKey},
		{"path-like kid", craft(headerJSON("EdDSA", "../../../../../../dev/null", nil), cl(nil), theirs), errUnknownKey},
		{"absolute path kid", craft(headerJSON("EdDSA", "/etc/passwd", nil), cl(nil), theirs), errUnknownKey},
		{"SQL-like kid", craft(headerJSON("EdDSA", "x' OR '1'='1", nil), cl(nil), theirs), errUnknownKey},
		{"URL kid", craft(headerJSON("EdDSA", srv.URL, nil), cl(nil), theirs), errUnknownKey},
		{"overlong kid", craft(headerJSON("EdDSA", strings.Repeat("k", 300), nil), cl(nil), theirs), errUnknownKey},
		{"empty kid", craft(headerJSON("EdDSA", "", nil), cl(nil), ours), errUnknownKey},
		{"no kid", craft(hdr(map[string]any{"kid": nil}), cl(nil), ours), errHeader},
		{"kid a number", craft(hdr(map[string]any{"kid": 7}), cl(nil), ours), errHeader},

		{"jku to the attacker's JWKS", craft(headerJSON("EdDSA", attacker.KeyID(), map[string]any{"jku": srv.URL}), cl(nil), theirs), errHeader},
		{"jku on a token we signed", craft(hdr(map[string]any{"jku": srv.URL}), cl(nil), ours), errHeader},
		{"x5u to the attacker", craft(headerJSON("EdDSA", attacker.KeyID(), map[string]any{"x5u": srv.URL}), cl(nil), theirs), errHeader},
		{"jwk embedding the attacker's key", craft(headerJSON("EdDSA", attacker.KeyID(), map[string]any{"jwk": json.RawMessage(attackerJWK)}), cl(nil), theirs), errHeader},
		{"x5c chain", craft(hdr(map[string]any{"x5c": []string{"MIIB"}}), cl(nil), ours), errHeader},
		{"crit header", craft(hdr(map[string]any{"crit": []string{"exp"}, "exp": 1}), cl(nil), ours), errHeader},
		{"crit b64 (unencoded payload)", craft(hdr(map[string]any{"crit": []string{"b64"}, "b64": false}), cl(nil), ours), errHeader},
		{"typ JWT", craft(hdr(map[string]any{"typ": "JWT"}), cl(nil), ours), errHeader},
		{"no typ", craft(hdr(map[string]any{"typ": nil}), cl(nil), ours), errHeader},
		{"duplicate alg in header", craft(`{"alg":"EdDSA","kid":"`+kid+`","typ":"at+jwt","alg":"none"}`, cl(nil), ours), errHeader},
		{"header an array", craft(`["EdDSA"]`, cl(nil), ours), errHeader},
		{"header not JSON", craft(`{alg:EdDSA}`, cl(nil), ours), errHeader},
		{"header null", craft(`null`, cl(nil), ours), errHeader},

		{"expired beyond the leeway", craft(hdr(nil), cl(map[string]any{"iat": now.Add(-6 * time.Minute).Unix(), "exp": now.Add(-31 * time.Second).Unix()}), ours), ErrExpired},
		{"nbf beyond the leeway", craft(hdr(nil), cl(map[string]any{"nbf": now.Add(31 * time.Second).Unix()}), ours), errNotYetValid},
		{"iat in the future", craft(hdr(nil), cl(map[string]any{"iat": now.Add(time.Minute).Unix()}), ours), errNotYetValid},
		{"lifetime over the TTL", craft(hdr(nil), cl(map[string]any{"exp": now.Add(2 * time.Hour).Unix()}), ours), errClaims},
		{"wrong audience", craft(hdr(nil), cl(map[string]any{"aud": "https://other.test"}), ours), errAudience},
		{"audience list without ours", craft(hdr(nil), cl(map[string]any{"aud": []string{"a", "b"}}), ours), errAudience},
		{"audience differs in case", craft(hdr(nil), cl(map[string]any{"aud": strings.ToUpper(testAudience)}), ours), errAudience},
		{"wrong issuer", craft(hdr(nil), cl(map[string]any{"iss": "https://evil.test"}), ours), errIssuer},
		{"issuer with a trailing slash", craft(hdr(nil), cl(map[string]any{"iss": testIssuer + "/"}), ours), errIssuer},

		{"missing sub", craft(hdr(nil), cl(map[string]any{"sub": nil}), ours), errMissingClaim},
		{"empty sub", craft(hdr(nil), cl(map[string]any{"sub": ""}), ours), errMissingClaim},
		{"missing sid", craft(hdr(nil), cl(map[string]any{"sid": nil}), ours), errMissingClaim},
		{"missing iat", craft(hdr(nil), cl(map[string]any{"iat": nil}), ours), errMissingClaim},
		{"missing exp", craft(hdr(nil), cl(map[string]any{"exp": nil}), ours), errMissingClaim},
		{"missing iss", craft(hdr(nil), cl(map[string]any{"iss": nil}), ours), errMissingClaim},
		{"missing aud", craft(hdr(nil), cl(map[string]any{"aud": nil}), ours), errMissingClaim},
		{"empty aud list", craft(hdr(nil), cl(map[string]any{"aud": []string{}}), ours), errMissingClaim},
		{"missing jti", craft(hdr(nil), cl(map[string]any{"jti": nil}), ours), errMissingClaim},
		{"sub a number", craft(hdr(nil), cl(map[string]any{"sub": 42}), ours), errClaims},
		{"exp a string", craft(hdr(nil), cl(map[string]any{"exp": "1900000000"}), ours), errClaims},
		{"exp negative", craft(hdr(nil), cl(map[string]any{"exp": -1}), ours), errClaims},
		{"exp past the year 9999", craft(hdr(nil), cl(map[string]any{"exp": 1e300}), ours), errClaims},
		{"aud a number", craft(hdr(nil), cl(map[string]any{"aud": 1}), ours), errClaims},
		{"aud list with a number", craft(hdr(nil), cl(map[string]any{"aud": []any{testAudience, 1}}), ours), errClaims},
		{"duplicate sub", craft(hdr(nil), strings.Replace(cl(nil), `"sub":"alice"`, `"sub":"alice","sub":"admin"`, 1), ours), errClaims},
		{"duplicate exp", craft(hdr(nil), strings.Replace(cl(nil), `"sub":"alice"`, `"sub":"alice","exp":4102444800`, 1), ours), errClaims},
		{"payload an array", craft(hdr(nil), `[1,2]`, ours), errClaims},
		{"payload not JSON", craft(hdr(nil), `{"sub":`, ours), errClaims},
		{"payload with trailing data", craft(hdr(nil), cl(nil)+`{}`, ours), errClaims},

		{"tampered payload", parts[0] + "." + b64([]byte(cl(map[string]any{"sub": "admin"}))) + "." + parts[2], errSignature},
		{"signature from another token", craft(hdr(nil), cl(map[string]any{"jti": "j2"}), nil) + parts[2], errSignature},
		{"empty", "", errMalformed},
		{"one part", parts[0], errMalformed},
		{"two parts", parts[0] + "." + parts[1], errMalformed},
		{"four parts", valid + "." + parts[2], errMalformed},
		{"empty payload", parts[0] + ".." + parts[2], errMalformed},
		{"padded base64", parts[0] + "=." + parts[1] + "." + parts[2], errMalformed},
		{"standard base64 alphabet", strings.NewReplacer("-", "+", "_", "/").Replace(valid) + "+/", errMalformed},
		{"white space", parts[0] + ". " + parts[1] + "." + parts[2], errMalformed},
		// The base64 decoder skips line breaks, and the signature covers the
		// header as go-jose encodes it again: without a check of its own
		// the header would take them, and one token would have many texts.
		{"line break in the header", parts[0][:4] + "\n" + parts[0][4:] + "." + parts[1] + "." + parts[2], errMalformed},
		{"CR LF in the header", "\r\n" + parts[0] + "." + parts[1] + "." + parts[2], errMalformed},
		{"stray bits in the signature's last character", valid[:len(valid)-1] + string(lastFlip[valid[len(valid)-1]]), errMalformed},
		{"garbled header base64", "!!!." + parts[1] + "." + parts[2], errMalformed},
		{"oversized", craft(hdr(nil), cl(map[string]any{"pad": strings.Repeat("x", defaultMaxTokenSize)}), ours), errTooLarge},
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

// TestVerifyWrongIssuerOrAudienceSaysWantAndGot: a refusal for a wrong iss
// or aud names the expected value and the one that came (quoted, cut when
// long), as go-oidc's errors do, and never the token.
func TestVerifyWrongIssuerOrAudienceSaysWantAndGot(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	now := e.clock.Now()
	ours := signWith(t, e.key.key, "EdDSA")
	hdr := headerJSON("EdDSA", e.key.KeyID(), nil)
	long := "https://" + strings.Repeat("a", 500) + ".example"
	cases := []struct {
		name   string
		claims map[string]any
		reason error
		want   []string
		absent []string
	}{
		{"issuer with a trailing slash", map[string]any{"iss": testIssuer + "/"}, errIssuer,
			[]string{`wrong issuer: want "` + testIssuer + `", got "` + testIssuer + `/"`}, nil},
		{"audience of another API", map[string]any{"aud": "https://other.example.test"}, errAudience,
			[]string{`wrong audience: want "` + testAudience + `", got ["https://other.example.test"]`}, nil},
		{"audience list without ours", map[string]any{"aud": []string{"a", "b"}}, errAudience,
			[]string{`got ["a" "b"]`}, nil},
		{"long audience list", map[string]any{"aud": []string{"a", "b", "c", "d", "e", "f"}}, errAudience,
			[]string{`got ["a" "b" "c" "d" (2 more)]`}, []string{`"e"`}},
		{"overlong issuer is cut", map[string]any{"iss": long}, errIssuer,
			[]string{`got "https://` + strings.Repeat("a", maxEcho-len("https://")) + `..."`}, []string{long}},
		{"control characters are quoted", map[string]any{"iss": "x\nlevel=ERROR"}, errIssuer,
			[]string{`got "x\nlevel=ERROR"`}, []string{"x\nlevel"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tok := craft(hdr, claimsJSON(now, testIssuer, testAudience, tc.claims), ours)
			_, err := e.issuer.Verify(context.Background(), tok)
			if !errors.Is(err, ErrInvalidToken) || !errors.Is(err, tc.reason) {
				t.Fatalf("err = %v, want ErrInvalidToken and %v", err, tc.reason)
			}
			msg := err.Error()
			if strings.Count(msg, "accesstoken:") != 1 {
				t.Errorf("%q names the package more than once", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%q does not contain %q", msg, w)
				}
			}
			for _, a := range append(tc.absent, strings.Split(tok, ".")...) {
				if strings.Contains(msg, a) {
					t.Errorf("%q contains %q", msg, a)
				}
			}
		})
	}
}
