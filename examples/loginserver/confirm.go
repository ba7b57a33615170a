package main

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/sessionauth/session"
	"github.com/sessionauth/session/providerlogin"
)

// recentAuth is how fresh the user's last proof must be before what
// matters (signing out everywhere): older, and the confirm page asks for the
// password again (Manager.RequireRecentAuth sends pages there, API calls get
// RFC 9470's 401).
const recentAuth = 5 * time.Minute

// amrPassword is the proof method a password sign-in or confirmation
// records (RFC 8176 "amr"); a provider sign-in records the ID token's amr
// or "fed" (package providerlogin), a passkey "hwk" or "swk".
const amrPassword = "pwd"

// wayInProofs are the RFC 8176 "amr" values of a proof that may add a way
// in (link a provider, add a passkey): each says the user did something
// just now, here or at their provider. A password, code or PIN they typed
// ("pwd", "otp", "sms", "pin"), a key or card used with a gesture or PIN
// ("hwk", "swk": our passkeys record these; "sc"), or several factors
// ("mfa"). Not "fed": providerlogin records it when the provider says
// nothing about a sign-in during this flow, as when its single sign-on
// answers at once, so a borrowed laptop still signed in there would pass.
// Nor the methods that need nobody at the keyboard: "wia" (the Windows
// sign-in), "user" (presence only), "pop" (a key the device holds), "geo"
// and "rba" (risk signals). RequireRecentAuth takes at most 8 values: a
// provider that asserts only a biometric ("fpt", "face") or "tel", "kba",
// "mca" confirms with the password or a passkey instead.
var wayInProofs = []string{"pwd", "otp", "sms", "pin", "hwk", "swk", "sc", "mfa"}

// provedInPerson reports whether a proof with these methods may add a way
// in: one of them is one of wayInProofs.
func provedInPerson(methods []string) bool {
	for _, m := range methods {
		if slices.Contains(wayInProofs, m) {
			return true
		}
	}
	return false
}

// confirmRequest is POST /confirm's body.
type confirmRequest struct {
	Password string `json:"password"`
	Return   string `json:"return"`
}

// confirmReturn is where a confirmation goes back to: a page of this site
// ("/", "/password"); anything else (an action such as /logout-all, which
// the user presses again) goes to the account page.
func confirmReturn(v string) string {
	if p, ok := providerlogin.SafeReturnPath(v); ok && (p == "/" || p == "/password") {
		return p
	}
	return "/"
}

// confirmPage is GET /confirm (behind RequireAuth): the step-up page, which
// asks the signed-in user for their password again.
func (a *app) confirmPage(w http.ResponseWriter, r *http.Request) {
	user, ok, err := a.currentUser(w, r)
	switch {
	case err != nil:
		a.render(w, r, http.StatusServiceUnavailable, "error", pageData{Error: errUserStoreDown.human})
		return
	case !ok:
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	d := pageData{User: &user, Focus: "password", Return: r.URL.Query().Get("return"), HasPassword: user.PasswordHash != "",
		HasPasskeys: a.hasPasskeys(r, user.ID)}
	// A linked OpenID Connect provider can confirm too: a sign-in there
	// with max_age=0 (prompt=login) is a step-up of this session.
	links, _ := a.users.Links(r.Context(), user.ID)
	for _, b := range a.providerButtons(links) {
		if b.Linked && a.providerIsOIDC(b.Name) {
			d.Providers = append(d.Providers, b)
		}
	}
	d.Return = confirmReturn(d.Return)
	d.Notice = notice{noticeInfo, "Please confirm it is you: your last sign-in was more than a few minutes ago."}
	// A proof recent enough but not by a method of wayInProofs: adding a
	// way in was refused for its method (a provider that signed the user
	// in without asking, or one that does not say how it asked).
	if s := session.FromContext(r.Context()); time.Since(s.AuthTime()) <= recentAuth && !provedInPerson(s.AuthMethods()) {
		d.MethodRefused = true
		d.Notice = notice{noticeInfo, "Please confirm it is you: adding a way to sign in needs your password, a passkey, " +
			"or signing in again at your provider, and your last sign-in here did not ask for any of them."}
	}
	a.render(w, r, http.StatusOK, "confirm", d)
}

// confirm is POST /confirm (behind RequireAuth): the password again,
// counted like a sign-in to this account (a stolen session cannot guess it
// faster), then Manager.StepUp records the fresh proof on this session
// (a new session ID, no new session). Forms: 303 back; JSON: 204.
func (a *app) confirm(w http.ResponseWriter, r *http.Request) {
	user, ok, err := a.currentUser(w, r)
	if err != nil {
		a.answer(w, r, errUserStoreDown, "error", pageData{})
		return
	}
	if !ok {
		a.unauthenticated(w, r)
		return
	}
	var c confirmRequest
	if p := readBody(w, r, &c, func(f url.Values) { c.Password, c.Return = f.Get("password"), f.Get("return") }); p != nil {
		a.answer(w, r, p, "confirm", pageData{User: &user, Focus: "password", HasPassword: user.PasswordHash != ""})
		return
	}
	d := pageData{User: &user, Focus: "password", Return: c.Return, HasPassword: user.PasswordHash != ""}
	att, err := a.guard.CheckLogin(r, user.Username)
	defer att.Done()
	if p := a.refused(r, att, err, "confirm", errThrottled); p != nil {
		a.answer(w, r, p.withField("password"), "confirm", d)
		return
	}
	if !a.verifyPassword(r.Context(), user, c.Password) {
		a.guard.LoginFailed(att)
		a.log.InfoContext(r.Context(), "confirm: wrong password", "user_id", user.ID, "network", a.clientNetwork(r))
		a.answer(w, r, &problem{status: http.StatusForbidden, code: "password is wrong", field: "password",
			human: "That password is not right. Please try again."}, "confirm", d)
		return
	}
	a.loginSucceeded(w, r, att)
	if err := a.sessions.StepUp(w, r, amrPassword); err != nil {
		switch {
		case errors.Is(err, session.ErrNotAuthenticated):
			// Signed out meanwhile (a sign-out in another tab, or of this
			// device from another one): no store failure.
			a.unauthenticated(w, r)
		case errors.Is(err, session.ErrConflict):
			a.answer(w, r, errConcurrentRenewal, "confirm", d)
		default:
			a.log.ErrorContext(r.Context(), "step-up", "user_id", user.ID, "error", err)
			a.answer(w, r, errSessionStoreDown, "confirm", d)
		}
		return
	}
	a.log.InfoContext(r.Context(), "confirmed", "user_id", user.ID, "session", session.FromContext(r.Context()).ID())
	if !isForm(r) {
		a.done(w, r)
		return
	}
	back := confirmReturn(c.Return)
	if back == "/" {
		setNotice(session.FromContext(r.Context()), noticeSuccess, "Thank you: you can now sign out everywhere, or change what needs a recent sign-in, for the next few minutes.")
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}
