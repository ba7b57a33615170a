package providertest

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// authRequest is a validated authorization request.
type authRequest struct {
	client                 Client
	redirectURI, state     string
	nonce, challenge       string
	forceLogin, wantOpenID bool
	maxAge                 time.Duration // -1: none requested
}

// parseAuthRequest checks the request's parameters. A problem with the
// client or redirect URI is shown on the provider's page (redirecting would
// make the provider an open redirector); any other problem is sent back to
// the client as an error response.
func (s *Server) parseAuthRequest(q url.Values) (req authRequest, pageErr, redirectErr string) {
	s.mu.Lock()
	c, ok := s.clients[q.Get("client_id")]
	s.mu.Unlock()
	if !ok {
		return req, "unknown client_id", ""
	}
	req.client = c
	req.redirectURI = q.Get("redirect_uri")
	if !slices.Contains(c.RedirectURIs, req.redirectURI) {
		return req, "redirect_uri is not registered for this client", ""
	}
	req.state = q.Get("state")
	req.nonce = q.Get("nonce")
	req.challenge = q.Get("code_challenge")
	req.forceLogin = q.Get("prompt") == "login"
	req.maxAge = -1
	if v := q.Get("max_age"); v != "" {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 0 {
			return req, "", "invalid_request"
		}
		req.maxAge = time.Duration(n) * time.Second
	}
	req.wantOpenID = slices.Contains(strings.Fields(q.Get("scope")), "openid")
	switch {
	case q.Get("response_type") != "code":
		return req, "", "unsupported_response_type"
	case q.Get("code_challenge_method") != "S256" || len(req.challenge) != 43:
		return req, "", "invalid_request"
	case req.wantOpenID && !s.plain && req.nonce == "":
		return req, "", "invalid_request"
	}
	return req, "", ""
}

// respond sends the browser back to the client with code or an error.
func (s *Server) respond(w http.ResponseWriter, r *http.Request, req authRequest, params url.Values) {
	if req.state != "" {
		params.Set("state", req.state)
	}
	s.mu.Lock()
	if !s.noIss {
		params.Set("iss", s.issuer)
	}
	s.mu.Unlock()
	sep := "?"
	if strings.Contains(req.redirectURI, "?") {
		sep = "&"
	}
	http.Redirect(w, r, req.redirectURI+sep+params.Encode(), http.StatusSeeOther)
}

func (s *Server) issueCode(w http.ResponseWriter, r *http.Request, req authRequest, u User, authTime time.Time) {
	code := randomString(24)
	s.mu.Lock()
	s.codes[code] = &grant{
		client: req.client.ID, redirectURI: req.redirectURI,
		challenge: req.challenge, nonce: req.nonce, user: u, authTime: authTime,
		expires: s.now().Add(s.codeTTL),
	}
	s.mu.Unlock()
	s.respond(w, r, req, url.Values{"code": {code}})
}

// sessionUser returns the user of the browser's provider session, if any,
// and when they typed their password.
func (s *Server) sessionUser(r *http.Request) (User, time.Time, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return User{}, time.Time{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ses, ok := s.sessions[c.Value]
	if !ok {
		return User{}, time.Time{}, false
	}
	u, ok := s.users[ses.username]
	return u, ses.authTime, ok
}

func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	req, pageErr, redirectErr := s.parseAuthRequest(r.URL.Query())
	if pageErr != "" {
		s.page(w, http.StatusBadRequest, pageData{Title: "Sign-in request rejected", Error: pageErr})
		return
	}
	if redirectErr != "" {
		s.respond(w, r, req, url.Values{"error": {redirectErr}})
		return
	}
	if r.Method == http.MethodGet {
		// Single sign-on: already signed in here, unless prompt=login or
		// the sign-in is older than max_age (OpenID Connect Core 3.1.2.1).
		if u, at, ok := s.sessionUser(r); ok && !req.forceLogin && (req.maxAge < 0 || !s.clock().After(at.Add(req.maxAge))) {
			s.issueCode(w, r, req, u, at)
			return
		}
		s.loginForm(w, http.StatusOK, req, "")
		return
	}
	if r.PostFormValue("action") == "cancel" {
		s.respond(w, r, req, url.Values{"error": {"access_denied"}, "error_description": {"The user cancelled."}})
		return
	}
	s.mu.Lock()
	u, ok := s.users[r.PostFormValue("username")]
	s.mu.Unlock()
	if !ok || subtle.ConstantTimeCompare([]byte(u.Password), []byte(r.PostFormValue("password"))) != 1 {
		s.loginForm(w, http.StatusUnauthorized, req, "Wrong username or password.")
		return
	}
	sid := randomString(24)
	now := s.clock()
	s.mu.Lock()
	s.sessions[sid] = opSession{username: u.Username, authTime: now}
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sid, Path: s.cookiePath, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	s.issueCode(w, r, req, u, now)
}

func (s *Server) loginForm(w http.ResponseWriter, code int, req authRequest, msg string) {
	s.page(w, code, pageData{Title: "Sign in to " + s.name, Client: req.client.Name, Form: true, Error: msg})
}

// clock reads the provider's clock.
func (s *Server) clock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}
