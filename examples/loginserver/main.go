// Command loginserver is a complete login/logout server built on
// github.com/sessionauth/session: an HTML sign-in page and a JSON API,
// argon2id password hashing, login throttling, cross-origin protection,
// sessions in memory or Redis. Run it with
//
//	go run ./examples/loginserver
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
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionauth/session"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "loginserver:", err)
		os.Exit(1)
	}
}

// Defaults of the demo account, printed at start-up when DEMO_PASSWORD is not
// set. Replace the user store before going to production (users.go).
const (
	defaultDemoUser     = "demo"
	defaultDemoPassword = "correct-horse-battery-staple"
)

// config is the server's configuration, read from the environment.
type config struct {
	Addr            string // ADDR
	Keys            *session.KeyRing
	KeysGenerated   bool          // SESSION_KEYS was unset
	RedisURL        string        // REDIS_URL
	IdleTimeout     time.Duration // SESSION_IDLE_TIMEOUT
	Lifetime        time.Duration // SESSION_LIFETIME
	DemoUser        string        // DEMO_USER
	DemoPassword    string        // DEMO_PASSWORD
	DemoPasswordSet bool          // DEMO_PASSWORD was set (then it is never printed)
	InsecureCookies bool          // INSECURE_COOKIES=1
}

// loadConfig reads the configuration through getenv (os.Getenv in main).
func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		Addr:         getenv("ADDR"),
		RedisURL:     getenv("REDIS_URL"),
		DemoUser:     getenv("DEMO_USER"),
		DemoPassword: getenv("DEMO_PASSWORD"),
	}
	if c.Addr == "" {
		c.Addr = "localhost:8080"
	}
	if v := getenv("SESSION_KEYS"); v != "" {
		keys, err := session.ParseKeyRing(v)
		if err != nil {
			// The error never contains the keys themselves.
			return c, fmt.Errorf("SESSION_KEYS: %w", err)
		}
		c.Keys = keys
	} else {
		keys, err := session.NewKeyRing(session.GenerateKey())
		if err != nil {
			return c, err
		}
		c.Keys, c.KeysGenerated = keys, true
	}
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{{"SESSION_IDLE_TIMEOUT", &c.IdleTimeout}, {"SESSION_LIFETIME", &c.Lifetime}} {
		v := getenv(d.name)
		if v == "" {
			continue
		}
		t, err := time.ParseDuration(v)
		if err != nil || t < time.Second {
			return c, fmt.Errorf("%s: want a Go duration of at least 1s, like 30m or 24h; got %q", d.name, v)
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

// openStore returns the session store: Redis when REDIS_URL is set, else
// memory (one process; a restart signs everyone out). It fails when Redis
// cannot be reached at start-up, rather than serving with no sessions.
func openStore(ctx context.Context, c config) (session.Store, func(), error) {
	if c.RedisURL == "" {
		return session.NewMemoryStore(), func() {}, nil
	}
	opts, err := redis.ParseURL(c.RedisURL)
	if err != nil {
		// Parse errors quote parts of the URL, which may be parts of the
		// password: say what is expected, never what was given.
		return nil, nil, errors.New("REDIS_URL does not parse: want redis://[user:password@]host:port[/db] or rediss://... (percent-encode special characters in the password)")
	}
	// Give up on a slow Redis quickly: RequireAuth then answers 503 instead
	// of holding the request.
	opts.ContextTimeoutEnabled = true
	opts.DialTimeout = 2 * time.Second
	opts.ReadTimeout = time.Second
	opts.WriteTimeout = time.Second
	client := redis.NewClient(opts)
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := client.Ping(pingCtx).Err(); err != nil {
		client.Close()
		return nil, nil, fmt.Errorf("REDIS_URL: cannot reach Redis at %s: %w", opts.Addr, err)
	}
	return session.NewRedisStore(client), func() { client.Close() }, nil
}

// run starts the server and serves until ctx is cancelled, then shuts down
// gracefully. ready, if not nil, is called with the listening address.
func run(ctx context.Context, getenv func(string) string, logw io.Writer, ready func(addr string)) error {
	log := slog.New(slog.NewTextHandler(logw, nil))
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	store, closeStore, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeStore()

	users := newMemoryUsers()
	hash, err := session.HashPassword(cfg.DemoPassword)
	if err != nil {
		return err
	}
	demo, err := users.addDemo(mustNormalize(cfg.DemoUser), hash)
	if err != nil {
		return err
	}

	a, err := newApp(appConfig{
		Sessions: session.Config{
			Store:       store,
			Keys:        cfg.Keys,
			IdleTimeout: cfg.IdleTimeout,
			Lifetime:    cfg.Lifetime,
			Cookie:      session.CookieOptions{DisableSecure: cfg.InsecureCookies},
			Logger:      log,
		},
		Users:    users,
		Log:      log,
		DemoHint: !cfg.DemoPasswordSet,
		DemoUser: demo.Username,
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
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
	if cfg.RedisURL == "" {
		log.Info("sessions are kept in memory: a restart signs everyone out (set REDIS_URL to keep them)")
	} else {
		log.Info("sessions are kept in Redis: they survive a restart when SESSION_KEYS is set")
	}
	if cfg.InsecureCookies {
		log.Warn("INSECURE_COOKIES=1: the session cookie is sent over plain HTTP; never do this in production")
	}
	openURL := "http://" + ln.Addr().String() + "/"
	if h, p, err := net.SplitHostPort(cfg.Addr); err == nil && (h == "localhost" || h == "") {
		openURL = "http://localhost:" + portOf(ln.Addr(), p) + "/"
	}
	if cfg.DemoPasswordSet {
		log.Info("listening", "url", openURL, "demo_user", demo.Username, "demo_password", "(from DEMO_PASSWORD)")
	} else {
		log.Info("listening", "url", openURL, "demo_user", demo.Username, "demo_password", cfg.DemoPassword)
	}
	if ready != nil {
		ready(ln.Addr().String())
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
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
