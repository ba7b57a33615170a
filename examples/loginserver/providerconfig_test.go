package main

import (
	"slices"
	"strings"
	"testing"
)

// A provider is configured by its issuer and needs its client ID (and, for
// plain OAuth 2, its endpoints); a stray variable without an issuer is an
// error naming it, not silently ignored.
func TestLoadProvidersNeedsIssuerAndClient(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		env     map[string]string
		want    []string // provider names
		wantErr string
	}{
		{"none", nil, nil, ""},
		{"oidc", map[string]string{"OIDC_ISSUER": "https://id.example", "OIDC_CLIENT_ID": "c"}, []string{"oidc"}, ""},
		{"oidc without client", map[string]string{"OIDC_ISSUER": "https://id.example"}, nil, "OIDC_CLIENT_ID"},
		{"client without issuer", map[string]string{"OIDC_CLIENT_ID": "c"}, nil, "OIDC_CLIENT_ID is set but OIDC_ISSUER is not"},
		{"oauth2", map[string]string{"OAUTH2_ISSUER": "https://github.com", "OAUTH2_CLIENT_ID": "c",
			"OAUTH2_AUTH_URL": "https://github.com/a", "OAUTH2_TOKEN_URL": "https://github.com/t", "OAUTH2_USERINFO_URL": "https://api.github.com/user"}, []string{"oauth2"}, ""},
		{"oauth2 without token URL", map[string]string{"OAUTH2_ISSUER": "https://github.com", "OAUTH2_CLIENT_ID": "c",
			"OAUTH2_AUTH_URL": "https://github.com/a", "OAUTH2_USERINFO_URL": "https://api.github.com/user"}, nil, "OAUTH2_TOKEN_URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ps, err := loadProviders(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, p := range ps {
				names = append(names, p.Name)
			}
			if !slices.Equal(names, tc.want) {
				t.Fatalf("providers %v, want %v", names, tc.want)
			}
		})
	}
}

// The form-action origins are the issuer's and the authorization URL's,
// each once.
func TestProviderFormOrigins(t *testing.T) {
	t.Parallel()
	p := providerSpec{Issuer: "https://github.com", AuthURL: "https://github.com/login/oauth/authorize"}
	if got := p.formOrigins(); !slices.Equal(got, []string{"https://github.com"}) {
		t.Fatalf("origins %q", got)
	}
	csp := contentSecurityPolicy(p.formOrigins())
	if !strings.Contains(csp, "form-action 'self' https://github.com;") {
		t.Fatalf("CSP %q", csp)
	}
}
