package passkey

import (
	"errors"
	"testing"

	"github.com/sessionauth/session"
)

func TestNewRefusesAnIncompleteOrInconsistentConfig(t *testing.T) {
	t.Parallel()
	keys, _ := session.NewKeyRing(session.GenerateKey())
	m, _ := session.New(session.Config{Keys: keys})
	good := Config{Sessions: m, Store: NewMemoryStore(), RPID: "example.com", Origins: []string{"https://example.com", "https://app.example.com:8443"}}
	if _, err := New(good); err != nil {
		t.Fatalf("a good config: %v", err)
	}
	for name, mod := range map[string]func(*Config){
		"no Sessions":           func(c *Config) { c.Sessions = nil },
		"no Store":              func(c *Config) { c.Store = nil },
		"no RPID":               func(c *Config) { c.RPID = "" },
		"RPID with a scheme":    func(c *Config) { c.RPID = "https://example.com" },
		"no Origins":            func(c *Config) { c.Origins = nil },
		"origin with a path":    func(c *Config) { c.Origins = []string{"https://example.com/app"} },
		"origin of another RP":  func(c *Config) { c.Origins = []string{"https://example.org"} },
		"origin ending like RP": func(c *Config) { c.Origins = []string{"https://badexample.com"} },
		"origin not http(s)":    func(c *Config) { c.Origins = []string{"ftp://example.com"} },
		"prefix without slash":  func(c *Config) { c.Prefix = "passkey" },
	} {
		c := good
		mod(&c)
		if _, err := New(c); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: %v, want ErrInvalidConfig", name, err)
		}
	}
}
