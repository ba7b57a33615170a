package main

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/sessionauth/session"
)

// passwordPolicy is the rule for new passwords (POST /register, DEMO_PASSWORD):
// at least 15 characters of any script, at most 1024 bytes. 15 is NIST's
// minimum when the password is the only factor; with a second factor, 8
// (session.ValidatePassword) is enough.
var passwordPolicy = session.PasswordPolicy{MinLength: session.RecommendedMinPasswordLength}

// register creates an account from a JSON body: 201, 409 when the username is
// taken, 400 for an invalid username or a weak password.
func (a *app) register(w http.ResponseWriter, r *http.Request) {
	c, err := readCredentials(w, r, false)
	if err != nil {
		writeError(w, err.(*errBadRequest).status, err.Error())
		return
	}
	name, err := normalizeUsername(c.Username)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := passwordPolicy.Validate(c.Password); err != nil {
		writeError(w, http.StatusBadRequest, passwordRule(err))
		return
	}
	keys := loginKeys{addr: "addr:" + clientAddr(r)}
	if a.throttled(w, r, keys) {
		return
	}
	release, ok := a.acquireHashSlot(r.Context())
	if !ok {
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "server busy, try again")
		return
	}
	// Hash before looking at the name, so "taken" costs what "created" does.
	hash, err := session.HashPassword(c.Password)
	release()
	if err != nil {
		writeError(w, http.StatusBadRequest, passwordRule(err))
		return
	}
	u, err := a.users.Create(r.Context(), name, hash)
	switch {
	case errors.Is(err, ErrUsernameTaken):
		a.addrs.Fail(keys.addr) // probing for existing names counts as failures
		writeError(w, http.StatusConflict, "username taken")
		return
	case err != nil:
		a.log.ErrorContext(r.Context(), "register: user store", "error", err)
		writeError(w, http.StatusServiceUnavailable, "user store unavailable")
		return
	}
	a.log.InfoContext(r.Context(), "registered", "user_id", u.ID)
	writeJSON(w, http.StatusCreated, userJSON{ID: u.ID, Username: u.Username})
}

// passwordRule turns a policy error into the message shown to the client.
func passwordRule(err error) string {
	switch {
	case errors.Is(err, session.ErrPasswordTooShort):
		return fmt.Sprintf("password must be at least %d characters", passwordPolicy.MinLength)
	case errors.Is(err, session.ErrPasswordTooLong):
		return fmt.Sprintf("password must be at most %d bytes", session.MaxPasswordBytes)
	default:
		return "password must be valid UTF-8 text"
	}
}
