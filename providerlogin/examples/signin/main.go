// Command signin is a small web app with "Sign in with …" buttons, built on
// github.com/sessionauth/session and its providerlogin module. By default it
// starts two local demo providers beside itself (an OpenID Provider and a
// GitHub-style OAuth 2 provider), so it runs with no account anywhere:
//
//	go run ./examples/signin
//
// then open http://localhost:8080 and sign in as demo / demo-password.
// Set OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET to use a real
// OpenID Provider instead (register BASE_URL/auth/oidc/callback there).
// See README.md next to this file.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sessionauth/session"
	"github.com/sessionauth/session/providerlogin"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "signin:", err)
		os.Exit(1)
	}
}

// config is read from the environment.
type config struct {
	Addr         string // ADDR, default localhost:8080
	BaseURL      string // BASE_URL, default http://localhost:PORT
	ProviderAddr string // PROVIDER_ADDR for the demo providers, default 127.0.0.1:8081
	Issuer       string // OIDC_ISSUER: a real provider instead of the demo ones
	ClientID     string // OIDC_CLIENT_ID
	ClientSecret string // OIDC_CLIENT_SECRET
	ProviderName string // OIDC_NAME, the button's label
	Keys         *session.KeyRing
	Insecure     bool // INSECURE_COOKIES=1
}

func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		Addr: getenv("ADDR"), BaseURL: getenv("BASE_URL"), ProviderAddr: getenv("PROVIDER_ADDR"),
		Issuer: getenv("OIDC_ISSUER"), ClientID: getenv("OIDC_CLIENT_ID"), ClientSecret: getenv("OIDC_CLIENT_SECRET"),
		ProviderName: getenv("OIDC_NAME"),
	}
	if c.Addr == "" {
		c.Addr = "localhost:8080"
	}
	if c.ProviderAddr == "" {
		c.ProviderAddr = "127.0.0.1:8081"
	}
	if c.ProviderName == "" {
		c.ProviderName = "your provider"
	}
	if c.Issuer != "" && c.ClientID == "" {
		return c, errors.New("OIDC_ISSUER needs OIDC_CLIENT_ID (and usually OIDC_CLIENT_SECRET)")
	}
	var err error
	if v := getenv("SESSION_KEYS"); v != "" {
		if c.Keys, err = session.ParseKeyRing(v); err != nil {
			return c, fmt.Errorf("SESSION_KEYS: %w", err)
		}
	} else if c.Keys, err = session.NewKeyRing(session.GenerateKey()); err != nil {
		return c, err
	}
	switch v := getenv("INSECURE_COOKIES"); v {
	case "", "0", "false":
	case "1", "true":
		c.Insecure = true
	default:
		return c, fmt.Errorf("INSECURE_COOKIES: want 1 or 0, got %q", v)
	}
	return c, nil
}

// run serves until ctx ends, then shuts down gracefully. ready, if not
// nil, gets the app's base URL once it listens.
func run(ctx context.Context, getenv func(string) string, logw io.Writer, ready func(base string)) error {
	log := slog.New(slog.NewTextHandler(logw, nil))
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	base := cfg.BaseURL
	if base == "" {
		base = fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port)
	}

	var servers []*http.Server
	var providers []providerSpec
	if cfg.Issuer != "" {
		providers = []providerSpec{{oidc: true, name: "oidc", display: cfg.ProviderName, issuer: cfg.Issuer, clientID: cfg.ClientID, secret: cfg.ClientSecret}}
	} else {
		demo, err := startDemoProviders(cfg.ProviderAddr, base)
		if err != nil {
			return err
		}
		servers = append(servers, demo.server)
		providers = demo.specs
		log.Info("demo providers", "url", demo.url, "user", demoUser, "password", demoPassword)
	}

	a, err := newApp(appConfig{
		BaseURL:   base,
		Keys:      cfg.Keys,
		Insecure:  cfg.Insecure,
		Providers: providers,
		Log:       log,
	})
	if err != nil {
		return err
	}
	// Discovery at start-up: a misconfigured provider (a wrong issuer, a
	// trailing slash) stops the boot; one that is only unreachable does
	// not, as each sign-in retries it.
	discoverCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err = a.signin.Discover(discoverCtx)
	cancel()
	if errors.Is(err, providerlogin.ErrInvalidConfig) {
		return err
	}
	if err != nil {
		log.Warn("provider unreachable; each sign-in retries discovery", "error", err)
	}
	if cfg.Issuer != "" {
		log.Info("the redirect URI to register at the provider", "callback", a.signin.CallbackURL("oidc"))
	}

	srv := &http.Server{Handler: a.routes(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second, WriteTimeout: 30 * time.Second}
	servers = append(servers, srv)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("listening", "url", base+"/")
	if ready != nil {
		ready(base)
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	for _, s := range servers {
		if err := s.Shutdown(shutCtx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
