package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/url"

	"github.com/sessionauth/session"
	"github.com/sessionauth/session/accesstoken"
	"github.com/sessionauth/session/otelsession"
	"github.com/sessionauth/session/passkey"
	"github.com/sessionauth/session/providerlogin"
	"github.com/sessionauth/session/throttle"
)

// appConfig is what newApp needs. Tests fill it directly; main reads it from
// the environment.
type appConfig struct {
	Sessions session.Config
	Users    UserStore
	Log      *slog.Logger
	// DemoHint shows the demo account's credentials on the sign-in page
	// (only while the built-in default password is in use).
	DemoHint bool
	DemoUser string
	// Throttle configures the guard of sign-in, sign-up and password
	// changes (package throttle): DeviceKeys is required; a nil Limiter
	// counts in memory; zero rules and slots take the package's defaults.
	// newApp sets Logger to Log when it is nil, and DisableSecureCookie
	// when the session cookie is not Secure.
	Throttle throttle.GuardConfig
	// Ping checks that the session store can be reached, for /readyz; nil
	// means the Manager's Ping (the store's health check, bounded by its
	// StoreTimeout).
	Ping func(context.Context) error
	// Providers are the "Sign in with" providers (none: no buttons), and
	// BaseURL the app's external origin, from which their callback URLs are
	// built (required with Providers).
	Providers []providerSpec
	BaseURL   string
	// TokenKeysFile is ACCESS_TOKEN_KEYS_FILE; empty: a key generated at
	// start-up. The tokens' issuer is BaseURL (default
	// http://localhost:8080).
	TokenKeysFile string
	// Passkeys keeps the passkeys; nil means in memory.
	Passkeys passkey.Store
	// Metrics records the library's events and serves them at GET
	// /metrics; nil: no metrics.
	Metrics *metrics
}

// metrics is a Recorder and the handler that serves what it records.
type metrics struct {
	rec     *otelsession.Recorder
	handler http.Handler
}

// app holds the server's dependencies; its methods are the HTTP handlers.
type app struct {
	sessions *session.Manager
	// metrics serves GET /metrics; nil: not served.
	metrics http.Handler
	users   UserStore
	log     *slog.Logger
	// guard throttles sign-ins (per account, per address, per known
	// device), sign-ups (per address) and bounds password hashing.
	guard *throttle.Guard
	// limiter keeps the guard's counts, and ceremonyBudget's.
	limiter  throttle.Limiter
	demoHint bool
	demoUser string
	// cookieName is the session cookie's name, to tell a visitor whose
	// session ended from a new one.
	cookieName string
	ready      *readiness
	// signin is the "Sign in with" handler (nil without providers), and
	// providers what it offers.
	signin    *providerlogin.Handler
	providers []providerSpec
	// csp is the Content-Security-Policy of every response: its form-action
	// lists the providers' origins.
	csp string
	// tokens mints access tokens from sessions and verifies them.
	tokens *accesstoken.Issuer
	// passkeys serves the passkey ceremonies and management at /passkey/;
	// passkeyStore is its store, read for the account page.
	passkeys     *passkey.Handler
	passkeyStore passkey.Store
}

// hostCookieName is the session cookie's name when its attributes allow the
// __Host- prefix (the library's default too).
const hostCookieName = "__Host-sid"

func newApp(c appConfig) (*app, error) {
	a := &app{}
	if c.Metrics != nil {
		c.Sessions.Observe = c.Metrics.rec.Observe
		c.Throttle.Observe = c.Metrics.rec.Observe
	}
	// Browsers get pages, API clients JSON, when RequireAuth turns a request
	// away or the store fails.
	if c.Sessions.Unauthenticated == nil {
		c.Sessions.Unauthenticated = http.HandlerFunc(a.unauthenticated)
	}
	if c.Sessions.StepUpURL == "" {
		c.Sessions.StepUpURL = "/confirm"
	}
	if c.Sessions.ErrorHandler == nil {
		c.Sessions.ErrorHandler = a.storeUnavailable
	}
	// The cookie's name is set here rather than left to the library's
	// default, so the pages know it: a __Host- name when the attributes
	// allow it (Secure, Path=/, no Domain), else "sid".
	if ck := &c.Sessions.Cookie; ck.Name == "" {
		ck.Name = hostCookieName
		if ck.DisableSecure || ck.Domain != "" || ck.Path != "" && ck.Path != "/" {
			ck.Name = "sid"
		}
	}
	m, err := session.New(c.Sessions)
	if err != nil {
		return nil, err
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Throttle.Logger == nil {
		c.Throttle.Logger = c.Log
	}
	if c.Sessions.Cookie.DisableSecure {
		c.Throttle.DisableSecureCookie = true
	}
	if c.Throttle.Limiter == nil {
		c.Throttle.Limiter = throttle.NewMemory(throttle.MemoryConfig{})
	}
	g, err := throttle.NewGuard(c.Throttle)
	if err != nil {
		return nil, err
	}
	*a = app{
		sessions:   m,
		users:      c.Users,
		log:        c.Log,
		guard:      g,
		limiter:    c.Throttle.Limiter,
		demoHint:   c.DemoHint,
		demoUser:   c.DemoUser,
		cookieName: c.Sessions.Cookie.Name,
		ready:      &readiness{ping: c.Ping},
		providers:  c.Providers,
	}
	if c.Metrics != nil {
		a.metrics = c.Metrics.handler
	}
	var formOrigins []string
	for _, p := range c.Providers {
		formOrigins = append(formOrigins, p.formOrigins()...)
	}
	a.csp = contentSecurityPolicy(formOrigins)
	if c.BaseURL == "" {
		c.BaseURL = "http://localhost:8080"
	}
	if a.tokens, err = newTokens(m, c.TokenKeysFile, c.BaseURL, c.Sessions.Observe); err != nil {
		return nil, err
	}
	// WebAuthn needs a domain name (localhost counts): behind a bare IP
	// address, passkeys are off.
	if u, err := url.Parse(c.BaseURL); err == nil && net.ParseIP(u.Hostname()) == nil {
		if a.passkeys, err = a.newPasskeys(c.Passkeys, c.BaseURL); err != nil {
			return nil, err
		}
	} else {
		a.log.Warn("passkeys are off: BASE_URL's host is an IP address, and WebAuthn needs a domain name (localhost works)")
	}
	if len(c.Providers) > 0 {
		if a.signin, err = a.newProviderLogin(c.Providers, c.BaseURL); err != nil {
			return nil, err
		}
	}
	if a.ready.ping == nil {
		a.ready.ping = m.Ping
	}
	a.ready.onFlip = func(err error) {
		if err != nil {
			a.log.Warn("not ready: the session store cannot be reached", "error", err)
		} else {
			a.log.Info("ready: the session store answers again")
		}
	}
	return a, nil
}
