package accesstoken

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/sessionauth/session"
)

// Defaults and bounds of Config, as its field docs state them.
const (
	defaultTTL          = 5 * time.Minute
	maxTTL              = time.Hour
	defaultLeeway       = 30 * time.Second
	maxLeeway           = 5 * time.Minute
	defaultJWKSMaxAge   = 5 * time.Minute
	defaultMaxTokenSize = 4096
)

// Config configures an Issuer. Sessions, Keys, Issuer and Audience are
// required; every other field's zero value is the default its doc states.
type Config struct {
	// Sessions is the session manager whose signed-in sessions mint tokens,
	// and which Strict asks whether a token's session is still live. A
	// cookie-only Manager (session.Config.CookieOnly) mints and its tokens
	// verify, but Strict cannot be used with it (there is no server-side
	// list to ask).
	Sessions *session.Manager
	// Keys signs (its first key) and verifies tokens, and is published by
	// JWKSHandler.
	Keys *KeyRing
	// Issuer is the `iss` of minted tokens and the only one accepted, for
	// example "https://api.example.com".
	Issuer string
	// Audience is the `aud` of minted tokens and the one required.
	Audience string

	// TTL is how long a minted token is valid. 0 means 5 minutes; it must
	// be between 1 s and 1 h: a token cannot be revoked before it expires
	// except on Strict routes.
	TTL time.Duration
	// Leeway is the clock skew allowed when checking exp, nbf and iat.
	// 0 means 30 s; negative means none; at most 5 minutes.
	Leeway time.Duration
	// JWKSMaxAge is the Cache-Control max-age of JWKSHandler's answer, and
	// how long Rotate publishes a new key before it signs. 0 means
	// 5 minutes.
	JWKSMaxAge time.Duration
	// MaxTokenSize refuses longer tokens before any parsing. 0 means 4096
	// bytes (ours are about 400).
	MaxTokenSize int
	// CacheSize is how many verified tokens Verify remembers (by SHA-256,
	// never past their exp). 0 means 4096; negative disables the cache.
	CacheSize int
	// CrossOrigin guards MintHandler against cross-site requests. nil means
	// http.NewCrossOriginProtection() with no trusted origins.
	CrossOrigin *http.CrossOriginProtection
	// Logger receives store failures of Strict. nil disables logging.
	Logger *slog.Logger
	// Observe receives a session.Event for each token minted
	// ("accesstoken.mint") and each token Verify, Middleware or Strict
	// refuses ("accesstoken.rejected", Reason "forged": a signature or key
	// ID of no key of ours; "expired"; "ended": Strict found its session
	// ended; "invalid": anything else). It is the shape of
	// session.Config.Observe, so one function (otelsession's
	// Recorder.Observe) records both. nil reports nothing and costs
	// nothing.
	Observe func(session.Event)

	// now is the clock: nil means time.Now. The package's own tests set it.
	now func() time.Time
}

// Issuer mints access tokens from sessions, publishes its public keys and
// verifies its own tokens. Create it with New; it is safe for concurrent use.
type Issuer struct {
	sessions *session.Manager
	ring     atomic.Pointer[KeyRing]
	rotateMu sync.Mutex
	issuer   string
	audience string
	ttl      time.Duration
	leeway   time.Duration
	jwksAge  time.Duration
	cop      *http.CrossOriginProtection
	log      *slog.Logger
	observe  func(session.Event) // Config.Observe
	now      func() time.Time
	v        verifier
	ended    *endedSessions
}

// New checks cfg and returns an Issuer.
func New(cfg Config) (*Issuer, error) {
	switch {
	case cfg.Sessions == nil:
		return nil, fmt.Errorf("%w: Sessions is required", ErrInvalidConfig)
	case cfg.Keys == nil:
		return nil, fmt.Errorf("%w: Keys is required", ErrInvalidConfig)
	case cfg.Issuer == "" || cfg.Audience == "":
		return nil, fmt.Errorf("%w: Issuer and Audience are required", ErrInvalidConfig)
	}
	i := &Issuer{
		sessions: cfg.Sessions,
		issuer:   cfg.Issuer,
		audience: cfg.Audience,
		ttl:      orDefault(cfg.TTL, defaultTTL),
		leeway:   orDefault(cfg.Leeway, defaultLeeway),
		jwksAge:  orDefault(cfg.JWKSMaxAge, defaultJWKSMaxAge),
		cop:      cfg.CrossOrigin,
		log:      cfg.Logger,
		observe:  cfg.Observe,
		now:      cfg.now,
	}
	if i.leeway < 0 {
		i.leeway = 0
	}
	switch {
	case i.ttl < time.Second || i.ttl > maxTTL:
		return nil, fmt.Errorf("%w: TTL must be between 1s and %v", ErrInvalidConfig, maxTTL)
	case i.leeway > maxLeeway:
		return nil, fmt.Errorf("%w: Leeway must be at most %v", ErrInvalidConfig, maxLeeway)
	case i.jwksAge < 0:
		return nil, fmt.Errorf("%w: negative JWKSMaxAge", ErrInvalidConfig)
	}
	if i.cop == nil {
		i.cop = http.NewCrossOriginProtection()
	}
	if i.now == nil {
		i.now = time.Now
	}
	i.ring.Store(cfg.Keys)
	i.ended = newEndedSessions(defaultCacheSize)
	cacheSize := cfg.CacheSize
	if cacheSize == 0 {
		cacheSize = defaultCacheSize
	}
	i.v = verifier{
		keys:     i,
		algs:     []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256},
		issuer:   i.issuer,
		audience: i.audience,
		leeway:   i.leeway,
		maxSize:  orDefault(cfg.MaxTokenSize, defaultMaxTokenSize),
		typ:      tokenType,
		own:      true,
		maxLife:  i.ttl,
		now:      i.now,
		cache:    newTokenCache(cacheSize),
	}
	return i, nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// retain is how long a key stays published after it stopped signing: the
// lifetime of its last token plus the leeway.
func (i *Issuer) retain() time.Duration { return i.ttl + i.leeway }

// key implements keySource over the ring: only keys published now verify.
func (i *Issuer) key(_ context.Context, kid string) (*verifyKey, error) {
	if k := i.ring.Load().lookup(kid, i.now(), i.retain()); k != nil {
		return k, nil
	}
	return nil, invalid(errUnknownKey)
}

func (i *Issuer) current(k *verifyKey) bool {
	return i.ring.Load().lookup(k.kid, i.now(), i.retain()) == k
}

// Rotate schedules a key rotation: next is published in the JWKS at once,
// signs from JWKSMaxAge later (when every consumer honouring the JWKS's
// Cache-Control has seen it), and the key it replaces stays published until
// TTL+Leeway after that, when its last token has expired. Calling it again
// before the switch schedules the following key JWKSMaxAge after that one.
// Rotate is for keys held by this process (one instance, or keys generated
// at start-up); instances sharing keys roll them out through NewKeyRing
// (see the README). Cost: a copy of the ring.
func (i *Issuer) Rotate(next *PrivateKey) error {
	i.rotateMu.Lock()
	defer i.rotateMu.Unlock()
	r, err := i.ring.Load().rotate(next, i.now(), i.jwksAge, i.retain())
	if err != nil {
		return err
	}
	i.ring.Store(r)
	return nil
}

// SetKeys replaces the key ring, and any schedule Rotate made: for a key
// file reloaded without a restart, or to drop a compromised key at once
// (its tokens, cached verifications included, are refused from the next
// request on). Cost: an atomic store.
func (i *Issuer) SetKeys(r *KeyRing) {
	if r == nil {
		panic("accesstoken: SetKeys(nil)")
	}
	i.rotateMu.Lock()
	defer i.rotateMu.Unlock()
	i.ring.Store(r)
}

// Token is a minted access token, shaped as an OAuth 2 token response.
type Token struct {
	AccessToken string    `json:"access_token"`
	TokenType   string    `json:"token_type"` // "Bearer"
	ExpiresIn   int       `json:"expires_in"` // seconds
	Expiry      time.Time `json:"-"`
}

// Mint returns a new access token for the signed-in session of ctx (the
// request context inside session.Manager.Middleware): `sub` is the user ID,
// `sid` the session's public ID, `auth_time` and `amr` when and how the
// user last proved who they are (Session.AuthTime and AuthMethods: their
// Login or last StepUp; no `amr` when none were recorded). It returns ErrNoSession when there is no
// live signed-in session, so a session that was logged out, ended by
// LogoutAll or expired can no longer mint. Cost: the session's store read
// (if the request has not made it yet) and one signature, tens of µs (the
// README has measured numbers).
func (i *Issuer) Mint(ctx context.Context) (*Token, error) {
	s := session.FromContext(ctx)
	userID := s.UserID()
	sid := s.ID()
	if userID == "" || sid == "" {
		return nil, ErrNoSession
	}
	c := mintedClaims{Sub: userID, Sid: sid, AMR: s.AuthMethods()}
	if t := s.AuthTime(); !t.IsZero() {
		c.AuthTime = t.Unix()
	}
	tok, err := i.mint(c)
	if err == nil && i.observe != nil {
		i.observe(session.Event{Name: "accesstoken.mint"})
	}
	return tok, err
}

type mintedClaims struct {
	Iss string `json:"iss"`
	Sub string `json:"sub"`
	Aud string `json:"aud"`
	Exp int64  `json:"exp"`
	Iat int64  `json:"iat"`
	Jti string `json:"jti"`
	Sid string `json:"sid"`
	// AuthTime is in whole seconds, as auth_time is.
	AuthTime int64    `json:"auth_time,omitempty"`
	AMR      []string `json:"amr,omitempty"`
}

// mint signs c (its Sub, Sid, AuthTime and AMR set by the caller) with the
// registered claims filled in.
func (i *Issuer) mint(c mintedClaims) (*Token, error) {
	now := i.now().Truncate(time.Second)
	exp := now.Add(i.ttl).Truncate(time.Second)
	c.Iss, c.Aud, c.Exp, c.Iat, c.Jti = i.issuer, i.audience, exp.Unix(), now.Unix(), rand.Text()
	payload, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	key := i.ring.Load().signing(now)
	jws, err := key.signer.Sign(payload)
	if err != nil {
		return nil, fmt.Errorf("accesstoken: sign: %w", err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		return nil, fmt.Errorf("accesstoken: sign: %w", err)
	}
	return &Token{AccessToken: tok, TokenType: "Bearer", ExpiresIn: int(exp.Sub(now) / time.Second), Expiry: exp}, nil
}

// Verify checks one of our tokens with no store call: size, shape, header
// (alg EdDSA or ES256 only, typ at+jwt, a kid published now, no crit, jku,
// x5u, jwk or x5c), signature, then iss, aud, exp, nbf and iat (with the
// leeway), sub, sid and jti. Every error matches ErrInvalidToken, and an
// expired token's also ErrExpired; the text says why. Cost: one
// signature verification, tens of µs, or, for a token verified before, one
// SHA-256 and a map lookup (about a microsecond).
func (i *Issuer) Verify(ctx context.Context, token string) (*Claims, error) {
	c, err := i.v.verify(ctx, token)
	if err != nil {
		i.rejected(err)
	}
	return c, err
}

// rejected reports a refused token to Config.Observe.
func (i *Issuer) rejected(err error) {
	if i.observe == nil {
		return
	}
	reason := "invalid"
	switch {
	case errors.Is(err, errSignature), errors.Is(err, errUnknownKey):
		reason = "forged"
	case errors.Is(err, ErrExpired):
		reason = "expired"
	case errors.Is(err, errSessionEnded):
		reason = "ended"
	case !errors.Is(err, ErrInvalidToken):
		return // not a refusal of the token
	}
	i.observe(session.Event{Name: "accesstoken.rejected", Reason: reason})
}
