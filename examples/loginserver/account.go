package main

import (
	"errors"
	"net/http"

	"github.com/sessionauth/session"
)

type userJSON struct {
	ID       string `json:"id"`
	Username string `json:"username"`
}

// currentUser returns the signed-in user, or ok == false when nobody is
// signed in. A session whose user no longer exists is signed out. err is set
// when the user store failed: callers answer 503, never "not signed in".
func (a *app) currentUser(w http.ResponseWriter, r *http.Request) (u User, ok bool, err error) {
	id := session.FromContext(r.Context()).UserID()
	if id == "" {
		return User{}, false, nil
	}
	u, err = a.users.ByID(r.Context(), id)
	switch {
	case errors.Is(err, ErrNoUser):
		a.log.InfoContext(r.Context(), "session of a deleted user ended", "user_id", id)
		_ = a.sessions.Logout(w, r)
		return User{}, false, nil
	case err != nil:
		a.log.ErrorContext(r.Context(), "user store", "error", err)
		return User{}, false, err
	}
	return u, true, nil
}

// me answers who is signed in (behind RequireAuth).
func (a *app) me(w http.ResponseWriter, r *http.Request) {
	u, ok, err := a.currentUser(w, r)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "user store unavailable")
		return
	}
	if !ok {
		writeError(w, http.StatusUnauthorized, "not authenticated")
		return
	}
	writeJSON(w, http.StatusOK, userJSON{ID: u.ID, Username: u.Username})
}
