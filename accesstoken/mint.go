package accesstoken

import (
	"encoding/json"
	"errors"
	"net/http"
)

// MintHandler answers `POST` with a new access token for the request's
// session, as an OAuth 2 token response:
//
//	{"access_token":"eyJ...","token_type":"Bearer","expires_in":300}
//
// The session cookie is the refresh credential: a client calls it again
// shortly before expires_in runs out. Other methods get 405; cross-site
// requests get 403 (Config.CrossOrigin, net/http's CrossOriginProtection:
// Sec-Fetch-Site, else Origin against Host); a request with no live
// signed-in session gets the Manager's 401 (and its 503 when the store is
// down). It applies the Manager's Middleware itself if needed. The answer
// carries `Cache-Control: no-store`. Cost: Mint.
func (i *Issuer) MintHandler() http.Handler {
	mint := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, err := i.Mint(r.Context())
		switch {
		case errors.Is(err, ErrNoSession):
			writeError(w, http.StatusUnauthorized, "invalid_grant", "no signed-in session")
			return
		case err != nil:
			writeError(w, http.StatusInternalServerError, "server_error", "could not sign a token")
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("Pragma", "no-cache")
		json.NewEncoder(w).Encode(tok)
	})
	signedIn := i.sessions.RequireAuth(mint)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, http.StatusMethodNotAllowed, "invalid_request", "POST only")
			return
		}
		if err := i.cop.Check(r); err != nil {
			writeError(w, http.StatusForbidden, "access_denied", "cross-origin request refused")
			return
		}
		signedIn.ServeHTTP(w, r)
	})
}
