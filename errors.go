package session

import "errors"

// Errors returned by Manager methods.
var (
	// ErrStoreUnavailable wraps every store failure the Manager reports
	// (errors.Is finds both it and the store's own error).
	ErrStoreUnavailable = errors.New("session: store unavailable")
	// ErrHeadersWritten: the response headers were already sent, so the
	// session cookie can no longer be changed.
	ErrHeadersWritten = errors.New("session: response headers already written")
	// ErrNotAuthenticated: the operation needs a signed-in session.
	ErrNotAuthenticated = errors.New("session: not authenticated")
	// ErrInvalidUserID: the user ID given to Login or LogoutAll is empty,
	// longer than 256 bytes, not UTF-8, or contains NUL.
	ErrInvalidUserID = errors.New("session: user ID must be 1 to 256 bytes of UTF-8 without NUL")
	// ErrInvalidConfig: New was given a Config it cannot work with; the
	// error also wraps the precise cause.
	ErrInvalidConfig = errors.New("session: invalid config")
	// ErrNoMiddleware: the request did not pass through this Manager's
	// Middleware (perhaps only through another Manager's), so the Manager
	// cannot act on it. Nothing was changed.
	ErrNoMiddleware = errors.New("session: request did not pass through this Manager's Middleware")
	// ErrTooManyCookies: Logout met more cookies of the session's name than
	// one request may make it check; the sessions of the others were not
	// ended (the request itself was anonymous).
	ErrTooManyCookies = errors.New("session: too many session cookies in the request")
	// ErrConflict: another request was renewing the same session at the
	// same moment (Renew, LogoutOthers); this one changed nothing.
	ErrConflict = errors.New("session: another request is renewing this session")
	// ErrForeignWriter: the http.ResponseWriter given to Login, Logout,
	// Renew or LogoutOthers is not the one the Middleware gave the handler
	// and does not unwrap to it (an Unwrap() http.ResponseWriter method), so
	// the cookie could not go out on it. Nothing was changed. A middleware
	// whose writer does not unwrap, such as http.TimeoutHandler, belongs
	// outside Middleware, not between it and the handler.
	ErrForeignWriter = errors.New("session: the ResponseWriter is not the Middleware's, nor does it unwrap to it")
	// ErrInvalidAuthMethod: ProvedWith (through Login) or StepUp was given
	// no method, more than 8, or one that is not 1 to 32 bytes of a-z, 0-9,
	// '_' and '-' (RFC 8176 "amr" values such as "pwd" or "hwk").
	ErrInvalidAuthMethod = errors.New("session: proof methods must be 1 to 8 amr values of 1 to 32 bytes of [a-z0-9_-]")
)
