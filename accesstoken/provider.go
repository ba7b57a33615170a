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

// Defaults of ProviderConfig.
const (
	DefaultProviderMaxTokenSize = 8192
	DefaultFetchTimeout         = 5 * time.Second
	DefaultMinCacheAge          = time.Minute
	DefaultMaxCacheAge          = time.Hour
	DefaultRefetchInterval      = 10 * time.Second
	DefaultMaxStale             = 24 * time.Hour
	// defaultCacheAge applies when the JWKS answer has no max-age.
	defaultCacheAge = 10 * time.Minute
)

// DefaultProviderAlgorithms are the algorithms a Provider accepts unless
// ProviderConfig.Algorithms says otherwise: what hosted providers sign with.
var DefaultProviderAlgorithms = []string{"RS256", "PS256", "ES256", "ES384", "EdDSA"}

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
// JWKSURL, Issuer and Audience are required.
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
	// Algorithms allowed in tokens. nil means DefaultProviderAlgorithms.
	// Only asymmetric algorithms can be named: none and HS256/384/512 are
	// refused by NewProvider.
	Algorithms []string
	// Type, if set, is the `typ` a token must carry, for example "at+jwt".
	Type string
	// Leeway is the clock skew allowed on exp, nbf and iat. 0 means
	// DefaultLeeway (30 s); negative means none; at most MaxLeeway.
	Leeway time.Duration
	// MaxTokenSize refuses longer tokens before any parsing. 0 means
	// DefaultProviderMaxTokenSize (8192 bytes).
	MaxTokenSize int
	// CacheSize is how many verified tokens Verify remembers (never past
	// their exp). 0 means DefaultCacheSize; negative disables the cache.
	CacheSize int

	// HTTPClient fetches the JWKS. nil means a client that follows no
	// redirects.
	HTTPClient *http.Client
	// FetchTimeout bounds one JWKS fetch. 0 means DefaultFetchTimeout (5 s).
	FetchTimeout time.Duration
	// MinCacheAge and MaxCacheAge bound the Cache-Control max-age of the
	// JWKS answer (10 min when it has none). 0 means DefaultMinCacheAge
	// (1 min) and DefaultMaxCacheAge (1 h).
	MinCacheAge, MaxCacheAge time.Duration
	// RefetchInterval is the least time between two fetches, including the
	// ones a token with an unknown kid triggers. 0 means
	// DefaultRefetchInterval (10 s).
	RefetchInterval time.Duration
	// MaxStale is how long cached keys keep verifying past their max-age
	// while the JWKS endpoint fails. 0 means DefaultMaxStale (24 h).
	MaxStale time.Duration

	// CrossOrigin guards ExchangeHandler against cross-site requests. nil
	// means http.NewCrossOriginProtection().
	CrossOrigin *http.CrossOriginProtection
	// Logger receives JWKS fetch failures. nil disables logging.
	Logger *slog.Logger
	// Now is the clock, for tests. nil means time.Now.
	Now func() time.Time
}

// Provider verifies an external issuer's tokens through its JWKS, and can
// turn one into a session of ours (ExchangeHandler). Create it with
// NewProvider; it is safe for concurrent use.
type Provider struct {
	keys *remoteKeys
	v    verifier
	cop  *http.CrossOriginProtection
	log  *slog.Logger
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
	names := cfg.Algorithms
	if names == nil {
		names = DefaultProviderAlgorithms
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
	leeway := orDefault(cfg.Leeway, DefaultLeeway)
	if leeway < 0 {
		leeway = 0
	}
	if leeway > MaxLeeway {
		return nil, fmt.Errorf("%w: Leeway must be at most %v", ErrInvalidConfig, MaxLeeway)
	}
	now := cfg.Now
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
		timeout:      orDefault(cfg.FetchTimeout, DefaultFetchTimeout),
		minAge:       orDefault(cfg.MinCacheAge, DefaultMinCacheAge),
		maxAge:       orDefault(cfg.MaxCacheAge, DefaultMaxCacheAge),
		defaultAge:   defaultCacheAge,
		refetchEvery: orDefault(cfg.RefetchInterval, DefaultRefetchInterval),
		staleFor:     orDefault(cfg.MaxStale, DefaultMaxStale),
		now:          now,
		log:          cfg.Logger,
	}
	if rk.timeout < 0 || rk.minAge < 0 || rk.maxAge < rk.minAge || rk.refetchEvery < 0 || rk.staleFor < 0 {
		return nil, fmt.Errorf("%w: negative durations, or MaxCacheAge below MinCacheAge", ErrInvalidConfig)
	}
	cacheSize := cfg.CacheSize
	if cacheSize == 0 {
		cacheSize = DefaultCacheSize
	}
	p := &Provider{keys: rk, cop: cfg.CrossOrigin, log: cfg.Logger}
	if p.cop == nil {
		p.cop = http.NewCrossOriginProtection()
	}
	p.v = verifier{
		keys:     rk,
		algs:     algs,
		issuer:   cfg.Issuer,
		audience: cfg.Audience,
		leeway:   leeway,
		maxSize:  orDefault(cfg.MaxTokenSize, DefaultProviderMaxTokenSize),
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
// iat (with the leeway) and sub. Refusals match ErrInvalidToken;
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
