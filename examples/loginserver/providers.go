package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/sessionauth/session"
	"github.com/sessionauth/session/providerlogin"
)

// newProviderLogin builds the "Sign in with" handler (package
// providerlogin) for the configured providers: POST /auth/NAME/login starts
// a sign-in, GET /auth/NAME/callback ends it in a session of the user
// providerUser finds, links or creates.
func (a *app) newProviderLogin(specs []providerSpec, baseURL string) (*providerlogin.Handler, error) {
	var providers []*providerlogin.Provider
	for _, s := range specs {
		var p *providerlogin.Provider
		var err error
		if s.OIDC {
			p, err = providerlogin.NewOIDC(providerlogin.OIDCConfig{Name: s.Name, DisplayName: s.Display,
				Issuer: s.Issuer, ClientID: s.ClientID, ClientSecret: s.ClientSecret})
		} else {
			p, err = providerlogin.NewOAuth2(providerlogin.OAuth2Config{Name: s.Name, DisplayName: s.Display,
				Issuer: s.Issuer, ClientID: s.ClientID, ClientSecret: s.ClientSecret,
				AuthURL: s.AuthURL, TokenURL: s.TokenURL, UserInfoURL: s.UserInfoURL, SubjectField: s.SubjectField})
		}
		if err != nil {
			return nil, err
		}
		providers = append(providers, p)
	}
	return providerlogin.New(providerlogin.Config{
		Sessions:     a.sessions,
		Providers:    providers,
		BaseURL:      baseURL,
		User:         a.providerUser,
		ErrorHandler: a.providerError,
		Logger:       a.log,
	})
}

// deviceValues wraps the "Sign in with" and passkey handlers: on the
// request that signs in (a provider's callback, a passkey's signin/finish)
// it saves the device's user agent and network on the visitor's session, as
// a password sign-in does, so that the devices list can tell this session
// apart (Login carries the values into the signed-in session). Only a
// visitor with a stored session (the one its sign-in start made) gets them:
// on a request without one nothing could sign in, and setting values would
// store a new session for nothing, past ceremonyBudget.
func (a *app) deviceValues(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/callback") ||
			r.Method == http.MethodPost && r.URL.Path == "/passkey/signin/finish" {
			s := session.FromContext(r.Context())
			if s.ID() == "" {
				next.ServeHTTP(w, r)
				return
			}
			s.Set(valueUserAgent, strings.ToValidUTF8(truncate(r.UserAgent(), maxUserAgent), ""))
			if network := a.clientNetwork(r); network != "" {
				s.Set(valueNetwork, network)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// providerUser is providerlogin's Config.User: who a verified provider
// account is in this app.
//
//   - Linked already: that user (a linked provider signs into the same
//     account). If another user is signed in in this browser, refused: a
//     provider account belongs to one user.
//   - Not linked, someone signed in: linked to them when they asked for it
//     and this is the callback of the sign-in their "Link Demo ID" started
//     (the account page, behind a recent proof: see providerlink.go), and
//     they stay signed in; refused otherwise (a step-up through an
//     account that is not theirs, say).
//   - Not linked, nobody signed in: a new account without a password, named
//     after the verified email when it is free, else after the provider.
func (a *app) providerUser(ctx context.Context, id providerlogin.Identity) (string, error) {
	s := session.FromContext(ctx)
	current := s.UserID()
	// A link intent serves the callback of the sign-in it started, and
	// that callback only: taken whatever follows.
	linking := current != "" && takeLinkIntent(s, id.Provider, callbackState(ctx))
	link := Link{Provider: id.Provider, Issuer: id.Issuer, Subject: id.Subject}
	if id.EmailVerified {
		link.Email = id.Email
	}
	u, err := a.users.ByIdentity(ctx, id.Issuer, id.Subject)
	switch {
	case err == nil && current != "" && current != u.ID:
		return "", fmt.Errorf("%w: %w", providerlogin.ErrAccessDenied, ErrIdentityTaken)
	case err == nil:
		a.log.InfoContext(ctx, "provider sign-in", "user_id", u.ID, "provider", id.Provider)
		return u.ID, nil
	case !errors.Is(err, ErrNoUser):
		return "", err
	}
	if current != "" {
		// Only the link flow (providerlink.go) links: not a sign-in or a
		// step-up that comes back with an account nobody has.
		if !linking {
			a.log.WarnContext(ctx, "provider account not linked; refused", "user_id", current, "provider", id.Provider)
			return "", fmt.Errorf("%w: %w", providerlogin.ErrAccessDenied, ErrNotLinked)
		}
		switch err := a.users.Link(ctx, current, link); {
		case errors.Is(err, ErrIdentityTaken):
			return "", fmt.Errorf("%w: %w", providerlogin.ErrAccessDenied, err)
		case err != nil:
			return "", err
		}
		a.log.InfoContext(ctx, "provider linked", "user_id", current, "provider", id.Provider)
		setNotice(s, noticeSuccess, "You can now sign in with "+a.providerDisplay(id.Provider)+".")
		return current, nil
	}
	u, err = a.createProviderUser(ctx, id)
	if err != nil {
		return "", err
	}
	if err := a.users.Link(ctx, u.ID, link); err != nil {
		return "", err
	}
	a.log.InfoContext(ctx, "registered with a provider", "user_id", u.ID, "provider", id.Provider)
	setNotice(s, noticeSuccess, "Welcome! Your account is ready: you sign in with "+a.providerDisplay(id.Provider)+".")
	return u.ID, nil
}

// createProviderUser creates an account without a password for a provider
// account: named after its verified email when that is a valid, free
// username, else "NAME-" and a hash of the identity.
func (a *app) createProviderUser(ctx context.Context, id providerlogin.Identity) (User, error) {
	var names []string
	if id.EmailVerified {
		if n, err := normalizeUsername(id.Email); err == nil {
			names = append(names, n)
		}
	}
	sum := sha256.Sum256([]byte(id.Issuer + "\x00" + id.Subject))
	base := id.Provider + "-" + hex.EncodeToString(sum[:4])
	names = append(names, base, base+"-"+strings.ToLower(rand.Text()[:6]))
	for _, n := range names {
		u, err := a.users.Create(ctx, n, "")
		if !errors.Is(err, ErrUsernameTaken) {
			return u, err
		}
	}
	return User{}, ErrUsernameTaken
}

// provider returns the configured provider named name.
func (a *app) provider(name string) (providerSpec, bool) {
	for _, p := range a.providers {
		if p.Name == name {
			return p, true
		}
	}
	return providerSpec{}, false
}

// providerDisplay is the provider's name for people ("Demo ID").
func (a *app) providerDisplay(name string) string {
	if p, ok := a.provider(name); ok {
		return p.Display
	}
	return name
}

// providerError is providerlogin's Config.ErrorHandler: a failed or
// cancelled provider sign-in ends on a page in the app's own layout (API
// clients get providerlogin's JSON), with the status WriteError would send.
func (a *app) providerError(w http.ResponseWriter, r *http.Request, err error) {
	// A failed or cancelled link ends its intent; another sign-in's
	// failure leaves it to its own callback.
	dropLinkIntent(session.FromContext(r.Context()), callbackState(r.Context()))
	if !wantsHTML(r) {
		providerlogin.WriteError(w, r, err)
		return
	}
	status, d := http.StatusServiceUnavailable, pageData{Title: "Sign-in did not finish"}
	switch {
	case errors.Is(err, ErrIdentityTaken):
		status, d.Notice = http.StatusForbidden, notice{noticeWarning,
			"That provider account is already linked to another account here. Sign out and sign in with it to use that account."}
	case errors.Is(err, ErrNotLinked):
		status, d.Notice = http.StatusForbidden, notice{noticeWarning,
			"That provider account is not linked to your account, so it cannot sign you in or confirm it is you. To use it, link it from your account page."}
	case errors.Is(err, providerlogin.ErrAccessDenied):
		status, d.Notice = http.StatusForbidden, notice{noticeInfo,
			"The sign-in was cancelled at the provider. You are not signed in with it; nothing was changed."}
	case errors.Is(err, providerlogin.ErrState), errors.Is(err, providerlogin.ErrBadRequest), errors.Is(err, providerlogin.ErrMixUp):
		status, d.Notice = http.StatusBadRequest, notice{noticeWarning,
			"That sign-in link has expired or was already used. Please start again."}
	case errors.Is(err, providerlogin.ErrProvider), errors.Is(err, providerlogin.ErrProviderUnavailable):
		status, d.Error = http.StatusBadGateway, "The provider could not sign you in right now. Please try again in a minute, or use your password."
	default:
		d.Error = "Signing in is not available right now. Please try again in a minute."
	}
	if u, ok, _ := a.currentUser(w, r); ok {
		d.User = &u
	}
	a.log.InfoContext(r.Context(), "provider sign-in failed", "status", status, "error", err)
	a.render(w, r, status, "error", d)
}

// providerButton is a "Sign in with" (or "Link") form on a page.
type providerButton struct {
	Name, Display, Action string
	LinkAction            string // the account page's "Link" form (providerlink.go)
	Linked                bool   // the account page: already linked
	Email                 string // the linked account's email, when verified
}

// providerButtons lists the providers for the pages, marking those linked.
func (a *app) providerButtons(links []Link) []providerButton {
	if a.signin == nil {
		return nil
	}
	var out []providerButton
	for _, p := range a.providers {
		b := providerButton{Name: p.Name, Display: p.Display, Action: a.signin.LoginPath(p.Name), LinkAction: "/account/link/" + p.Name}
		for _, l := range links {
			if l.Provider == p.Name {
				b.Linked, b.Email = true, l.Email
			}
		}
		out = append(out, b)
	}
	return out
}

// providerIsOIDC reports whether the provider is OpenID Connect: only its
// ID token says when the user signed in, so only it can confirm (step up).
func (a *app) providerIsOIDC(name string) bool {
	p, ok := a.provider(name)
	return ok && p.OIDC
}
