package main

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/sessionauth/session"
	"github.com/sessionauth/session/password"
)

// login checks a username and password and signs the user in.
//
// Every failure — unknown user, wrong password, a name that cannot exist —
// is the same 401 "invalid credentials", and an unknown user costs the same
// password hash as a known one, so neither the answer nor its timing tells
// whether an account exists.
func (a *app) login(w http.ResponseWriter, r *http.Request) {
	c, p := readCredentials(w, r, true)
	if p != nil {
		a.answer(w, r, p, "signin", a.signInData(c.Username))
		return
	}
	name, nameErr := normalizeUsername(c.Username)
	counted := name
	if nameErr != nil {
		// A name that cannot exist is counted like an unknown one, so the
		// answer tells nothing about the rules either.
		counted = c.Username
	}
	att, err := a.guard.CheckLogin(r, counted)
	defer att.Done()
	if p := a.refused(r, att, err, "login", errThrottled); p != nil {
		a.answer(w, r, p, "signin", a.signInData(c.Username))
		return
	}

	user, err := a.checkPassword(r.Context(), name, nameErr == nil, c.Password)
	if err != nil {
		a.abandon(r, att)
		a.answer(w, r, errUserStoreDown, "signin", a.signInData(c.Username))
		return
	}
	if user.ID == "" {
		a.guard.LoginFailed(att)
		// Neither the username (people type passwords into it by mistake)
		// nor the full address is logged.
		a.log.InfoContext(r.Context(), "login failed", "network", a.clientNetwork(r), "known_device", att.KnownDevice())
		a.answer(w, r, errInvalidCredentials, "signin", a.signInData(c.Username))
		return
	}
	if err := a.signIn(w, r, user, c.Remember); err != nil {
		a.abandon(r, att)
		a.answer(w, r, errSessionStoreDown, "signin", a.signInData(c.Username))
		return
	}
	if p := a.passwordStillCurrent(r.Context(), user, c.Password); p != nil {
		// A password change landed while this sign-in checked the old
		// password: the session just started must not outlive it, and the
		// attempt counts as a wrong password.
		if p == errInvalidCredentials {
			a.guard.LoginFailed(att)
		} else {
			a.abandon(r, att)
		}
		if err := a.sessions.Logout(w, r); err != nil {
			a.log.ErrorContext(r.Context(), "login: ending a session started with a changed password", "user_id", user.ID, "error", err)
			p = errSessionStoreDown
		}
		a.answer(w, r, p, "signin", a.signInData(c.Username))
		return
	}
	// The attempt is given back and this browser gets its device cookie:
	// from now on its sign-ins to this account have a budget of their own.
	a.loginSucceeded(w, r, att)
	if isForm(r) {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	writeJSON(w, http.StatusOK, userJSON{ID: user.ID, Username: user.Username})
}

// passwordStillCurrent closes the race between a sign-in and a password
// change. The change stores the new hash, then ends every other session;
// a sign-in that checked the old password before the new hash was stored
// but started its session after the change listed the sessions to end
// would survive it. So, once the session exists, the hash is read again:
// still the one checked (or one that pw still verifies, after a re-hash),
// and any change from now on ends this session; otherwise the sign-in
// fails as with a wrong password (errInvalidCredentials), or with
// errUserStoreDown when the account cannot be read.
func (a *app) passwordStillCurrent(ctx context.Context, checked User, pw string) *problem {
	now, err := a.users.ByID(ctx, checked.ID)
	switch {
	case err != nil:
		a.log.ErrorContext(ctx, "login: user store", "user_id", checked.ID, "error", err)
		return errUserStoreDown
	case now.PasswordHash == checked.PasswordHash:
		return nil
	}
	if match, _, _ := password.Verify(pw, now.PasswordHash); match {
		return nil
	}
	a.log.InfoContext(ctx, "login: the password changed while signing in", "user_id", checked.ID)
	return errInvalidCredentials
}

// signIn starts a new session for user and saves, for the sessions list,
// the device it came from: the user agent and the coarse network.
func (a *app) signIn(w http.ResponseWriter, r *http.Request, user User, remember bool) error {
	opts := []session.LoginOption{session.ProvedWith(amrPassword)}
	if remember {
		opts = append(opts, session.RememberMe())
	}
	if err := a.sessions.Login(w, r, user.ID, opts...); err != nil {
		a.log.ErrorContext(r.Context(), "login: session store", "user_id", user.ID, "error", err)
		return err
	}
	// Saved with the session before the response is written.
	s := session.FromContext(r.Context())
	s.Set(valueUserAgent, strings.ToValidUTF8(truncate(r.UserAgent(), maxUserAgent), ""))
	network := a.clientNetwork(r)
	if network != "" {
		s.Set(valueNetwork, network)
	}
	a.log.InfoContext(r.Context(), "signed in", "user_id", user.ID, "session", s.ID(), "remember", remember, "network", network)
	return nil
}

// checkPassword returns the user if pw is theirs, or a zero User. Unknown and
// impossible usernames take the same path as a wrong password: one argon2id
// hash. A hash below policy is upgraded here. The error is for a user store
// that failed, never for a wrong password.
func (a *app) checkPassword(ctx context.Context, name string, valid bool, pw string) (User, error) {
	var u User
	var err error = ErrNoUser
	if valid {
		u, err = a.users.ByUsername(ctx, name)
	}
	if err != nil {
		password.DummyVerify(pw)
		if errors.Is(err, ErrNoUser) {
			return User{}, nil
		}
		a.log.ErrorContext(ctx, "user store", "error", err)
		return User{}, err
	}
	ok, hash := a.verifyPasswordHash(ctx, u, pw)
	if !ok {
		return User{}, nil
	}
	u.PasswordHash = hash // the stored hash now, after an upgrade
	return u, nil
}

// verifyPassword reports whether pw is u's password, and upgrades a hash
// below policy while the password is at hand.
func (a *app) verifyPassword(ctx context.Context, u User, pw string) bool {
	ok, _ := a.verifyPasswordHash(ctx, u, pw)
	return ok
}

// verifyPasswordHash is verifyPassword that also returns the hash stored
// for u afterwards: the upgraded one when it upgraded it, else u's.
func (a *app) verifyPasswordHash(ctx context.Context, u User, pw string) (bool, string) {
	if u.PasswordHash == "" { // an account made by a provider sign-in
		password.DummyVerify(pw)
		return false, ""
	}
	match, rehash, err := password.Verify(pw, u.PasswordHash)
	if err != nil && !errors.Is(err, password.ErrTooLong) {
		// A stored hash that cannot be checked is bad data: log which user,
		// never the hash.
		a.log.ErrorContext(ctx, "stored password hash unusable", "user_id", u.ID, "error", err)
	}
	if !match {
		return false, ""
	}
	if rehash {
		if h, err := password.Hash(pw); err == nil {
			switch ok, err := a.users.UpgradePasswordHash(ctx, u.ID, u.PasswordHash, h); {
			case err != nil:
				a.log.ErrorContext(ctx, "upgrade password hash", "user_id", u.ID, "error", err)
			case ok:
				a.log.InfoContext(ctx, "password hash upgraded to argon2id", "user_id", u.ID)
				return true, h
			}
		}
	}
	return true, u.PasswordHash
}
