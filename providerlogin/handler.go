package providerlogin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sessionauth/session"
)

// Identity is who the provider says signed in, after every check passed.
type Identity struct {
	// Provider is the Provider's Name.
	Provider string
	// Issuer and Subject together name the person for good: map them (never
	// the email) to your user. Issuer is the OpenID Connect issuer, or a
	// plain OAuth 2 provider's configured Issuer.
	Issuer, Subject string
	// Email, EmailVerified and Name, when the provider tells them. Trust an
	// email for account linking only when EmailVerified is true.
	Email         string
	EmailVerified bool
	Name          string
	// AuthTime is when the user last authenticated at the provider: the ID
	// token's auth_time, zero when absent (and always for plain OAuth 2).
	AuthTime time.Time
	// AuthMethods are the ID token's amr values that a session can record
	// (RFC 8176 shape: 1 to 32 bytes of a-z, 0-9, '_' and '-'; at most 8),
	// nil when none. The session records them (session.ProvedWith on
	// sign-in, Manager.StepUp on a step-up) when AuthTime shows the user
	// authenticated during this sign-in; otherwise (none, no AuthTime, a
	// single sign-on on an earlier authentication) it records "fed".
	AuthMethods []string
	// Claims is the ID token's verified payload (OpenID Connect) or the
	// user-info JSON object (plain OAuth 2), for anything else you need.
	Claims []byte
}

// Config configures a Handler.
type Config struct {
	// Sessions is the app's session manager. Required.
	Sessions *session.Manager
	// Providers offered. Required; names must differ.
	Providers []*Provider
	// BaseURL is the app's external origin, such as "https://app.example"
	// (scheme, host and optional port, no path). Callback URLs are built
	// from it, never from the request's Host header. Required.
	BaseURL string
	// Prefix is where the Handler is mounted. Default "/auth/": the routes
	// are POST /auth/NAME/login, GET /auth/NAME/callback, POST /auth/logout.
	Prefix string
	// User maps a verified identity to the app's user ID, creating the user
	// on first sign-in if the app wants that. Return ErrAccessDenied
	// (wrapped or not) to refuse the account with a 403; any other error is
	// a 503. Required.
	//
	// ctx is the callback request's context: it ends when the request does,
	// and session.FromContext(ctx) is the visitor's session just before
	// sign-in. Keep the identity fields you need (Email, Name) with your
	// user and read them by Session.UserID; or set them in that session
	// here: Login carries an anonymous visitor's values into the signed-in
	// session (it drops them only when the browser was signed in as another
	// user).
	//
	// User also runs for a step-up (a sign-in form with max_age posted by a
	// signed-in visitor): the step-up is recorded only when it returns the
	// user ID signed in, and refused otherwise; what User did stays. So
	// never link an identity User does not know to the user signed in (the
	// session above): a step-up would then take any account at the
	// provider as the user's, and link it. Link accounts in a flow of
	// your own, after a step-up.
	User func(ctx context.Context, id Identity) (userID string, err error)
	// LoginOptions are passed to Sessions.Login, for example
	// session.RememberMe(). A session.ProvedWith here is replaced by the
	// ID token's amr (or "fed"; see Identity.AuthMethods).
	LoginOptions []session.LoginOption
	// DefaultReturnPath is where a sign-in without a valid return path
	// ends. Default "/".
	DefaultReturnPath string
	// PostLogoutPath is where logout ends (and, with RP-initiated logout,
	// the post_logout_redirect_uri: BaseURL + PostLogoutPath, which must be
	// registered at the provider). Default "/".
	PostLogoutPath string
	// FlowTimeout is how long a started sign-in may take. Default 10 minutes.
	FlowTimeout time.Duration
	// HTTPClient calls the providers. Default: a client with a 10 s
	// timeout. The Handler uses a copy that has a 10 s Timeout when this
	// one has none, follows redirects only within the redirected request's
	// origin (and none of a POST, so the token request goes to the token
	// endpoint only) before asking this one's CheckRedirect, and reads at
	// most 2 MiB of any answer.
	HTTPClient *http.Client
	// ErrorHandler answers a failed sign-in or logout. Default WriteError.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// Logger receives failed sign-ins (without tokens, codes or secrets).
	// nil disables logging.
	Logger *slog.Logger
}

// Handler serves the sign-in, callback and logout endpoints for every
// configured provider. Create it with New and mount it at Config.Prefix;
// it applies Sessions.Middleware itself when the request has not passed
// through it. Safe for concurrent use.
type Handler struct {
	sessions     *session.Manager
	providers    []*Provider
	byName       map[string]*Provider
	base, prefix string
	user         func(context.Context, Identity) (string, error)
	loginOpts    []session.LoginOption
	defReturn    string
	postLogout   string
	ttl          time.Duration
	client       *http.Client
	onError      func(http.ResponseWriter, *http.Request, error)
	log          *slog.Logger
	now          func() time.Time
	mux          http.Handler
}

// New checks cfg and returns a Handler; an error wraps ErrInvalidConfig
// and names the field. Cost: no I/O (OpenID Connect discovery happens in
// Discover, or else on a provider's first sign-in).
func New(cfg Config) (*Handler, error) {
	switch {
	case cfg.Sessions == nil:
		return nil, fmt.Errorf("%w: Config.Sessions is nil", ErrInvalidConfig)
	case cfg.User == nil:
		return nil, fmt.Errorf("%w: Config.User is nil", ErrInvalidConfig)
	case len(cfg.Providers) == 0:
		return nil, fmt.Errorf("%w: Config.Providers is empty", ErrInvalidConfig)
	case cfg.BaseURL == "":
		return nil, fmt.Errorf("%w: Config.BaseURL is empty", ErrInvalidConfig)
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" ||
		strings.TrimSuffix(base.Path, "/") != "" || base.RawQuery != "" || base.Fragment != "" || base.User != nil {
		return nil, fmt.Errorf("%w: Config.BaseURL %q: want an origin such as https://app.example", ErrInvalidConfig, cfg.BaseURL)
	}
	h := &Handler{
		sessions:   cfg.Sessions,
		byName:     map[string]*Provider{},
		base:       base.Scheme + "://" + base.Host,
		prefix:     cfg.Prefix,
		user:       cfg.User,
		loginOpts:  cfg.LoginOptions,
		defReturn:  cfg.DefaultReturnPath,
		postLogout: cfg.PostLogoutPath,
		ttl:        cfg.FlowTimeout,
		client:     cfg.HTTPClient,
		onError:    cfg.ErrorHandler,
		log:        cfg.Logger,
		now:        time.Now,
	}
	if h.prefix == "" {
		h.prefix = "/auth/"
	}
	if !strings.HasPrefix(h.prefix, "/") || !strings.HasSuffix(h.prefix, "/") || strings.ContainsAny(h.prefix, "{}?#% ") {
		return nil, fmt.Errorf("%w: Config.Prefix %q: want a path that starts and ends with '/'", ErrInvalidConfig, h.prefix)
	}
	for _, p := range []struct {
		field string
		path  *string
	}{{"DefaultReturnPath", &h.defReturn}, {"PostLogoutPath", &h.postLogout}} {
		if *p.path == "" {
			*p.path = "/"
		}
		if _, ok := SafeReturnPath(*p.path); !ok {
			return nil, fmt.Errorf("%w: Config.%s %q is not a local path", ErrInvalidConfig, p.field, *p.path)
		}
	}
	if h.ttl == 0 {
		h.ttl = 10 * time.Minute
	}
	if h.ttl < time.Second {
		return nil, fmt.Errorf("%w: Config.FlowTimeout %v is below one second", ErrInvalidConfig, h.ttl)
	}
	if h.client == nil {
		h.client = &http.Client{Timeout: providerTimeout}
	}
	h.client = providerClient(h.client)
	if h.onError == nil {
		h.onError = WriteError
	}
	for _, p := range cfg.Providers {
		if p == nil {
			return nil, fmt.Errorf("%w: Config.Providers holds a nil Provider", ErrInvalidConfig)
		}
		if _, dup := h.byName[p.name]; dup {
			return nil, fmt.Errorf("%w: Config.Providers: two providers named %q", ErrInvalidConfig, p.name)
		}
		h.byName[p.name] = p
		h.providers = append(h.providers, p)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+h.prefix+"{provider}/login", h.login)
	mux.HandleFunc("GET "+h.prefix+"{provider}/callback", h.callback)
	mux.HandleFunc("POST "+h.prefix+"logout", h.Logout)
	mux.HandleFunc(h.prefix, func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, fmt.Errorf("%w: no such endpoint or method", ErrBadRequest))
	})
	h.mux = cfg.Sessions.Middleware(mux)
	return h, nil
}

// ServeHTTP routes the sign-in endpoints under Config.Prefix. A request to
// an unknown path or with the wrong method gets ErrBadRequest (400).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Providers returns the configured providers in order, for rendering buttons.
func (h *Handler) Providers() []*Provider { return append([]*Provider(nil), h.providers...) }

// LoginPath returns the path a "Sign in with …" form posts to (with an
// optional return_to field naming a local path).
func (h *Handler) LoginPath(provider string) string { return h.prefix + provider + "/login" }

// LogoutPath returns the path a sign-out form posts to.
func (h *Handler) LogoutPath() string { return h.prefix + "logout" }

// CallbackURL returns the redirect URI to register at the provider.
func (h *Handler) CallbackURL(provider string) string {
	return h.base + h.prefix + provider + "/callback"
}

// Discover runs OpenID Connect discovery for every OIDC provider now,
// instead of on its first sign-in, and returns the errors joined. Call it
// at start-up: errors.Is(err, ErrInvalidConfig) means a provider is
// misconfigured (its discovery document is missing or names another
// issuer, as a trailing slash in Issuer does) and the app should not
// start; ErrProviderUnavailable means one could not be reached (the
// sign-in retries discovery, so the app may start). A successful discovery
// is kept for the process's life. Cost: one request per provider not yet
// discovered, each bounded by 10 seconds and ctx.
func (h *Handler) Discover(ctx context.Context) error {
	var errs []error
	for _, p := range h.providers {
		if p.isOIDC {
			if _, err := p.discover(ctx, h.client); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// fail reports err to the logger and the error handler.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if h.log != nil {
		h.log.LogAttrs(r.Context(), slog.LevelWarn, "sign-in failed",
			slog.String("path", r.URL.Path), slog.Int("status", infoFor(err).status), slog.String("error", err.Error()))
	}
	h.onError(w, r, err)
}

// noStore marks responses that must not be cached or leak the URL.
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
}

// redirect answers 303 to a location already checked to be safe.
func redirect(w http.ResponseWriter, location string) {
	noStore(w)
	w.Header().Set("Location", location)
	w.WriteHeader(http.StatusSeeOther)
}
