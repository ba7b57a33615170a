package main

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// problem is a request that cannot be served as asked. The JSON API answers
// its status and stable code ({"error": code}); a page shows the sentence
// for people and puts the focus on the field to fix.
type problem struct {
	status int
	code   string // the JSON API's error, kept stable for clients
	human  string // what a page says
	field  string // the id of the input to fix, or ""
	// retryAfter, when positive, is sent as the Retry-After header (seconds).
	retryAfter int
}

func (p *problem) Error() string { return p.code }

// withField returns a copy of p that points at another input.
func (p problem) withField(field string) *problem {
	p.field = field
	return &p
}

// Problems shared by several handlers. Handlers make their own for the rest.
var (
	errInvalidCredentials = &problem{status: http.StatusUnauthorized, code: "invalid credentials",
		human: "That username and password do not match. Check both and try again.", field: "password"}
	errSessionStoreDown = &problem{status: http.StatusServiceUnavailable, code: "session store unavailable",
		human: "We cannot sign you in or out right now. Please try again in a minute."}
	errSessionCheckDown = &problem{status: http.StatusServiceUnavailable, code: "session store unavailable",
		human: "Your session cannot be checked right now. You are still signed in: please try again in a minute."}
	errUserStoreDown = &problem{status: http.StatusServiceUnavailable, code: "user store unavailable",
		human: "Your account cannot be reached right now. Please try again in a minute."}
	errThrottleDown = &problem{status: http.StatusServiceUnavailable, code: "sign-in temporarily unavailable",
		human: "We cannot check sign-in attempts right now. Please try again in a minute."}
	errServerBusy = &problem{status: http.StatusServiceUnavailable, code: "server busy, try again", retryAfter: 1,
		human: "The server is busy right now. Please try again in a moment."}
	errConcurrentRenewal = &problem{status: http.StatusConflict, code: "session changing in another request; try again",
		human: "This session is being updated in another tab. Please try again."}
	errUnreadableForm = &problem{status: http.StatusBadRequest, code: "malformed request body",
		human: "The form could not be read. Please try again."}
)

// retrySeconds is a wait in whole seconds for Retry-After, rounded up, at
// least 1.
func retrySeconds(wait time.Duration) int {
	return max(int((wait+time.Second-1)/time.Second), 1)
}

// errThrottled is the answer to a sign-in (or a password change) that a
// spent budget refuses, secs seconds before it may be tried again.
func errThrottled(secs int) *problem {
	return &problem{
		status:     http.StatusTooManyRequests,
		code:       "too many failed sign-in attempts; try again later",
		human:      "Too many failed attempts. For your safety, please wait " + roughly(secs) + " and try again.",
		field:      "password",
		retryAfter: secs,
	}
}

// errCeremonyThrottled is the answer to a passwordless sign-in start (a
// passkey, "Sign in with") from an address that has made too many.
func errCeremonyThrottled(secs int) *problem {
	return &problem{
		status:     http.StatusTooManyRequests,
		code:       "too many sign-in attempts from this network; try again later",
		human:      "Too many sign-in attempts from your network. Please wait " + roughly(secs) + " and try again.",
		retryAfter: secs,
	}
}

// errRegisterThrottled is the answer to a sign-up from an address that has
// made too many.
func errRegisterThrottled(secs int) *problem {
	return &problem{
		status:     http.StatusTooManyRequests,
		code:       "too many sign-ups from this network; try again later",
		human:      "Too many accounts were created from your network. Please wait " + roughly(secs) + " and try again.",
		field:      "username",
		retryAfter: secs,
	}
}

// roughly says a wait in words: "a few seconds", "about a minute", "3
// minutes", "2 hours".
func roughly(secs int) string {
	switch {
	case secs < 10:
		return "a few seconds"
	case secs < 50:
		return strconv.Itoa(secs) + " seconds"
	case secs < 90:
		return "about a minute"
	case secs < 90*60:
		return fmt.Sprintf("%d minutes", (secs+59)/60)
	default:
		return fmt.Sprintf("%d hours", (secs+3599)/3600)
	}
}

// answer sends p: for an HTML form, page rendered with p's sentence and
// focus; for everyone else, JSON {"error": code}.
func (a *app) answer(w http.ResponseWriter, r *http.Request, p *problem, page string, d pageData) {
	if p.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(p.retryAfter))
	}
	if !isForm(r) {
		writeError(w, p.status, p.code)
		return
	}
	d.Error = p.human
	if p.field != "" {
		d.Focus = p.field
	}
	a.render(w, r, p.status, page, d)
}
