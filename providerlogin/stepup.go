package providerlogin

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/sessionauth/session"
)

// Step-up through the provider: a sign-in started with a max_age field
// asks the provider for a fresh authentication (max_age, prompt=login) and
// checks the ID token's auth_time; started by a signed-in visitor, its
// callback records a fresh proof on their session (Manager.StepUp) instead
// of signing in, for the same user only.

// maxAgeField is the form field asking for a recent authentication at the
// provider (and, from a signed-in visitor, a step-up); maxMaxAge bounds it.
const (
	maxAgeField = "max_age"
	maxMaxAge   = 24 * 60 * 60
)

// parseMaxAge reads the max_age field: absent (nil), or once, decimal
// digits from 0 to a day.
func parseMaxAge(vs []string) (*int64, error) {
	if len(vs) == 0 {
		return nil, nil
	}
	bad := fmt.Errorf("%w: max_age must be given once, in seconds from 0 to %d", ErrBadRequest, maxMaxAge)
	if len(vs) != 1 || vs[0] == "" || len(vs[0]) > 5 {
		return nil, bad
	}
	for i := 0; i < len(vs[0]); i++ {
		if vs[0][i] < '0' || vs[0][i] > '9' {
			return nil, bad
		}
	}
	n, _ := strconv.ParseInt(vs[0], 10, 64)
	if n > maxMaxAge {
		return nil, bad
	}
	return &n, nil
}

// authTimeSkew is how much older than max_age an auth_time may be: the
// redirect back from the provider and clock skew between it and us.
const authTimeSkew = time.Minute

// provedWith returns the methods a sign-in or step-up records: the ID
// token's amr when its auth_time shows the user authenticated during this
// flow (started at start, less authTimeSkew, and not after now, plus
// clockSkew), else "fed". The session's AuthTime is the callback's time;
// the provider's amr of an earlier authentication (a single sign-on days
// after the password was typed) must not pass for a fresh "pwd" or "hwk",
// nor one stamped with a time still to come.
func provedWith(id Identity, start, now time.Time) []string {
	if len(id.AuthMethods) == 0 || id.AuthTime.IsZero() || id.AuthTime.Before(start.Add(-authTimeSkew)) || id.AuthTime.After(now.Add(clockSkew)) {
		return []string{"fed"}
	}
	return id.AuthMethods
}

// checkAuthTime refuses an identity whose auth_time is missing, older
// than maxAge seconds (plus authTimeSkew) at now, or in the future (beyond
// clockSkew): the provider did not authenticate the user as recently as
// asked.
func checkAuthTime(id Identity, maxAge int64, now time.Time) error {
	switch {
	case id.AuthTime.IsZero():
		return fmt.Errorf("%w: no auth_time although max_age was requested", errStaleAuth)
	case now.Sub(id.AuthTime) > time.Duration(maxAge)*time.Second+authTimeSkew:
		return fmt.Errorf("%w: auth_time is %v before the callback, max_age %ds", errStaleAuth, now.Sub(id.AuthTime).Truncate(time.Second), maxAge)
	case id.AuthTime.After(now.Add(clockSkew)):
		return fmt.Errorf("%w: auth_time in the future", errStaleAuth)
	}
	return nil
}

// checkStepUpAuthTime refuses a step-up whose auth_time is from before
// the flow started (less authTimeSkew): StepUp records the callback's time
// as the proof's, which is true only of an authentication during the flow.
// max_age cannot bound this: it is a form field, the browser's to choose.
func checkStepUpAuthTime(id Identity, start time.Time) error {
	if id.AuthTime.IsZero() || id.AuthTime.Before(start.Add(-authTimeSkew)) {
		return fmt.Errorf("%w: a step-up needs an authentication after it started", errStaleAuth)
	}
	return nil
}

// stepUp finishes a step-up: the identity must be the user signed in now
// and when it started; then Manager.StepUp records a fresh proof on the
// session (a new session ID, no new login). Otherwise nothing changes:
// never a switch of user.
func (h *Handler) stepUp(w http.ResponseWriter, r *http.Request, f flow, userID string, methods []string) {
	current := session.FromContext(r.Context()).UserID()
	if current != f.StepUp || userID != current {
		h.fail(w, r, fmt.Errorf("%w (%s)", errOtherUser, f.Provider))
		return
	}
	if err := h.sessions.StepUp(w, r, methods...); err != nil {
		h.fail(w, r, fmt.Errorf("providerlogin: step-up: %w", err))
		return
	}
	redirect(w, f.Return)
}
