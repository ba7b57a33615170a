package main

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"net/http"
	"time"
)

//go:embed page.html
var pageHTML string

// page is the one HTML page. html/template escapes every value, including
// the user agents shown in the sessions list.
var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"ago": ago,
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
}).Parse(pageHTML))

// pageData is what page.html shows.
type pageData struct {
	SignedIn bool
	Username string // the signed-in user, or the name to refill the form with
	UserID   string
	Sessions []sessionJSON
	Error    string
	// DemoUser and DemoPassword, when set, are shown as a hint on the form.
	DemoUser, DemoPassword string
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

// renderPage renders into a buffer first, so a template error never sends
// half a page.
func (a *app) renderPage(w http.ResponseWriter, status int, d pageData) {
	var buf bytes.Buffer
	if err := page.Execute(&buf, d); err != nil {
		a.log.Error("render page", "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// ago formats a past time as "just now", "5 minutes ago", "3 hours ago"...
func ago(t time.Time) string {
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute") + " ago"
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour") + " ago"
	default:
		return plural(int(d/(24*time.Hour)), "day") + " ago"
	}
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
