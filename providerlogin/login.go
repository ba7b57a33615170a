package providerlogin

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/sessionauth/session"
	"golang.org/x/oauth2"
)

// returnField is the form (or query) field naming where to go after sign-in.
const returnField = "return_to"

// login starts the authorization-code flow: POST PREFIX/NAME/login.
//
// It stores a new flow in the visitor's session (state, nonce and PKCE
// verifier, each 256 random bits; the provider; the checked return path; an
// expiry) and redirects to the provider's authorization endpoint with the
// S256 code challenge. A return_to that is not a safe local path is
// replaced by Config.DefaultReturnPath.
//
// A max_age field (seconds, 0 to a day) asks the provider for a fresh
// authentication: the request carries max_age and prompt=login, and the
// callback refuses an ID token whose auth_time is missing or older than
// max_age. From a signed-in visitor it is a step-up: the callback records
// a fresh proof on the current session (Manager.StepUp) instead of signing
// in, only for the same user, and only for an auth_time from after the
// step-up began (max_age is the browser's to choose: it does not bound
// the proof's age). OpenID Connect providers only: a plain
// OAuth 2 provider says nothing about when the user authenticated.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	p, ok := h.byName[r.PathValue("provider")]
	if !ok {
		h.fail(w, r, fmt.Errorf("%w: unknown provider", ErrBadRequest))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	ret, ok := SafeReturnPath(r.FormValue(returnField))
	if !ok {
		ret = h.defReturn
	}
	maxAge, err := parseMaxAge(r.Form[maxAgeField])
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if maxAge != nil && !p.isOIDC {
		h.fail(w, r, fmt.Errorf("%w: max_age needs an OpenID Connect provider", ErrBadRequest))
		return
	}
	var d *discovered
	if p.isOIDC {
		if d, err = p.discover(r.Context(), h.client); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	s := session.FromContext(r.Context())
	f := flow{
		State:    randomToken(),
		Provider: p.name,
		Issuer:   p.issuer,
		Verifier: oauth2.GenerateVerifier(),
		Return:   ret,
		Expires:  h.now().Add(h.ttl).Unix(),
		MaxAge:   maxAge,
	}
	if maxAge != nil {
		f.StepUp = s.UserID()
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.Verifier)}
	if p.isOIDC {
		f.Nonce = randomToken()
		opts = append(opts, oidc.Nonce(f.Nonce))
	}
	for k, v := range p.authParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	if maxAge != nil { // after AuthParams: a configured prompt gives way
		opts = append(opts, oauth2.SetAuthURLParam("max_age", strconv.FormatInt(*maxAge, 10)),
			oauth2.SetAuthURLParam("prompt", "login"))
	}
	addFlow(s, f, h.now())
	redirect(w, p.oauthConfig(d, h.CallbackURL(p.name)).AuthCodeURL(f.State, opts...))
}
