package accesstoken

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sessionauth/session"
)

// fuzzIssuer returns an Issuer on a fixed clock with no cache, and tokens it
// minted.
func fuzzIssuer(f *testing.F) (*Issuer, map[string]bool) {
	ring, _ := session.NewKeyRing(session.GenerateKey())
	sessions, err := session.New(session.Config{Keys: ring})
	if err != nil {
		f.Fatal(err)
	}
	a, b := mustKey(f, EdDSA), mustKey(f, ES256)
	keys, _ := NewKeyRing(a, b)
	now := time.Unix(1_800_000_000, 0)
	i, err := New(Config{Sessions: sessions, Keys: keys, Issuer: testIssuer, Audience: testAudience, CacheSize: -1, now: func() time.Time { return now }})
	if err != nil {
		f.Fatal(err)
	}
	valid := map[string]bool{}
	for _, user := range []string{"alice", "bob"} {
		tok, err := i.mint(mintedClaims{Sub: user, Sid: "0123456789abcdef", AuthTime: now.Unix() - 60, AMR: []string{"pwd"}})
		if err != nil {
			f.Fatal(err)
		}
		valid[tok.AccessToken] = true
	}
	ki, _ := NewKeyRing(b, a)
	i.SetKeys(ki)
	tok, _ := i.mint(mintedClaims{Sub: "carol", Sid: "fedcba9876543210"})
	valid[tok.AccessToken] = true
	i.SetKeys(keys)
	return i, valid
}

// FuzzVerify feeds arbitrary strings to our verifier. It must never panic,
// must refuse with ErrInvalidToken, and may accept only the exact tokens it
// minted: a signature covers the header and payload bytes, and base64url is
// checked to be canonical, so no other string can verify.
func FuzzVerify(f *testing.F) {
	i, valid := fuzzIssuer(f)
	for tok := range valid {
		f.Add(tok)
		parts := strings.Split(tok, ".")
		f.Add(parts[0] + "." + parts[1] + ".")
		f.Add(parts[0] + "." + parts[1] + "." + parts[2] + "A")
		f.Add(strings.ToUpper(tok))
	}
	f.Add("")
	f.Add("..")
	f.Add(craft(`{"alg":"none","kid":"x"}`, `{}`, nil))
	f.Add(craft(`{"alg":"EdDSA","kid":"x","crit":["b64"],"b64":false}`, `{"sub":"a"}`, nil))
	f.Fuzz(func(t *testing.T, token string) {
		c, err := i.Verify(context.Background(), token)
		if err == nil {
			if !valid[token] {
				t.Fatalf("accepted a token that was never minted: %q", token)
			}
			if c.Subject == "" || c.SessionID == "" {
				t.Fatalf("accepted with empty claims: %+v", c)
			}
			return
		}
		if !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("refusal not matching ErrInvalidToken: %v", err)
		}
		if len(token) > 16 && strings.Contains(err.Error(), token) {
			t.Fatal("the error echoes the token")
		}
	})
}

// FuzzParseJWKS feeds arbitrary bytes as a provider's JWKS answer.
func FuzzParseJWKS(f *testing.F) {
	f.Add([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"a","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","kid":"e","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"oct","kid":"h","k":"c2VjcmV0"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","kid":"r","n":"AQAB","e":"AQAB"}]}`))
	f.Add([]byte(`{"keys":[],"keys":[]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		keys, err := parseJWKS(body)
		if err != nil {
			return
		}
		if len(keys) == 0 || len(keys) > maxJWKSKeys {
			t.Fatalf("%d keys", len(keys))
		}
		for kid, k := range keys {
			if kid == "" || k.kid != kid {
				t.Fatalf("key indexed by %q has kid %q", kid, k.kid)
			}
			fitsAny := false
			for a := range asymmetric {
				fitsAny = fitsAny || k.fits(sigAlg(a))
			}
			if !fitsAny {
				t.Fatalf("kept a key no allowed algorithm can use: %T", k.pub)
			}
		}
	})
}

// FuzzBearerToken feeds arbitrary Authorization header values.
func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer a.b.c", "Bearer ", "Basic x", "Bearer  a==", "Bearer a b", "Bearer =", "BEARER x/y+z~"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		r := &http.Request{Header: http.Header{"Authorization": {value}}}
		tok, err := bearerToken(r)
		if err != nil {
			if !errors.Is(err, errNoBearerToken) && !errors.Is(err, errInvalidRequest) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if tok == "" || !isB64Token(tok) || strings.ContainsAny(tok, " \t,") {
			t.Fatalf("accepted token %q", tok)
		}
	})
}

// FuzzCacheAge feeds arbitrary Cache-Control values: never negative, never
// more than a year.
func FuzzCacheAge(f *testing.F) {
	for _, s := range []string{"max-age=60", "no-store", "max-age=-5", `max-age="9"`, "max-age=99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cc string) {
		d := cacheAge(cc, time.Minute)
		if d < 0 || d > 365*24*time.Hour {
			t.Fatalf("cacheAge(%q) = %v", cc, d)
		}
	})
}

// FuzzClaimsAuthTime feeds arbitrary auth_time and amr values to the claims
// decoder: it never panics, an auth_time it keeps is a date between 1970
// and 9999, and amr is either absent or a non-empty list.
func FuzzClaimsAuthTime(f *testing.F) {
	for _, s := range []string{`1800000000`, `"1"`, `-1`, `1e300`, `null`, `[]`, `["pwd"]`, `[{"method":"pwd"}]`, `{}`} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, authTime, amr string) {
		c, err := decodeClaims([]byte(`{"sub":"a","auth_time":` + authTime + `,"amr":` + amr + `}`))
		if err != nil {
			return
		}
		if !c.AuthTime.IsZero() && (c.AuthTime.Before(time.Unix(0, 0)) || c.AuthTime.Unix() > maxNumericDate) {
			t.Fatalf("auth_time %v kept from %q", c.AuthTime, authTime)
		}
		if c.AuthMethods != nil && len(c.AuthMethods) == 0 {
			t.Fatalf("empty amr kept from %q", amr)
		}
	})
}
