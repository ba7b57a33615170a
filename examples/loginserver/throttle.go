package main

import (
	"errors"
	"net/http"

	"github.com/sessionauth/session/throttle"
)

// The handlers ask the guard (package throttle, built in newApp) before
// every password check and every sign-up, and turn its answer into one of
// these outcomes with refused:
//
//   - allowed: the request goes ahead holding a password hashing slot;
//   - a budget is spent: 429 with Retry-After, at once (never a sleep that
//     holds the connection), and the password is not checked;
//   - every hashing slot stayed busy for 2 s: 503 with Retry-After;
//   - the counts cannot be reached (Redis down), or the in-memory counts
//     are full of keys that all still count (throttle.ErrFull, a flood of
//     failed sign-ins from many addresses): 503. Neither lifts the limits.
//
// The policy itself (which budgets, device cookies, trusted proxies) is the
// guard's: see the README's "Sign-in throttling" section.

// refused returns the problem to answer for a sign-in or sign-up attempt
// the guard did not allow, or nil when it may go ahead. what names the
// endpoint in the log ("login", "register", "password change").
func (a *app) refused(r *http.Request, att *throttle.Attempt, err error, what string, tooMany func(secs int) *problem) *problem {
	switch {
	case errors.Is(err, throttle.ErrBusy):
		a.log.WarnContext(r.Context(), what+": every password hashing slot is busy", "network", a.clientNetwork(r))
		return errServerBusy
	case errors.Is(err, throttle.ErrFull):
		a.log.ErrorContext(r.Context(), what+": throttle full: every key it holds still counts; raise its MaxKeys or use Redis")
		return errThrottleDown
	case err != nil:
		a.log.ErrorContext(r.Context(), what+": throttle unavailable", "error", err)
		return errThrottleDown
	case !att.Allowed():
		p := tooMany(retrySeconds(att.RetryAfter()))
		a.log.WarnContext(r.Context(), what+" throttled", "network", a.clientNetwork(r), "retry_after_s", p.retryAfter)
		return p
	}
	return nil
}

// loginSucceeded tells the guard that an attempt's password was right: the
// attempt is given back and the browser gets its device cookie. A failure
// to reach the counts is logged; the sign-in stands.
func (a *app) loginSucceeded(w http.ResponseWriter, r *http.Request, att *throttle.Attempt) {
	if err := a.guard.LoginSucceeded(w, att); err != nil {
		a.log.WarnContext(r.Context(), "throttle: sign-in not given back", "error", err)
	}
}

// abandon gives back an attempt that the user store could not answer: the
// user did nothing wrong.
func (a *app) abandon(r *http.Request, att *throttle.Attempt) {
	if err := att.Abandon(); err != nil {
		a.log.WarnContext(r.Context(), "throttle: attempt not given back", "error", err)
	}
}
