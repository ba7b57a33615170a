package providerlogin

import (
	"fmt"
	"net/url"
)

// Bounds on the callback's parameters. A state this package issued is 43
// characters; codes and issuers are far below these caps in practice.
const (
	maxCallbackQuery = 8 << 10
	maxState         = 128
	maxCode          = 2048
	maxIssuer        = 2048
	maxErrorCode     = 64
)

// callbackParams are the parameters of an authorization response.
type callbackParams struct {
	code, state, iss, errCode string
	hasIss                    bool
}

// parseCallback parses an authorization response's query. It refuses an
// oversized or badly encoded query, any of the parameters it reads given
// more than once (parameter pollution), and values outside their character
// sets or length caps. error_description and error_uri are ignored: they are
// never shown to the visitor. An unknown error code is reported as
// "invalid_error".
func parseCallback(rawQuery string) (callbackParams, error) {
	var p callbackParams
	if len(rawQuery) > maxCallbackQuery {
		return p, fmt.Errorf("%w: query too long", ErrBadRequest)
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return p, fmt.Errorf("%w: query does not parse", ErrBadRequest)
	}
	one := func(name string, limit int, valid func(byte) bool) (string, bool, error) {
		vs, ok := q[name]
		if !ok {
			return "", false, nil
		}
		if len(vs) != 1 {
			return "", true, fmt.Errorf("%w: %s given %d times", ErrBadRequest, name, len(vs))
		}
		v := vs[0]
		if len(v) > limit {
			return "", true, fmt.Errorf("%w: %s too long", ErrBadRequest, name)
		}
		for i := 0; i < len(v); i++ {
			if !valid(v[i]) {
				return "", true, fmt.Errorf("%w: %s has a character outside its set", ErrBadRequest, name)
			}
		}
		return v, true, nil
	}
	if p.state, _, err = one("state", maxState, isStateChar); err != nil {
		return p, err
	}
	if p.code, _, err = one("code", maxCode, isVSChar); err != nil {
		return p, err
	}
	if p.iss, p.hasIss, err = one("iss", maxIssuer, isVSChar); err != nil {
		return p, err
	}
	if p.errCode, _, err = one("error", maxErrorCode, isVSChar); err != nil {
		return p, err
	}
	if p.errCode != "" && !knownErrorCodes[p.errCode] {
		p.errCode = "invalid_error"
	}
	return p, nil
}

// isStateChar: the base64url alphabet this package's states use.
func isStateChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// isVSChar: printable ASCII, the character set of codes and error codes.
func isVSChar(c byte) bool { return 0x20 <= c && c <= 0x7e }

// knownErrorCodes are the authorization endpoint's error codes (OAuth 2.0
// and OpenID Connect); anything else is reported as "invalid_error".
var knownErrorCodes = map[string]bool{
	"invalid_request": true, "unauthorized_client": true, "access_denied": true,
	"unsupported_response_type": true, "invalid_scope": true, "server_error": true,
	"temporarily_unavailable": true, "interaction_required": true, "login_required": true,
	"account_selection_required": true, "consent_required": true, "invalid_request_uri": true,
	"invalid_request_object": true, "request_not_supported": true, "request_uri_not_supported": true,
	"registration_not_supported": true,
}
