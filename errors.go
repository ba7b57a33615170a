package session

import "errors"

// The package's sentinel errors, for errors.Is. Functions wrap them with
// the precise cause (%w); a message names the package once.
var (
	// ErrInvalidConfig: New was given a Config it cannot work with, among
	// them cookie options a browser would reject or that would weaken the
	// cookie (a __Host- name with a Domain, a Path other than / or without
	// Secure; a __Secure- name, SameSite=None or Partitioned without
	// Secure). The message says which field.
	ErrInvalidConfig = errors.New("session: invalid config")
	// ErrInvalidKey: NewKeyRing or ParseKeyRing was given no key, or a
	// secret that is shorter than 32 bytes, repeats another or is not
	// base64. The message says which and names the key by its position,
	// counted from 1, never the key itself; New wraps it in ErrInvalidConfig
	// when Config.Keys has no key.
	ErrInvalidKey = errors.New("session: invalid signing key")

	// ErrNoMiddleware: the request did not pass through this Manager's
	// Middleware (perhaps only through another Manager's), so the Manager
	// cannot act on it. Nothing was changed.
	ErrNoMiddleware = errors.New("session: request did not pass through this Manager's Middleware")
	// ErrForeignWriter: the http.ResponseWriter given to Login, Logout,
	// Renew or LogoutOthers is not the one the Middleware gave the handler
	// and does not unwrap to it (an Unwrap() http.ResponseWriter method), so
	// the cookie could not go out on it. Nothing was changed. A middleware
	// whose writer does not unwrap, such as http.TimeoutHandler, belongs
	// outside Middleware, not between it and the handler.
	ErrForeignWriter = errors.New("session: the ResponseWriter is not the Middleware's, nor does it unwrap to it")
	// ErrHeadersWritten: the response headers were already sent, so the
	// session cookie can no longer be changed: Login, Logout and the like
	// after them, and a change of values that would need a new cookie, or
	// any change once the request has ended (see Session.Set). Nothing was
	// changed.
	ErrHeadersWritten = errors.New("session: response headers already written")
	// ErrNotAuthenticated: the operation needs a signed-in session.
	ErrNotAuthenticated = errors.New("session: not authenticated")
	// ErrInvalidUserID: the user ID given to Login or LogoutAll is empty,
	// longer than 256 bytes, not UTF-8, or contains NUL.
	ErrInvalidUserID = errors.New("session: user ID must be 1 to 256 bytes of UTF-8 without NUL")
	// ErrInvalidAuthMethod: ProvedWith (through Login) or StepUp was given
	// no method, more than 8, or one that is not 1 to 32 bytes of a-z, 0-9,
	// '_' and '-' (RFC 8176 "amr" values such as "pwd" or "hwk").
	ErrInvalidAuthMethod = errors.New("session: proof methods must be 1 to 8 amr values of 1 to 32 bytes of [a-z0-9_-]")
	// ErrTooManyCookies: Logout met more cookies of the session's name than
	// one request may make it check; the sessions of the others were not
	// ended (the request itself was anonymous).
	ErrTooManyCookies = errors.New("session: too many session cookies in the request")
	// ErrConflict: another request was renewing the same session at the
	// same moment (Renew, LogoutOthers); this one changed nothing.
	ErrConflict = errors.New("session: another request is renewing this session")

	// ErrCookieOnly: the operation needs server-side state, which a
	// cookie-only Manager (Config.CookieOnly) does not keep: LogoutAll,
	// LogoutOthers, Renew, ListSessions and LogoutSession return it and
	// change nothing. A session's cookie cannot be revoked before it
	// expires.
	ErrCookieOnly = errors.New("session: not available for cookie-only sessions: it needs a server-side store")
	// ErrCookieTooLarge: in cookie-only mode, the session would no longer
	// fit in one cookie (4096 bytes for name, value and attributes, what
	// browsers keep). Session.Set, Put and Login return it and change
	// nothing; the browser never gets a cookie it would drop.
	ErrCookieTooLarge = errors.New("session: the session does not fit in a cookie")

	// ErrStoreUnavailable wraps every store failure the Manager reports
	// (errors.Is finds both it and the store's own error).
	ErrStoreUnavailable = errors.New("session: store unavailable")
	// ErrNotFound is what a Store returns when no live record has the key:
	// it never existed, was deleted, or has expired.
	ErrNotFound = errors.New("session: not found")
	// ErrExists is what Store.Create (and Replacer.Replace) return when the
	// key is already in use. The Manager treats any other store error than
	// ErrNotFound and ErrExists as "store unavailable".
	ErrExists = errors.New("session: already exists")
)
