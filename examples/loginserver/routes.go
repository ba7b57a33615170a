package main

import "net/http"

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

	// Refuses cross-origin POSTs (the login form too), using the browser's
	// Sec-Fetch-Site header, or Origin against Host.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusForbidden, "cross-origin request refused")
	}))
	return a.logRequests(securityHeaders(cop.Handler(a.sessions.Middleware(mux))))
}
