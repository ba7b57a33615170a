package session

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// Default timeouts, used when the Config leaves them zero (the field docs
// state them).
const (
	defaultIdleTimeout           = 30 * time.Minute
	defaultLifetime              = 12 * time.Hour
	defaultRememberMeIdleTimeout = 7 * 24 * time.Hour
	defaultRememberMeLifetime    = 30 * 24 * time.Hour
)

// defaultMaxSessionsPerUser is how many sessions one user may have when
// Config.MaxSessionsPerUser is zero.
const defaultMaxSessionsPerUser = 32

// Config configures a Manager. Only Keys is required.
type Config struct {
	// Store keeps the sessions. nil means a new MemoryStore (one process only).
	Store Store
	// StoreTimeout bounds each call the Manager makes to Store: the call's
	// context gets this deadline (the request's own cancellation still
	// applies), so a store that hangs costs a request at most this long.
	// The store must honour ctx (for go-redis, set ContextTimeoutEnabled).
	// The same guard stops calling a store that keeps failing: after 5
	// failures in a row and no success for a whole StoreTimeout, or at once
	// after a refused connection, calls fail at once with
	// ErrStoreUnavailable (RequireAuth answers 503 without waiting; public
	// pages stay anonymous), and every 50 ms one request probes the store
	// (its health check first, see Manager.Ping) until it answers; on a
	// Redis Cluster each master node, and on a Ring each shard, has a
	// breaker of its own. The Logger
	// gets one line when calls stop, one naming the cause, and one when they
	// resume. Cost: a deadline per store call without a timer, about
	// 120 ns and one small allocation, none for the session's load (a
	// Redis round trip is about 50 µs). 0 means 1 s;
	// a negative value turns the deadline and the breaker off (then a
	// value saved after the response, which outlives the request's context
	// so that a client hanging up does not lose it, is bounded only by the
	// store client's own timeouts). A
	// MemoryStore, which does no I/O, is never wrapped. Size it from the
	// store's slowest healthy answer on a busy host (README: "Sizing
	// StoreTimeout"); too small shows as 503s while the store is healthy.
	StoreTimeout time.Duration
	// Keys signs and verifies tokens. Required.
	Keys *KeyRing

	// CookieOnly keeps the whole session in its cookie instead of a Store:
	// user ID, creation time, idle deadline, remember-me, timeouts and
	// values, sealed with XChaCha20-Poly1305 under keys derived from Keys
	// (the first key seals, every key opens, and a cookie sealed under an
	// older key is resealed in the response to the first request that uses
	// the session). Nothing to run or share between instances, but nothing
	// to revoke either: a copied cookie stays valid until its idle or
	// absolute timeout, Logout only expires the browser's copy (a request of
	// the same browser still running may send it a fresh cookie afterwards,
	// when it was due to extend the session; so may one sent just before a
	// Login or StepUp, resealing the session it carried over the new one),
	// and LogoutAll, LogoutOthers,
	// Renew, ListSessions and LogoutSession return ErrCookieOnly. Managers
	// that share Keys and the cookie name accept each other's cookies: give
	// each app its own keys. A session must fit in one cookie (about 2.8 KB
	// of values): Session.Set, Put and Login return ErrCookieTooLarge
	// beyond; a session that fitted under earlier cookie settings (a shorter
	// Domain or Path) but no longer does is served as it is, without being
	// extended. Store must be nil and Bearer false.
	// Cost per request with a cookie: a base64 decode and one AEAD open
	// (about a microsecond), no store; a changed session, or an idle window
	// due for extension, is resealed into a new Set-Cookie.
	CookieOnly bool

	// IdleTimeout ends a session that has not been used for this long,
	// enforced from the expiry the store keeps. Activity extends it at most
	// once per half window, so a busy session costs one store write per
	// IdleTimeout/2 and none in between; the price is that a session left
	// unused ends between IdleTimeout/2 and IdleTimeout after its last use
	// (never before half of it). 0 means 30 minutes.
	// An IdleTimeout longer than Lifetime is cut to Lifetime (the session
	// could never outlive it anyway); the same holds for the remember-me pair.
	//
	// A session keeps the timeouts it was created with, but the current
	// ones bound it: after IdleTimeout or Lifetime (or the remember-me pair)
	// is shortened, a session or cookie-only cookie created under the longer
	// ones ends at the shorter, whatever it carries. A shortened idle timeout
	// counts from the session's last extension, so such a session may end up
	// to half the old window early, once.
	IdleTimeout time.Duration
	// Lifetime ends a session this long after Login, however active it is.
	// Renew and LogoutOthers keep it. 0 means 12 hours.
	Lifetime time.Duration
	// RememberMeIdleTimeout and RememberMeLifetime replace the two above for
	// sessions created with the RememberMe login option, whose cookie also
	// survives a browser restart (for at most 400 days, the browsers' cap).
	// 0 means 7 days for RememberMeIdleTimeout and 30 days for
	// RememberMeLifetime.
	RememberMeIdleTimeout time.Duration
	RememberMeLifetime    time.Duration

	// MaxSessionsPerUser caps the sessions one user may have at once; a
	// Login past it ends that user's oldest sessions, so neither the store
	// nor the list of a user's devices grows without bound. 0 means 32; at
	// most 1000.
	MaxSessionsPerUser int

	// Cookie sets the cookie's name and attributes; the zero value is safe.
	Cookie CookieOptions

	// Bearer also accepts the signed token in an "Authorization: Bearer"
	// header, for API and mobile clients (get it with Session.Token after
	// Login). Tokens are never read from query strings or form fields. A
	// request whose Bearer token and session cookie both verify but name
	// different sessions is anonymous: which one is the caller's cannot be
	// told.
	Bearer bool

	// Unauthenticated answers requests that RequireAuth turns away. nil means
	// 401 with the JSON body {"error":"not authenticated"}.
	Unauthenticated http.Handler
	// ErrorHandler answers a request when the store fails: on a RequireAuth
	// route, or when a change to the session cannot be saved. err wraps
	// ErrStoreUnavailable and the store's error (in cookie-only mode, which
	// has no store, ErrCookieTooLarge, which Session.Set already reports).
	// nil means 503 with the JSON body {"error":"session store unavailable"},
	// or for ErrCookieTooLarge 500 with {"error":"session too large for its
	// cookie"}.
	// When it answers for a change that could not be saved, its response
	// replaces the handler's: the headers the handler set for its own body,
	// caching, redirect and cookies (Content-Length, Content-Encoding, ETag,
	// Location, Set-Cookie and the like) are removed first, except those an
	// outer middleware set before the Middleware ran; others stay.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// Logger receives store failures, corrupt records and dropped changes.
	// Entries carry a short hash of the session (Session.ID), never a token,
	// key or cookie. nil disables logging.
	Logger *slog.Logger
	// StepUpURL is the page where a signed-in user proves again who they
	// are (their password, a passkey) before what matters, a path of this
	// site such as "/confirm". RequireRecentAuth redirects page requests it
	// turns away there, with the query parameter "return" set to the path
	// they asked for; the page calls Manager.StepUp and sends the user back.
	// "" means such requests get RequireRecentAuth's 401 like API calls.
	StepUpURL string
	// ClearSiteData makes Logout send `Clear-Site-Data: "cookies"`, which
	// removes every cookie of the site from the browser, not only ours.
	ClearSiteData bool
	// Observe receives what happens: sign-ins and sign-outs, refused
	// tokens, each store call with its latency and error, the store
	// breaker opening and closing (see Event for the list). Package
	// otelsession turns them into OpenTelemetry metrics. It is called
	// synchronously and concurrently, and must return quickly. nil reports
	// nothing and costs nothing.
	Observe func(Event)
}

// Manager is the session middleware and the API to log users in and out.
// Create it once with New and share it; it is safe for concurrent use.
type Manager struct {
	misuseLogged     [2]atomic.Bool // logMisuse: ErrNoMiddleware, ErrForeignWriter
	mode             backend        // where sessions live: storeBackend or sealedBackend
	store            Store          // server-side mode's store, guarded; nil in cookie-only mode (set with setStore)
	getter           loadGetter     // store, when it serves the load's read itself (resolved once: a type assertion per read costs more)
	signer           *signer
	cookie           CookieOptions
	normal, remember timeouts
	bearer           bool
	unauthenticated  http.Handler
	onError          func(w http.ResponseWriter, r *http.Request, err error)
	log              *slog.Logger
	clearSiteData    bool
	stepUpURL        string
	maxPerUser       int
	storeTimeout     time.Duration // Config.StoreTimeout with its default
	dead             deadTokens
	observe          func(Event) // Config.Observe
	now              func() time.Time
}

type timeouts struct{ idle, lifetime time.Duration }

// New checks cfg and returns a Manager. Every error it returns matches
// errors.Is(err, ErrInvalidConfig), and the more precise cause too: missing
// keys (also ErrInvalidKey), cookie attributes that browsers would reject
// (a __Host- name with a Domain, a non-root Path or without Secure;
// SameSite=None without Secure), timeouts below one second or above
// 100 years, or a MaxSessionsPerUser out of range.
func New(cfg Config) (*Manager, error) {
	m, err := newManager(cfg)
	if err != nil {
		if !errors.Is(err, ErrInvalidConfig) {
			err = configError{err}
		}
		return nil, err
	}
	return m, nil
}

// configError is an error of New that matches both ErrInvalidConfig and
// its cause, and names the package once.
type configError struct{ cause error }

func (e configError) Error() string {
	return ErrInvalidConfig.Error() + ": " + strings.TrimPrefix(e.cause.Error(), "session: ")
}

func (e configError) Unwrap() []error { return []error{ErrInvalidConfig, e.cause} }

func newManager(cfg Config) (*Manager, error) {
	if cfg.Keys == nil || cfg.Keys.len() == 0 {
		return nil, errNoKeys
	}
	cookie, err := cfg.Cookie.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := checkStepUpURL(cfg.StepUpURL); err != nil {
		return nil, err
	}
	maxPerUser := cfg.MaxSessionsPerUser
	if maxPerUser == 0 {
		maxPerUser = defaultMaxSessionsPerUser
	}
	if maxPerUser < 1 || maxPerUser > 1000 {
		return nil, fmt.Errorf("%w: MaxSessionsPerUser must be between 1 and 1000", ErrInvalidConfig)
	}
	m := &Manager{
		store:           cfg.Store,
		cookie:          cookie,
		bearer:          cfg.Bearer,
		unauthenticated: cfg.Unauthenticated,
		onError:         cfg.ErrorHandler,
		log:             cfg.Logger,
		clearSiteData:   cfg.ClearSiteData,
		stepUpURL:       cfg.StepUpURL,
		maxPerUser:      maxPerUser,
		observe:         cfg.Observe,
		now:             time.Now,
	}
	if m.normal, err = makeTimeouts(cfg.IdleTimeout, cfg.Lifetime, defaultIdleTimeout, defaultLifetime); err != nil {
		return nil, err
	}
	if m.remember, err = makeTimeouts(cfg.RememberMeIdleTimeout, cfg.RememberMeLifetime, defaultRememberMeIdleTimeout, defaultRememberMeLifetime); err != nil {
		return nil, err
	}
	if cfg.CookieOnly {
		if m.mode, err = newSealedBackend(m, cfg); err != nil {
			return nil, err
		}
	} else {
		if cfg.StoreTimeout > 0 && cfg.StoreTimeout < time.Millisecond {
			return nil, fmt.Errorf("%w: StoreTimeout must be at least 1ms (or negative, to turn it off)", ErrInvalidConfig)
		}
		if m.store == nil {
			m.store = NewMemoryStore()
		}
		m.store = newGuard(m.store, cfg.StoreTimeout, cfg.Logger)
		if g, ok := m.store.(*guard); ok && cfg.Observe != nil {
			g.observeWith(cfg.Observe)
		}
		m.setStore(observeStore(m.store, cfg.Observe))
		m.storeTimeout = cfg.StoreTimeout
		if m.storeTimeout == 0 {
			m.storeTimeout = defaultStoreTimeout
		}
		m.mode = storeBackend{m}
	}
	if m.unauthenticated == nil {
		m.unauthenticated = http.HandlerFunc(m.defaultUnauthenticated)
	}
	if m.onError == nil {
		m.onError = defaultErrorHandler
	}
	maxAge := max(m.normal.lifetime, m.remember.lifetime) + time.Minute
	m.signer = cfg.Keys.newSigner(cookie.Name, maxAge)
	return m, nil
}

func makeTimeouts(idle, life, defIdle, defLife time.Duration) (timeouts, error) {
	if idle == 0 {
		idle = defIdle
	}
	if life == 0 {
		life = defLife
	}
	if idle < time.Second || life < time.Second || idle > maxDuration || life > maxDuration {
		return timeouts{}, fmt.Errorf("%w: timeouts must be between 1s and 100 years", ErrInvalidConfig)
	}
	return timeouts{idle: min(idle, life), lifetime: life}, nil
}
