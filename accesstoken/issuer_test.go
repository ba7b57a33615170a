package accesstoken

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionauth/session"
)

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	ring, _ := session.NewKeyRing(session.GenerateKey())
	sessions, _ := session.New(session.Config{Keys: ring})
	keys, _ := NewKeyRing(mustKey(t, EdDSA))
	ok := Config{Sessions: sessions, Keys: keys, Issuer: testIssuer, Audience: testAudience}
	for name, mod := range map[string]func(*Config){
		"no sessions":         func(c *Config) { c.Sessions = nil },
		"no keys":             func(c *Config) { c.Keys = nil },
		"no issuer":           func(c *Config) { c.Issuer = "" },
		"no audience":         func(c *Config) { c.Audience = "" },
		"TTL over an hour":    func(c *Config) { c.TTL = 2 * time.Hour },
		"TTL under a second":  func(c *Config) { c.TTL = time.Millisecond },
		"leeway over 5 min":   func(c *Config) { c.Leeway = 10 * time.Minute },
		"negative JWKSMaxAge": func(c *Config) { c.JWKSMaxAge = -time.Second },
	} {
		cfg := ok
		mod(&cfg)
		if _, err := New(cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: err = %v, want ErrInvalidConfig", name, err)
		}
	}
	if _, err := New(ok); err != nil {
		t.Fatal(err)
	}
}

func TestDefaultsAndNegativeLeeway(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config, _ *session.Config) { c.Leeway = -1 })
	if e.issuer.ttl != defaultTTL || e.issuer.leeway != 0 || e.issuer.jwksAge != defaultJWKSMaxAge || e.issuer.v.maxSize != defaultMaxTokenSize {
		t.Fatalf("ttl %v leeway %v jwks %v size %d", e.issuer.ttl, e.issuer.leeway, e.issuer.jwksAge, e.issuer.v.maxSize)
	}
	tok := e.mint(e.login("alice"))
	e.clock.Advance(defaultTTL)
	if _, err := e.issuer.Verify(t.Context(), tok); !errors.Is(err, ErrExpired) {
		t.Fatalf("with no leeway, a token at exp: %v", err)
	}
}

func TestIssuerReportsMintsAndRefusedTokens(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []string
	e := newEnv(t, func(c *Config, _ *session.Config) {
		c.Observe = func(ev session.Event) {
			if strings.HasPrefix(ev.Name, "accesstoken.") {
				mu.Lock()
				got = append(got, ev.Name+"/"+ev.Reason)
				mu.Unlock()
			}
		}
	})
	take := func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := got
		got = nil
		return out
	}
	cookie := e.login("alice")
	tok := e.mint(cookie)
	if w := e.do("GET", "/api", nil, bearer(tok)...); w.Code != http.StatusOK {
		t.Fatalf("GET /api: %d", w.Code)
	}
	if g, want := take(), []string{"accesstoken.mint/"}; !slices.Equal(g, want) {
		t.Fatalf("mint and a good token reported %q, want %q", g, want)
	}
	forged := tok[:len(tok)-4] + "AAAA"
	if tok[len(tok)-4:] == "AAAA" {
		forged = tok[:len(tok)-4] + "BBBB"
	}
	tests := []struct {
		name, path, token, reason string
		before                    func()
	}{
		{"forged", "/api", forged, "forged", nil},
		{"malformed", "/api", "not-a-token", "invalid", nil},
		{"ended", "/strict", tok, "ended", func() { e.do("POST", "/logout", cookie) }},
		{"expired", "/api", tok, "expired", func() { e.clock.Advance(time.Hour) }},
	}
	for _, tc := range tests { // in order: each step changes the env
		if tc.before != nil {
			tc.before()
		}
		if w := e.do("GET", tc.path, nil, bearer(tc.token)...); w.Code != http.StatusUnauthorized {
			t.Fatalf("%s: GET %s = %d, want 401", tc.name, tc.path, w.Code)
		}
		if g, want := take(), []string{"accesstoken.rejected/" + tc.reason}; !slices.Equal(g, want) {
			t.Errorf("%s token reported %q, want %q", tc.name, g, want)
		}
	}
}
