package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/sessionauth/session"
	"github.com/sessionauth/session/password"
)

// passwordChange is the body of POST /password.
type passwordChange struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// changePassword is POST /password (behind RequireAuth): the current
// password is required. On success every other session of the user ends and
// this one gets a new token (Manager.LogoutOthers), so a session an attacker
// holds dies with the old password. Form: 303 to / with a notice saying so;
// JSON: 204. A wrong current password is 403 and counts as a failed sign-in
// for the throttle; 429 with Retry-After once the budget is spent.
func (a *app) changePassword(w http.ResponseWriter, r *http.Request) {
	user, ok, err := a.currentUser(w, r)
	if err != nil {
		a.answer(w, r, errUserStoreDown, "error", pageData{})
		return
	}
	if !ok { // the account was deleted meanwhile; the session has ended
		a.unauthenticated(w, r)
		return
	}
	d := pageData{User: &user, Focus: "current_password"}
	var c passwordChange
	if p := readBody(w, r, &c, func(f url.Values) {
		c.CurrentPassword, c.NewPassword = f.Get("current_password"), f.Get("new_password")
	}); p != nil {
		a.answer(w, r, p, "password", d)
		return
	}
	switch {
	case c.CurrentPassword == "":
		a.answer(w, r, &problem{status: http.StatusBadRequest, code: "current_password and new_password are required",
			human: "Enter your current password.", field: "current_password"}, "password", d)
		return
	case c.NewPassword == "":
		a.answer(w, r, &problem{status: http.StatusBadRequest, code: "current_password and new_password are required",
			human: "Enter a new password.", field: "new_password"}, "password", d)
		return
	}
	if err := passwordPolicy.Validate(c.NewPassword); err != nil {
		a.answer(w, r, passwordProblem(err, "new_password"), "password", d)
		return
	}
	// Checked like a sign-in to this account, so a stolen session cannot be
	// used to guess the password at more than the sign-in rate.
	att, err := a.guard.CheckLogin(r, user.Username)
	defer att.Done()
	if p := a.refused(r, att, err, "password change", errThrottled); p != nil {
		a.answer(w, r, p.withField("current_password"), "password", d)
		return
	}
	if !a.verifyPassword(r.Context(), user, c.CurrentPassword) {
		a.guard.LoginFailed(att)
		a.log.InfoContext(r.Context(), "password change: wrong current password", "user_id", user.ID, "network", a.clientNetwork(r))
		a.answer(w, r, &problem{status: http.StatusForbidden, code: "current password is wrong", field: "current_password",
			human: "Your current password is not right. Please try again."}, "password", d)
		return
	}
	if c.NewPassword == c.CurrentPassword {
		a.loginSucceeded(w, r, att)
		a.answer(w, r, &problem{status: http.StatusBadRequest, code: "new password must differ from the current one", field: "new_password",
			human: "Your new password is the same as the current one. Please choose a different one."}, "password", d)
		return
	}
	hash, err := password.Hash(c.NewPassword)
	// The current password was right: the attempt is given back, and the
	// hashing slot released.
	a.loginSucceeded(w, r, att)
	if err != nil {
		a.answer(w, r, passwordProblem(err, "new_password"), "password", d)
		return
	}
	// Counted before they end, for the notice; a failure only loses the count.
	others := -1
	if infos, err := a.sessions.ListSessions(r.Context(), user.ID); err == nil {
		others = len(infos) - 1
	}
	if err := a.users.SetPasswordHash(r.Context(), user.ID, hash); err != nil {
		a.log.ErrorContext(r.Context(), "password change: user store", "user_id", user.ID, "error", err)
		a.answer(w, r, errUserStoreDown, "password", d)
		return
	}
	switch err := a.sessions.LogoutOthers(w, r); {
	case errors.Is(err, session.ErrNotAuthenticated):
		// This session was signed out while the password changed; the
		// others have ended all the same.
		a.log.InfoContext(r.Context(), "password changed; this session was signed out meanwhile", "user_id", user.ID)
		a.unauthenticated(w, r)
		return
	case errors.Is(err, session.ErrConflict):
		// Another request (a second submit of this form) is renewing this
		// session; the others have ended all the same. That request sets
		// the cookie and the notice: this one leaves the session alone.
		a.log.InfoContext(r.Context(), "password changed; this session is being renewed by another request", "user_id", user.ID)
		a.done(w, r)
		return
	case err != nil:
		// The password has changed; the other sessions may still be live.
		a.log.ErrorContext(r.Context(), "password change: ending other sessions", "user_id", user.ID, "error", err)
		p := &problem{status: http.StatusServiceUnavailable, code: "password changed; other sessions not ended",
			human: "Your password was changed, but your other devices could not be signed out right now. Use “Sign out everywhere” in a minute."}
		a.answer(w, r, p, "error", d)
		return
	}
	a.log.InfoContext(r.Context(), "password changed", "user_id", user.ID, "other_sessions_ended", others)
	notice := "Your password was changed. You are still signed in on this device."
	switch {
	case others == 1:
		notice = "Your password was changed. Your other device was signed out; this one stays signed in."
	case others > 1:
		notice = fmt.Sprintf("Your password was changed. Your %d other devices were signed out; this one stays signed in.", others)
	case others < 0:
		notice = "Your password was changed. Your other devices were signed out; this one stays signed in."
	}
	setNotice(session.FromContext(r.Context()), noticeSuccess, notice)
	a.done(w, r)
}
