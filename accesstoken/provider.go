package accesstoken

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Defaults of ProviderConfig, as its field docs state them.
const (
	defaultProviderMaxTokenSize = 8192
	defaultFetchTimeout         = 5 * time.Second
	defaultMinCacheAge          = time.Minute
	defaultMaxCacheAge          = time.Hour
	defaultRefetchInterval      = 10 * time.Second
	defaultMaxStale             = 24 * time.Hour
	// defaultCacheAge applies when the JWKS answer has no max-age.
	defaultCacheAge = 10 * time.Minute
)

// defaultProviderAlgorithms are the algorithms a Provider accepts when
// ProviderConfig.Algorithms is nil (its doc lists them). Never modified.
var defaultProviderAlgorithms = []string{"RS256", "PS256", "ES256", "ES384", "EdDSA"}

// asymmetric is every algorithm a Provider may be configured to accept;
// none and the HMAC algorithms are not among them.
var asymmetric = map[string]bool{
	"RS256": true, "RS384": true, "RS512": true,
	"PS256": true, "PS384": true, "PS512": true,
	"ES256": true, "ES384": true, "ES512": true,
	"EdDSA": true,
}

// ProviderConfig configures a Provider: an external issuer (Auth0, Clerk,
// Supabase Auth, Firebase Auth, Cognito, Keycloak, another of our own
// services) whose tokens are verified with the keys it publishes.
// JWKSURL, Issuer and Audience are required; every other field's zero value
// is the default its doc states.
type ProviderConfig struct {
	// JWKSURL is where the provider publishes its keys (its OpenID
	// configuration's jwks_uri). https, or http on a loopback host. A token
	// never chooses its own key source.
	JWKSURL string
	// Issuer is the exact `iss` the provider's tokens carry.
	Issuer string
	// Audience must be one of a token's `aud` values: your API's identifier
	// (or client ID) at the provider.
	Audience string
	// AuthorizedParties are the client IDs, at the provider, of your own
	// apps: ExchangeHandler turns a token into a session only when it was
	// issued to one of them, and panics when this is empty. A token's party
	// is its `azp` claim; without one, its `client_id` (Cognito, RFC 9068);
	// without either, its `aud` when that holds exactly one value (OpenID
	// Connect's rule for ID tokens, so a Firebase ID token's party is its
	// project ID). This matters because an API identifier used as Audience
	// is usually shared by every client of the tenant, third-party apps a
	// user once authorised included: without this check such an app could
	// post the user's token and receive a first-party session. Verify and
	// Middleware do not check it: an API accepts every client its audience
	// admits.
	AuthorizedParties []string
	// Algorithms allowed in tokens. nil means RS256, PS256, ES256, ES384 and
	// EdDSA: what hosted providers sign with. Only asymmetric algorithms can
	// be named (RS, PS and ES 256/384/512, EdDSA): none and HS256/384/512
	// are refused by NewProvider.
	Algorithms []string
	// Type, if set, is the `typ` a token must carry, for example "at+jwt".
	Type string
	// Leeway is the clock skew allowed on exp, nbf and iat. 0 means 30 s;
	// negative means none; at most 5 minutes.
	Leeway time.Duration
	// MaxTokenSize refuses longer tokens before any parsing. 0 means 8192
	// bytes.
	MaxTokenSize int
	// CacheSize is how many verified tokens Verify remembers (never past
	// their exp). 0 means 4096; negative disables the cache.
	CacheSize int

	// HTTPClient fetches the JWKS. nil means a client that follows no
	// redirects.
	HTTPClient *http.Client
	// FetchTimeout bounds one JWKS fetch. 0 means 5 s.
	FetchTimeout time.Duration
	// MinCacheAge and MaxCacheAge bound the Cache-Control max-age of the
	// JWKS answer (10 min when it has none). 0 means 1 minute and 1 hour.
	MinCacheAge, MaxCacheAge time.Duration
	// RefetchInterval is the least time between two fetches, including the
	// ones a token with an unknown kid triggers. 0 means 10 s.
	RefetchInterval time.Duration
	// MaxStale is how long cached keys keep verifying past their max-age
	// while the JWKS endpoint fails. 0 means 24 hours.
	MaxStale time.Duration

	// CrossOrigin guards ExchangeHandler against cross-site requests. nil
	// means http.NewCrossOriginProtection().
	CrossOrigin *http.CrossOriginProtection
	// Logger receives JWKS fetch failures and refused exchanges. nil
	// disables logging.
	Logger *slog.Logger

	// now is the clock: nil means time.Now. The package's own tests set it.
	now func() time.Time
}

// Provider verifies an external issuer's tokens through its JWKS, and can
// turn one into a session of ours (ExchangeHandler). Create it with
// NewProvider; it is safe for concurrent use.
type Provider struct {
	keys    *remoteKeys
	v       verifier
	cop     *http.CrossOriginProtection
	log     *slog.Logger
	parties map[string]bool // AuthorizedParties
}

// NewProvider checks cfg and returns a Provider. It does not fetch: the
// first verification does (or call Refresh at start-up).
func NewProvider(cfg ProviderConfig) (*Provider, error) {
	if cfg.Issuer == "" || cfg.Audience == "" {
		return nil, fmt.Errorf("%w: Issuer and Audience are required", ErrInvalidConfig)
	}
	if err := checkJWKSURL(cfg.JWKSURL); err != nil {
		return nil, err
	}
	parties := make(map[string]bool, len(cfg.AuthorizedParties))
	for _, id := range cfg.AuthorizedParties {
		if id == "" {
			return nil, fmt.Errorf("%w: AuthorizedParties holds an empty client ID", ErrInvalidConfig)
		}
		parties[id] = true
	}
	names := cfg.Algorithms
	if names == nil {
		names = defaultProviderAlgorithms
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%w: no algorithms", ErrInvalidConfig)
	}
	algs := make([]jose.SignatureAlgorithm, 0, len(names))
	for _, a := range names {
		if !asymmetric[a] {
			return nil, fmt.Errorf("%w: algorithm %q not allowed (asymmetric signatures only)", ErrInvalidConfig, a)
		}
		algs = append(algs, jose.SignatureAlgorithm(a))
	}
	leeway := orDefault(cfg.Leeway, defaultLeeway)
	if leeway < 0 {
		leeway = 0
	}
	if leeway > maxLeeway {
		return nil, fmt.Errorf("%w: Leeway must be at most %v", ErrInvalidConfig, maxLeeway)
	}
	now := cfg.now
	if now == nil {
		now = time.Now
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	u, _ := url.Parse(cfg.JWKSURL) // checked by checkJWKSURL
	rk := &remoteKeys{
		url:          cfg.JWKSURL,
		logURL:       u.Redacted(),
		client:       client,
		timeout:      orDefault(cfg.FetchTimeout, defaultFetchTimeout),
		minAge:       orDefault(cfg.MinCacheAge, defaultMinCacheAge),
		maxAge:       orDefault(cfg.MaxCacheAge, defaultMaxCacheAge),
		defaultAge:   defaultCacheAge,
		refetchEvery: orDefault(cfg.RefetchInterval, defaultRefetchInterval),
		staleFor:     orDefault(cfg.MaxStale, defaultMaxStale),
		now:          now,
		log:          cfg.Logger,
	}
	if rk.timeout < 0 || rk.minAge < 0 || rk.maxAge < rk.minAge || rk.refetchEvery < 0 || rk.staleFor < 0 {
		return nil, fmt.Errorf("%w: negative durations, or MaxCacheAge below MinCacheAge", ErrInvalidConfig)
	}
	cacheSize := cfg.CacheSize
	if cacheSize == 0 {
		cacheSize = defaultCacheSize
	}
	p := &Provider{keys: rk, cop: cfg.CrossOrigin, log: cfg.Logger, parties: parties}
	if p.cop == nil {
		p.cop = http.NewCrossOriginProtection()
	}
	p.v = verifier{
		keys:     rk,
		algs:     algs,
		issuer:   cfg.Issuer,
		audience: cfg.Audience,
		leeway:   leeway,
		maxSize:  orDefault(cfg.MaxTokenSize, defaultProviderMaxTokenSize),
		typ:      strings.ToLower(cfg.Type),
		now:      now,
		cache:    newTokenCache(cacheSize),
	}
	return p, nil
}

// checkJWKSURL accepts https URLs, and http ones on a loopback host (tests,
// a sidecar).
func checkJWKSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%w: JWKSURL must be an absolute URL", ErrInvalidConfig)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
	}
	return fmt.Errorf("%w: JWKSURL must be https (http only on a loopback host)", ErrInvalidConfig)
}

// Verify checks a provider's token: size, shape, header (an allowed
// asymmetric alg fitting the key, a kid, no crit, jku, x5u, jwk or x5c),
// signature with the provider's published key, then iss, aud, exp, nbf and
// iat (with the leeway) and sub. Refusals match ErrInvalidToken (and
// ErrExpired for an expired token);
// ErrKeysUnavailable means the JWKS could not be fetched and no cached key
// fits. Cost: one signature verification, tens of µs, or a cache hit; a
// fetch only for an unknown kid or a due refresh (in the background when
// the kid is known).
func (p *Provider) Verify(ctx context.Context, token string) (*Claims, error) {
	return p.v.verify(ctx, token)
}

// Refresh fetches the JWKS now, whatever the rate limit, joining a fetch
// already running; for start-up (fail fast on a wrong URL) and tests.
func (p *Provider) Refresh(ctx context.Context) error {
	return p.keys.refresh(ctx)
}

// Middleware lets through only requests with a valid provider token in
// `Authorization: Bearer`, with its claims in the context (FromContext):
// 401 with an RFC 6750 challenge otherwise, and 503 when the provider's
// keys cannot be had (an outage is never taken for a bad token). Cost:
// Verify.
func (p *Provider) Middleware(next http.Handler) http.Handler {
	return requireBearer(p.Verify, nil, next)
}
