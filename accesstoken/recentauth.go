package accesstoken

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Why RequireRecentAuth refuses a token: the error_description of its
// challenge and body.
const (
	descNoAuthTime = "the access token does not say when the user authenticated"
	descStale      = "the user authenticated too long ago"
	descMethod     = "the user authenticated with another method"
)

// RequireRecentAuth returns a middleware for the routes that matter
// (changing a password, moving money): like Middleware it lets through
// only requests with a valid token of ours, and in addition only when the
// user proved who they are at most maxAge ago (the token's auth_time: the
// session's Login or last session.Manager.StepUp) and, when methods are
// given, that proof used at least one of them (the token's amr: "hwk",
// "pwd", …). maxAge 0 checks only the methods. It mirrors the root's
// Manager.RequireRecentAuth for bearer tokens.
//
// A token that passes verification but not these checks gets RFC 9470's
// step-up challenge, 401 with
//
//	WWW-Authenticate: Bearer error="insufficient_user_authentication",
//	  error_description="the user authenticated too long ago", max_age=300
//
// (max_age in seconds, rounded up, when maxAge is set) and the JSON body
// {"error":"insufficient_user_authentication","error_description":…,
// "max_age":300}, with "amr": methods when given. The client asks the user
// to prove who they are again (the app calls StepUp), mints a new token and
// retries. A token with no auth_time (minted before this release) is
// refused the same way. Other refusals are Middleware's.
//
// To also stop tokens of ended sessions, put Strict in front:
// Strict(RequireRecentAuth(...)(h)); the second verification is a cache
// hit. It panics when maxAge is negative or between 0 and one second,
// when it is 0 and no methods are given, or when a method is not 1 to 32
// bytes of a-z, 0-9, '_' and '-': programming errors. Cost: Verify, a
// clock read and a comparison of a few bytes per method.
func (i *Issuer) RequireRecentAuth(maxAge time.Duration, methods ...string) func(http.Handler) http.Handler {
	switch {
	case maxAge < 0 || (maxAge > 0 && maxAge < time.Second):
		panic("accesstoken: RequireRecentAuth: maxAge must be 0 or at least one second")
	case maxAge == 0 && len(methods) == 0:
		panic("accesstoken: RequireRecentAuth: neither maxAge nor methods")
	}
	want := append([]string(nil), methods...)
	for _, m := range want {
		if !validMethod(m) {
			panic(fmt.Sprintf("accesstoken: RequireRecentAuth: %q is not an amr value", m))
		}
	}
	secs := int64((maxAge + time.Second - 1) / time.Second)
	answers := map[string]stepUpAnswer{}
	for _, desc := range []string{descNoAuthTime, descStale, descMethod} {
		challenge := `Bearer error="insufficient_user_authentication", error_description="` + desc + `"`
		if secs > 0 {
			challenge += ", max_age=" + strconv.FormatInt(secs, 10)
		}
		body, _ := json.Marshal(struct {
			Error       string   `json:"error"`
			Description string   `json:"error_description"`
			MaxAge      int64    `json:"max_age,omitempty"`
			AMR         []string `json:"amr,omitempty"`
		}{"insufficient_user_authentication", desc, secs, want})
		answers[desc] = stepUpAnswer{challenge, append(body, '\n')}
	}
	check := func(r *http.Request, c *Claims) error {
		var desc string
		switch {
		case maxAge > 0 && c.AuthTime.IsZero():
			desc = descNoAuthTime
		case len(want) > 0 && !anyMethod(c.AuthMethods, want):
			desc = descMethod
		case maxAge > 0 && i.now().Sub(c.AuthTime) > maxAge:
			desc = descStale
		default:
			return nil
		}
		return answers[desc]
	}
	return func(next http.Handler) http.Handler {
		return requireBearer(i.Verify, check, next)
	}
}

// stepUpAnswer is RequireRecentAuth's refusal, as an error that refuse
// writes out.
type stepUpAnswer struct {
	challenge string
	body      []byte
}

func (a stepUpAnswer) Error() string { return "accesstoken: insufficient user authentication" }

// write answers 401 with the step-up challenge and its body.
func (a stepUpAnswer) write(w http.ResponseWriter) {
	h := w.Header()
	h.Set("WWW-Authenticate", a.challenge)
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusUnauthorized)
	w.Write(a.body)
}

// anyMethod reports whether got holds one of want.
func anyMethod(got, want []string) bool {
	for _, g := range got {
		for _, w := range want {
			if g == w {
				return true
			}
		}
	}
	return false
}

// validMethod reports whether m is an amr value the root's
// session.ProvedWith accepts: 1 to 32 bytes of a-z, 0-9, '_' and '-'.
func validMethod(m string) bool {
	if len(m) == 0 || len(m) > 32 {
		return false
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
