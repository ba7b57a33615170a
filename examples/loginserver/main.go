// Command loginserver is a complete login/logout server built on
// github.com/sessionauth/session: an HTML sign-in page and a JSON API,
// argon2id password hashing, login throttling, cross-origin protection,
// sessions in memory or Redis. Run it with
//
//	cd examples/loginserver && go run .
//
// and open http://localhost:8080. Configuration comes from the environment;
// see README.md next to this file.
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
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sessionauth/session"
	"github.com/sessionauth/session/passkey"
	"github.com/sessionauth/session/passkey/pgpasskey"
	"github.com/sessionauth/session/password"
	"github.com/sessionauth/session/providerlogin"
	"github.com/sessionauth/session/throttle"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "loginserver:", err)
		os.Exit(1)
	}
}

// run starts the server and serves until ctx is cancelled, then shuts down
// gracefully. ready, if not nil, is called with the listening address.
func run(ctx context.Context, getenv func(string) string, logw io.Writer, ready func(addr string)) error {
	log := slog.New(slog.NewTextHandler(logw, nil))
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	var pool *pgxpool.Pool
	if cfg.DatabaseURL != "" {
		if pool, err = openDatabase(ctx, cfg.DatabaseURL); err != nil {
			return err
		}
		defer pool.Close()
	}
	store, err := openStore(ctx, cfg, log, pool)
	if err != nil {
		return err
	}
	defer store.close()

	hash, err := password.Hash(cfg.DemoPassword)
	if err != nil {
		return err
	}
	var users UserStore
	var demo User
	var passkeys passkey.Store // nil: in memory
	if pool != nil {
		pu := &pgUsers{pool: pool}
		if err := pu.setup(ctx); err != nil {
			return fmt.Errorf("DATABASE_URL: creating the users tables: %w", err)
		}
		if demo, err = pu.addDemo(ctx, mustNormalize(cfg.DemoUser), hash); err != nil {
			return err
		}
		users = pu
		ps, err := pgpasskey.New(pool)
		if err != nil {
			return err
		}
		if err := ps.Setup(ctx); err != nil {
			return fmt.Errorf("DATABASE_URL: creating the passkeys table: %w", err)
		}
		passkeys = ps
		log.Info("accounts, provider links and passkeys are kept in PostgreSQL: they survive a restart")
	} else {
		mu := newMemoryUsers()
		if demo, err = mu.addDemo(mustNormalize(cfg.DemoUser), hash); err != nil {
			return err
		}
		users = mu
		log.Info("accounts are kept in memory: a restart forgets every account but the demo one (set DATABASE_URL to keep them)")
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	openURL := "http://" + ln.Addr().String() + "/"
	if h, p, err := net.SplitHostPort(cfg.Addr); err == nil && (h == "localhost" || h == "") {
		openURL = "http://localhost:" + portOf(ln.Addr(), p) + "/"
	}
	baseURL := cfg.BaseURL
	if baseURL == "" {
		baseURL = strings.TrimSuffix(openURL, "/")
	}
	providers := cfg.Providers
	if len(providers) == 0 {
		demoOP, err := startDemoProvider(cfg.DemoProviderAddr, baseURL)
		if err != nil {
			ln.Close()
			return err
		}
		defer demoOP.close()
		providers = []providerSpec{demoOP.spec}
		log.Info("no provider configured (OIDC_ISSUER, OAUTH2_ISSUER): serving the demo provider Demo ID in this process",
			"issuer", demoOP.spec.Issuer, "user", demoProviderUser, "password", demoProviderPassword)
	}

	rec, metricsHandler, err := newMetrics()
	if err != nil {
		ln.Close()
		return err
	}
	a, err := newApp(appConfig{
		Metrics: &metrics{rec: rec, handler: metricsHandler},
		Sessions: session.Config{
			Store:       store.Store,
			Keys:        cfg.Keys,
			IdleTimeout: cfg.IdleTimeout,
			Lifetime:    cfg.Lifetime,
			Cookie:      session.CookieOptions{DisableSecure: cfg.InsecureCookies},
			Logger:      log,
		},
		Throttle: throttle.GuardConfig{
			Limiter:        store.attempts, // nil: in memory
			DeviceKeys:     cfg.Secrets,
			TrustedProxies: cfg.TrustedProxies,
		},
		Users:         users,
		Log:           log,
		DemoHint:      !cfg.DemoPasswordSet,
		DemoUser:      demo.Username,
		Providers:     providers,
		BaseURL:       baseURL,
		TokenKeysFile: cfg.TokenKeysFile,
		Passkeys:      passkeys,
	})
	if err != nil {
		ln.Close()
		return err
	}
	// Discovery now: a misconfigured provider stops the server with the
	// reason; one that is only unreachable is retried at each sign-in.
	if err := a.signin.Discover(ctx); errors.Is(err, providerlogin.ErrInvalidConfig) {
		ln.Close()
		return err
	} else if err != nil {
		log.Warn("a provider cannot be reached; its sign-in retries", "error", err)
	}
	for _, p := range providers {
		log.Info("sign in with "+p.Display, "redirect_uri", a.signin.CallbackURL(p.Name))
	}
	srv := &http.Server{
		Handler:           a.routes(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	if cfg.KeysGenerated {
		log.Warn("SESSION_KEYS is not set: using a random key; sessions will not survive a restart",
			"hint", "set SESSION_KEYS to the output of: head -c 32 /dev/urandom | base64")
	}
	if store.kind == "memory" {
		log.Info("sessions are kept in memory: a restart signs everyone out (set REDIS_URL or DATABASE_URL to keep them)")
	} else {
		log.Info("sessions are kept in "+store.kind+": they survive a restart when SESSION_KEYS is set", "at", store.where)
	}
	if store.attempts == nil {
		log.Info("sign-in attempts are counted in memory: each instance counts on its own (set REDIS_URL to share the counts)")
	} else {
		log.Info("sign-in attempts are counted in " + store.kind + ": every instance shares the counts, and they survive a restart")
	}
	if store.kind != "memory" {
		// Not a reason to stop: the server answers 503 where it needs the
		// store, and /readyz says so, until Redis is back.
		if a.ready.check(ctx) != nil {
			log.Warn("serving anyway: sign-in and signed-in pages answer 503, and /readyz too, until the store answers")
		}
	}
	if len(cfg.TrustedProxies) > 0 {
		log.Info("client addresses are read from X-Forwarded-For of the trusted proxies", "proxies", fmt.Sprint(cfg.TrustedProxies))
	}
	if cfg.InsecureCookies {
		log.Warn("INSECURE_COOKIES=1: the session cookie is sent over plain HTTP; never do this in production")
	}
	if cfg.DemoPasswordSet {
		log.Info("listening", "url", openURL, "demo_user", demo.Username, "demo_password", "(from DEMO_PASSWORD)")
	} else {
		log.Info("listening", "url", openURL, "demo_user", demo.Username, "demo_password", cfg.DemoPassword)
	}
	if ready != nil {
		ready(ln.Addr().String())
	}

	return serve(ctx, srv, ln, cfg.ShutdownTimeout, log)
}

func mustNormalize(s string) string {
	n, err := normalizeUsername(s)
	if err != nil {
		panic(err) // checked in loadConfig
	}
	return n
}

// portOf returns the port the listener got (ADDR may say :0).
func portOf(a net.Addr, fallback string) string {
	if t, ok := a.(*net.TCPAddr); ok {
		return fmt.Sprint(t.Port)
	}
	return fallback
}
