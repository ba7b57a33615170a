package main

import (
	"encoding/json"
	"net/http"
)

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
