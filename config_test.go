package session

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Every error New returns matches ErrInvalidConfig, for every kind of bad
// field, and none returns a Manager.
func TestEveryNewErrorIsErrInvalidConfig(t *testing.T) {
	t.Parallel()
	ring, _ := NewKeyRing(testKeyA)
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no keys", Config{}},
		{"empty key ring", Config{Keys: &KeyRing{}}},
		{"cookie name with a space", Config{Keys: ring, Cookie: CookieOptions{Name: "s id"}}},
		{"cookie name too long", Config{Keys: ring, Cookie: CookieOptions{Name: strings.Repeat("n", 65)}}},
		{"__Host- with a Domain", Config{Keys: ring, Cookie: CookieOptions{Name: "__Host-s", Domain: "example.com"}}},
		{"__host- without Secure", Config{Keys: ring, Cookie: CookieOptions{Name: "__host-s", DisableSecure: true}}},
		{"__Secure- without Secure", Config{Keys: ring, Cookie: CookieOptions{Name: "__Secure-s", DisableSecure: true}}},
		{"SameSite=None without Secure", Config{Keys: ring, Cookie: CookieOptions{SameSite: http.SameSiteNoneMode, DisableSecure: true}}},
		{"Partitioned without Secure", Config{Keys: ring, Cookie: CookieOptions{Partitioned: true, DisableSecure: true}}},
		{"relative Path", Config{Keys: ring, Cookie: CookieOptions{Path: "app"}}},
		{"Path with ;", Config{Keys: ring, Cookie: CookieOptions{Path: "/a;Domain=evil.test"}}},
		{"Domain with a space", Config{Keys: ring, Cookie: CookieOptions{Domain: "exa mple.com"}}},
		{"Domain with ;", Config{Keys: ring, Cookie: CookieOptions{Domain: "example.com;Path=/x"}}},
		{"IdleTimeout below 1s", Config{Keys: ring, IdleTimeout: time.Millisecond}},
		{"negative Lifetime", Config{Keys: ring, Lifetime: -time.Hour}},
		{"Lifetime over 100 years", Config{Keys: ring, Lifetime: maxDuration + time.Hour}},
		{"RememberMeIdleTimeout below 1s", Config{Keys: ring, RememberMeIdleTimeout: time.Nanosecond}},
		{"negative RememberMeLifetime", Config{Keys: ring, RememberMeLifetime: -1}},
		{"negative MaxSessionsPerUser", Config{Keys: ring, MaxSessionsPerUser: -1}},
		{"MaxSessionsPerUser over 1000", Config{Keys: ring, MaxSessionsPerUser: 1001}},
		{"StoreTimeout below 1ms", Config{Keys: ring, StoreTimeout: time.Microsecond}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := New(tc.cfg)
			if err == nil || m != nil {
				t.Fatalf("New = %v, %v; want an error and no Manager", m, err)
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("New = %v, which does not match ErrInvalidConfig", err)
			}
		})
	}
}

// TestNewErrorsNameThePackageOnce checks that New's errors match
// ErrInvalidConfig and their cause, and say "session:" once.
func TestNewErrorsNameThePackageOnce(t *testing.T) {
	t.Parallel()
	keys, err := NewKeyRing(GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		cfg   Config
		cause error
	}{
		{"no keys", Config{}, ErrInvalidKey},
		{"cookie", Config{Keys: keys, Cookie: CookieOptions{Name: "__Host-x", Domain: "example.com"}}, ErrInvalidConfig},
		{"timeout", Config{Keys: keys, IdleTimeout: time.Millisecond}, ErrInvalidConfig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg)
			if !errors.Is(err, ErrInvalidConfig) || !errors.Is(err, tc.cause) {
				t.Fatalf("New = %v, want ErrInvalidConfig and %v", err, tc.cause)
			}
			if n := strings.Count(err.Error(), "session:"); n != 1 || !strings.HasPrefix(err.Error(), "session: invalid config: ") {
				t.Fatalf("New's error %q names the package %d times, want once, at the start", err, n)
			}
		})
	}
}
