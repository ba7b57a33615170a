package providerlogin

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

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

// OIDCConfig configures an OpenID Connect provider.
type OIDCConfig struct {
	// Name identifies the provider in paths (/auth/NAME/login) and in
	// stored state: lower-case letters, digits, '-' and '_', at most 32.
	Name string
	// DisplayName is for buttons ("Sign in with Google"). Empty means Name.
	DisplayName string
	// Issuer is the provider's issuer URL, exactly as its discovery document
	// and ID tokens state it.
	Issuer string
	// ClientID and ClientSecret are the app's registration at the provider.
	// A public client (PKCE only) leaves ClientSecret empty.
	ClientID, ClientSecret string
	// Scopes requested; "openid" is always added. Empty means openid,
	// email and profile.
	Scopes []string
	// AuthParams are extra authorization request parameters, for example
	// {"prompt": "select_account"}. They cannot replace the parameters this
	// package sets (state, nonce, PKCE, redirect_uri, ...).
	AuthParams map[string]string
	// AuthStyle says how the client authenticates at the token endpoint:
	// oauth2.AuthStyleInHeader (client_secret_basic) or
	// oauth2.AuthStyleInParams (client_secret_post). 0 means: from the
	// discovery document's token_endpoint_auth_methods_supported,
	// client_secret_basic when listed (or when the list is absent, its
	// default), else client_secret_post; a public client (no ClientSecret)
	// sends its ID in the body. The style is never guessed by trying: a
	// failed token request is not retried, so a code is sent only once.
	AuthStyle oauth2.AuthStyle
	// FetchUserInfo also reads the user-info endpoint after the token
	// exchange (one more request per sign-in) and fills Email and Name from
	// it when the ID token lacks them; its subject must match the ID
	// token's. Some providers put no email or name in the ID token, only at
	// the user-info endpoint: set it when Identity.Email comes back empty.
	// Default false.
	FetchUserInfo bool
	// RPLogout makes logout also end the visitor's session at the provider,
	// by redirecting to its end_session_endpoint when discovery advertises
	// one. The ID token is then kept in the session as the logout hint.
	RPLogout bool
}

// NewOIDC returns an OpenID Connect provider. Discovery is not done here
// but in Handler.Discover (call it at start-up: a wrong issuer then stops
// the app from booting) or else on the first sign-in, and remembered; a
// failed discovery is retried after a few seconds. Cost: no I/O.
func NewOIDC(cfg OIDCConfig) (*Provider, error) {
	if err := checkProvider("OIDCConfig", cfg.Name, cfg.ClientID, cfg.Issuer, cfg.AuthStyle); err != nil {
		return nil, err
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
	// identifies the user for good (a string or an integer). Empty means
	// "sub"; GitHub's is "id". Never use an email or a login name: they change.
	SubjectField string
	// AuthParams: as in OIDCConfig.
	AuthParams map[string]string
	// AuthStyle says how the client authenticates at the token endpoint.
	// 0 means oauth2.AuthStyleInHeader (HTTP Basic, client_secret_basic,
	// which RFC 6749 requires every provider to accept), or the client ID in
	// the body for a public client (no ClientSecret); set
	// oauth2.AuthStyleInParams for a provider that wants the secret in the
	// body. A failed token request is never retried with the other style.
	AuthStyle oauth2.AuthStyle
}

// NewOAuth2 returns a plain OAuth 2 provider. Cost: no I/O.
func NewOAuth2(cfg OAuth2Config) (*Provider, error) {
	if err := checkProvider("OAuth2Config", cfg.Name, cfg.ClientID, cfg.Issuer, cfg.AuthStyle); err != nil {
		return nil, err
	}
	for _, f := range []struct{ name, url string }{{"AuthURL", cfg.AuthURL}, {"TokenURL", cfg.TokenURL}, {"UserInfoURL", cfg.UserInfoURL}} {
		if err := checkURL("OAuth2Config", f.name, f.url); err != nil {
			return nil, err
		}
	}
	if cfg.AuthStyle == oauth2.AuthStyleAutoDetect {
		cfg.AuthStyle = oauth2.AuthStyleInHeader
		if cfg.ClientSecret == "" {
			cfg.AuthStyle = oauth2.AuthStyleInParams
		}
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

// checkProvider checks the fields both provider kinds share, naming the
// first one that is wrong.
func checkProvider(kind, name, clientID, issuer string, style oauth2.AuthStyle) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: %s.Name is empty", ErrInvalidConfig, kind)
	case !validName.MatchString(name):
		return fmt.Errorf("%w: %s.Name %q: want lower-case letters, digits, '-' and '_', at most 32", ErrInvalidConfig, kind, name)
	case clientID == "":
		return fmt.Errorf("%w: %s.ClientID is empty", ErrInvalidConfig, kind)
	case style != oauth2.AuthStyleAutoDetect && style != oauth2.AuthStyleInHeader && style != oauth2.AuthStyleInParams:
		return fmt.Errorf("%w: %s.AuthStyle %d is not a known style", ErrInvalidConfig, kind, style)
	}
	return checkURL(kind, "Issuer", issuer)
}

// checkURL refuses an empty or non-absolute URL, naming its field.
func checkURL(kind, field, s string) error {
	if s == "" {
		return fmt.Errorf("%w: %s.%s is empty", ErrInvalidConfig, kind, field)
	}
	if !absoluteURL(s) {
		return fmt.Errorf("%w: %s.%s %q is not an absolute http(s) URL", ErrInvalidConfig, kind, field, s)
	}
	return nil
}

func (p *Provider) finish() (*Provider, error) {
	for k := range p.authParams {
		if reservedParams[k] {
			return nil, fmt.Errorf("%w: AuthParams may not set %q", ErrInvalidConfig, k)
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

// oauthConfig returns the oauth2.Config for a sign-in, with the endpoints
// found by discovery and the given callback URL.
func (p *Provider) oauthConfig(d *discovered, redirect string) *oauth2.Config {
	c := p.oauth
	c.RedirectURL = redirect
	if d != nil {
		ep := d.provider.Endpoint()
		ep.AuthStyle = d.authStyle
		c.Endpoint = ep
	}
	return &c
}
