package providerlogin

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
)

// Errors the constructors, Discover and the handlers report. A handler's
// error reaches Config.ErrorHandler wrapped with detail (errors.Is finds
// the sentinel); none carries a token, code, state, nonce or secret.
// WriteError turns them into a page or JSON body. An error that wraps none
// of these (Config.User failed, or the session store did: errors.Is finds
// your error or session.ErrStoreUnavailable) is a 503.
var (
	// ErrInvalidConfig: NewOIDC, NewOAuth2 or New was given a configuration
	// it cannot work with (the message names the field), or the provider
	// shows the configuration is wrong: its discovery document names
	// another issuer or is missing, or its token endpoint refuses this
	// client (invalid_client). Restarting does not help; fixing the
	// configuration does.
	ErrInvalidConfig = errors.New("providerlogin: invalid config")
	// ErrProviderUnavailable: the provider could not be reached or failed:
	// a network error or timeout, HTTP 5xx or 429, or a token or user-info answer
	// that is not the JSON it must be. Trying again later may work.
	ErrProviderUnavailable = errors.New("providerlogin: provider unavailable")
	// ErrProvider: the provider answered, but with an OAuth error other than
	// access_denied, or with an identity that failed verification: an ID
	// token with a bad signature, issuer, audience, authorized party,
	// expiry, nonce or access-token hash, or without an auth_time within
	// the max_age asked (for a step-up, from after it began), or user info
	// without a usable subject or naming
	// another subject than the ID token.
	ErrProvider = errors.New("providerlogin: provider answer refused")
	// ErrBadRequest: the callback's parameters are malformed or repeated,
	// or the request uses the wrong method or an unknown provider.
	ErrBadRequest = errors.New("providerlogin: malformed request")
	// ErrState: the sign-in is not (or no longer) valid: its state is
	// missing, unknown, expired or already used, or the token endpoint
	// refused its code (invalid_grant: expired, already used, or not issued
	// for this client and verifier). The visitor starts again.
	ErrState = errors.New("providerlogin: sign-in expired or already used")
	// ErrMixUp: the response was for another provider than the one whose
	// callback received it (a mix-up attack or a misconfiguration).
	ErrMixUp = errors.New("providerlogin: response from another provider")
	// ErrAccessDenied: the sign-in was refused: the user (or the provider)
	// declined it, or Config.User returned ErrAccessDenied (wrapped or
	// not) to refuse the account, an unverified email or a banned user, or
	// a step-up came back as another user than the one signed in.
	ErrAccessDenied = errors.New("providerlogin: access denied")
)

// Finer causes, for the page's code; each wraps one of the sentinels.
var (
	errDeclined       = fmt.Errorf("%w at the provider", ErrAccessDenied)
	errCodeRejected   = fmt.Errorf("%w: authorization code rejected", ErrState)
	errInvalidIDToken = fmt.Errorf("%w: ID token not valid", ErrProvider)
	errInvalidUser    = fmt.Errorf("%w: user info not valid", ErrProvider)
	errStaleAuth      = fmt.Errorf("%w: the provider did not authenticate the user recently enough", ErrProvider)
	errOtherUser      = fmt.Errorf("%w: the step-up signed in as another user", ErrAccessDenied)
)

type errorInfo struct {
	status  int
	code    string
	message string
}

const tryLater = "Sign-in is temporarily unavailable. Please try again later."

// errorTable maps errors to answers, first match wins: finer causes first.
var errorTable = []struct {
	err error
	errorInfo
}{
	{ErrBadRequest, errorInfo{http.StatusBadRequest, "bad_request", "The sign-in request was not valid."}},
	{errCodeRejected, errorInfo{http.StatusBadRequest, "code_rejected", "The provider did not accept this sign-in any more (it expired or was already used). Please start again."}},
	{ErrState, errorInfo{http.StatusBadRequest, "invalid_state", "This sign-in has expired or was already used. Please start again."}},
	{ErrMixUp, errorInfo{http.StatusBadRequest, "provider_mismatch", "This sign-in response came from a different provider than the one you chose. Please start again."}},
	{errDeclined, errorInfo{http.StatusForbidden, "access_denied", "Sign-in was cancelled at the provider."}},
	{errOtherUser, errorInfo{http.StatusForbidden, "other_user", "You confirmed with another account than the one signed in here. Nothing was changed."}},
	{ErrAccessDenied, errorInfo{http.StatusForbidden, "account_refused", "This account cannot sign in here."}},
	{errStaleAuth, errorInfo{http.StatusBadGateway, "stale_auth_time", "The provider did not confirm it was you recently enough. Please try again."}},
	{errInvalidIDToken, errorInfo{http.StatusBadGateway, "invalid_id_token", "The provider's answer could not be verified."}},
	{errInvalidUser, errorInfo{http.StatusBadGateway, "invalid_userinfo", "The provider's answer could not be used."}},
	{ErrProvider, errorInfo{http.StatusBadGateway, "provider_error", "The provider reported an error."}},
	{ErrProviderUnavailable, errorInfo{http.StatusBadGateway, "provider_unavailable", "The provider failed or could not be reached. Please try again in a moment."}},
	{ErrInvalidConfig, errorInfo{http.StatusServiceUnavailable, "misconfigured", "Sign-in with this provider is not set up correctly on this site. Please try again later or use another way to sign in."}},
}

func infoFor(err error) errorInfo {
	for _, e := range errorTable {
		if errors.Is(err, e.err) {
			return e.errorInfo
		}
	}
	return errorInfo{http.StatusServiceUnavailable, "unavailable", tryLater}
}

// WriteError is the default Config.ErrorHandler; a custom one may call it
// for the errors it does not render itself. It answers 400 for requests
// that do not belong to a sign-in started here (ErrBadRequest, ErrState,
// ErrMixUp), 403 when the user or the application declined
// (ErrAccessDenied), 502 when the provider failed or answered something
// unusable (ErrProvider, ErrProviderUnavailable), and 503 for a
// misconfiguration (ErrInvalidConfig) or a failure of the app's own
// (Config.User, the session store); never 500. The body is a short fixed
// message: JSON {"error": code, "message": text} when the client asks for
// JSON (an Accept header naming application/json and not text/html),
// otherwise a small HTML page with a link home. It never echoes the request
// or the provider's error_description.
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
