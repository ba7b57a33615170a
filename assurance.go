package session

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Authentication assurance: a signed-in session knows when its user last
// proved who they are and how (RFC 8176 "amr" values). Login records the
// first proof, StepUp a fresh one, RequireRecentAuth asks for one.

// maxAMR and maxAMRLen bound a proof's methods: at most 8 values of at most
// 32 bytes, joined by single spaces.
const (
	maxAMR    = 8
	maxAMRLen = maxAMR*32 + maxAMR - 1
)

// ProvedWith records how the user just proved who they are, for Login: one
// to eight RFC 8176 "amr" values such as "pwd" (a password), "hwk" or "swk"
// (a hardware- or software-bound key, such as a passkey), "otp", "fed" (a
// provider's sign-in) or "mfa", each 1 to 32 bytes of a-z, 0-9, '_' and
// '-'. Login returns ErrInvalidAuthMethod for anything else. Without it,
// Login records the login time and no methods. Session.AuthMethods and
// ListSessions show them; RequireRecentAuth can demand one of them. Cost: a
// few dozen bytes more in the session record (or cookie).
func ProvedWith(methods ...string) LoginOption {
	amr, err := joinAMR(methods)
	return func(o *loginOptions) { o.amr, o.amrErr = amr, err }
}

// joinAMR checks methods and joins them with single spaces.
func joinAMR(methods []string) (string, error) {
	if len(methods) == 0 || len(methods) > maxAMR {
		return "", ErrInvalidAuthMethod
	}
	for _, v := range methods {
		if len(v) == 0 || len(v) > 32 || !amrBytes(v) {
			return "", ErrInvalidAuthMethod
		}
	}
	return strings.Join(methods, " "), nil
}

// amrBytes reports whether every byte of v is one of a-z, 0-9, '_', '-'.
func amrBytes[T string | []byte](v T) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// validAMR reports whether b is what joinAMR returns for some valid list.
// It does not allocate.
func validAMR(b []byte) bool {
	if len(b) == 0 || len(b) > maxAMRLen {
		return false
	}
	n, start := 0, 0
	for i := 0; i <= len(b); i++ {
		if i < len(b) && b[i] != ' ' {
			continue
		}
		if l := i - start; l == 0 || l > 32 || !amrBytes(b[start:i]) {
			return false
		}
		n++
		start = i + 1
	}
	return n <= maxAMR
}

// internAMR returns b as a string, without allocating for the method lists
// most sessions carry.
func internAMR(b []byte) string {
	switch string(b) {
	case "":
		return ""
	case "pwd":
		return "pwd"
	case "hwk":
		return "hwk"
	case "swk":
		return "swk"
	case "otp":
		return "otp"
	case "fed":
		return "fed"
	case "mfa":
		return "mfa"
	case "pwd otp":
		return "pwd otp"
	case "mfa pwd otp":
		return "mfa pwd otp"
	}
	return string(b)
}

// splitAMR returns the methods of a joined list, nil for none.
func splitAMR(amr string) []string {
	if amr == "" {
		return nil
	}
	return strings.Split(amr, " ")
}

// hasAnyAMR reports whether the joined list amr holds one of want.
func hasAnyAMR(amr string, want []string) bool {
	for amr != "" {
		v := amr
		if i := strings.IndexByte(amr, ' '); i >= 0 {
			v, amr = amr[:i], amr[i+1:]
		} else {
			amr = ""
		}
		for _, w := range want {
			if v == w {
				return true
			}
		}
	}
	return false
}

// AuthTime returns when the signed-in user last proved who they are: their
// Login, or their last StepUp. It is the zero time for an anonymous
// request. A session created before this was recorded reports its Login
// time (its creation time).
func (s *Session) AuthTime() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensureLoaded()
	if s.userID == "" {
		return time.Time{}
	}
	return s.header.authTime
}

// AuthMethods returns the RFC 8176 "amr" values of the user's last proof
// (see ProvedWith and StepUp), or nil when none were recorded or the
// request is anonymous. The slice is the caller's.
func (s *Session) AuthMethods() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensureLoaded()
	if s.userID == "" {
		return nil
	}
	return splitAMR(s.header.amr)
}

// StepUp records a fresh proof of identity on the request's signed-in
// session — the user has just given their password again, or used a
// passkey — without signing in again: same user, values, remember-me,
// creation time and absolute lifetime, with AuthTime now and AuthMethods
// methods (as for ProvedWith; else ErrInvalidAuthMethod). Like any change
// of privilege it gives the session a new ID and token, and the old token
// is dead at once (ListSessions still shows one session). It returns
// ErrNotAuthenticated for an anonymous request, or when the session was
// logged out meanwhile, and ErrConflict when another request is renewing
// the same session at that moment; nothing changes then.
//
// r must have passed through m's Middleware; w is the handler's
// ResponseWriter, on which the new cookie goes out. Call it before writing
// the response (ErrHeadersWritten afterwards). Cost: as Renew, two store
// creates, a write and a delete. In cookie-only mode no store call and a
// new session ID, but the old cookie, which carries the older proof, stays
// valid until it expires; ErrCookieTooLarge when the session would no
// longer fit in its cookie.
func (m *Manager) StepUp(w http.ResponseWriter, r *http.Request, methods ...string) error {
	amr, err := joinAMR(methods)
	if err != nil {
		return err
	}
	return m.renewRequest(w, r, false, &proof{amr: amr})
}

// proof is what StepUp records: the methods, at the time of the renewal.
type proof struct{ amr string }

// withProof returns h with a fresh proof at now (never before the
// session's creation, whatever the clocks of the instances say).
func (p *proof) withProof(h recordHeader, now time.Time) recordHeader {
	if p == nil {
		return h
	}
	h.authTime, h.amr = now, p.amr
	if now.Before(h.created) {
		h.authTime = h.created
	}
	return h
}

// Reasons RequireRecentAuth gives.
const (
	reasonSignedOut = "signed_out"
	reasonStale     = "stale"
	reasonMethod    = "method"
)

// RequireRecentAuth returns a middleware that lets a request through only
// when its session is signed in, its user proved who they are at most
// maxAge ago (Login or StepUp), and, when methods are given, that proof
// used at least one of them ("hwk", "pwd", …). Put it in front of what
// matters: changing a password, signing out everywhere, removing a passkey.
// It never creates a session and never lets a request through silently:
//
//   - A request that does not ask for HTML (an API call) gets 401 with
//     "Cache-Control: no-store", "WWW-Authenticate: Bearer
//     error="insufficient_user_authentication", max_age=300" (RFC 9470's
//     challenge; max_age in seconds, rounded up) and the JSON body
//     {"error":"insufficient_user_authentication","reason":R,"max_age":300},
//     with "amr": the methods when given. R is "stale" (no proof within
//     maxAge) or "method" (the last proof used none of methods). A request
//     with no session sent no credentials, so, as RFC 6750 asks, its
//     challenge is a bare "Bearer" and its body's "error" "unauthorized",
//     with R "signed_out".
//   - A request whose Accept header names text/html (a page) is redirected
//     (303) to Config.StepUpURL with the query parameter "return" set to the
//     request's path and query, when StepUpURL is set; the page there asks
//     for the password or a passkey, calls StepUp, and sends the user back
//     to return after checking it is a path of this site. Without
//     StepUpURL, pages get the 401 too. Wrap the route in RequireAuth as
//     well to send signed-out visitors to Config.Unauthenticated instead.
//   - When the store could not be read, Config.ErrorHandler answers (503 by
//     default), as in RequireAuth.
//
// It applies Middleware itself when the request has not been through it.
// It panics when maxAge is below one second or a method is not a valid
// "amr" value (see ProvedWith): both are programming errors. Cost per
// request on top of RequireAuth's: a clock read and a comparison of a few
// bytes per method; no store call, no allocation when it lets the request
// through.
func (m *Manager) RequireRecentAuth(maxAge time.Duration, methods ...string) func(http.Handler) http.Handler {
	if maxAge < time.Second {
		panic("session: RequireRecentAuth: maxAge must be at least one second")
	}
	want := append([]string(nil), methods...)
	if len(want) > 0 {
		if _, err := joinAMR(want); err != nil {
			panic(fmt.Sprintf("session: RequireRecentAuth: %v", err))
		}
	}
	secs := int64((maxAge + time.Second - 1) / time.Second)
	challenge := `Bearer error="insufficient_user_authentication", max_age=` + strconv.FormatInt(secs, 10)
	bodies := make(map[string][]byte, 3)
	for _, reason := range []string{reasonSignedOut, reasonStale, reasonMethod} {
		code := "insufficient_user_authentication"
		if reason == reasonSignedOut {
			code = "unauthorized" // no credentials: no error code in the challenge (RFC 6750, 3.1)
		}
		b, _ := json.Marshal(struct {
			Error  string   `json:"error"`
			Reason string   `json:"reason"`
			MaxAge int64    `json:"max_age"`
			AMR    []string `json:"amr,omitempty"`
		}{code, reason, secs, want})
		bodies[reason] = append(b, '\n')
	}
	refuse := func(w http.ResponseWriter, r *http.Request, reason string) {
		if m.stepUpURL != "" && acceptsHTML(r) {
			http.Redirect(w, r, m.stepUpRedirect(r), http.StatusSeeOther)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		if reason == reasonSignedOut {
			h.Set("WWW-Authenticate", "Bearer")
		} else {
			h.Set("WWW-Authenticate", challenge)
		}
		w.WriteHeader(http.StatusUnauthorized)
		w.Write(bodies[reason])
	}
	return func(next http.Handler) http.Handler {
		check := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, _ := m.own(r.Context())
			s.mu.Lock()
			s.ensureLoaded()
			loadErr, userID, authTime, amr := s.loadErr, s.userID, s.header.authTime, s.header.amr
			s.mu.Unlock()
			switch {
			case loadErr != nil:
				m.onError(w, r, fmt.Errorf("%w: %w", ErrStoreUnavailable, loadErr))
			case userID == "":
				refuse(w, r, reasonSignedOut)
			case len(want) > 0 && !hasAnyAMR(amr, want):
				refuse(w, r, reasonMethod)
			case m.now().Sub(authTime) > maxAge:
				refuse(w, r, reasonStale)
			default:
				next.ServeHTTP(w, r)
			}
		})
		return m.ensureMiddleware(check)
	}
}

// acceptsHTML reports whether the request asks for a page: its Accept
// header names text/html, as browsers' navigations and form posts do.
func acceptsHTML(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		if strings.Contains(strings.ToLower(v), "text/html") {
			return true
		}
	}
	return false
}

// stepUpRedirect is Config.StepUpURL with "return" set to the request's
// path and query: always a path of this site ("/" when the request's is
// not one a redirect could safely go back to).
func (m *Manager) stepUpRedirect(r *http.Request) string {
	ret := r.URL.EscapedPath()
	if !localPath(ret) {
		ret = "/"
	} else if r.URL.RawQuery != "" {
		ret += "?" + r.URL.RawQuery
	}
	u, _ := url.Parse(m.stepUpURL) // checked in New
	q := u.Query()
	q.Set("return", ret)
	u.RawQuery = q.Encode()
	return u.String()
}

// localPath reports whether p is a path of this site that a browser cannot
// read as another host: it starts with one '/' and holds no backslash or
// control character.
func localPath(p string) bool {
	if len(p) == 0 || p[0] != '/' || (len(p) > 1 && (p[1] == '/' || p[1] == '\\')) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] == '\\' || p[i] < 0x20 || p[i] == 0x7f {
			return false
		}
	}
	return true
}

// checkStepUpURL checks Config.StepUpURL: empty, or a path of this site
// (with an optional query).
func checkStepUpURL(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Fragment != "" || !localPath(u.EscapedPath()) || !localPath(v) {
		return fmt.Errorf("%w: StepUpURL must be a path of this site, such as /confirm", ErrInvalidConfig)
	}
	return nil
}
