// Package providertest is a small OpenID Provider (and a GitHub-style plain
// OAuth 2 provider) for tests and local demos of package providerlogin.
//
// It serves discovery, a JWKS, an authorization page with a login form,
// a token endpoint (authorization code with PKCE S256 only), user info and
// RP-initiated logout, all in memory. A browser signed in at the provider
// gets a code without the form (single sign-on) unless the request says
// prompt=login or its sign-in is older than max_age; ID tokens carry
// auth_time (when the password was typed) and amr ["pwd"]. Tests can bend its answers to play an
// attacker: change the claims of the next ID tokens, sign them with a key the
// JWKS does not publish, or move its clock.
//
// It is not a production identity provider: passwords are compared in plain
// text, nothing is persisted, and its pages carry no CSRF protection.
package providertest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Config describes a Server.
type Config struct {
	// Issuer is the provider's URL, as the app will be configured with it,
	// for example "http://127.0.0.1:9999". Required.
	Issuer string
	// Name is shown on the login page. Default "Demo Provider".
	Name string
	// Plain makes a GitHub-style OAuth 2 provider: no discovery document,
	// no ID token, and the user info at /user as {"id": 123, "login": ...}.
	Plain bool
}

// Client is an application registered at the provider.
type Client struct {
	ID, Secret string
	// Name is shown on the login page ("… wants you to sign in").
	Name string
	// RedirectURIs are the callback URLs the client may use, compared exactly.
	RedirectURIs []string
	// PostLogoutRedirectURIs are where end_session may send the browser.
	PostLogoutRedirectURIs []string
}

// User is an account at the provider.
type User struct {
	Username, Password string
	// Subject is the stable identifier put in "sub" (and, for a Plain
	// provider, the numeric "id"; it must then be decimal digits).
	Subject string
	Email   string
	Name    string
}

// Server is the provider. It is an http.Handler; serve it at Config.Issuer.
// Its methods are safe for concurrent use.
type Server struct {
	issuer, name string
	plain        bool
	cookiePath   string // the issuer's path: providers sharing a host keep their sessions apart

	mu        sync.Mutex
	key       *ecdsa.PrivateKey
	kid       string
	rogue     *ecdsa.PrivateKey // signs instead of key when set
	clients   map[string]Client
	users     map[string]User // by username
	codes     map[string]*grant
	tokens    map[string]*grant    // access token → its grant
	sessions  map[string]opSession // by the provider session cookie
	hook      func(claims map[string]any)
	noIss     bool
	now       func() time.Time
	codeTTL   time.Duration
	exchanges int
	logouts   int
}

// opSession is a browser's sign-in at the provider.
type opSession struct {
	username string
	authTime time.Time // when the password was typed
}

// grant is one authorization: the code, then the tokens issued for it.
type grant struct {
	client, redirectURI string
	challenge, nonce    string
	user                User
	authTime            time.Time // of the sign-in that gave the code
	expires             time.Time
	used                bool
	access              string
}

// ErrInvalidConfig is returned by New for a missing or malformed issuer.
var ErrInvalidConfig = errors.New("providertest: invalid config")

// sessionCookie names the provider's own login session cookie.
const sessionCookie = "op_session"

// New returns a provider with a fresh ES256 signing key and no clients or
// users. Cost: one P-256 key generation.
func New(cfg Config) (*Server, error) {
	if !strings.HasPrefix(cfg.Issuer, "http://") && !strings.HasPrefix(cfg.Issuer, "https://") || strings.HasSuffix(cfg.Issuer, "/") {
		return nil, fmt.Errorf("%w: Config.Issuer %q: want an http(s) URL without a trailing slash", ErrInvalidConfig, cfg.Issuer)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	if cfg.Name == "" {
		cfg.Name = "Demo Provider"
	}
	u, err := url.Parse(cfg.Issuer)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%w: Config.Issuer %q has no host", ErrInvalidConfig, cfg.Issuer)
	}
	cookiePath := u.Path
	if cookiePath == "" {
		cookiePath = "/"
	}
	return &Server{
		cookiePath: cookiePath,
		issuer:     cfg.Issuer,
		name:       cfg.Name,
		plain:      cfg.Plain,
		key:        key,
		kid:        randomString(8),
		clients:    map[string]Client{},
		users:      map[string]User{},
		codes:      map[string]*grant{},
		tokens:     map[string]*grant{},
		sessions:   map[string]opSession{},
		now:        time.Now,
		codeTTL:    time.Minute,
	}, nil
}

// Issuer returns the issuer URL the server was created with.
func (s *Server) Issuer() string { return s.issuer }

// AddClient registers (or replaces) a client.
func (s *Server) AddClient(c Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[c.ID] = c
}

// AddUser creates (or replaces) an account.
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.Username] = u
}

// SetIDTokenHook makes every later ID token pass through fn before it is
// signed; fn may change or delete any claim. nil removes the hook.
func (s *Server) SetIDTokenHook(fn func(claims map[string]any)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = fn
}

// SignWithUnknownKey makes later ID tokens carry a signature by a key the
// JWKS does not publish (with the published key's ID), or stops doing so.
func (s *Server) SignWithUnknownKey(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rogue = nil
	if on {
		s.rogue, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
}

// OmitIssParameter stops (or restarts) the "iss" parameter in authorization
// responses, as providers that predate RFC 9207 do.
func (s *Server) OmitIssParameter(omit bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noIss = omit
}

// SetClock replaces the provider's clock (time.Now), for expiring codes and
// issuing tokens in the past.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// Exchanges returns how many token requests succeeded.
func (s *Server) Exchanges() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exchanges
}

// Logouts returns how many times end_session ended a provider session.
func (s *Server) Logouts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logouts
}

// ServeHTTP routes the provider's endpoints. When the issuer has a path,
// mount the Server under it with http.StripPrefix.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		if s.plain {
			http.NotFound(w, r)
			return
		}
		s.discovery(w, r)
	case "/jwks":
		s.jwks(w, r)
	case "/authorize":
		s.authorize(w, r)
	case "/token":
		s.token(w, r)
	case "/userinfo", "/user":
		s.userinfo(w, r)
	case "/end_session":
		s.endSession(w, r)
	default:
		http.NotFound(w, r)
	}
}

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
