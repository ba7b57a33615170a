package accesstoken

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// bearerToken returns the token of the request's single
// `Authorization: Bearer <token>` header. Tokens are never read from the
// query string or a form. No header, or another scheme, is
// errNoBearerToken; several Authorization headers, or a Bearer header whose
// token is empty or has characters outside RFC 6750's b64token, is
// errInvalidRequest.
func bearerToken(r *http.Request) (string, error) {
	values := r.Header.Values("Authorization")
	switch len(values) {
	case 0:
		return "", errNoBearerToken
	case 1:
	default:
		return "", errInvalidRequest
	}
	scheme, token, _ := strings.Cut(values[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", errNoBearerToken
	}
	token = strings.TrimLeft(token, " ")
	if token == "" || !isB64Token(token) {
		return "", errInvalidRequest
	}
	return token, nil
}

// isB64Token reports whether s matches RFC 6750's b64token:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isB64Token(s string) bool {
	end := len(s)
	for end > 0 && s[end-1] == '=' {
		end--
	}
	if end == 0 {
		return false
	}
	for i := 0; i < end; i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}

// refuse answers a request whose token did not pass, as RFC 6750 section 3
// says, with a JSON body whose "error" always agrees with the challenge:
// 401 with a bare `Bearer` challenge and "unauthorized" when there was no
// token, 400 invalid_request for a malformed header, 401 invalid_token for
// a refused token, RequireRecentAuth's 401 insufficient_user_authentication
// for a token whose proof is too old or of another kind, and 503
// temporarily_unavailable when the keys or the session store could not be
// reached. The description never contains the
// token.
func refuse(w http.ResponseWriter, err error) {
	h := w.Header()
	var stepUp stepUpAnswer
	switch {
	case errors.As(err, &stepUp):
		stepUp.write(w)
	case errors.Is(err, errNoBearerToken):
		// No credentials: RFC 6750 section 3.1 wants no error code in the
		// challenge, so the body carries none of RFC 6750's codes either.
		h.Set("WWW-Authenticate", "Bearer")
		writeError(w, http.StatusUnauthorized, "unauthorized", "an access token is required")
	case errors.Is(err, errInvalidRequest):
		h.Set("WWW-Authenticate", `Bearer error="invalid_request", error_description="malformed Authorization header"`)
		writeError(w, http.StatusBadRequest, "invalid_request", "malformed Authorization header")
	case errors.Is(err, ErrInvalidToken):
		desc := describe(err)
		h.Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="`+desc+`"`)
		writeError(w, http.StatusUnauthorized, "invalid_token", desc)
	default: // provider keys or session store unavailable
		h.Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "try again later")
	}
}

// describe returns a fixed error_description for a refusal (only characters
// RFC 6750 allows in it).
func describe(err error) string {
	switch {
	case errors.Is(err, ErrExpired):
		return "the access token expired"
	case errors.Is(err, errNotYetValid):
		return "the access token is not valid yet"
	case errors.Is(err, errSessionEnded):
		return "the session of the access token has ended"
	case errors.Is(err, errTooLarge):
		return "the access token is too large"
	}
	return "the access token is invalid"
}

// writeError writes an OAuth-style JSON error that no cache keeps.
func writeError(w http.ResponseWriter, code int, errCode, desc string) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(struct {
		Error       string `json:"error"`
		Description string `json:"error_description,omitempty"`
	}{errCode, desc})
}
