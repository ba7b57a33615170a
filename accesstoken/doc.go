// Package accesstoken adds short-lived access tokens (JWTs) to
// github.com/sessionauth/session, and verifies the tokens of an external
// provider.
//
// The hybrid pattern: a signed-in browser or app keeps its session cookie,
// which is the refresh credential, and asks Issuer.MintHandler (POST, guarded
// against cross-site requests) for an access token of a few minutes. APIs
// and other services verify it with Issuer.Middleware, locally and with no
// store call, or with Issuer.Strict where a logout must stop it at once
// (one store read). Issuer.JWKSHandler publishes the public keys; Rotate
// publishes a new key before it signs and keeps the old one until its last
// token has expired.
//
// Provider verifies tokens of a hosted identity provider (Auth0, Clerk,
// Supabase Auth, Firebase Auth, ...) with the keys from its JWKS URL,
// cached and refreshed at a bounded rate, and Provider.ExchangeHandler turns
// such a token into one of our sessions when it was issued to one of our
// own apps (ProviderConfig.AuthorizedParties).
//
// Tokens are signed with EdDSA (Ed25519) by default, or ES256, and carry
// kid, typ "at+jwt" and the claims iss, sub, aud, exp, iat, jti, sid (the
// session's public ID, never its token), and auth_time and amr (when and
// how the user last proved who they are: the session's AuthTime and
// AuthMethods). Issuer.RequireRecentAuth asks for a recent proof with RFC
// 9470's insufficient_user_authentication challenge. Verification allows only
// asymmetric algorithms that fit the key, requires iss, aud and exp, allows
// a small clock leeway (30 s by default), refuses crit, jku, x5u, jwk and
// x5c header parameters, duplicate claim names and tokens over a size cap,
// and never fetches a key a token points to.
//
// JOSE parsing and signatures are done by github.com/go-jose/go-jose/v4.
package accesstoken
