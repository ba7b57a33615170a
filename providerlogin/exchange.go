package providerlogin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"golang.org/x/oauth2"
)

// exchangeError classifies a failed token request without keeping the
// provider's response body (which may echo what was sent). The request was
// made once (the auth style is never auto-detected), so whatever the
// answer, the code was not sent twice:
//
//   - invalid_grant: the code is expired or used: ErrState (start again);
//   - invalid_client, unauthorized_client: ErrInvalidConfig (the client ID,
//     secret or auth style is wrong);
//   - HTTP 5xx, server_error, temporarily_unavailable, a network error, a
//     timeout, or a success answer that is not a token response (not JSON,
//     no access token): ErrProviderUnavailable;
//   - any other OAuth error: ErrProvider.
func exchangeError(p *Provider, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		code := re.ErrorCode
		if len(code) > maxErrorCode {
			code = code[:maxErrorCode]
		}
		switch {
		case code == "invalid_grant":
			return fmt.Errorf("%w: %s answered invalid_grant", errCodeRejected, p.name)
		case code == "invalid_client" || code == "unauthorized_client":
			return fmt.Errorf("%w: %s token endpoint refused the client (%s): check ClientID, ClientSecret and AuthStyle", ErrInvalidConfig, p.name, code)
		case status >= http.StatusInternalServerError || code == "" || code == "server_error" || code == "temporarily_unavailable":
			return fmt.Errorf("%w: %s token endpoint answered HTTP %d %q", ErrProviderUnavailable, p.name, status, code)
		default:
			return fmt.Errorf("%w: %s token endpoint answered %q", ErrProvider, p.name, code)
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %s token endpoint timed out", ErrProviderUnavailable, p.name)
	}
	return fmt.Errorf("%w: %s token endpoint: %w", ErrProviderUnavailable, p.name, stripURLError(err))
}

// stripURLError drops the URL from a transport error, keeping its cause.
func stripURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
