package accesstoken

import "errors"

// ErrInvalidToken matches (with errors.Is) every error that means "this
// token is not acceptable": the middlewares answer it with 401 and
// `WWW-Authenticate: Bearer error="invalid_token"`. The errors below say
// why; each of them also matches ErrInvalidToken when returned by Verify.
var ErrInvalidToken = errors.New("accesstoken: invalid token")

// Reasons a token is refused. Verify (and Strict, for ErrSessionEnded)
// returns them wrapped together with ErrInvalidToken; no error ever carries
// the token itself.
var (
	ErrMalformed    = errors.New("accesstoken: malformed token")
	ErrTooLarge     = errors.New("accesstoken: token too large")
	ErrAlgorithm    = errors.New("accesstoken: algorithm not allowed")
	ErrHeader       = errors.New("accesstoken: forbidden or malformed header parameter")
	ErrUnknownKey   = errors.New("accesstoken: unknown key ID")
	ErrSignature    = errors.New("accesstoken: signature does not verify")
	ErrExpired      = errors.New("accesstoken: token expired")
	ErrNotYetValid  = errors.New("accesstoken: token not valid yet")
	ErrIssuer       = errors.New("accesstoken: wrong issuer")
	ErrAudience     = errors.New("accesstoken: wrong audience")
	ErrMissingClaim = errors.New("accesstoken: required claim missing")
	ErrClaims       = errors.New("accesstoken: malformed claims")
	ErrSessionEnded = errors.New("accesstoken: session ended")
)

// errNoBearerToken: the request has no `Authorization: Bearer` header.
var errNoBearerToken = errors.New("accesstoken: no bearer token")

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
// they cannot use safely.
var ErrInvalidConfig = errors.New("accesstoken: invalid config")

// invalidError is a rejection: it matches ErrInvalidToken and its reason.
type invalidError struct{ reason error }

func (e invalidError) Error() string   { return e.reason.Error() }
func (e invalidError) Unwrap() []error { return []error{ErrInvalidToken, e.reason} }

func invalid(reason error) error { return invalidError{reason} }
