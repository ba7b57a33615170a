package main

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// providerSpec is one "Sign in with" provider, from the environment (or the
// local demo provider when none is configured).
type providerSpec struct {
	OIDC bool // OpenID Connect; else plain OAuth 2
	// Name is the provider in paths (/auth/NAME/login) and in stored links.
	Name, Display                  string
	Issuer, ClientID, ClientSecret string
	AuthURL, TokenURL, UserInfoURL string // plain OAuth 2 only
	SubjectField                   string // plain OAuth 2 only
}

// loadProviders reads the OIDC_* and OAUTH2_* variables: a provider is
// configured when its issuer is set, and then needs its client ID (and, for
// plain OAuth 2, its three endpoints).
func loadProviders(getenv func(string) string) ([]providerSpec, error) {
	var out []providerSpec
	if iss := getenv("OIDC_ISSUER"); iss != "" {
		p := providerSpec{OIDC: true, Name: "oidc", Display: getenv("OIDC_DISPLAY_NAME"), Issuer: iss,
			ClientID: getenv("OIDC_CLIENT_ID"), ClientSecret: getenv("OIDC_CLIENT_SECRET")}
		if p.Display == "" {
			p.Display = "OpenID Connect"
		}
		if p.ClientID == "" {
			return nil, errors.New("OIDC_ISSUER needs OIDC_CLIENT_ID (and usually OIDC_CLIENT_SECRET)")
		}
		out = append(out, p)
	} else if v := firstSet(getenv, "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "OIDC_DISPLAY_NAME"); v != "" {
		return nil, fmt.Errorf("%s is set but OIDC_ISSUER is not", v)
	}
	if iss := getenv("OAUTH2_ISSUER"); iss != "" {
		p := providerSpec{Name: "oauth2", Display: getenv("OAUTH2_DISPLAY_NAME"), Issuer: iss,
			ClientID: getenv("OAUTH2_CLIENT_ID"), ClientSecret: getenv("OAUTH2_CLIENT_SECRET"),
			AuthURL: getenv("OAUTH2_AUTH_URL"), TokenURL: getenv("OAUTH2_TOKEN_URL"), UserInfoURL: getenv("OAUTH2_USERINFO_URL"),
			SubjectField: getenv("OAUTH2_SUBJECT_FIELD")}
		if p.Display == "" {
			p.Display = "OAuth 2"
		}
		if p.SubjectField == "" {
			p.SubjectField = "id"
		}
		for _, f := range []struct{ name, v string }{{"OAUTH2_CLIENT_ID", p.ClientID}, {"OAUTH2_AUTH_URL", p.AuthURL}, {"OAUTH2_TOKEN_URL", p.TokenURL}, {"OAUTH2_USERINFO_URL", p.UserInfoURL}} {
			if f.v == "" {
				return nil, fmt.Errorf("OAUTH2_ISSUER needs %s", f.name)
			}
		}
		out = append(out, p)
	} else if v := firstSet(getenv, "OAUTH2_CLIENT_ID", "OAUTH2_CLIENT_SECRET", "OAUTH2_AUTH_URL", "OAUTH2_TOKEN_URL", "OAUTH2_USERINFO_URL", "OAUTH2_SUBJECT_FIELD", "OAUTH2_DISPLAY_NAME"); v != "" {
		return nil, fmt.Errorf("%s is set but OAUTH2_ISSUER is not", v)
	}
	return out, nil
}

func firstSet(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if getenv(n) != "" {
			return n
		}
	}
	return ""
}

// formOrigins are the origins a sign-in form may be redirected to: the
// Content-Security-Policy's form-action must list them, or the browser
// stops the redirect to the provider. For OpenID Connect that is the
// issuer's origin (where providers serve their authorization endpoint; if
// yours does not, add its origin here), for plain OAuth 2 the authorization
// URL's.
func (p providerSpec) formOrigins() []string {
	var out []string
	for _, raw := range []string{p.Issuer, p.AuthURL} {
		if u, err := url.Parse(raw); err == nil && u.Scheme != "" && u.Host != "" {
			o := u.Scheme + "://" + u.Host
			if !strings.Contains(strings.Join(out, " "), o) {
				out = append(out, o)
			}
		}
	}
	return out
}
