package main

import "net/http"

// routes returns the whole server: the mux behind the session middleware,
// behind cross-origin protection, behind logging and security headers.
func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	auth := func(h http.HandlerFunc) http.Handler { return a.sessions.RequireAuth(h) }
	// Pages.
	mux.Handle("GET /{$}", auth(a.home))
	mux.HandleFunc("GET /signup", a.signupPage)
	mux.Handle("GET /password", auth(a.passwordPage))
	mux.HandleFunc("GET /static/{name}", staticFile)
	// "Sign in with": POST /auth/NAME/login, GET /auth/NAME/callback.
	// Linking a provider to the signed-in account, like adding a passkey,
	// needs a recent proof by a method of wayInProofs: a way in must not
	// outlive the session that added it (a stolen cookie, a borrowed
	// laptop), and a provider's single sign-on, which answers without
	// asking anyone (recorded "fed"), proves nobody is at the keyboard.
	recent := func(h http.Handler) http.Handler { return a.sessions.RequireRecentAuth(recentAuth)(h) }
	addWayIn := func(h http.Handler) http.Handler {
		return a.sessions.RequireRecentAuth(recentAuth, wayInProofs...)(h)
	}
	if a.signin != nil {
		mux.Handle("/auth/", a.ceremonyBudget(a.deviceValues(withCallbackState(a.signin))))
		mux.Handle("POST /account/link/{provider}", addWayIn(http.HandlerFunc(a.linkProvider)))
	}
	// Passkeys: register, sign in (button and autofill), step-up, list,
	// rename. Adding one needs a recent proof as linking does; removing
	// one a recent proof of any method, like signing out everywhere (it
	// takes a way in away; the page steps up with a passkey and tries
	// again).
	if a.passkeys != nil {
		mux.Handle("/passkey/", a.ceremonyBudget(a.deviceValues(a.passkeys)))
		mux.Handle("POST /passkey/register/", addWayIn(a.passkeys))
		mux.Handle("POST /passkey/remove", recent(a.passkeys))
	}
	// Forms and the JSON API: every POST takes a form or JSON.
	mux.HandleFunc("POST /login", a.login)
	mux.HandleFunc("POST /logout", a.logout)
	mux.HandleFunc("POST /register", a.register)
	// Signing out everywhere needs a proof of at most recentAuth ago: older,
	// pages go to /confirm, API calls get RFC 9470's 401.
	mux.Handle("POST /logout-all", auth(a.sessions.RequireRecentAuth(recentAuth)(http.HandlerFunc(a.logoutAll)).ServeHTTP))
	mux.Handle("GET /confirm", auth(a.confirmPage))
	mux.Handle("POST /confirm", auth(a.confirm))
	mux.Handle("POST /password", auth(a.changePassword))
	mux.Handle("POST /sessions/{id}/logout", auth(a.logoutDevice))
	// Access tokens (package accesstoken): minted from the session cookie,
	// verified by Bearer with the published keys.
	mux.Handle("POST /token", a.tokens.MintHandler())
	mux.Handle("GET /.well-known/jwks.json", a.tokens.JWKSHandler())
	mux.Handle("GET /api/me", a.tokens.Middleware(http.HandlerFunc(a.apiMe)))
	// Probes for orchestrators and load balancers.
	mux.HandleFunc("GET /healthz", a.healthz)
	mux.HandleFunc("GET /readyz", a.readyz)
	// The library's metrics in Prometheus's format (package otelsession).
	// Serve them where only your monitoring can reach them.
	if a.metrics != nil {
		mux.Handle("GET /metrics", a.metrics)
	}
	// The JSON API's reads.
	mux.Handle("GET /me", auth(a.me))
	mux.Handle("GET /sessions", auth(a.listSessions))
	// Other methods on known paths: 405 in JSON rather than the mux's text.
	for _, p := range []string{"/login", "/logout", "/logout-all", "/register", "/sessions/{id}/logout", "/token"} {
		mux.Handle(p, methodNotAllowed("POST"))
	}
	for _, p := range []string{"/me", "/sessions", "/signup", "/healthz", "/readyz", "/.well-known/jwks.json", "/api/me"} {
		mux.Handle(p, methodNotAllowed("GET, HEAD"))
	}
	mux.Handle("/password", methodNotAllowed("GET, HEAD, POST"))
	mux.Handle("/confirm", methodNotAllowed("GET, HEAD, POST"))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			methodNotAllowed("GET, HEAD").ServeHTTP(w, r)
			return
		}
		writeError(w, http.StatusNotFound, "not found")
	})

	// Refuses cross-origin POSTs (the login form too), using the browser's
	// Sec-Fetch-Site header, or Origin against Host.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusForbidden, "cross-origin request refused")
	}))
	return a.logRequests(a.securityHeaders(cop.Handler(a.sessions.Middleware(mux))))
}
