package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/url"
	"sync"

	"github.com/sessionauth/session"
	"github.com/sessionauth/session/providerlogin"
)

type appConfig struct {
	BaseURL   string
	Keys      *session.KeyRing
	Insecure  bool
	Providers []providerSpec
	Log       *slog.Logger
}

// app holds the server's parts.
type app struct {
	sessions *session.Manager
	signin   *providerlogin.Handler
	users    *users
	log      *slog.Logger
	// oidc names the OpenID providers: they can confirm it is still the
	// user (a step-up with max_age); a plain OAuth 2 provider cannot.
	oidc map[string]bool
}

func newApp(cfg appConfig) (*app, error) {
	a := &app{users: newUsers(), log: cfg.Log, oidc: map[string]bool{}}
	var err error
	a.sessions, err = session.New(session.Config{
		Keys:   cfg.Keys,
		Cookie: session.CookieOptions{DisableSecure: cfg.Insecure},
		Logger: cfg.Log,
		// A signed-out visitor on a protected page goes to the home page,
		// which signs in and comes back (return_to is checked there).
		Unauthenticated: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/?return_to="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		}),
	})
	if err != nil {
		return nil, err
	}
	var providers []*providerlogin.Provider
	for _, s := range cfg.Providers {
		var p *providerlogin.Provider
		if s.oidc {
			p, err = providerlogin.NewOIDC(providerlogin.OIDCConfig{
				Name: s.name, DisplayName: s.display, Issuer: s.issuer,
				ClientID: s.clientID, ClientSecret: s.secret, RPLogout: true,
			})
		} else {
			p, err = providerlogin.NewOAuth2(providerlogin.OAuth2Config{
				Name: s.name, DisplayName: s.display, Issuer: s.issuer,
				ClientID: s.clientID, ClientSecret: s.secret,
				AuthURL: s.authURL, TokenURL: s.tokenURL, UserInfoURL: s.api,
				SubjectField: "id",
			})
		}
		if err != nil {
			return nil, err
		}
		a.oidc[s.name] = s.oidc
		providers = append(providers, p)
	}
	a.signin, err = providerlogin.New(providerlogin.Config{
		Sessions:  a.sessions,
		Providers: providers,
		BaseURL:   cfg.BaseURL,
		User:      a.users.findOrCreate,
		Logger:    cfg.Log,
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// routes returns the app's handler: cross-origin protection for every
// unsafe request, the session middleware, then the mux.
func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/auth/", a.signin)
	mux.HandleFunc("GET /{$}", a.home)
	mux.Handle("GET /account", a.sessions.RequireAuth(http.HandlerFunc(a.account)))
	return http.NewCrossOriginProtection().Handler(a.sessions.Middleware(mux))
}

// user is an account of this app, created on its first sign-in.
type user struct {
	ID, Name, Email, Provider, Subject string
}

// users finds accounts by (issuer, subject): the only stable key a
// provider gives. In memory here; a real app keeps a table with a unique
// index on (issuer, subject).
type users struct {
	mu         sync.Mutex
	byIdentity map[[2]string]*user
	byID       map[string]*user
}

func newUsers() *users {
	return &users{byIdentity: map[[2]string]*user{}, byID: map[string]*user{}}
}

// findOrCreate is the providerlogin.Config.User callback.
func (u *users) findOrCreate(ctx context.Context, id providerlogin.Identity) (string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	key := [2]string{id.Issuer, id.Subject}
	if existing, ok := u.byIdentity[key]; ok {
		return existing.ID, nil
	}
	b := make([]byte, 8)
	rand.Read(b)
	nu := &user{ID: "u_" + hex.EncodeToString(b), Name: id.Name, Email: id.Email, Provider: id.Provider, Subject: id.Subject}
	u.byIdentity[key], u.byID[nu.ID] = nu, nu
	return nu.ID, nil
}

func (u *users) get(id string) (user, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	p, ok := u.byID[id]
	if !ok {
		return user{}, false
	}
	return *p, true
}
