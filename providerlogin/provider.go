package providerlogin

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// ErrConfig is returned by NewOIDC, NewOAuth2 and New for an incomplete or
// inconsistent configuration.
var ErrConfig = errors.New("providerlogin: invalid configuration")

// rediscoverAfter is how long a failed discovery is remembered before the
// next sign-in tries again.
const rediscoverAfter = 5 * time.Second

// providerTimeout bounds each call to a provider (discovery, token,
// user info) on top of the request's own context.
const providerTimeout = 10 * time.Second

// validName: provider names appear in paths and in stored state.
var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// Provider is one identity provider the app offers ("Sign in with …"),
// made by NewOIDC or NewOAuth2. It is safe for concurrent use.
type Provider struct {
	name, display string
	issuer        string
	oauth         oauth2.Config // RedirectURL is set per Handler
	authParams    map[string]string
	isOIDC        bool

	// OpenID Connect
	fetchUserInfo bool
	rpLogout      bool
	mu            sync.Mutex
	disc          *discovered
	discErr       error
	discFailed    time.Time

	// plain OAuth 2
	userInfoURL  string
	subjectField string
}

// discovered is what OpenID Connect discovery found.
type discovered struct {
	provider       *oidc.Provider
	verifier       *oidc.IDTokenVerifier
	endSession     string
	issParamAlways bool // authorization_response_iss_parameter_supported
}

// OIDCConfig configures an OpenID Connect provider.
type OIDCConfig struct {
	// Name identifies the provider in paths (/auth/NAME/login) and in
	// stored state: lower-case letters, digits, '-' and '_', at most 32.
	Name string
	// DisplayName is for buttons ("Sign in with Google"). Default: Name.
	DisplayName string
	// Issuer is the provider's issuer URL, exactly as its discovery document
	// and ID tokens state it.
	Issuer string
	// ClientID and ClientSecret are the app's registration at the provider.
	// A public client (PKCE only) leaves ClientSecret empty.
	ClientID, ClientSecret string
	// Scopes requested; "openid" is always added. Default: openid email profile.
	Scopes []string
	// AuthParams are extra authorization request parameters, for example
	// {"prompt": "select_account"}. They cannot replace the parameters this
	// package sets (state, nonce, PKCE, redirect_uri, ...).
	AuthParams map[string]string
	// AuthStyle says how the client authenticates at the token endpoint.
	// Default: tried once, then remembered (oauth2.AuthStyleAutoDetect).
	AuthStyle oauth2.AuthStyle
	// FetchUserInfo also reads the user-info endpoint after the token
	// exchange (one more request) and fills Email and Name from it when the
	// ID token lacks them. Its subject must match the ID token's.
	FetchUserInfo bool
	// RPLogout makes logout also end the visitor's session at the provider,
	// by redirecting to its end_session_endpoint when discovery advertises
	// one. The ID token is then kept in the session as the logout hint.
	RPLogout bool
}

// NewOIDC returns an OpenID Connect provider. Discovery is not done here
// but on the first sign-in (or Handler.Discover), and remembered; a failed
// discovery is retried after a few seconds, so the app starts while a
// provider is down. Cost: no I/O.
func NewOIDC(cfg OIDCConfig) (*Provider, error) {
	if !validName.MatchString(cfg.Name) || cfg.ClientID == "" || !absoluteURL(cfg.Issuer) {
		return nil, fmt.Errorf("%w: OIDC provider needs a Name (a-z, 0-9, '-', '_'), a ClientID and an absolute Issuer URL", ErrConfig)
	}
	scopes := cfg.Scopes
	if len(scopes) == 0 {
		scopes = []string{"email", "profile"}
	}
	all := []string{oidc.ScopeOpenID}
	for _, s := range scopes {
		if s != oidc.ScopeOpenID {
			all = append(all, s)
		}
	}
	p := &Provider{
		name: cfg.Name, display: cfg.DisplayName, issuer: cfg.Issuer,
		oauth:      oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Scopes: all},
		authParams: maps.Clone(cfg.AuthParams), isOIDC: true,
		fetchUserInfo: cfg.FetchUserInfo, rpLogout: cfg.RPLogout,
	}
	p.oauth.Endpoint.AuthStyle = cfg.AuthStyle
	return p.finish()
}

// OAuth2Config configures a plain OAuth 2 provider, one without OpenID
// Connect (GitHub-style): the identity comes from a user-info endpoint read
// with the access token.
type OAuth2Config struct {
	// Name and DisplayName: as in OIDCConfig.
	Name, DisplayName string
	// Issuer is the provider's identity, for example "https://github.com".
	// It becomes Identity.Issuer, and when the provider sends an "iss"
	// parameter in its response, it must equal this.
	Issuer string
	// ClientID and ClientSecret are the app's registration.
	ClientID, ClientSecret string
	// AuthURL, TokenURL and UserInfoURL are the provider's endpoints.
	AuthURL, TokenURL, UserInfoURL string
	// Scopes requested, if any.
	Scopes []string
	// SubjectField names the member of the user-info JSON object that
	// identifies the user for good (a string or an integer). Default "sub";
	// GitHub's is "id". Never use an email or a login name: they change.
	SubjectField string
	// AuthParams and AuthStyle: as in OIDCConfig.
	AuthParams map[string]string
	AuthStyle  oauth2.AuthStyle
}

// NewOAuth2 returns a plain OAuth 2 provider. Cost: no I/O.
func NewOAuth2(cfg OAuth2Config) (*Provider, error) {
	if !validName.MatchString(cfg.Name) || cfg.ClientID == "" || !absoluteURL(cfg.Issuer) ||
		!absoluteURL(cfg.AuthURL) || !absoluteURL(cfg.TokenURL) || !absoluteURL(cfg.UserInfoURL) {
		return nil, fmt.Errorf("%w: OAuth 2 provider needs a Name, a ClientID, and absolute Issuer, AuthURL, TokenURL and UserInfoURL", ErrConfig)
	}
	field := cfg.SubjectField
	if field == "" {
		field = "sub"
	}
	p := &Provider{
		name: cfg.Name, display: cfg.DisplayName, issuer: cfg.Issuer,
		oauth: oauth2.Config{
			ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Scopes: cfg.Scopes,
			Endpoint: oauth2.Endpoint{AuthURL: cfg.AuthURL, TokenURL: cfg.TokenURL, AuthStyle: cfg.AuthStyle},
		},
		authParams:  maps.Clone(cfg.AuthParams),
		userInfoURL: cfg.UserInfoURL, subjectField: field,
	}
	return p.finish()
}

// reservedParams are set by this package and cannot be overridden.
var reservedParams = map[string]bool{
	"state": true, "nonce": true, "code_challenge": true, "code_challenge_method": true,
	"redirect_uri": true, "client_id": true, "response_type": true, "scope": true,
	"code_verifier": true, "response_mode": true,
}

func (p *Provider) finish() (*Provider, error) {
	for k := range p.authParams {
		if reservedParams[k] {
			return nil, fmt.Errorf("%w: AuthParams may not set %q", ErrConfig, k)
		}
	}
	if p.display == "" {
		p.display = p.name
	}
	return p, nil
}

func absoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// Name returns the provider's name, as used in its paths.
func (p *Provider) Name() string { return p.name }

// DisplayName returns the name to show on its button.
func (p *Provider) DisplayName() string { return p.display }

// Issuer returns the configured issuer.
func (p *Provider) Issuer() string { return p.issuer }

// discover runs OpenID Connect discovery once, remembering success and, for
// rediscoverAfter, failure. Concurrent first sign-ins wait for one fetch.
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
		p.discErr, p.discFailed = fmt.Errorf("%w: discovery at %s: %w", ErrProviderUnavailable, p.issuer, err), time.Now()
		return nil, p.discErr
	}
	p.disc, p.discErr = d, nil
	return d, nil
}

func (p *Provider) fetchDiscovery(ctx context.Context, client *http.Client) (*discovered, error) {
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, client), providerTimeout)
	defer cancel()
	op, err := oidc.NewProvider(ctx, p.issuer)
	if err != nil {
		return nil, err
	}
	var meta struct {
		EndSession string   `json:"end_session_endpoint"`
		IssParam   bool     `json:"authorization_response_iss_parameter_supported"`
		PKCE       []string `json:"code_challenge_methods_supported"`
	}
	if err := op.Claims(&meta); err != nil {
		return nil, err
	}
	if ep := op.Endpoint(); !absoluteURL(ep.AuthURL) || !absoluteURL(ep.TokenURL) {
		return nil, errors.New("discovery document lacks the authorization or token endpoint")
	}
	d := &discovered{
		provider:       op,
		verifier:       op.VerifierContext(oidc.ClientContext(context.Background(), client), &oidc.Config{ClientID: p.oauth.ClientID}),
		issParamAlways: meta.IssParam,
	}
	if absoluteURL(meta.EndSession) {
		d.endSession = meta.EndSession
	}
	return d, nil
}

// oauthConfig returns the oauth2.Config for a sign-in, with the endpoints
// found by discovery and the given callback URL.
func (p *Provider) oauthConfig(d *discovered, redirect string) *oauth2.Config {
	c := p.oauth
	c.RedirectURL = redirect
	if d != nil {
		ep := d.provider.Endpoint()
		ep.AuthStyle = p.oauth.Endpoint.AuthStyle
		c.Endpoint = ep
	}
	return &c
}
