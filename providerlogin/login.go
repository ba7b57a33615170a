package providerlogin

import (
	"fmt"
	"net/http"

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
	var d *discovered
	if p.isOIDC {
		var err error
		if d, err = p.discover(r.Context(), h.client); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	f := flow{
		State:    randomToken(),
		Provider: p.name,
		Issuer:   p.issuer,
		Verifier: oauth2.GenerateVerifier(),
		Return:   ret,
		Expires:  h.now().Add(h.ttl).Unix(),
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.Verifier)}
	if p.isOIDC {
		f.Nonce = randomToken()
		opts = append(opts, oidc.Nonce(f.Nonce))
	}
	for k, v := range p.authParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	addFlow(session.FromContext(r.Context()), f, h.now())
	redirect(w, p.oauthConfig(d, h.CallbackURL(p.name)).AuthCodeURL(f.State, opts...))
}
