package main

import (
	"context"
	"log/slog"
	"net/http"
	"runtime"
	"time"

	"github.com/sessionauth/session"
)

// appConfig is what newApp needs. Tests fill it directly; main reads it from
// the environment.
type appConfig struct {
	Sessions session.Config
	Users    UserStore
	Log      *slog.Logger
	// DemoHint shows the demo account's credentials on the sign-in page
	// (only while the built-in default password is in use).
	DemoHint bool
	DemoUser string
	// Now is the clock of the login throttles; nil means time.Now.
	Now func() time.Time
	// HashSlots bounds concurrent password hashes (each takes about 19 MiB);
	// 0 means max(2, GOMAXPROCS). HashSlotWait is how long a request waits
	// for a slot before answering 503; 0 means 2 seconds.
	HashSlots    int
	HashSlotWait time.Duration
	// Ping checks that the session store can be reached, for /readyz; nil
	// means it always can.
	Ping func(context.Context) error
}

// app holds the server's dependencies; its methods are the HTTP handlers.
type app struct {
	sessions *session.Manager
	users    UserStore
	log      *slog.Logger
	// Failed logins are throttled per account and per client address.
	// Addresses get a higher limit: many people can share one (NAT, offices).
	accounts, addrs *session.Throttle
	hashSlots       chan struct{}
	slotWait        time.Duration
	demoHint        bool
	demoUser        string
	// cookieName is the session cookie's name, to tell a visitor whose
	// session ended from a new one.
	cookieName string
	ready      *readiness
}

func newApp(c appConfig) (*app, error) {
	a := &app{}
	// Browsers get pages, API clients JSON, when RequireAuth turns a request
	// away or the store fails.
	if c.Sessions.Unauthenticated == nil {
		c.Sessions.Unauthenticated = http.HandlerFunc(a.unauthenticated)
	}
	if c.Sessions.ErrorHandler == nil {
		c.Sessions.ErrorHandler = a.storeUnavailable
	}
	// The cookie's name is set here rather than left to the library's
	// default, so the pages know it: a __Host- name when the attributes
	// allow it (Secure, Path=/, no Domain), else "sid".
	if ck := &c.Sessions.Cookie; ck.Name == "" {
		ck.Name = session.DefaultCookieName
		if ck.DisableSecure || ck.Domain != "" || ck.Path != "" && ck.Path != "/" {
			ck.Name = "sid"
		}
	}
	m, err := session.New(c.Sessions)
	if err != nil {
		return nil, err
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.HashSlots <= 0 {
		c.HashSlots = max(2, runtime.GOMAXPROCS(0))
	}
	if c.HashSlotWait <= 0 {
		c.HashSlotWait = 2 * time.Second
	}
	*a = app{
		sessions: m,
		users:    c.Users,
		log:      c.Log,
		accounts: session.NewThrottle(session.ThrottleConfig{
			MaxFailures: 5, Window: 15 * time.Minute, Lockout: time.Minute, MaxLockout: 15 * time.Minute, Now: c.Now,
		}),
		addrs: session.NewThrottle(session.ThrottleConfig{
			MaxFailures: 50, Window: 15 * time.Minute, Lockout: time.Minute, MaxLockout: 15 * time.Minute, Now: c.Now,
		}),
		hashSlots:  make(chan struct{}, c.HashSlots),
		slotWait:   c.HashSlotWait,
		demoHint:   c.DemoHint,
		demoUser:   c.DemoUser,
		cookieName: c.Sessions.Cookie.Name,
		ready:      &readiness{ping: c.Ping},
	}
	if a.ready.ping == nil {
		a.ready.ping = func(context.Context) error { return nil }
	}
	a.ready.onFlip = func(err error) {
		if err != nil {
			a.log.Warn("not ready: the session store cannot be reached", "error", err)
		} else {
			a.log.Info("ready: the session store answers again")
		}
	}
	return a, nil
}
