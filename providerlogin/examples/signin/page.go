package main

import (
	_ "embed"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/sessionauth/session"
	"github.com/sessionauth/session/providerlogin"
)

//go:embed page.html
var pageHTML string

var page = template.Must(template.New("page").Parse(pageHTML))

type button struct{ Name, Display, Action string }

type pageData struct {
	User    *user
	Account bool // the protected account page
	// ProvedAt and ProvedWith are the session's last proof of identity;
	// Confirm, when set, is the sign-in path that confirms it is still the
	// user (a step-up through their OpenID provider).
	ProvedAt, ProvedWith string
	Confirm              string
	Buttons              []button
	ReturnTo             string
	LogoutPath           string
}

func (a *app) render(w http.ResponseWriter, r *http.Request, d pageData) {
	d.LogoutPath = a.signin.LogoutPath()
	for _, p := range a.signin.Providers() {
		d.Buttons = append(d.Buttons, button{p.Name(), p.DisplayName(), a.signin.LoginPath(p.Name())})
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	if err := page.Execute(w, d); err != nil && a.log != nil {
		a.log.Warn("render", "error", err)
	}
}

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	d := pageData{}
	if ret, ok := providerlogin.SafeReturnPath(r.URL.Query().Get("return_to")); ok {
		d.ReturnTo = ret
	}
	if u, ok := a.users.get(session.FromContext(r.Context()).UserID()); ok {
		d.User = &u
	}
	a.render(w, r, d)
}

func (a *app) account(w http.ResponseWriter, r *http.Request) {
	u, ok := a.users.get(session.FromContext(r.Context()).UserID())
	if !ok { // the session outlived the in-memory user (a restart)
		a.signin.Logout(w, r)
		return
	}
	s := session.FromContext(r.Context())
	d := pageData{User: &u, Account: true,
		ProvedAt: s.AuthTime().UTC().Format(time.RFC3339), ProvedWith: strings.Join(s.AuthMethods(), " ")}
	if a.oidc[u.Provider] {
		d.Confirm = a.signin.LoginPath(u.Provider)
	}
	a.render(w, r, d)
}
