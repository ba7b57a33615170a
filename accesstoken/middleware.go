package accesstoken

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/sessionauth/session"
)

// requireBearer is the middleware of Issuer and Provider: verify the bearer
// token, run the optional extra check, put the claims in the context.
func requireBearer(verify func(context.Context, string) (*Claims, error), check func(*http.Request, *Claims) error, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, err := bearerToken(r)
		if err != nil {
			refuse(w, err)
			return
		}
		c, err := verify(r.Context(), token)
		if err == nil && check != nil {
			err = check(r, c)
		}
		if err != nil {
			refuse(w, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, c)))
	})
}

// Middleware lets through only requests with a valid
// `Authorization: Bearer` token of ours, verified locally with no store
// call; the claims are in the context (FromContext). A token stays valid
// until it expires even if its session has ended: use Strict where that
// matters. Refusals follow RFC 6750: 401 with `WWW-Authenticate: Bearer`
// (and error="invalid_token" for a bad token), 400 for a malformed header.
// Cost: Verify.
func (i *Issuer) Middleware(next http.Handler) http.Handler {
	return requireBearer(i.Verify, nil, next)
}

// Strict is Middleware plus a check that the token's session is still
// live, for routes where a logout or LogoutAll must stop tokens at once:
// a token whose session has ended gets 401 invalid_token, and 503 when the
// store cannot answer. Cost: Verify plus one session.Manager.ListSessions call
// for the token's user (memory store: a map read; Redis: two round trips,
// the user's index and a pipelined read of their sessions); none for a
// session already found ended (remembered until the token expires).
//
// Strict needs server-side sessions: over a cookie-only Manager
// (session.Config.CookieOnly), which keeps no list of live sessions to ask,
// it panics with an error wrapping ErrInvalidConfig, when the route is
// built rather than on every request. Use Middleware there, knowing that a
// token then lives until its exp.
func (i *Issuer) Strict(next http.Handler) http.Handler {
	if i.cookieOnly() {
		panic(fmt.Errorf("%w: Strict needs server-side sessions, and Sessions is a cookie-only Manager, which cannot tell whether a session has ended", ErrInvalidConfig))
	}
	return requireBearer(i.Verify, i.checkSession, next)
}

// cookieOnly reports whether Sessions keeps no server-side state. It asks
// ListSessions with a context that has already ended: a cookie-only
// Manager answers session.ErrCookieOnly before any store is involved, and a
// store-backed one fails (or answers) without I/O, since every store call
// honours its context.
func (i *Issuer) cookieOnly() bool {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := i.sessions.ListSessions(ctx, "accesstoken-probe")
	return errors.Is(err, session.ErrCookieOnly)
}

func (i *Issuer) checkSession(r *http.Request, c *Claims) error {
	now := i.now()
	if i.ended.has(c.SessionID, now) {
		i.rejected(errSessionEnded)
		return invalid(errSessionEnded)
	}
	infos, err := i.sessions.ListSessions(r.Context(), c.Subject)
	if err != nil {
		if i.log != nil {
			i.log.ErrorContext(r.Context(), "accesstoken: strict session check failed", "sid", c.SessionID, "err", err)
		}
		return err
	}
	for _, s := range infos {
		if s.ID == c.SessionID {
			return nil
		}
	}
	i.ended.add(c.SessionID, c.Expiry.Add(i.leeway), now)
	i.rejected(errSessionEnded)
	return invalid(errSessionEnded)
}
