package providerlogin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/sessionauth/session"
	"golang.org/x/oauth2"
)

// Session values this package keeps beside the user's session.
const (
	providerKey = "providerlogin.provider" // the provider signed in with
	idTokenKey  = "providerlogin.id_token" // logout hint, with RPLogout only
)

// callback finishes a sign-in: GET PREFIX/NAME/callback.
//
// In order: the parameters parse (no repeats, bounded); the state names a
// flow of this visitor's session, which is removed whatever happens next
// (single use) and must be unexpired; the flow was started for this very
// provider, and an "iss" parameter, when sent (or promised by discovery),
// is that provider's issuer (mix-up defence); a provider error ends here;
// the code is exchanged with the PKCE verifier; the ID token is verified
// (signature, issuer, audience, azp, expiry, nonce, at_hash) or, for plain
// OAuth 2, the user info is read; an auth_time within the max_age asked,
// if one was, and for a step-up from after it began; Config.User maps the identity to a user ID; Sessions.Login
// signs it in (a new session token) with session.ProvedWith the ID token's
// amr when the user authenticated during this sign-in ("fed" otherwise),
// or, for a step-up, Sessions.StepUp records
// the proof on the same user's session; and the browser goes to the
// flow's return path.
func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	p, ok := h.byName[r.PathValue("provider")]
	if !ok {
		h.fail(w, r, fmt.Errorf("%w: unknown provider", ErrBadRequest))
		return
	}
	params, err := parseCallback(r.URL.RawQuery)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	s := session.FromContext(r.Context())
	if err := s.Err(); err != nil {
		// The session store cannot be read: the state may well be there.
		h.fail(w, r, fmt.Errorf("providerlogin: reading the session: %w", err))
		return
	}
	f, ok := takeFlow(s, params.state, h.now())
	if !ok {
		h.fail(w, r, fmt.Errorf("%w: no pending sign-in has this state", ErrState))
		return
	}
	if f.Provider != p.name || f.Issuer != p.issuer {
		h.fail(w, r, fmt.Errorf("%w: sign-in started with %q, answered at %q's callback", ErrMixUp, f.Provider, p.name))
		return
	}
	var d *discovered
	if p.isOIDC {
		if d, err = p.discover(r.Context(), h.client); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if params.hasIss && params.iss != p.issuer {
		h.fail(w, r, fmt.Errorf("%w: iss parameter is not %s", ErrMixUp, p.issuer))
		return
	}
	if !params.hasIss && d != nil && d.issParamAlways {
		h.fail(w, r, fmt.Errorf("%w: iss parameter missing although the provider promises it", ErrMixUp))
		return
	}
	switch params.errCode {
	case "":
	case "access_denied":
		h.fail(w, r, fmt.Errorf("%w (%s)", errDeclined, p.name))
		return
	default:
		h.fail(w, r, fmt.Errorf("%w: %s answered %q", ErrProvider, p.name, params.errCode))
		return
	}
	if params.code == "" {
		h.fail(w, r, fmt.Errorf("%w: no code", ErrBadRequest))
		return
	}

	ctx, cancel := context.WithTimeout(oidc.ClientContext(r.Context(), h.client), providerTimeout)
	defer cancel()
	tok, err := p.oauthConfig(d, h.CallbackURL(p.name)).Exchange(ctx, params.code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		h.fail(w, r, exchangeError(p, err))
		return
	}
	var id Identity
	var rawIDToken string
	if p.isOIDC {
		id, rawIDToken, err = p.verifyIDToken(ctx, d, tok, f.Nonce, h.now())
	} else {
		id, err = p.plainIdentity(ctx, h.client, tok)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}

	start := time.Unix(f.Expires, 0).Add(-h.ttl)
	if f.MaxAge != nil {
		if err := checkAuthTime(id, *f.MaxAge, h.now()); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if f.StepUp != "" {
		if err := checkStepUpAuthTime(id, start); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	methods := provedWith(id, start, h.now())

	userID, err := h.user(r.Context(), id)
	switch {
	case errors.Is(err, ErrAccessDenied):
		h.fail(w, r, err)
		return
	case err != nil:
		h.fail(w, r, fmt.Errorf("providerlogin: Config.User: %w", err))
		return
	case userID == "":
		h.fail(w, r, errors.New("providerlogin: Config.User returned an empty user ID"))
		return
	}
	if f.StepUp != "" {
		h.stepUp(w, r, f, userID, methods)
		return
	}
	// Set before Login so an anonymous session's values carry over in the
	// one store write Login makes; again after, in case Login dropped them
	// (the visitor was signed in as someone else): a no-op otherwise.
	keep := func() {
		s.Set(providerKey, p.name)
		if p.rpLogout && d != nil && d.endSession != "" && rawIDToken != "" {
			s.Set(idTokenKey, rawIDToken)
		} else {
			s.Delete(idTokenKey)
		}
	}
	keep()
	opts := append(h.loginOpts[:len(h.loginOpts):len(h.loginOpts)], session.ProvedWith(methods...))
	if err := h.sessions.Login(w, r, userID, opts...); err != nil {
		h.fail(w, r, fmt.Errorf("providerlogin: signing in: %w", err))
		return
	}
	keep()
	redirect(w, f.Return)
}
