package main

import (
	"net/http"

	"github.com/sessionauth/session"
)

// logout ends this session: 204 for API clients, 303 to / for forms.
func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	s := session.FromContext(r.Context())
	uid, sid := s.UserID(), s.ID()
	if err := a.sessions.Logout(w, r); err != nil {
		// The cookie is expired anyway; the record ends with its timeout.
		a.log.ErrorContext(r.Context(), "logout: session store", "user_id", uid, "error", err)
		if !isForm(r) {
			writeError(w, http.StatusServiceUnavailable, errSessionStoreDown.code)
			return
		}
	} else if uid != "" {
		a.log.InfoContext(r.Context(), "signed out", "user_id", uid, "session", sid)
	}
	a.done(w, r)
}

// logoutAll ends every session of the signed-in user, on every device.
func (a *app) logoutAll(w http.ResponseWriter, r *http.Request) {
	uid := session.FromContext(r.Context()).UserID()
	if err := a.sessions.LogoutAll(r.Context(), uid); err != nil {
		a.log.ErrorContext(r.Context(), "logout-all: session store", "user_id", uid, "error", err)
		a.answer(w, r, errSessionStoreDown, "error", pageData{})
		return
	}
	a.log.InfoContext(r.Context(), "signed out everywhere", "user_id", uid)
	a.done(w, r)
}
