package providertest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func tokenError(w http.ResponseWriter, code int, errCode string) {
	writeJSON(w, code, map[string]string{"error": errCode})
}

// clientAuth authenticates the client by HTTP Basic or form parameters.
func (s *Server) clientAuth(r *http.Request) (Client, bool) {
	id, secret, ok := r.BasicAuth()
	if ok {
		// RFC 6749 2.3.1: form-urlencoded before Basic encoding.
		if v, err := urlUnescape(id); err == nil {
			id = v
		}
		if v, err := urlUnescape(secret); err == nil {
			secret = v
		}
	} else {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	s.mu.Lock()
	c, found := s.clients[id]
	s.mu.Unlock()
	if !found || subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) != 1 {
		return Client{}, false
	}
	return c, true
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		tokenError(w, http.StatusMethodNotAllowed, "invalid_request")
		return
	}
	c, ok := s.clientAuth(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="token"`)
		tokenError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	if r.PostFormValue("grant_type") != "authorization_code" {
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.codes[r.PostFormValue("code")]
	switch {
	case !ok:
		tokenError(w, http.StatusBadRequest, "invalid_grant")
		return
	case g.used:
		// A code presented twice: refuse, and revoke what it gave (RFC 6749 4.1.2).
		delete(s.tokens, g.access)
		tokenError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	g.used = true
	if s.now().After(g.expires) || g.client != c.ID || g.redirectURI != r.PostFormValue("redirect_uri") ||
		subtle.ConstantTimeCompare([]byte(g.challenge), []byte(s256(r.PostFormValue("code_verifier")))) != 1 {
		tokenError(w, http.StatusBadRequest, "invalid_grant")
		return
	}
	g.access = randomString(24)
	s.tokens[g.access] = g
	resp := map[string]any{"access_token": g.access, "token_type": "Bearer", "expires_in": 300}
	if !s.plain {
		idt, err := s.idToken(g)
		if err != nil {
			tokenError(w, http.StatusInternalServerError, "server_error")
			return
		}
		resp["id_token"] = idt
	}
	s.exchanges++
	writeJSON(w, http.StatusOK, resp)
}

// idToken signs an ID token for g. s.mu is held.
func (s *Server) idToken(g *grant) (string, error) {
	now := s.now()
	sum := sha256.Sum256([]byte(g.access))
	claims := map[string]any{
		"iss":            s.issuer,
		"sub":            g.user.Subject,
		"aud":            g.client,
		"exp":            now.Add(5 * time.Minute).Unix(),
		"iat":            now.Unix(),
		"auth_time":      g.authTime.Unix(),
		"amr":            []string{"pwd"},
		"at_hash":        base64.RawURLEncoding.EncodeToString(sum[:16]),
		"email":          g.user.Email,
		"email_verified": g.user.Email != "",
		"name":           g.user.Name,
	}
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	if s.hook != nil {
		s.hook(claims)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	key := s.key
	if s.rogue != nil {
		key = s.rogue
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: s.kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

func (s *Server) userinfo(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		tok, ok = strings.CutPrefix(auth, "token ") // GitHub's older form
	}
	s.mu.Lock()
	g, found := s.tokens[tok]
	s.mu.Unlock()
	if !ok || !found {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		tokenError(w, http.StatusUnauthorized, "invalid_token")
		return
	}
	u := g.user
	if s.plain {
		id, err := strconv.ParseInt(u.Subject, 10, 64)
		if err != nil {
			tokenError(w, http.StatusInternalServerError, "server_error")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"id": id, "login": u.Username, "name": u.Name, "email": u.Email})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"sub": u.Subject, "email": u.Email, "email_verified": u.Email != "", "name": u.Name, "preferred_username": u.Username,
	})
}
