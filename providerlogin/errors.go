package providerlogin

import (
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"strings"
)

// Errors the handlers report. Each reaches Config.ErrorHandler wrapped with
// detail (errors.Is finds the sentinel); none carries a token, code, state,
// nonce or secret. WriteError turns them into a page or JSON body.
var (
	// ErrBadRequest: the callback's parameters are malformed or repeated,
	// or the request uses the wrong method or an unknown provider.
	ErrBadRequest = errors.New("providerlogin: malformed request")
	// ErrState: the state is missing, unknown, expired or already used, so
	// the response does not belong to a sign-in this browser started here.
	ErrState = errors.New("providerlogin: sign-in state missing, expired or already used")
	// ErrMixUp: the response was for another provider than the one whose
	// callback received it (a mix-up attack or a misconfiguration).
	ErrMixUp = errors.New("providerlogin: response from another provider")
	// ErrAccessDenied: the user (or the provider) declined the sign-in.
	ErrAccessDenied = errors.New("providerlogin: sign-in declined at the provider")
	// ErrProvider: the provider answered with an OAuth error other than
	// access_denied, or with a response this package cannot use.
	ErrProvider = errors.New("providerlogin: provider error")
	// ErrCodeRejected: the token endpoint refused the authorization code
	// (expired, already used, or not issued for this client and verifier).
	ErrCodeRejected = errors.New("providerlogin: authorization code rejected")
	// ErrProviderUnavailable: discovery, the token endpoint or the user-info
	// endpoint could not be reached or failed.
	ErrProviderUnavailable = errors.New("providerlogin: provider unavailable")
	// ErrInvalidIDToken: the ID token failed verification: signature,
	// issuer, audience, authorized party, expiry, nonce or access-token hash.
	ErrInvalidIDToken = errors.New("providerlogin: ID token not valid")
	// ErrInvalidUserInfo: the user-info answer names no usable subject, or
	// another subject than the ID token.
	ErrInvalidUserInfo = errors.New("providerlogin: user info not valid")
	// ErrDenied is for Config.User to return when the application refuses
	// the identity (an unverified email, a banned account): the visitor sees
	// a 403, not an outage.
	ErrDenied = errors.New("providerlogin: the application refused this account")
	// ErrUnavailable: Config.User failed for another reason, or the session
	// could not be saved.
	ErrUnavailable = errors.New("providerlogin: temporarily unavailable")
)

type errorInfo struct {
	status  int
	code    string
	message string
}

var errorTable = []struct {
	err error
	errorInfo
}{
	{ErrBadRequest, errorInfo{http.StatusBadRequest, "bad_request", "The sign-in request was not valid."}},
	{ErrState, errorInfo{http.StatusBadRequest, "invalid_state", "This sign-in has expired or was already used. Please start again."}},
	{ErrMixUp, errorInfo{http.StatusBadRequest, "provider_mismatch", "This sign-in response came from a different provider than the one you chose. Please start again."}},
	{ErrAccessDenied, errorInfo{http.StatusForbidden, "access_denied", "Sign-in was cancelled at the provider."}},
	{ErrCodeRejected, errorInfo{http.StatusBadRequest, "code_rejected", "The provider did not accept this sign-in any more (it expired or was already used). Please start again."}},
	{ErrInvalidIDToken, errorInfo{http.StatusBadGateway, "invalid_id_token", "The provider's answer could not be verified."}},
	{ErrInvalidUserInfo, errorInfo{http.StatusBadGateway, "invalid_userinfo", "The provider's answer could not be used."}},
	{ErrProvider, errorInfo{http.StatusBadGateway, "provider_error", "The provider reported an error."}},
	{ErrProviderUnavailable, errorInfo{http.StatusBadGateway, "provider_unavailable", "The provider could not be reached. Please try again later."}},
	{ErrDenied, errorInfo{http.StatusForbidden, "account_refused", "This account cannot sign in here."}},
	{ErrUnavailable, errorInfo{http.StatusServiceUnavailable, "unavailable", "Sign-in is temporarily unavailable. Please try again later."}},
}

func infoFor(err error) errorInfo {
	for _, e := range errorTable {
		if errors.Is(err, e.err) {
			return e.errorInfo
		}
	}
	return errorInfo{http.StatusServiceUnavailable, "unavailable", "Sign-in is temporarily unavailable. Please try again later."}
}

// StatusCode returns the HTTP status WriteError uses for err: 400 for
// requests that do not belong to a sign-in started here, 403 when the user
// or the application declined, 502 when the provider failed or answered
// something unverifiable, 503 otherwise. Never 500.
func StatusCode(err error) int { return infoFor(err).status }

// WriteError is the default Config.ErrorHandler. It answers with
// StatusCode(err) and a short fixed message: JSON {"error": code,
// "message": text} when the client asks for JSON (an Accept header naming
// application/json and not text/html), otherwise a small HTML page with a
// link home. The message never echoes the request or the provider's
// error_description.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	info := infoFor(err)
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if wantsJSON(r) {
		h.Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(info.status)
		json.NewEncoder(w).Encode(struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}{info.code, info.message})
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(info.status)
	errorPage.Execute(w, info)
}

func wantsJSON(r *http.Request) bool {
	a := r.Header.Get("Accept")
	return strings.Contains(a, "application/json") && !strings.Contains(a, "text/html")
}

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign-in failed</title>
<style>body{font-family:system-ui,sans-serif;background:#f3f4f6;margin:0}main{max-width:32rem;margin:4rem auto;background:#fff;border-radius:12px;padding:2rem;box-shadow:0 4px 20px #0002}h1{margin-top:0;font-size:1.4rem}</style></head>
<body><main id="signin-error" data-error="{{.Code}}"><h1>Sign-in failed</h1><p>{{.Message}}</p><p><a href="/">Back to the home page</a></p></main></body></html>
`))

// Code and Message expose errorInfo's fields to the template.
func (i errorInfo) Code() string    { return i.code }
func (i errorInfo) Message() string { return i.message }
