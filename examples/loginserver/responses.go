package main

import (
	"encoding/json"
	"net/http"
)

// done answers a successful POST without a body: 303 to / for forms, 204 for
// API clients.
func (a *app) done(w http.ResponseWriter, r *http.Request) {
	if isForm(r) {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// unauthenticated answers a request RequireAuth turned away: GET / is the
// sign-in page, other browser requests go there, API clients get 401.
func (a *app) unauthenticated(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		a.signInPage(w, r)
		return
	}
	if wantsHTML(r) {
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	writeError(w, http.StatusUnauthorized, "not authenticated")
}

// storeUnavailable answers a request the session store failed (the Manager
// has logged the cause): 503, a page for browsers, JSON for API clients.
// Never 401: the client must not think it was signed out.
func (a *app) storeUnavailable(w http.ResponseWriter, r *http.Request, _ error) {
	if wantsHTML(r) || r.URL.Path == "/" {
		a.render(w, r, http.StatusServiceUnavailable, "error", pageData{Error: errSessionCheckDown.human})
		return
	}
	writeError(w, http.StatusServiceUnavailable, errSessionStoreDown.code)
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
