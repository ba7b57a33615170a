package providerlogin

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestDiscoverTellsMisconfiguredFromUnreachable: at start-up, Discover
// reports a wrong issuer as ErrInvalidConfig (the app should not boot) and
// a provider that cannot be reached or fails as ErrProviderUnavailable;
// a sign-in shows the same difference on its page.
func TestDiscoverTellsMisconfiguredFromUnreachable(t *testing.T) {
	t.Parallel()
	op := startProvider(t, false)
	plain := startProvider(t, true) // serves no discovery document: 404
	failing := serve(t, func(string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "upstream down", http.StatusServiceUnavailable)
		})
	})
	limited := serve(t, func(string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "30")
			http.Error(w, "slow down", http.StatusTooManyRequests)
		})
	})
	html := serve(t, func(string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html>a web site</html>"))
		})
	})
	tests := []struct {
		name, issuer string
		want         error
		detail       string // in the error's message
		status       int
		code         string
	}{
		{"issuer with a trailing slash", op.Issuer() + "/", ErrInvalidConfig, "trailing slash", http.StatusServiceUnavailable, "misconfigured"},
		{"issuer of another provider's path", op.Issuer() + "/tenant", ErrInvalidConfig, "HTTP 404", http.StatusServiceUnavailable, "misconfigured"},
		{"no discovery document", plain.Issuer(), ErrInvalidConfig, "HTTP 404", http.StatusServiceUnavailable, "misconfigured"},
		{"a web page instead of a document", html, ErrInvalidConfig, "not a discovery document", http.StatusServiceUnavailable, "misconfigured"},
		{"nothing listening", "http://127.0.0.1:1", ErrProviderUnavailable, "discovery", http.StatusBadGateway, "provider_unavailable"},
		{"provider answers 503", failing, ErrProviderUnavailable, "HTTP 503", http.StatusBadGateway, "provider_unavailable"},
		{"provider rate-limits (429)", limited, ErrProviderUnavailable, "HTTP 429", http.StatusBadGateway, "provider_unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := startApp(t, func(base string) []*Provider {
				p, err := NewOIDC(OIDCConfig{Name: "p", Issuer: tt.issuer, ClientID: testClientID})
				if err != nil {
					t.Fatal(err)
				}
				return []*Provider{p}
			}, nil)
			err := a.h.Discover(t.Context())
			if !errors.Is(err, tt.want) {
				t.Fatalf("Discover = %v, want %v", err, tt.want)
			}
			other := map[error]error{ErrInvalidConfig: ErrProviderUnavailable, ErrProviderUnavailable: ErrInvalidConfig}[tt.want]
			if errors.Is(err, other) {
				t.Errorf("Discover = %v is both misconfigured and unreachable", err)
			}
			if !strings.Contains(err.Error(), tt.detail) || strings.Count(err.Error(), "providerlogin:") != 1 {
				t.Errorf("Discover = %q, want it to say %q and name the package once", err, tt.detail)
			}
			wantError(t, newBrowser(t).post(a.base+"/auth/p/login", nil), tt.status, tt.code)
		})
	}
	t.Run("the right issuer", func(t *testing.T) {
		t.Parallel()
		a := startApp(t, func(base string) []*Provider {
			registerApp(op, base, "p")
			return []*Provider{oidcProvider(t, "p", op, nil)}
		}, nil)
		if err := a.h.Discover(t.Context()); err != nil {
			t.Fatalf("Discover = %v", err)
		}
	})
}

// TestDiscoveryWithoutABasicOrPostMethodIsMisconfigured: a provider that
// accepts only other client authentication methods needs AuthStyle set.
func TestDiscoveryWithoutABasicOrPostMethodIsMisconfigured(t *testing.T) {
	t.Parallel()
	tap := startTap(t, false, []string{"private_key_jwt"})
	a := startApp(t, func(base string) []*Provider {
		registerApp(tap.op, base, "p")
		return []*Provider{oidcProvider(t, "p", tap.op, nil)}
	}, nil)
	if err := a.h.Discover(t.Context()); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "AuthStyle") {
		t.Fatalf("Discover = %v, want ErrInvalidConfig naming AuthStyle", err)
	}
}

// TestFetchUserInfoWithoutAnEndpointIsMisconfigured: FetchUserInfo needs
// the provider to advertise a user-info endpoint; without one, discovery
// says so instead of every sign-in failing as an outage.
func TestFetchUserInfoWithoutAnEndpointIsMisconfigured(t *testing.T) {
	t.Parallel()
	tap := startTapEditing(t, false, func(doc map[string]any) { delete(doc, "userinfo_endpoint") })
	a := startApp(t, func(base string) []*Provider {
		registerApp(tap.op, base, "p")
		return []*Provider{oidcProvider(t, "p", tap.op, func(c *OIDCConfig) { c.FetchUserInfo = true })}
	}, nil)
	if err := a.h.Discover(t.Context()); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "FetchUserInfo") {
		t.Fatalf("Discover = %v, want ErrInvalidConfig naming FetchUserInfo", err)
	}
}

// FuzzParseDiscovery: a discovery document is accepted only for exactly the
// configured issuer, with absolute endpoints and a client authentication
// style that is never auto-detection.
func FuzzParseDiscovery(f *testing.F) {
	const iss = "https://id.example"
	for _, s := range []string{
		`{"issuer":"https://id.example","authorization_endpoint":"https://id.example/a","token_endpoint":"https://id.example/t","jwks_uri":"https://id.example/k"}`,
		`{"issuer":"https://id.example/","authorization_endpoint":"https://id.example/a","token_endpoint":"https://id.example/t","jwks_uri":"https://id.example/k"}`,
		`{"issuer":"https://id.example","authorization_endpoint":"https://id.example/a","token_endpoint":"https://id.example/t","jwks_uri":"https://id.example/k","token_endpoint_auth_methods_supported":["private_key_jwt"]}`,
		`{"issuer":"https://id.example","token_endpoint_auth_methods_supported":["client_secret_post"]}`,
		`<html>`, `null`, `[]`,
	} {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, body []byte, public bool) {
		p, err := NewOIDC(OIDCConfig{Name: "p", Issuer: iss, ClientID: "c", ClientSecret: map[bool]string{false: "s", true: ""}[public]})
		if err != nil {
			t.Fatal(err)
		}
		doc, style, err := p.parseDiscovery(body)
		if err != nil {
			if len(err.Error()) > 4*maxShownIssuer+400 {
				t.Fatalf("error of %d bytes", len(err.Error()))
			}
			return
		}
		if doc.Issuer != iss || !absoluteURL(doc.AuthURL) || !absoluteURL(doc.TokenURL) || !absoluteURL(doc.JWKSURL) {
			t.Fatalf("accepted %+v", doc)
		}
		if style != oauth2.AuthStyleInHeader && style != oauth2.AuthStyleInParams || public && style != oauth2.AuthStyleInParams {
			t.Fatalf("auth style %v (public client: %v)", style, public)
		}
	})
}

// TestDiscoveryEndedByTheCallerIsNotRemembered: a discovery that failed
// because the caller's context ended (a visitor who closed the tab during
// the first sign-in, a start-up deadline) says nothing about the provider:
// the next sign-in discovers at once instead of failing for a few seconds.
func TestDiscoveryEndedByTheCallerIsNotRemembered(t *testing.T) {
	t.Parallel()
	op := startProvider(t, false)
	a := startApp(t, func(base string) []*Provider {
		registerApp(op, base, "p")
		return []*Provider{oidcProvider(t, "p", op, nil)}
	}, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := a.h.Discover(ctx); !errors.Is(err, context.Canceled) && !errors.Is(err, ErrProviderUnavailable) {
		t.Fatalf("Discover with an ended context = %v", err)
	}
	if err := a.h.Discover(t.Context()); err != nil {
		t.Fatalf("Discover right after a cancelled one = %v, want the provider discovered", err)
	}
}
