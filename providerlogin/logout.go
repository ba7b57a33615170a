package providerlogin

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/sessionauth/session"
)

// Logout ends the visitor's session (Sessions.Logout: record deleted,
// cookie expired) and redirects: to the provider's end_session_endpoint
// when the session was signed in with a provider that has RPLogout and
// advertises one (with id_token_hint, client_id and
// post_logout_redirect_uri = BaseURL + PostLogoutPath), otherwise to
// PostLogoutPath. It is the handler of POST PREFIX/logout; an app with its
// own logout route may call it there. When the store fails, the cookie is
// still expired and the error handler answers (503).
func (h *Handler) Logout(w http.ResponseWriter, r *http.Request) {
	s := session.FromContext(r.Context())
	name, hint := s.Get(providerKey), s.Get(idTokenKey)
	if err := h.sessions.Logout(w, r); err != nil {
		h.fail(w, r, fmt.Errorf("providerlogin: signing out: %w", err))
		return
	}
	target := h.postLogout
	if p, ok := h.byName[name]; ok && p.rpLogout {
		p.mu.Lock()
		d := p.disc
		p.mu.Unlock()
		if d != nil && d.endSession != "" {
			target = endSessionURL(d.endSession, url.Values{
				"client_id":                {p.oauth.ClientID},
				"id_token_hint":            {hint},
				"post_logout_redirect_uri": {h.base + h.postLogout},
			})
		}
	}
	redirect(w, target)
}

// endSessionURL adds params to the provider's endpoint, keeping its own query.
func endSessionURL(endpoint string, params url.Values) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return endpoint
	}
	q := u.Query()
	for k, v := range params {
		if len(v) == 1 && v[0] != "" {
			q[k] = v
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}
