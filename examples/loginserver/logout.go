package main

import (
	"errors"
	"net/http"

	"github.com/sessionauth/session"
)

// errTooManyCookies: the request carried more session cookies than the
// library reads (cookies tossed from a sibling site, say): Logout ended the
// sessions of those it read and expired the cookie, but not the others.
var errTooManyCookies = &problem{status: http.StatusBadRequest, code: "too many session cookies",
	human: "Your browser sent more session cookies for this site than we read, so we could not end every session they name: one may still be signed in. Clear this site's cookies in your browser to sign out."}

// logout ends this session: 204 for API clients, 303 to / for forms.
func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	s := session.FromContext(r.Context())
	uid, sid := s.UserID(), s.ID()
	if err := a.sessions.Logout(w, r); errors.Is(err, session.ErrTooManyCookies) {
		// Logout ended the sessions of the cookies it read; err may also
		// carry a store failure for one of them.
		a.log.WarnContext(r.Context(), "logout: too many session cookies; those past the ones read were not ended", "user_id", uid, "error", err)
		a.answer(w, r, errTooManyCookies, "error", pageData{Title: "Sign-out did not finish"})
		return
	} else if err != nil {
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
