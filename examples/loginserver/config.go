package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/sessionauth/session"
)

// Defaults of the demo account, printed at start-up when DEMO_PASSWORD is not
// set. Replace the user store before going to production (users.go).
const (
	// defaultShutdownTimeout is how long requests in flight may take to
	// finish after SIGTERM; Kubernetes waits 30 s before it kills.
	defaultShutdownTimeout = 10 * time.Second

	defaultDemoUser     = "demo"
	defaultDemoPassword = "correct-horse-battery-staple"
)

// config is the server's configuration, read from the environment.
type config struct {
	Addr             string // ADDR
	Keys             *session.KeyRing
	KeysGenerated    bool           // SESSION_KEYS was unset
	Secrets          [][]byte       // the secrets of Keys, which also sign device cookies
	RedisURL         string         // REDIS_URL: one Redis server
	RedisClusterURL  string         // REDIS_CLUSTER_URL: a Redis Cluster
	RedisSentinelURL string         // REDIS_SENTINEL_URL: a master found through Sentinel
	IdleTimeout      time.Duration  // SESSION_IDLE_TIMEOUT
	Lifetime         time.Duration  // SESSION_LIFETIME
	DemoUser         string         // DEMO_USER
	DemoPassword     string         // DEMO_PASSWORD
	DemoPasswordSet  bool           // DEMO_PASSWORD was set (then it is never printed)
	InsecureCookies  bool           // INSECURE_COOKIES=1
	ShutdownTimeout  time.Duration  // SHUTDOWN_TIMEOUT
	TrustedProxies   []netip.Prefix // TRUSTED_PROXIES
	BaseURL          string         // BASE_URL; empty: http://localhost:PORT
	Providers        []providerSpec // OIDC_*, OAUTH2_*
	DemoProviderAddr string         // DEMO_PROVIDER_ADDR, used when Providers is empty
	TokenKeysFile    string         // ACCESS_TOKEN_KEYS_FILE
	DatabaseURL      string         // DATABASE_URL: accounts (and sessions without Redis) in PostgreSQL
}

// loadConfig reads the configuration through getenv (os.Getenv in main).
func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		Addr:             getenv("ADDR"),
		RedisURL:         getenv("REDIS_URL"),
		RedisClusterURL:  getenv("REDIS_CLUSTER_URL"),
		RedisSentinelURL: getenv("REDIS_SENTINEL_URL"),
		DemoUser:         getenv("DEMO_USER"),
		DemoPassword:     getenv("DEMO_PASSWORD"),
	}
	if c.Addr == "" {
		c.Addr = "localhost:8080"
	}
	c.BaseURL = strings.TrimSuffix(getenv("BASE_URL"), "/")
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" {
			return c, errors.New("BASE_URL: want the app's external origin, like https://app.example.com (no path)")
		}
	}
	c.TokenKeysFile = getenv("ACCESS_TOKEN_KEYS_FILE")
	c.DatabaseURL = getenv("DATABASE_URL")
	c.DemoProviderAddr = getenv("DEMO_PROVIDER_ADDR")
	if c.DemoProviderAddr == "" {
		c.DemoProviderAddr = "127.0.0.1:0"
	}
	var err error
	if c.Providers, err = loadProviders(getenv); err != nil {
		return c, err
	}
	if n := countSet(c.RedisURL, c.RedisClusterURL, c.RedisSentinelURL); n > 1 {
		return c, errors.New("set only one of REDIS_URL, REDIS_CLUSTER_URL and REDIS_SENTINEL_URL")
	}
	c.ShutdownTimeout = defaultShutdownTimeout
	var proxies []netip.Prefix
	if v := getenv("SESSION_KEYS"); v != "" {
		keys, err := session.ParseKeyRing(v)
		if err != nil {
			// The error never contains the keys themselves.
			return c, fmt.Errorf("SESSION_KEYS: %w", err)
		}
		c.Keys, c.Secrets = keys, keySecrets(v)
	} else {
		secret := session.GenerateKey()
		keys, err := session.NewKeyRing(secret)
		if err != nil {
			return c, err
		}
		c.Keys, c.Secrets, c.KeysGenerated = keys, [][]byte{secret}, true
	}
	proxies, err = parseTrustedProxies(getenv("TRUSTED_PROXIES"))
	if err != nil {
		return c, err
	}
	c.TrustedProxies = proxies
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{{"SESSION_IDLE_TIMEOUT", &c.IdleTimeout}, {"SESSION_LIFETIME", &c.Lifetime}, {"SHUTDOWN_TIMEOUT", &c.ShutdownTimeout}} {
		v := getenv(d.name)
		if v == "" {
			continue
		}
		t, err := time.ParseDuration(v)
		if err != nil || t < time.Second {
			return c, fmt.Errorf("%s: want a Go duration of at least 1s, like 30s or 24h; got %q", d.name, v)
		}
		*d.dst = t
	}
	switch v := getenv("INSECURE_COOKIES"); v {
	case "", "0", "false":
	case "1", "true":
		c.InsecureCookies = true
	default:
		return c, fmt.Errorf("INSECURE_COOKIES: want 1 or 0, got %q", v)
	}
	if c.DemoUser == "" {
		c.DemoUser = defaultDemoUser
	}
	if _, err := normalizeUsername(c.DemoUser); err != nil {
		return c, fmt.Errorf("DEMO_USER: %w", err)
	}
	c.DemoPasswordSet = c.DemoPassword != ""
	if !c.DemoPasswordSet {
		c.DemoPassword = defaultDemoPassword
	}
	if err := passwordPolicy.Validate(c.DemoPassword); err != nil {
		return c, fmt.Errorf("DEMO_PASSWORD: %w", err) // the error never contains the password
	}
	return c, nil
}

// countSet counts the non-empty strings.
func countSet(vs ...string) int {
	n := 0
	for _, v := range vs {
		if v != "" {
			n++
		}
	}
	return n
}

// keySecrets decodes the secrets of SESSION_KEYS, which session.ParseKeyRing
// has already accepted: comma-separated, standard or URL-safe base64, padded
// or not. The throttle's guard signs device cookies with them, under a key
// of its own derived from each, so the ring and the guard rotate together.
func keySecrets(v string) [][]byte {
	var secrets [][]byte
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimRight(strings.TrimSpace(part), "=")
		enc := base64.RawStdEncoding
		if strings.ContainsAny(part, "-_") {
			enc = base64.RawURLEncoding
		}
		if b, err := enc.DecodeString(part); err == nil {
			secrets = append(secrets, b)
		}
	}
	return secrets
}

// parseTrustedProxies reads TRUSTED_PROXIES: comma-separated CIDR prefixes
// or single addresses of the reverse proxies in front of the server. Empty
// means none: the peer is the client, and forwarding headers are never read.
func parseTrustedProxies(v string) ([]netip.Prefix, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	var out []netip.Prefix
	for i, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		p, err := netip.ParsePrefix(part)
		if err != nil {
			a, aerr := netip.ParseAddr(part)
			if aerr != nil || a.Zone() != "" {
				return nil, fmt.Errorf("TRUSTED_PROXIES: entry %d (%q) is not an address or a CIDR prefix such as 10.0.0.0/8", i+1, part)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
