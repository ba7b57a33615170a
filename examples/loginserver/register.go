package main

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/sessionauth/session"
	"github.com/sessionauth/session/password"
)

// passwordPolicy is the rule for new passwords (sign-up, password change,
// DEMO_PASSWORD): at least 15 characters of any script, at most 1024 bytes.
// 15 is NIST's minimum when the password is the only factor; with a second
// factor, 8 (password.Policy{}) is enough.
var passwordPolicy = password.Policy{MinLength: 15}

// register creates an account. JSON: 201 with the user, not signed in.
// Form (the sign-up page): signed in at once, 303 to / with a welcome.
// Either way 409 when the username is taken, 400 for an invalid username or
// a weak password.
func (a *app) register(w http.ResponseWriter, r *http.Request) {
	c, p := readCredentials(w, r, true)
	d := pageData{Username: c.Username}
	if p != nil {
		a.answer(w, r, p, "signup", d)
		return
	}
	name, err := normalizeUsername(c.Username)
	if err != nil {
		a.answer(w, r, &problem{status: http.StatusBadRequest, code: err.Error(), field: "username",
			human: fmt.Sprintf("Choose a username of %d to %d characters: letters a–z, digits, and . _ - @.", minUsernameLen, maxUsernameLen)}, "signup", d)
		return
	}
	if err := passwordPolicy.Validate(c.Password); err != nil {
		a.answer(w, r, passwordProblem(err, "password"), "signup", d)
		return
	}
	// Counted per address whatever the outcome (a taken name too, so
	// probing for existing names is throttled), in the share of the hashing
	// slots that sign-ups may hold.
	att, err := a.guard.CheckRegister(r)
	defer att.Done()
	if p := a.refused(r, att, err, "register", errRegisterThrottled); p != nil {
		a.answer(w, r, p, "signup", d)
		return
	}
	// Hash before looking at the name, so "taken" costs what "created" does.
	hash, err := password.Hash(c.Password)
	if err != nil {
		a.answer(w, r, passwordProblem(err, "password"), "signup", d)
		return
	}
	u, err := a.users.Create(r.Context(), name, hash)
	switch {
	case errors.Is(err, ErrUsernameTaken):
		a.answer(w, r, &problem{status: http.StatusConflict, code: "username taken", field: "username",
			human: "That username is taken. Please choose another one."}, "signup", d)
		return
	case err != nil:
		a.abandon(r, att)
		a.log.ErrorContext(r.Context(), "register: user store", "error", err)
		a.answer(w, r, errUserStoreDown, "signup", d)
		return
	}
	att.Done() // the hashing slot is free for others while the session is saved
	a.log.InfoContext(r.Context(), "registered", "user_id", u.ID)
	if !isForm(r) {
		writeJSON(w, http.StatusCreated, userJSON{ID: u.ID, Username: u.Username})
		return
	}
	if err := a.signIn(w, r, u, false); err != nil {
		// The account exists: send them to sign in once the store is back.
		d := a.signInData(u.Username)
		d.Notice = notice{noticeSuccess, "Your account was created."}
		a.answer(w, r, errSessionStoreDown, "signin", d)
		return
	}
	setNotice(session.FromContext(r.Context()), noticeSuccess, "Welcome! Your account is ready and you are signed in.")
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// passwordProblem turns a policy error into a 400 about the input field.
func passwordProblem(err error, field string) *problem {
	p := &problem{status: http.StatusBadRequest, field: field}
	switch {
	case errors.Is(err, password.ErrTooShort):
		p.code = fmt.Sprintf("password must be at least %d characters", passwordPolicy.MinLength)
		p.human = fmt.Sprintf("Use at least %d characters for your password. Spaces count: a few unrelated words are strong and easy to remember.", passwordPolicy.MinLength)
	case errors.Is(err, password.ErrTooLong):
		p.code = fmt.Sprintf("password must be at most %d bytes", password.MaxBytes)
		p.human = fmt.Sprintf("That password is too long: use at most %d bytes (about %d letters, fewer in most other scripts).", password.MaxBytes, password.MaxBytes)
	default:
		p.code = "password must be valid UTF-8 text"
		p.human = "That password contains characters that cannot be used. Please choose another one."
	}
	return p
}
