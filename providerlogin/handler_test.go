package providerlogin

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/sessionauth/session"
)

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
	for name, mod := range map[string]func(*Config){
		"no sessions":          func(c *Config) { c.Sessions = nil },
		"no user func":         func(c *Config) { c.User = nil },
		"no providers":         func(c *Config) { c.Providers = nil },
		"nil provider":         func(c *Config) { c.Providers = []*Provider{nil} },
		"duplicate names":      func(c *Config) { c.Providers = []*Provider{p, p2} },
		"base URL with a path": func(c *Config) { c.BaseURL = "https://app.example/app" },
		"base URL relative":    func(c *Config) { c.BaseURL = "/app" },
		"base URL with query":  func(c *Config) { c.BaseURL = "https://app.example?x" },
		"prefix without slash": func(c *Config) { c.Prefix = "auth" },
		"foreign default path": func(c *Config) { c.DefaultReturnPath = "//evil.example" },
		"foreign logout path":  func(c *Config) { c.PostLogoutPath = "https://evil.example/" },
		"tiny flow timeout":    func(c *Config) { c.FlowTimeout = 1 },
	} {
		c := good
		mod(&c)
		if _, err := New(c); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: New returned %v, want ErrInvalidConfig", name, err)
		}
	}
}

func TestNewProviderRejectsBadConfig(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]OIDCConfig{
		"upper-case name":  {Name: "Google", Issuer: "https://id.example", ClientID: "c"},
		"slash in name":    {Name: "a/b", Issuer: "https://id.example", ClientID: "c"},
		"no client":        {Name: "a", Issuer: "https://id.example"},
		"relative issuer":  {Name: "a", Issuer: "id.example", ClientID: "c"},
		"reserved param":   {Name: "a", Issuer: "https://id.example", ClientID: "c", AuthParams: map[string]string{"state": "x"}},
		"redirect_uri set": {Name: "a", Issuer: "https://id.example", ClientID: "c", AuthParams: map[string]string{"redirect_uri": "https://evil"}},
	} {
		if _, err := NewOIDC(cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: %v, want ErrInvalidConfig", name, err)
		}
	}
	if _, err := NewOAuth2(OAuth2Config{Name: "hub", Issuer: "https://hub.example", ClientID: "c", AuthURL: "https://hub.example/a", TokenURL: "https://hub.example/t"}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("OAuth 2 provider without UserInfoURL: %v", err)
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
