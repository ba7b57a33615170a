package accesstoken

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/json"
)

// tokenType is the `typ` of our tokens (RFC 9068, JWT access tokens).
const tokenType = "at+jwt"

// maxKeyIDLength caps the `kid` of a token; longer ones are refused.
const maxKeyIDLength = 256

// minRSABits is the smallest RSA modulus a provider key may have.
const minRSABits = 2048

// verifyKey is a public key that verifies tokens with one `kid`.
type verifyKey struct {
	kid string
	// alg is the only algorithm the key verifies. "" (provider keys whose
	// JWK names no alg) means any allowed algorithm of the key's type.
	alg jose.SignatureAlgorithm
	pub crypto.PublicKey
}

// fits reports whether the key may verify a signature made with alg: the
// algorithm the JWK names, or one of the key's type and size. This is what
// stops RSA/EC confusion: a P-256 key never verifies ES384 or RS256.
func (k *verifyKey) fits(alg jose.SignatureAlgorithm) bool {
	if k.alg != "" && k.alg != alg {
		return false
	}
	switch pub := k.pub.(type) {
	case ed25519.PublicKey:
		return alg == jose.EdDSA
	case *ecdsa.PublicKey:
		switch alg {
		case jose.ES256:
			return pub.Curve == elliptic.P256()
		case jose.ES384:
			return pub.Curve == elliptic.P384()
		case jose.ES512:
			return pub.Curve == elliptic.P521()
		}
	case *rsa.PublicKey:
		switch alg {
		case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512:
			return pub.N.BitLen() >= minRSABits
		}
	}
	return false
}

// keySource finds the key for a token's `kid`.
type keySource interface {
	// key returns the key with this ID; it may fetch (a provider's JWKS).
	key(ctx context.Context, kid string) (*verifyKey, error)
	// current reports, without I/O, whether k still verifies; a cached
	// verification is only reused while its key does.
	current(k *verifyKey) bool
}

// verifier holds the checks shared by our tokens and a provider's.
type verifier struct {
	keys     keySource
	algs     []jose.SignatureAlgorithm // allow-list; never none or HS*
	issuer   string
	audience string
	leeway   time.Duration
	maxSize  int
	typ      string // required `typ` ("" checks none)
	// own is true for our tokens: sid, jti and iat are required and the
	// lifetime is capped at maxLife.
	own     bool
	maxLife time.Duration
	now     func() time.Time
	cache   *tokenCache // nil: no cache
}

// forbiddenHeaders are header parameters that would let a token choose its
// own key or change how it is processed. A token carrying any of them is
// refused: keys come only from our ring or the provider's pinned JWKS URL.
var forbiddenHeaders = []string{"crit", "jku", "x5u", "jwk", "x5c", "b64", "zip", "enc"}

var strictB64 = base64.RawURLEncoding.Strict()

// verify checks token and returns its claims. Every refusal matches
// ErrInvalidToken except ErrKeysUnavailable.
func (v *verifier) verify(ctx context.Context, token string) (*Claims, error) {
	if len(token) > v.maxSize {
		return nil, invalid(errTooLarge)
	}
	now := v.now()
	if v.cache != nil {
		if c, ok := v.cache.get(token, now, v.keys); ok {
			return c, nil
		}
	}
	h, err := parseHeader(token)
	if err != nil {
		return nil, err
	}
	alg := jose.SignatureAlgorithm(h.alg)
	allowed := false
	for _, a := range v.algs {
		if a == alg {
			allowed = true
			break
		}
	}
	if !allowed {
		return nil, invalid(errAlgorithm)
	}
	if v.typ != "" && !typeMatches(h.typ, v.typ) {
		return nil, invalid(errHeader)
	}
	key, err := v.keys.key(ctx, h.kid)
	if err != nil {
		return nil, err
	}
	if !key.fits(alg) {
		return nil, invalid(errAlgorithm)
	}
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{alg})
	if err != nil {
		return nil, invalid(errMalformed)
	}
	payload, err := jws.Verify(key.pub)
	if err != nil {
		return nil, invalid(errSignature)
	}
	c, err := decodeClaims(payload)
	if err != nil {
		return nil, err
	}
	if err := v.checkClaims(c, now); err != nil {
		return nil, err
	}
	if v.cache != nil {
		v.cache.put(token, c, key, now)
	}
	return c, nil
}

// checkClaims applies the issuer, audience, time and presence rules.
func (v *verifier) checkClaims(c *Claims, now time.Time) error {
	if c.Issuer == "" || c.Subject == "" || len(c.Audience) == 0 || c.Expiry.IsZero() {
		return invalid(errMissingClaim)
	}
	if v.own && (c.SessionID == "" || c.ID == "" || c.IssuedAt.IsZero()) {
		return invalid(errMissingClaim)
	}
	if c.Issuer != v.issuer {
		return mismatch(errIssuer, v.issuer, []string{c.Issuer}, false)
	}
	if !audience(c.Audience).contains(v.audience) {
		return mismatch(errAudience, v.audience, c.Audience, true)
	}
	if !now.Add(-v.leeway).Before(c.Expiry) {
		return invalid(ErrExpired)
	}
	if !c.NotBefore.IsZero() && now.Add(v.leeway).Before(c.NotBefore) {
		return invalid(errNotYetValid)
	}
	if !c.IssuedAt.IsZero() && now.Add(v.leeway).Before(c.IssuedAt) {
		return invalid(errNotYetValid)
	}
	if v.own && c.Expiry.Sub(c.IssuedAt) > v.maxLife {
		return invalid(errClaims)
	}
	return nil
}

// header is what we read of a JOSE header.
type header struct{ alg, kid, typ string }

// parseHeader checks the compact shape (three strict base64url parts) and
// the header: a JSON object without duplicate or forbidden parameters, with
// string alg and a kid of sane length.
func parseHeader(token string) (header, error) {
	first, rest, ok := strings.Cut(token, ".")
	if !ok {
		return header{}, invalid(errMalformed)
	}
	payload, sig, ok := strings.Cut(rest, ".")
	if !ok || strings.Contains(sig, ".") || first == "" || payload == "" || sig == "" {
		return header{}, invalid(errMalformed)
	}
	for _, part := range []string{first, payload, sig} {
		if !isBase64URL(part) {
			return header{}, invalid(errMalformed)
		}
	}
	raw, err := strictB64.DecodeString(first)
	if err != nil {
		return header{}, invalid(errMalformed)
	}
	var params map[string]json.RawMessage
	if err := json.Unmarshal(raw, &params); err != nil || params == nil {
		return header{}, invalid(errHeader)
	}
	for _, name := range forbiddenHeaders {
		if _, ok := params[name]; ok {
			return header{}, invalid(errHeader)
		}
	}
	var h header
	for _, f := range []struct {
		name     string
		dst      *string
		required bool
	}{{"alg", &h.alg, true}, {"kid", &h.kid, true}, {"typ", &h.typ, false}} {
		v, ok := params[f.name]
		if !ok {
			if f.required {
				return header{}, invalid(errHeader)
			}
			continue
		}
		if err := json.Unmarshal(v, f.dst); err != nil || len(v) == 0 || v[0] != '"' {
			return header{}, invalid(errHeader)
		}
	}
	if h.kid == "" || len(h.kid) > maxKeyIDLength {
		return header{}, invalid(errUnknownKey)
	}
	return h, nil
}

// isBase64URL reports whether s is unpadded base64url that decodes with no
// stray bits, so that one signature has exactly one encoding.
func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	if len(s)%4 == 1 {
		return false
	}
	// The last character must not carry bits beyond the encoded bytes.
	last := strings.IndexByte(b64Alphabet, s[len(s)-1])
	switch len(s) % 4 {
	case 2:
		return last&0x0f == 0
	case 3:
		return last&0x03 == 0
	}
	return true
}

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// typeMatches compares a `typ` header with the wanted media type,
// case-insensitively and with or without the "application/" prefix.
func typeMatches(got, want string) bool {
	got = strings.ToLower(got)
	return got == want || got == "application/"+want
}
