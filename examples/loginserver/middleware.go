package main

import (
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// securityHeaders sets headers every response should carry. The policy
// allows the server's own script and stylesheet (static/) and nothing
// inline, so injected markup can neither run a script nor restyle a page.
//
// form-action is 'self' and the "Sign in with" providers' origins:
// browsers apply it to the redirect a form's answer sends too, and the
// sign-in form's answer is a redirect to the provider.
func contentSecurityPolicy(formOrigins []string) string {
	return "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; form-action " +
		strings.Join(append([]string{"'self'"}, formOrigins...), " ") + "; frame-ancestors 'none'; base-uri 'none'"
}

func (a *app) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", a.csp)
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
// the query string), status, duration. No headers, cookies or bodies. The
// health probes, which come every few seconds, are not logged.
func (a *app) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		a.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", sw.status), slog.Duration("duration", time.Since(start)))
	})
}
