package main

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/sessionauth/session"
)

// valueNotice and valueNoticeKind are the session values that carry a
// one-time notice to the next page ("Your password was changed..."), shown
// once and removed, and its kind (noticeSuccess...), which sets its colour.
const (
	valueNotice     = "notice"
	valueNoticeKind = "notice.kind"
)

// The kinds of notice. Each has its own colour, so a notice looks like what
// it means: an ended session is news (info), not a success.
const (
	noticeInfo    = "info"
	noticeSuccess = "success"
	noticeWarning = "warning"
)

// notice is a message shown above a page's content.
type notice struct {
	Kind string // noticeInfo, noticeSuccess or noticeWarning
	Text string
}

// setNotice saves a notice for the next page the session shows.
func setNotice(s *session.Session, kind, text string) {
	s.Set(valueNotice, text)
	s.Set(valueNoticeKind, kind)
}

// popNotice takes the session's notice, if any (a notice without a kind is
// info).
func popNotice(s *session.Session) notice {
	// Pop fails only outside the Middleware, or after the response headers
	// on a request without a stored session; either way there is nothing
	// to show.
	text, _ := s.Pop(valueNotice)
	kind, _ := s.Pop(valueNoticeKind)
	n := notice{Text: text, Kind: kind}
	if n.Kind == "" {
		n.Kind = noticeInfo
	}
	return n
}

//go:embed templates
var templateFS embed.FS

// pages are the HTML pages, each layout.html around one page template.
// html/template escapes every value, user agents included; the pages have
// no inline scripts or styles (the Content-Security-Policy allows only
// static/app.js and static/app.css, served by this server).
var pages = func() map[string]*template.Template {
	layout := template.Must(template.New("layout").Funcs(template.FuncMap{
		"ago":          ago,
		"iso":          func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"assetVersion": func() string { return assetVersion },
	}).ParseFS(templateFS, "templates/layout.html"))
	m := map[string]*template.Template{}
	for _, name := range []string{"signin", "signup", "account", "password", "error", "confirm"} {
		m[name] = template.Must(template.Must(layout.Clone()).ParseFS(templateFS, "templates/"+name+".html"))
	}
	return m
}()

// pageData is what the pages show.
type pageData struct {
	Page     string // the template's name, set by render
	User     *User  // the signed-in user; nil on the sign-in and sign-up pages
	Username string // the name to refill a form with
	Notice   notice // a one-time notice, such as "Your password was changed"
	Title    string // the heading of the error page; empty: "Not available right now"
	Return   string // the confirm page: where to go back to
	Error    string // what went wrong, in words for people
	Focus    string // the id of the input to focus
	// MethodRefused, on the confirm page: the last proof is recent, but
	// by no method that may add a way in (wayInProofs).
	MethodRefused bool
	// Sessions are the rows of the account page; MoreSessions counts the
	// sessions left out.
	Sessions     []sessionJSON
	MoreSessions int
	// DemoUser and DemoPassword, when set, are shown as a hint on the form.
	DemoUser, DemoPassword string
	Rules                  rules
	// Providers are the "Sign in with" buttons; on the account page, each
	// marked linked or not. HasPassword says whether the account has one.
	Providers   []providerButton
	HasPassword bool
	// Passkeys are the user's passkeys (the account page); HasPasskeys
	// says the confirm page can offer one.
	Passkeys    []passkeyRow
	HasPasskeys bool
	PasskeysOn  bool // set by render: the passkey handler is mounted
	// DemoProvider, when set, is the demo provider's account hint.
	DemoProvider *demoHint
}

// demoHint is an account to try, shown on the sign-in page.
type demoHint struct{ Display, User, Password string }

// rules are the username and password rules, shown before they are broken.
type rules struct {
	MinUsername, MaxUsername, MinPassword int
}

var formRules = rules{MinUsername: minUsernameLen, MaxUsername: maxUsernameLen, MinPassword: passwordPolicy.MinLength}

// render renders a page into a buffer first, so a template error never sends
// half a page. Pages differ per user and are never cached, so the back
// button after sign-out cannot show one again.
func (a *app) render(w http.ResponseWriter, r *http.Request, status int, name string, d pageData) {
	d.Page, d.Rules, d.PasskeysOn = name, formRules, a.passkeys != nil
	var buf bytes.Buffer
	if err := pages[name].ExecuteTemplate(&buf, "layout", d); err != nil {
		a.log.ErrorContext(r.Context(), "render page", "page", name, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Cookie")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// home is GET / (behind RequireAuth): the account page with the sessions.
// Signed-out visitors get the sign-in page from signInPage instead, and a
// session the store cannot load right now a 503 page (storeUnavailable).
func (a *app) home(w http.ResponseWriter, r *http.Request) {
	user, ok, err := a.currentUser(w, r)
	if err != nil {
		a.render(w, r, http.StatusServiceUnavailable, "error", pageData{Error: errUserStoreDown.human})
		return
	}
	if !ok { // the account was deleted; the session has just ended
		a.signInPage(w, r)
		return
	}
	d := pageData{User: &user, Notice: popNotice(session.FromContext(r.Context())), HasPassword: user.PasswordHash != ""}
	links, err := a.users.Links(r.Context(), user.ID)
	if err != nil {
		a.log.ErrorContext(r.Context(), "list provider links", "user_id", user.ID, "error", err)
	}
	d.Providers = a.providerButtons(links)
	if d.Passkeys, err = a.passkeyRows(r.Context(), user.ID); err != nil {
		a.log.ErrorContext(r.Context(), "list passkeys", "user_id", user.ID, "error", err)
	}
	d.Sessions, d.MoreSessions, err = a.sessionRows(r)
	if err != nil {
		a.log.ErrorContext(r.Context(), "list sessions", "user_id", user.ID, "error", err)
		d.Error = "Your sessions cannot be listed right now. Please try again in a minute."
	}
	a.render(w, r, http.StatusOK, "account", d)
}

// signInPage is GET / for a visitor who is not signed in. A browser that
// still sent a session cookie had its session end (it timed out, or it was
// signed out from another device): the page says so.
func (a *app) signInPage(w http.ResponseWriter, r *http.Request) {
	d := a.signInData("")
	// A cookie that loaded no stored session: the session it named ended.
	// (A live anonymous session, such as the one holding a passkey
	// autofill's challenge, has an ID.)
	if _, err := r.Cookie(a.cookieName); err == nil && session.FromContext(r.Context()).ID() == "" {
		d.Notice = notice{noticeInfo, "Your session has ended. Please sign in again."}
	}
	a.render(w, r, http.StatusOK, "signin", d)
}

// signInData is the sign-in page, with username filled in (focus then goes
// to the password).
func (a *app) signInData(username string) pageData {
	d := pageData{Username: username, Focus: "username"}
	if username != "" {
		d.Focus = "password"
	}
	if a.demoHint {
		d.DemoUser, d.DemoPassword = a.demoUser, defaultDemoPassword
	}
	d.Providers = a.providerButtons(nil)
	for _, p := range a.providers {
		if p.Name == "demo" {
			d.DemoProvider = &demoHint{p.Display, demoProviderUser, demoProviderPassword}
		}
	}
	return d
}

// signupPage is GET /signup. A signed-in user goes to the account page.
func (a *app) signupPage(w http.ResponseWriter, r *http.Request) {
	if session.FromContext(r.Context()).UserID() != "" {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	a.render(w, r, http.StatusOK, "signup", pageData{Focus: "username"})
}

// passwordPage is GET /password (behind RequireAuth).
func (a *app) passwordPage(w http.ResponseWriter, r *http.Request) {
	user, ok, err := a.currentUser(w, r)
	switch {
	case err != nil:
		a.render(w, r, http.StatusServiceUnavailable, "error", pageData{Error: errUserStoreDown.human})
	case !ok:
		http.Redirect(w, r, "/", http.StatusSeeOther)
	default:
		a.render(w, r, http.StatusOK, "password", pageData{User: &user, Focus: "current_password"})
	}
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
