package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/sessionauth/session"
	"github.com/sessionauth/session/accesstoken"
)

// newTokens builds the access-token issuer (package accesstoken's hybrid
// pattern): the session cookie is the refresh credential, POST /token mints
// a 5-minute token from the live session, and APIs verify it locally with
// the keys /.well-known/jwks.json publishes. keysFile (ACCESS_TOKEN_KEYS_FILE)
// holds PEM private keys, the first one signing; empty means a key
// generated at start-up (tokens then die with the process, like sessions
// without SESSION_KEYS). The issuer is baseURL, the audience baseURL/api.
func newTokens(sessions *session.Manager, keysFile, baseURL string, observe func(session.Event)) (*accesstoken.Issuer, error) {
	var keys []*accesstoken.PrivateKey
	if keysFile != "" {
		pem, err := os.ReadFile(keysFile)
		if err != nil {
			return nil, fmt.Errorf("ACCESS_TOKEN_KEYS_FILE: %w", err)
		}
		if keys, err = accesstoken.ParsePrivateKeys(pem); err != nil {
			return nil, fmt.Errorf("ACCESS_TOKEN_KEYS_FILE: %w", err) // never the key itself
		}
	} else {
		k, err := accesstoken.GenerateKey("")
		if err != nil {
			return nil, err
		}
		keys = []*accesstoken.PrivateKey{k}
	}
	ring, err := accesstoken.NewKeyRing(keys...)
	if err != nil {
		return nil, fmt.Errorf("ACCESS_TOKEN_KEYS_FILE: %w", err)
	}
	return accesstoken.New(accesstoken.Config{
		Sessions: sessions,
		Keys:     ring,
		Issuer:   baseURL,
		Audience: baseURL + "/api",
		Observe:  observe,
	})
}

// apiMeJSON is GET /api/me's answer.
type apiMeJSON struct {
	ID        string    `json:"id"`
	Username  string    `json:"username"`
	SessionID string    `json:"session_id"` // the public ID of the session that minted the token
	Expires   time.Time `json:"token_expires"`
}

// apiMe is GET /api/me, behind the Bearer middleware: who the token is
// for. No session is read; the user store is, for the name.
func (a *app) apiMe(w http.ResponseWriter, r *http.Request) {
	c := accesstoken.FromContext(r.Context())
	u, err := a.users.ByID(r.Context(), c.Subject)
	switch {
	case errors.Is(err, ErrNoUser):
		writeError(w, http.StatusUnauthorized, "no such user")
		return
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, "user store unavailable")
		return
	}
	writeJSON(w, http.StatusOK, apiMeJSON{ID: u.ID, Username: u.Username, SessionID: c.SessionID, Expires: c.Expiry})
}
