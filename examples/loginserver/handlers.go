package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"net/netip"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sessionauth/session"
)

// passwordPolicy is the rule for new passwords (POST /register, DEMO_PASSWORD):
// at least 15 characters of any script, at most 1024 bytes. 15 is NIST's
// minimum when the password is the only factor; with a second factor, 8
// (session.ValidatePassword) is enough.
var passwordPolicy = session.PasswordPolicy{MinLength: session.RecommendedMinPasswordLength}

const (
	// maxBodyBytes caps request bodies: a username, a 1024-byte password
	// and some JSON fit easily.
	maxBodyBytes = 8 << 10
	// maxUserAgent caps the user agent kept in the session for the devices list.
	maxUserAgent = 256
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
	// Now is the clock of the login throttles; nil means time.Now.
	Now func() time.Time
	// HashSlots bounds concurrent password hashes (each takes about 19 MiB);
	// 0 means max(2, GOMAXPROCS). HashSlotWait is how long a request waits
	// for a slot before answering 503; 0 means 2 seconds.
	HashSlots    int
	HashSlotWait time.Duration
}

// app holds the server's dependencies; its methods are the HTTP handlers.
type app struct {
	sessions *session.Manager
	users    UserStore
	log      *slog.Logger
	// Failed logins are throttled per account and per client address (S46).
	// Addresses get a higher limit: many people can share one (NAT, offices).
	accounts, addrs *session.Throttle
	hashSlots       chan struct{}
	slotWait        time.Duration
	demoHint        bool
	demoUser        string
}

func newApp(c appConfig) (*app, error) {
	m, err := session.New(c.Sessions)
	if err != nil {
		return nil, err
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.HashSlots <= 0 {
		c.HashSlots = max(2, runtime.GOMAXPROCS(0))
	}
	if c.HashSlotWait <= 0 {
		c.HashSlotWait = 2 * time.Second
	}
	return &app{
		sessions: m,
		users:    c.Users,
		log:      c.Log,
		accounts: session.NewThrottle(session.ThrottleConfig{
			MaxFailures: 5, Window: 15 * time.Minute, Lockout: time.Minute, MaxLockout: 15 * time.Minute, Now: c.Now,
		}),
		addrs: session.NewThrottle(session.ThrottleConfig{
			MaxFailures: 50, Window: 15 * time.Minute, Lockout: time.Minute, MaxLockout: 15 * time.Minute, Now: c.Now,
		}),
		hashSlots: make(chan struct{}, c.HashSlots),
		slotWait:  c.HashSlotWait,
		demoHint:  c.DemoHint,
		demoUser:  c.DemoUser,
	}, nil
}

// routes returns the whole server: the mux behind the session middleware,
// behind cross-origin protection, behind logging and security headers.
func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("POST /login", a.login)
	mux.HandleFunc("POST /logout", a.logout)
	mux.HandleFunc("POST /register", a.register)
	mux.Handle("POST /logout-all", a.sessions.RequireAuth(http.HandlerFunc(a.logoutAll)))
	mux.Handle("GET /me", a.sessions.RequireAuth(http.HandlerFunc(a.me)))
	mux.Handle("GET /sessions", a.sessions.RequireAuth(http.HandlerFunc(a.listSessions)))
	// Other methods on known paths: 405 in JSON rather than the mux's text.
	for _, p := range []string{"/login", "/logout", "/logout-all", "/register"} {
		mux.Handle(p, methodNotAllowed("POST"))
	}
	for _, p := range []string{"/me", "/sessions"} {
		mux.Handle(p, methodNotAllowed("GET, HEAD"))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			methodNotAllowed("GET, HEAD").ServeHTTP(w, r)
			return
		}
		writeError(w, http.StatusNotFound, "not found")
	})

	// Refuses cross-origin POSTs (S30, S32: the login form too), using the
	// browser's Sec-Fetch-Site header, or Origin against Host.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusForbidden, "cross-origin request refused")
	}))
	return a.logRequests(securityHeaders(cop.Handler(a.sessions.Middleware(mux))))
}

// home is the HTML page: the sign-in form, or who you are and your sessions.
func (a *app) home(w http.ResponseWriter, r *http.Request) {
	// The page differs per user: never cache it, so the back button after
	// sign-out cannot show it again.
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Vary", "Cookie")
	user, ok, err := a.currentUser(w, r)
	if err != nil {
		a.renderPage(w, http.StatusServiceUnavailable, pageData{Error: "Your account could not be loaded right now. Please try again."})
		return
	}
	if !ok {
		a.renderPage(w, http.StatusOK, a.signInPage("", ""))
		return
	}
	data := pageData{SignedIn: true, Username: user.Username, UserID: user.ID}
	rows, err := a.sessionRows(r)
	if err != nil {
		a.log.ErrorContext(r.Context(), "list sessions", "user_id", user.ID, "error", err)
		data.Error = "Your sessions could not be listed right now."
	}
	data.Sessions = rows
	a.renderPage(w, http.StatusOK, data)
}

func (a *app) signInPage(username, errMsg string) pageData {
	d := pageData{Username: username, Error: errMsg}
	if a.demoHint {
		d.DemoUser, d.DemoPassword = a.demoUser, defaultDemoPassword
	}
	return d
}

// currentUser returns the signed-in user, or ok == false when nobody is
// signed in. A session whose user no longer exists is signed out. err is set
// when the user store failed: callers answer 503, never "not signed in".
func (a *app) currentUser(w http.ResponseWriter, r *http.Request) (u User, ok bool, err error) {
	id := session.FromContext(r.Context()).UserID()
	if id == "" {
		return User{}, false, nil
	}
	u, err = a.users.ByID(r.Context(), id)
	switch {
	case errors.Is(err, ErrNoUser):
		a.log.InfoContext(r.Context(), "session of a deleted user ended", "user_id", id)
		_ = a.sessions.Logout(w, r)
		return User{}, false, nil
	case err != nil:
		a.log.ErrorContext(r.Context(), "user store", "error", err)
		return User{}, false, err
	}
	return u, true, nil
}

// credentials is the body of POST /login and POST /register.
type credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Remember bool   `json:"remember"`
}

// errBadRequest is an error whose message is safe to show to the client.
type errBadRequest struct {
	status int
	msg    string
}

func (e *errBadRequest) Error() string { return e.msg }

// readCredentials decodes a JSON or (when allowForm) form body, capped at
// maxBodyBytes.
func readCredentials(w http.ResponseWriter, r *http.Request, allowForm bool) (credentials, error) {
	var c credentials
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case mt == "application/json":
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return c, bodyError(err)
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return c, &errBadRequest{http.StatusBadRequest, "malformed JSON body: trailing data"}
		}
	case allowForm && mt == "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return c, bodyError(err)
		}
		c.Username = r.PostForm.Get("username")
		c.Password = r.PostForm.Get("password")
		switch r.PostForm.Get("remember") {
		case "on", "1", "true", "yes":
			c.Remember = true
		}
	default:
		want := "application/json"
		if allowForm {
			want += " or application/x-www-form-urlencoded"
		}
		return c, &errBadRequest{http.StatusUnsupportedMediaType, "Content-Type must be " + want}
	}
	if c.Username == "" || c.Password == "" {
		return c, &errBadRequest{http.StatusBadRequest, "username and password are required"}
	}
	return c, nil
}

func bodyError(err error) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return &errBadRequest{http.StatusBadRequest, fmt.Sprintf("request body larger than %d bytes", maxBodyBytes)}
	}
	return &errBadRequest{http.StatusBadRequest, "malformed request body"}
}

// login checks a username and password and signs the user in.
//
// Every failure — unknown user, wrong password, a name that cannot exist —
// is the same 401 "invalid credentials", and an unknown user costs the same
// password hash as a known one (S45), so neither the answer nor its timing
// tells whether an account exists.
func (a *app) login(w http.ResponseWriter, r *http.Request) {
	c, err := readCredentials(w, r, true)
	if err != nil {
		a.fail(w, r, err.(*errBadRequest).status, err.Error(), "")
		return
	}
	name, nameErr := normalizeUsername(c.Username)
	keys := newLoginKeys(name, nameErr == nil, clientAddr(r))
	if a.throttled(w, r, keys) {
		return
	}
	release, ok := a.acquireHashSlot(r.Context())
	if !ok {
		w.Header().Set("Retry-After", "1")
		a.fail(w, r, http.StatusServiceUnavailable, "server busy, try again", name)
		return
	}
	defer release()
	// Checked again now that this request holds a slot: at most HashSlots
	// guesses can be in flight between the check and the Fail below.
	if a.throttled(w, r, keys) {
		return
	}

	user, err := a.checkPassword(r.Context(), name, nameErr == nil, c.Password)
	if err != nil {
		a.fail(w, r, http.StatusServiceUnavailable, "user store unavailable", name)
		return
	}
	if user.ID == "" {
		if keys.user != "" {
			a.accounts.Fail(keys.user, keys.pair)
		}
		a.addrs.Fail(keys.addr)
		// The username is not logged: people type passwords into it by mistake.
		a.log.InfoContext(r.Context(), "login failed", "addr", clientAddr(r))
		a.fail(w, r, http.StatusUnauthorized, "invalid credentials", name)
		return
	}
	a.accounts.Reset(keys.user, keys.pair) // never the address key: see session.Throttle

	var opts []session.LoginOption
	if c.Remember {
		opts = append(opts, session.RememberMe())
	}
	if err := a.sessions.Login(w, r, user.ID, opts...); err != nil {
		a.log.ErrorContext(r.Context(), "login: session store", "user_id", user.ID, "error", err)
		a.fail(w, r, http.StatusServiceUnavailable, "session store unavailable", name)
		return
	}
	// Shown in the devices list. Saved with the session before the response.
	s := session.FromContext(r.Context())
	s.Set("ua", strings.ToValidUTF8(truncate(r.UserAgent(), maxUserAgent), ""))
	a.log.InfoContext(r.Context(), "signed in", "user_id", user.ID, "session", s.ID(), "remember", c.Remember)

	if isForm(r) {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	writeJSON(w, http.StatusOK, userJSON{ID: user.ID, Username: user.Username})
}

// checkPassword returns the user if pw is theirs, or a zero User. Unknown and
// impossible usernames take the same path as a wrong password: one argon2id
// hash (S45). A hash below policy is upgraded here (S42). The error is for a
// user store that failed, never for a wrong password.
func (a *app) checkPassword(ctx context.Context, name string, valid bool, pw string) (User, error) {
	var u User
	var err error = ErrNoUser
	if valid {
		u, err = a.users.ByUsername(ctx, name)
	}
	if err != nil {
		session.DummyVerifyPassword(pw)
		if errors.Is(err, ErrNoUser) {
			return User{}, nil
		}
		a.log.ErrorContext(ctx, "user store", "error", err)
		return User{}, err
	}
	match, rehash, err := session.VerifyPassword(pw, u.PasswordHash)
	if err != nil && !errors.Is(err, session.ErrPasswordTooLong) {
		// A stored hash that cannot be checked is bad data: log which user,
		// never the hash.
		a.log.ErrorContext(ctx, "stored password hash unusable", "user_id", u.ID, "error", err)
	}
	if !match {
		return User{}, nil
	}
	if rehash {
		if h, err := session.HashPassword(pw); err == nil {
			switch ok, err := a.users.UpgradePasswordHash(ctx, u.ID, u.PasswordHash, h); {
			case err != nil:
				a.log.ErrorContext(ctx, "upgrade password hash", "user_id", u.ID, "error", err)
			case ok:
				a.log.InfoContext(ctx, "password hash upgraded to argon2id", "user_id", u.ID)
			}
		}
	}
	return u, nil
}

// throttled answers 429 with Retry-After when a key is locked (S46). It
// never sleeps: a locked client gets its answer at once.
//
// Three keys: the address (many failures, any accounts), the account from
// this address, and the account from anywhere. The account-wide lock stops
// only addresses that have already failed for this account, so an attacker
// who keeps an account locked from elsewhere never locks out its owner, while
// each attacking address still gets only a handful of guesses.
func (a *app) throttled(w http.ResponseWriter, r *http.Request, k loginKeys) bool {
	wait, ok := a.addrs.Check(k.addr)
	if k.pair != "" {
		keys := []string{k.pair}
		if a.accounts.Failing(k.pair) {
			keys = append(keys, k.user)
		}
		w2, ok2 := a.accounts.Check(keys...)
		wait, ok = max(wait, w2), ok && ok2
	}
	if ok {
		return false
	}
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	a.log.WarnContext(r.Context(), "login throttled", "addr", clientAddr(r), "retry_after_s", secs)
	a.fail(w, r, http.StatusTooManyRequests, "too many failed sign-in attempts; try again later", "")
	return true
}

// loginKeys are the throttle keys of one sign-in attempt; user and pair are
// "" for a username that cannot exist.
type loginKeys struct{ user, pair, addr string }

func newLoginKeys(name string, validName bool, addr string) loginKeys {
	k := loginKeys{addr: "addr:" + addr}
	if validName {
		k.user = "user:" + name
		k.pair = "user:" + name + "|addr:" + addr
	}
	return k
}

// acquireHashSlot bounds concurrent password hashing, which bounds memory
// (19 MiB each) and CPU under a flood of logins.
func (a *app) acquireHashSlot(ctx context.Context) (release func(), ok bool) {
	release = sync.OnceFunc(func() { <-a.hashSlots })
	select { // a free slot wins even if the wait below has already run out
	case a.hashSlots <- struct{}{}:
		return release, true
	default:
	}
	t := time.NewTimer(a.slotWait)
	defer t.Stop()
	select {
	case a.hashSlots <- struct{}{}:
		return release, true
	case <-t.C:
		return nil, false
	case <-ctx.Done():
		return nil, false
	}
}

// logout ends this session: 204 for API clients, 303 to / for forms.
func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	s := session.FromContext(r.Context())
	uid, sid := s.UserID(), s.ID()
	if err := a.sessions.Logout(w, r); err != nil {
		// The cookie is expired anyway; the record ends with its timeout.
		a.log.ErrorContext(r.Context(), "logout: session store", "user_id", uid, "error", err)
		if !isForm(r) {
			writeError(w, http.StatusServiceUnavailable, "session store unavailable")
			return
		}
	} else if uid != "" {
		a.log.InfoContext(r.Context(), "signed out", "user_id", uid, "session", sid)
	}
	a.done(w, r)
}

// logoutAll ends every session of the signed-in user, on every device.
func (a *app) logoutAll(w http.ResponseWriter, r *http.Request) {
	uid := session.FromContext(r.Context()).UserID()
	if err := a.sessions.LogoutAll(r.Context(), uid); err != nil {
		a.log.ErrorContext(r.Context(), "logout-all: session store", "user_id", uid, "error", err)
		a.fail(w, r, http.StatusServiceUnavailable, "session store unavailable", "")
		return
	}
	a.log.InfoContext(r.Context(), "signed out everywhere", "user_id", uid)
	a.done(w, r)
}

func (a *app) done(w http.ResponseWriter, r *http.Request) {
	if isForm(r) {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

type userJSON struct {
	ID       string `json:"id"`
	Username string `json:"username"`
}

// me answers who is signed in (behind RequireAuth).
func (a *app) me(w http.ResponseWriter, r *http.Request) {
	u, ok, err := a.currentUser(w, r)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "user store unavailable")
		return
	}
	if !ok {
		writeError(w, http.StatusUnauthorized, "not authenticated")
		return
	}
	writeJSON(w, http.StatusOK, userJSON{ID: u.ID, Username: u.Username})
}

type sessionJSON struct {
	ID         string    `json:"id"`
	Device     string    `json:"device"`
	UserAgent  string    `json:"user_agent"`
	Created    time.Time `json:"created"`
	LastSeen   time.Time `json:"last_seen"`
	Expires    time.Time `json:"expires"`
	Persistent bool      `json:"persistent"`
	Current    bool      `json:"current"`
}

// listSessions answers the signed-in user's sessions (behind RequireAuth):
// public IDs and metadata, never tokens or store keys.
func (a *app) listSessions(w http.ResponseWriter, r *http.Request) {
	rows, err := a.sessionRows(r)
	if err != nil {
		a.log.ErrorContext(r.Context(), "list sessions", "error", err)
		writeError(w, http.StatusServiceUnavailable, "session store unavailable")
		return
	}
	writeJSON(w, http.StatusOK, rows)
}

// sessionRows lists the user's sessions, this one first, then the most
// recently used.
func (a *app) sessionRows(r *http.Request) ([]sessionJSON, error) {
	s := session.FromContext(r.Context())
	infos, err := a.sessions.ListSessions(r.Context(), s.UserID())
	if err != nil {
		return nil, err
	}
	rows := make([]sessionJSON, 0, len(infos))
	for _, in := range infos {
		ua := in.Values["ua"]
		rows = append(rows, sessionJSON{
			ID: in.ID, Device: deviceLabel(ua), UserAgent: ua,
			Created: in.Created.UTC(), LastSeen: in.LastSeen.UTC(), Expires: in.Expires.UTC(),
			Persistent: in.RememberMe, Current: in.ID == s.ID(),
		})
	}
	slices.SortFunc(rows, func(x, y sessionJSON) int {
		if x.Current != y.Current {
			if x.Current {
				return -1
			}
			return 1
		}
		return y.LastSeen.Compare(x.LastSeen)
	})
	return rows, nil
}

// register creates an account from a JSON body: 201, 409 when the username is
// taken, 400 for an invalid username or a weak password.
func (a *app) register(w http.ResponseWriter, r *http.Request) {
	c, err := readCredentials(w, r, false)
	if err != nil {
		writeError(w, err.(*errBadRequest).status, err.Error())
		return
	}
	name, err := normalizeUsername(c.Username)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := passwordPolicy.Validate(c.Password); err != nil {
		writeError(w, http.StatusBadRequest, passwordRule(err))
		return
	}
	keys := loginKeys{addr: "addr:" + clientAddr(r)}
	if a.throttled(w, r, keys) {
		return
	}
	release, ok := a.acquireHashSlot(r.Context())
	if !ok {
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "server busy, try again")
		return
	}
	// Hash before looking at the name, so "taken" costs what "created" does.
	hash, err := session.HashPassword(c.Password)
	release()
	if err != nil {
		writeError(w, http.StatusBadRequest, passwordRule(err))
		return
	}
	u, err := a.users.Create(r.Context(), name, hash)
	switch {
	case errors.Is(err, ErrUsernameTaken):
		a.addrs.Fail(keys.addr) // probing for existing names counts as failures
		writeError(w, http.StatusConflict, "username taken")
		return
	case err != nil:
		a.log.ErrorContext(r.Context(), "register: user store", "error", err)
		writeError(w, http.StatusServiceUnavailable, "user store unavailable")
		return
	}
	a.log.InfoContext(r.Context(), "registered", "user_id", u.ID)
	writeJSON(w, http.StatusCreated, userJSON{ID: u.ID, Username: u.Username})
}

// passwordRule turns a policy error into the message shown to the client.
func passwordRule(err error) string {
	switch {
	case errors.Is(err, session.ErrPasswordTooShort):
		return fmt.Sprintf("password must be at least %d characters", passwordPolicy.MinLength)
	case errors.Is(err, session.ErrPasswordTooLong):
		return fmt.Sprintf("password must be at most %d bytes", session.MaxPasswordBytes)
	default:
		return "password must be valid UTF-8 text"
	}
}

// fail answers an error: the sign-in page with a message for HTML forms,
// JSON {"error": msg} for everyone else.
func (a *app) fail(w http.ResponseWriter, r *http.Request, status int, msg, username string) {
	if isForm(r) {
		w.Header().Set("Cache-Control", "no-store")
		a.renderPage(w, status, a.signInPage(username, msg))
		return
	}
	writeError(w, status, msg)
}

// isForm reports whether the request came from an HTML form.
func isForm(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/x-www-form-urlencoded"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal error")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func methodNotAllowed(allow string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, "method not allowed")
	})
}

// clientAddr is the key for per-address throttling: the peer's IP, or its
// /64 for IPv6 (one subscriber usually has a whole /64). Behind a reverse
// proxy, RemoteAddr is the proxy: take the client address from the header
// your proxy sets instead, and only from a proxy you run.
func clientAddr(r *http.Request) string {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	ip := ap.Addr().Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// securityHeaders sets headers every response should carry. The policy
// allows no scripts at all: the page has none.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// statusWriter records the status for the access log. Unwrap keeps
// http.ResponseController working through it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests writes one access-log line per request: method, path (never
// the query string), status, duration. No headers, cookies or bodies.
func (a *app) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		a.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", sw.status), slog.Duration("duration", time.Since(start)))
	})
}
