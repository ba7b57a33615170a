package providerlogin

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/sessionauth/session"
)

// TestNewRejectsBadConfig: each refusal wraps ErrInvalidConfig and names
// the field that is wrong.
func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	keys, _ := session.NewKeyRing(session.GenerateKey())
	m, err := session.New(session.Config{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := NewOIDC(OIDCConfig{Name: "a", Issuer: "https://id.example", ClientID: "c"})
	p2, _ := NewOIDC(OIDCConfig{Name: "a", Issuer: "https://other.example", ClientID: "c"})
	user := func(context.Context, Identity) (string, error) { return "u", nil }
	good := Config{Sessions: m, Providers: []*Provider{p}, BaseURL: "https://app.example", User: user}
	if _, err := New(good); err != nil {
		t.Fatalf("good config refused: %v", err)
	}
	for name, tt := range map[string]struct {
		mod   func(*Config)
		field string
	}{
		"no sessions":          {func(c *Config) { c.Sessions = nil }, "Config.Sessions"},
		"no user func":         {func(c *Config) { c.User = nil }, "Config.User"},
		"no providers":         {func(c *Config) { c.Providers = nil }, "Config.Providers"},
		"nil provider":         {func(c *Config) { c.Providers = []*Provider{nil} }, "Config.Providers"},
		"duplicate names":      {func(c *Config) { c.Providers = []*Provider{p, p2} }, "Config.Providers"},
		"no base URL":          {func(c *Config) { c.BaseURL = "" }, "Config.BaseURL is empty"},
		"base URL with a path": {func(c *Config) { c.BaseURL = "https://app.example/app" }, "Config.BaseURL"},
		"base URL relative":    {func(c *Config) { c.BaseURL = "/app" }, "Config.BaseURL"},
		"base URL with query":  {func(c *Config) { c.BaseURL = "https://app.example?x" }, "Config.BaseURL"},
		"prefix without slash": {func(c *Config) { c.Prefix = "auth" }, "Config.Prefix"},
		"foreign default path": {func(c *Config) { c.DefaultReturnPath = "//evil.example" }, "Config.DefaultReturnPath"},
		"foreign logout path":  {func(c *Config) { c.PostLogoutPath = "https://evil.example/" }, "Config.PostLogoutPath"},
		"tiny flow timeout":    {func(c *Config) { c.FlowTimeout = 1 }, "Config.FlowTimeout"},
	} {
		c := good
		tt.mod(&c)
		if _, err := New(c); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("%s: New returned %v, want ErrInvalidConfig naming %s", name, err, tt.field)
		}
	}
}

// TestNewProviderRejectsBadConfig: each refusal wraps ErrInvalidConfig and
// names the field that is wrong.
func TestNewProviderRejectsBadConfig(t *testing.T) {
	t.Parallel()
	for name, tt := range map[string]struct {
		cfg   OIDCConfig
		field string
	}{
		"no name":          {OIDCConfig{Issuer: "https://id.example", ClientID: "c"}, "OIDCConfig.Name is empty"},
		"upper-case name":  {OIDCConfig{Name: "Google", Issuer: "https://id.example", ClientID: "c"}, "OIDCConfig.Name"},
		"slash in name":    {OIDCConfig{Name: "a/b", Issuer: "https://id.example", ClientID: "c"}, "OIDCConfig.Name"},
		"no client":        {OIDCConfig{Name: "a", Issuer: "https://id.example"}, "OIDCConfig.ClientID is empty"},
		"no issuer":        {OIDCConfig{Name: "a", ClientID: "c"}, "OIDCConfig.Issuer is empty"},
		"relative issuer":  {OIDCConfig{Name: "a", Issuer: "id.example", ClientID: "c"}, "OIDCConfig.Issuer"},
		"unknown style":    {OIDCConfig{Name: "a", Issuer: "https://id.example", ClientID: "c", AuthStyle: 7}, "OIDCConfig.AuthStyle"},
		"reserved param":   {OIDCConfig{Name: "a", Issuer: "https://id.example", ClientID: "c", AuthParams: map[string]string{"state": "x"}}, "AuthParams"},
		"redirect_uri set": {OIDCConfig{Name: "a", Issuer: "https://id.example", ClientID: "c", AuthParams: map[string]string{"redirect_uri": "https://evil"}}, "AuthParams"},
	} {
		_, err := NewOIDC(tt.cfg)
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("%s: %v, want ErrInvalidConfig naming %s", name, err, tt.field)
		}
	}
	_, err := NewOAuth2(OAuth2Config{Name: "hub", Issuer: "https://hub.example", ClientID: "c", AuthURL: "https://hub.example/a", TokenURL: "https://hub.example/t"})
	if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "OAuth2Config.UserInfoURL is empty") {
		t.Errorf("OAuth 2 provider without UserInfoURL: %v", err)
	}
	if err != nil && strings.Count(err.Error(), "providerlogin:") != 1 {
		t.Errorf("%q names the package more than once", err)
	}
}

func TestAuthParamsReachTheProvider(t *testing.T) {
	t.Parallel()
	a, _ := oidcApp(t, func(c *OIDCConfig) { c.AuthParams = map[string]string{"prompt": "login"} })
	b := newBrowser(t)
	b.signIn(a, "demo", "")
	// prompt=login makes the provider ask again despite its session.
	u := b.startLogin(a, "demo", "")
	if u.Query().Get("prompt") != "login" {
		t.Fatalf("authorization request %s lacks prompt=login", u)
	}
	if res := b.get(u.String()); res.status != http.StatusOK {
		t.Errorf("provider signed in silently despite prompt=login: %d", res.status)
	}
}
