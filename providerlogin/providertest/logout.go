package providertest

import (
	"net/http"
	"net/url"
	"slices"

	jose "github.com/go-jose/go-jose/v4"
)

// endSession implements RP-initiated logout: the provider session ends and,
// when post_logout_redirect_uri is registered for the client (named by
// client_id or by the audience of a valid id_token_hint), the browser goes
// back there with state.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.mu.Lock()
		if _, ok := s.sessions[c.Value]; ok {
			delete(s.sessions, c.Value)
			s.logouts++
		}
		s.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: s.cookiePath, MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})

	q := r.URL.Query()
	clientID := q.Get("client_id")
	if hint := q.Get("id_token_hint"); hint != "" {
		aud, ok := s.hintAudience(hint)
		if !ok || clientID != "" && clientID != aud {
			s.page(w, http.StatusBadRequest, pageData{Title: "Signed out", Error: "id_token_hint is not valid"})
			return
		}
		clientID = aud
	}
	s.mu.Lock()
	c, ok := s.clients[clientID]
	s.mu.Unlock()
	target := q.Get("post_logout_redirect_uri")
	if !ok || target == "" || !slices.Contains(c.PostLogoutRedirectURIs, target) {
		s.page(w, http.StatusOK, pageData{Title: "Signed out", Message: "You are signed out of " + s.name + "."})
		return
	}
	if st := q.Get("state"); st != "" {
		u, err := url.Parse(target)
		if err == nil {
			v := u.Query()
			v.Set("state", st)
			u.RawQuery = v.Encode()
			target = u.String()
		}
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// hintAudience returns the single audience of an ID token this provider
// signed; its expiry does not matter.
func (s *Server) hintAudience(raw string) (string, bool) {
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return "", false
	}
	s.mu.Lock()
	pub := &s.key.PublicKey
	s.mu.Unlock()
	payload, err := jws.Verify(pub)
	if err != nil {
		return "", false
	}
	var c struct {
		Iss string `json:"iss"`
		Aud any    `json:"aud"`
	}
	if err := jsonUnmarshal(payload, &c); err != nil || c.Iss != s.issuer {
		return "", false
	}
	switch a := c.Aud.(type) {
	case string:
		return a, true
	case []any:
		if len(a) == 1 {
			v, ok := a[0].(string)
			return v, ok
		}
	}
	return "", false
}
