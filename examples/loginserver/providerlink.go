package main

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sessionauth/session"
)

// Linking a provider account to the signed-in user is a flow of its own:
// POST /account/link/NAME, behind a recent proof by someone at the
// keyboard (see wayInProofs), starts a sign-in with the provider and
// leaves a link intent in the session, bound to that sign-in's OAuth
// state. providerUser links an identity nobody has only on the callback
// that carries this state: the flow the Link button started, once. That
// callback takes the intent, whatever it brings, and drops it when the
// sign-in fails or is cancelled (providerError). Any other sign-in or
// step-up of a signed-in user with an unknown identity is refused, so a
// session with an old proof (a borrowed laptop, a stolen cookie) can
// neither step up through an account of its own at the provider nor make
// that account a way into this one, not even with a callback it prepared
// to arrive while the user links.

// valueLinkIntent is the session value of a link intent: the provider's
// name, when the intent was made (Unix seconds) and the state of the
// sign-in it started, "NAME|SECONDS|STATE". The state is in the session
// already, in the pending flow providerlogin keeps there.
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
	// Start the sign-in as the provider's own "Sign in with" form would,
	// back to the account page, into a buffer: its redirect to the
	// provider names the state, which the intent needs before the session
	// is saved (as the response goes out).
	start := r.Clone(r.Context())
	start.URL = &url.URL{Path: a.signin.LoginPath(name)}
	start.Form = url.Values{"return_to": {"/"}}
	start.PostForm = start.Form
	res := &bufferedResponse{header: http.Header{}}
	a.signin.ServeHTTP(res, start)
	if state := redirectState(res); state != "" {
		s := session.FromContext(r.Context())
		if err := s.Set(valueLinkIntent, name+"|"+strconv.FormatInt(time.Now().Unix(), 10)+"|"+state); err != nil {
			a.answer(w, r, errSessionStoreDown, "error", pageData{Title: "Linking did not start"})
			return
		}
	}
	// No state: the sign-in did not start, and res is its error page.
	res.writeTo(w)
}

// redirectState returns the state of a sign-in start's redirect to the
// provider, or "" when res is not one.
func redirectState(res *bufferedResponse) string {
	if res.code != http.StatusSeeOther {
		return ""
	}
	u, err := url.Parse(res.header.Get("Location"))
	if err != nil {
		return ""
	}
	return u.Query().Get("state")
}

// takeLinkIntent reports whether the session holds a fresh intent to link
// provider made for the sign-in whose callback carries state, and then
// removes it: one callback per intent. An intent for another sign-in
// stays for its own callback.
func takeLinkIntent(s *session.Session, provider, state string) bool {
	name, at, ok := linkIntent(s, state)
	if !ok {
		return false
	}
	s.Delete(valueLinkIntent)
	sec, err := strconv.ParseInt(at, 10, 64)
	if err != nil || name != provider {
		return false
	}
	age := time.Since(time.Unix(sec, 0))
	return age >= -time.Minute && age <= linkIntentTTL
}

// dropLinkIntent removes the session's link intent when it was made for
// the sign-in whose callback carries state (a link that failed or was
// cancelled), and leaves any other.
func dropLinkIntent(s *session.Session, state string) {
	if _, _, ok := linkIntent(s, state); ok {
		s.Delete(valueLinkIntent)
	}
}

// linkIntent returns the provider and time of the session's link intent
// when it was made for the sign-in of state.
func linkIntent(s *session.Session, state string) (name, at string, ok bool) {
	v := s.Get(valueLinkIntent)
	name, rest, ok1 := strings.Cut(v, "|")
	at, want, ok2 := strings.Cut(rest, "|")
	if !ok1 || !ok2 || state == "" || subtle.ConstantTimeCompare([]byte(want), []byte(state)) != 1 {
		return "", "", false
	}
	return name, at, true
}

// callbackStateKey is the context key of a provider callback's state.
type callbackStateKey struct{}

// withCallbackState wraps the "Sign in with" handler: a callback's
// context carries its state, for providerUser and providerError to tell
// the link flow's callback from any other (providerlogin checks the state
// against the session's pending sign-ins before either runs).
func withCallbackState(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/callback") {
			r = r.WithContext(context.WithValue(r.Context(), callbackStateKey{}, r.URL.Query().Get("state")))
		}
		next.ServeHTTP(w, r)
	})
}

// callbackState returns the state of the provider callback ctx belongs
// to, or "".
func callbackState(ctx context.Context) string {
	v, _ := ctx.Value(callbackStateKey{}).(string)
	return v
}

// bufferedResponse holds a response until writeTo sends it.
type bufferedResponse struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(code int) {
	if b.code == 0 {
		b.code = code
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.body.Write(p)
}

// writeTo sends the response to w.
func (b *bufferedResponse) writeTo(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	if b.code == 0 {
		b.code = http.StatusOK
	}
	w.WriteHeader(b.code)
	w.Write(b.body.Bytes())
}
