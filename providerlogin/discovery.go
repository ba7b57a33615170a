package providerlogin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// maxDiscovery bounds the discovery document read; maxShownIssuer, how
// much of a foreign issuer an error quotes.
const (
	maxDiscovery   = 1 << 20
	maxShownIssuer = 200
)

// discovered is what OpenID Connect discovery found.
type discovered struct {
	provider       *oidc.Provider
	verifier       *oidc.IDTokenVerifier
	endSession     string
	issParamAlways bool             // authorization_response_iss_parameter_supported
	authStyle      oauth2.AuthStyle // never AuthStyleAutoDetect
}

// discoveryDoc is the part of the discovery document this package reads.
type discoveryDoc struct {
	Issuer           string   `json:"issuer"`
	AuthURL          string   `json:"authorization_endpoint"`
	TokenURL         string   `json:"token_endpoint"`
	UserInfoURL      string   `json:"userinfo_endpoint"`
	JWKSURL          string   `json:"jwks_uri"`
	Algorithms       []string `json:"id_token_signing_alg_values_supported"`
	EndSession       string   `json:"end_session_endpoint"`
	IssParam         bool     `json:"authorization_response_iss_parameter_supported"`
	TokenAuthMethods []string `json:"token_endpoint_auth_methods_supported"`
}

// signingAlgorithms are the ID-token algorithms accepted (go-oidc's
// asymmetric ones: never "none" or a shared-secret MAC).
var signingAlgorithms = []string{"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "EdDSA"}

// discover runs OpenID Connect discovery once, remembering success and, for
// rediscoverAfter, a failure that was not the caller's ctx ending.
// Concurrent first sign-ins wait for one fetch.
func (p *Provider) discover(ctx context.Context, client *http.Client) (*discovered, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.disc != nil {
		return p.disc, nil
	}
	if p.discErr != nil && time.Since(p.discFailed) < rediscoverAfter {
		return nil, p.discErr
	}
	d, err := p.fetchDiscovery(ctx, client)
	if err != nil {
		// A failure because the caller gave up (ctx ended) says nothing
		// about the provider: the next sign-in tries again at once.
		if ctx.Err() == nil {
			p.discErr, p.discFailed = err, time.Now()
		}
		return nil, err
	}
	p.disc, p.discErr = d, nil
	return d, nil
}

// fetchDiscovery reads and checks the discovery document. A provider that
// cannot be reached or answers 5xx, 429 or 408 is ErrProviderUnavailable; any other
// answer that is not a discovery document for exactly the configured issuer
// is ErrInvalidConfig: retrying will not fix it.
func (p *Provider) fetchDiscovery(ctx context.Context, client *http.Client) (*discovered, error) {
	ctx, cancel := context.WithTimeout(ctx, providerTimeout)
	defer cancel()
	where := strings.TrimSuffix(p.issuer, "/") + "/.well-known/openid-configuration"
	unavailable := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s: discovery at %s: %s", ErrProviderUnavailable, p.name, where, fmt.Sprintf(format, a...))
	}
	misconfigured := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s: discovery at %s: %s", ErrInvalidConfig, p.name, where, fmt.Sprintf(format, a...))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, where, nil)
	if err != nil {
		return nil, misconfigured("%v", err)
	}
	req.Header.Set("Accept", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return nil, unavailable("%v", stripURLError(err))
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxDiscovery+1))
	switch {
	case err != nil:
		return nil, unavailable("%v", err)
	case res.StatusCode >= 500 || res.StatusCode == http.StatusTooManyRequests || res.StatusCode == http.StatusRequestTimeout:
		// Overloaded, rate-limited or slow: the issuer is right, try later.
		return nil, unavailable("HTTP %d", res.StatusCode)
	case res.StatusCode != http.StatusOK:
		return nil, misconfigured("HTTP %d: is Issuer right?", res.StatusCode)
	case len(body) > maxDiscovery:
		return nil, misconfigured("document larger than %d bytes", maxDiscovery)
	}
	doc, style, err := p.parseDiscovery(body)
	if err != nil {
		return nil, misconfigured("%v", err)
	}
	pc := oidc.ProviderConfig{
		IssuerURL: doc.Issuer, AuthURL: doc.AuthURL, TokenURL: doc.TokenURL,
		UserInfoURL: doc.UserInfoURL, JWKSURL: doc.JWKSURL,
	}
	for _, a := range doc.Algorithms {
		if slices.Contains(signingAlgorithms, a) {
			pc.Algorithms = append(pc.Algorithms, a)
		}
	}
	keysCtx := oidc.ClientContext(context.Background(), client)
	op := pc.NewProvider(keysCtx)
	d := &discovered{
		provider:       op,
		verifier:       op.VerifierContext(keysCtx, &oidc.Config{ClientID: p.oauth.ClientID}),
		issParamAlways: doc.IssParam,
		authStyle:      style,
	}
	if absoluteURL(doc.EndSession) {
		d.endSession = doc.EndSession
	}
	return d, nil
}

// parseDiscovery decodes a discovery document and checks it against the
// provider's configuration: the issuer exactly, the endpoints this package
// calls, and a client authentication both sides accept. Its errors say
// what is misconfigured.
func (p *Provider) parseDiscovery(body []byte) (discoveryDoc, oauth2.AuthStyle, error) {
	var doc discoveryDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		return doc, 0, fmt.Errorf("not a discovery document (JSON: %v): is Issuer right?", err)
	}
	if doc.Issuer != p.issuer {
		hint := ""
		if strings.TrimSuffix(doc.Issuer, "/") == strings.TrimSuffix(p.issuer, "/") {
			hint = " (mind the trailing slash)"
		}
		got := doc.Issuer
		if len(got) > maxShownIssuer {
			got = got[:maxShownIssuer] + "…"
		}
		return doc, 0, fmt.Errorf("the provider's issuer is %q, Issuer is %q%s", got, p.issuer, hint)
	}
	if !absoluteURL(doc.AuthURL) || !absoluteURL(doc.TokenURL) || !absoluteURL(doc.JWKSURL) {
		return doc, 0, errors.New("the document lacks the authorization, token or JWKS endpoint")
	}
	if p.fetchUserInfo && !absoluteURL(doc.UserInfoURL) {
		return doc, 0, errors.New("OIDCConfig.FetchUserInfo is set, but the document names no userinfo_endpoint")
	}
	style, err := p.tokenAuthStyle(doc.TokenAuthMethods)
	return doc, style, err
}

// tokenAuthStyle chooses how the client authenticates at the token
// endpoint: as configured; else client_secret_basic when the provider lists
// it (or lists nothing: basic is the default), else client_secret_post; a
// public client always sends its ID in the body. x/oauth2 is never left to
// auto-detect: it would retry a failed request, sending the code twice.
func (p *Provider) tokenAuthStyle(methods []string) (oauth2.AuthStyle, error) {
	if s := p.oauth.Endpoint.AuthStyle; s != oauth2.AuthStyleAutoDetect {
		return s, nil
	}
	switch {
	case p.oauth.ClientSecret == "":
		return oauth2.AuthStyleInParams, nil
	case len(methods) == 0 || slices.Contains(methods, "client_secret_basic"):
		return oauth2.AuthStyleInHeader, nil
	case slices.Contains(methods, "client_secret_post"):
		return oauth2.AuthStyleInParams, nil
	}
	return 0, errors.New("the token endpoint accepts neither client_secret_basic nor client_secret_post; set OIDCConfig.AuthStyle")
}
