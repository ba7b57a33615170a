// Package providerlogin signs visitors in with an OpenID Connect provider
// (Google, Microsoft, Okta, Keycloak, your own) or a plain OAuth 2 provider
// (GitHub-style, identity from a user-info endpoint), and ends the flow in a
// session of github.com/sessionauth/session.
//
// Make one Provider per identity provider (NewOIDC, NewOAuth2) and one
// Handler for all of them (New), call Handler.Discover at start-up (a
// misconfigured provider is ErrInvalidConfig, an unreachable one
// ErrProviderUnavailable), and mount the Handler under its prefix
// ("/auth/" by default):
//
//	POST /auth/NAME/login     starts a sign-in (form field return_to: a local path;
//	                          max_age: a fresh authentication, a step-up when signed in)
//	GET  /auth/NAME/callback  the redirect URI to register at the provider
//	POST /auth/logout         ends the session (and, optionally, the provider's)
//
// The handlers take care of what hand-written glue gets wrong: PKCE with
// S256; state and nonce of 256 bits each, bound to the visitor's session,
// single-use and expiring after 10 minutes; the provider bound into the
// state, per-provider callbacks and the "iss" response parameter against
// mix-up attacks; ID-token verification (signature on the provider's JWKS,
// issuer, audience, authorized party, expiry, nonce, access-token hash);
// return paths limited to this origin; and provider errors that end on a
// clear page or JSON body, never a 500. The app decides who the user is:
// Config.User maps the verified (issuer, subject) to its own user ID, and
// Manager.Login issues a new session token for it, recording the ID
// token's amr ("fed" when it has none). A signed-in user who posts the
// sign-in form with max_age confirms it is still them: the provider is
// asked to authenticate again, auth_time is checked, and Manager.StepUp
// records the fresh proof on the same user's session; another user is
// refused.
//
// Package providertest, in this module, is an OpenID Provider for tests.
package providerlogin
