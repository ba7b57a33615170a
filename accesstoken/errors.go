package accesstoken

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidToken matches (with errors.Is) every error that means "this
// token is not acceptable": the middlewares answer it with 401 and
// `WWW-Authenticate: Bearer error="invalid_token"`. The error's text says
// why (for a wrong issuer or audience, what was expected and what came);
// no error ever carries the token itself.
var ErrInvalidToken = errors.New("accesstoken: invalid token")

// ErrExpired is returned, together with ErrInvalidToken, by Issuer.Verify
// and Provider.Verify for a token past its `exp` (and the leeway): the one
// refusal a client cures by fetching a new token rather than signing in
// again.
var ErrExpired = errors.New("accesstoken: token expired")

// ErrKeysUnavailable is returned by Provider.Verify when the provider's key
// set cannot be fetched and no cached key fits the token. It does not match
// ErrInvalidToken: the middleware answers 503, so clients never take a
// provider outage for a rejected token.
var ErrKeysUnavailable = errors.New("accesstoken: provider keys unavailable")

// ErrNoSession is returned by Issuer.Mint when the request has no live,
// signed-in session (never logged in, logged out, expired, or ended by
// LogoutAll).
var ErrNoSession = errors.New("accesstoken: no signed-in session")

// ErrInvalidConfig is returned by New and NewProvider for a configuration
// they cannot use safely, and is the value Issuer.Strict and
// Provider.ExchangeHandler panic with (wrapped) when their Config cannot
// support them. The wrapped text names the field.
var ErrInvalidConfig = errors.New("accesstoken: invalid config")

// ErrInvalidKey is returned by GenerateKey, ParsePrivateKey,
// ParsePrivateKeys, NewKeyRing and Issuer.Rotate for a key that cannot be
// generated, parsed or used (wrong type or curve, no key, the same key
// twice).
var ErrInvalidKey = errors.New("accesstoken: invalid key")

// Reasons a token is refused. Verify returns them wrapped together with
// ErrInvalidToken (see invalid); the middlewares turn some of them into a
// fixed error_description.
var (
	errMalformed    = errors.New("accesstoken: malformed token")
	errTooLarge     = errors.New("accesstoken: token too large")
	errAlgorithm    = errors.New("accesstoken: algorithm not allowed")
	errHeader       = errors.New("accesstoken: forbidden or malformed header parameter")
	errUnknownKey   = errors.New("accesstoken: unknown key ID")
	errSignature    = errors.New("accesstoken: signature does not verify")
	errNotYetValid  = errors.New("accesstoken: token not valid yet")
	errIssuer       = errors.New("accesstoken: wrong issuer")
	errAudience     = errors.New("accesstoken: wrong audience")
	errMissingClaim = errors.New("accesstoken: required claim missing")
	errClaims       = errors.New("accesstoken: malformed claims")
	errSessionEnded = errors.New("accesstoken: session ended")
)

// Errors that never leave the package as such.
var (
	// errNoBearerToken: the request has no `Authorization: Bearer` header.
	errNoBearerToken = errors.New("accesstoken: no bearer token")
	// errInvalidRequest: several Authorization headers, or a Bearer header
	// whose token is empty or not a b64token.
	errInvalidRequest = errors.New("accesstoken: malformed Authorization header")
	// errNumericDate and errAudType: a date or `aud` of the wrong JSON type
	// or range (decodeClaims turns them into errClaims).
	errNumericDate = errors.New("accesstoken: bad NumericDate")
	errAudType     = errors.New("accesstoken: bad aud")
	// errJWKS: a provider's JWKS answer we cannot use (logged).
	errJWKS = errors.New("accesstoken: bad JWKS answer")
)

// invalidError is a rejection: it matches ErrInvalidToken and its reason.
// detail, if any, follows the reason in the text.
type invalidError struct {
	reason error
	detail string
}

func (e invalidError) Error() string {
	if e.detail == "" {
		return e.reason.Error()
	}
	return e.reason.Error() + ": " + e.detail
}

func (e invalidError) Unwrap() []error { return []error{ErrInvalidToken, e.reason} }

func invalid(reason error) error { return invalidError{reason: reason} }

// maxEcho bounds how much of a token's claim an error repeats.
const maxEcho = 128

// mismatch is a refusal for a claim that is not the one expected: it says
// what was expected and what came (a list for `aud`), each value quoted
// and cut to maxEcho bytes, since what came is the sender's text. Issuers
// and audiences are public identifiers, never secrets; the token itself is
// not repeated.
func mismatch(reason error, want string, got []string, list bool) error {
	quoted := make([]string, 0, min(len(got), 5))
	for i, g := range got {
		if i == 4 {
			quoted = append(quoted, fmt.Sprintf("(%d more)", len(got)-i))
			break
		}
		if len(g) > maxEcho {
			g = g[:maxEcho] + "..."
		}
		quoted = append(quoted, fmt.Sprintf("%q", g))
	}
	came := strings.Join(quoted, " ")
	if list {
		came = "[" + came + "]"
	}
	return invalidError{reason: reason, detail: fmt.Sprintf("want %q, got %s", want, came)}
}
