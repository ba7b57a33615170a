package main

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sessionauth/session"
)

// Linking a provider account to the signed-in user is a flow of its own:
// POST /account/link/NAME, behind a recent proof (as removing a way in is),
// leaves a link intent in the session and starts a sign-in with the
// provider; providerUser links an identity nobody has only while an intent
// for that provider is there. The first callback of the signed-in user
// takes the intent, whatever it brings, and a sign-in that fails or is
// cancelled drops it (providerError). Any other sign-in or step-up
// of a signed-in user with an unknown identity is refused, so a session
// with an old proof (a borrowed laptop, a stolen cookie) can neither step
// up through an account of its own at the provider nor make that account
// a way into this one.

// valueLinkIntent is the session value of a link intent: the provider's
// name and when the intent was made (Unix seconds), "NAME|SECONDS".
const valueLinkIntent = "link"

// linkIntentTTL is how long an intent waits for its provider's callback.
// The intent is made under a proof of at most recentAuth, so it links
// under one of at most recentAuth + linkIntentTTL: both are five minutes.
const linkIntentTTL = 5 * time.Minute

// ErrNotLinked: a signed-in user came back from the provider with an
// account that is linked to nobody, without asking to link it.
var ErrNotLinked = errors.New("provider account not linked to this user")

// linkProvider is POST /account/link/{provider}: the account page's "Link"
// button. RequireRecentAuth runs first.
func (a *app) linkProvider(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("provider")
	if _, ok := a.provider(name); a.signin == nil || !ok {
		writeError(w, http.StatusNotFound, "not found")
		return
	}
	s := session.FromContext(r.Context())
	if err := s.Set(valueLinkIntent, name+"|"+strconv.FormatInt(time.Now().Unix(), 10)); err != nil {
		a.answer(w, r, errSessionStoreDown, "error", pageData{Title: "Linking did not start"})
		return
	}
	// Start the sign-in as the provider's own "Sign in with" form would,
	// back to the account page.
	start := r.Clone(r.Context())
	start.URL = &url.URL{Path: a.signin.LoginPath(name)}
	start.Form = url.Values{"return_to": {"/"}}
	start.PostForm = start.Form
	a.signin.ServeHTTP(w, start)
}

// takeLinkIntent reports whether the session holds a fresh intent to link
// provider, and removes any intent it holds: one callback per intent.
func takeLinkIntent(s *session.Session, provider string) bool {
	v := s.Get(valueLinkIntent)
	if v == "" {
		return false
	}
	s.Delete(valueLinkIntent)
	name, at, ok := strings.Cut(v, "|")
	sec, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil || name != provider {
		return false
	}
	age := time.Since(time.Unix(sec, 0))
	return age >= -time.Minute && age <= linkIntentTTL
}
