package accesstoken

import (
	"context"
	"fmt"
	"net/http"

	"github.com/sessionauth/session"
)

// UserMapper maps a verified provider token to one of your user IDs, for
// example by looking up (c.Issuer, c.Subject) in your users table and
// creating the user on first sign-in. Returning an error, or "", refuses the
// exchange with 403; the error is logged (ProviderConfig.Logger), never sent.
type UserMapper func(ctx context.Context, c *Claims) (userID string, err error)

// ExchangeHandler turns a verified provider token into a session of ours,
// so an app signed in through a hosted provider still gets revocable
// sessions (Logout, LogoutAll) and can mint its own short tokens. The
// client sends `POST` with `Authorization: Bearer <provider token>`; on
// success the answer is 204 with the session cookie (sessions.Login, with
// session.ProvedWith("fed"), a federated sign-in, then opts: a ProvedWith
// of yours there replaces it). Only a token issued to one of ProviderConfig.AuthorizedParties
// (your own apps) is exchanged: a token with the right issuer and audience
// that another client of the provider obtained gets 403. Other methods get
// 405, cross-site requests 403 (ProviderConfig.CrossOrigin), no token 401,
// a bad token 401 with an RFC 6750 challenge, a refused mapping 403,
// unreachable keys or session store 503. It applies sessions.Middleware
// itself if needed. It panics if sessions or userID is nil, and with an
// error wrapping ErrInvalidConfig if AuthorizedParties is empty. Cost:
// Verify, userID, Login.
func (p *Provider) ExchangeHandler(sessions *session.Manager, userID UserMapper, opts ...session.LoginOption) http.Handler {
	if sessions == nil || userID == nil {
		panic("accesstoken: ExchangeHandler needs a session manager and a UserMapper")
	}
	if len(p.parties) == 0 {
		panic(fmt.Errorf("%w: ExchangeHandler needs AuthorizedParties, the client IDs of your own apps, so that a token another client obtained is not turned into a session", ErrInvalidConfig))
	}
	loginOpts := append([]session.LoginOption{session.ProvedWith("fed")}, opts...)
	exchange := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, http.StatusMethodNotAllowed, "invalid_request", "POST only")
			return
		}
		if err := p.cop.Check(r); err != nil {
			writeError(w, http.StatusForbidden, "access_denied", "cross-origin request refused")
			return
		}
		token, err := bearerToken(r)
		if err != nil {
			refuse(w, err)
			return
		}
		c, err := p.Verify(r.Context(), token)
		if err != nil {
			refuse(w, err)
			return
		}
		if !p.parties[c.party] {
			if p.log != nil {
				p.log.WarnContext(r.Context(), "accesstoken: exchange refused: the token was issued to another client", "iss", c.Issuer, "party", c.party)
			}
			writeError(w, http.StatusForbidden, "access_denied", "the token was issued to another client")
			return
		}
		id, err := userID(r.Context(), c)
		if err != nil || id == "" {
			if p.log != nil {
				p.log.WarnContext(r.Context(), "accesstoken: exchange refused by the UserMapper", "iss", c.Issuer, "sub", c.Subject, "err", err)
			}
			writeError(w, http.StatusForbidden, "access_denied", "no account for this token")
			return
		}
		if err := sessions.Login(w, r, id, loginOpts...); err != nil {
			writeError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "try again later")
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	})
	return sessions.Middleware(exchange)
}
