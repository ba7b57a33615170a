package throttle

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"time"

	"github.com/sessionauth/session"
)

// maxDeviceLifetime is the longest a browser keeps a cookie.
const maxDeviceLifetime = 400 * 24 * time.Hour

// The default rules of a Guard.
var (
	defaultAddress  = Rule{Limit: 50, Window: 15 * time.Minute, Lockout: time.Minute, MaxLockout: 15 * time.Minute}
	defaultAccount  = Rule{Limit: 10, Window: 15 * time.Minute, Lockout: time.Minute, MaxLockout: time.Hour}
	defaultDevice   = Rule{Limit: 10, Window: 15 * time.Minute, Lockout: time.Minute, MaxLockout: 15 * time.Minute}
	defaultKnown    = Rule{Limit: 50, Window: 15 * time.Minute, Lockout: time.Minute, MaxLockout: 15 * time.Minute}
	defaultRegister = Rule{Limit: 10, Window: time.Hour, Lockout: time.Hour, MaxLockout: 24 * time.Hour}
)

// GuardConfig configures a Guard. DeviceKeys is required; zero fields take
// the defaults shown. A Rule with some fields set takes the others from its
// default.
type GuardConfig struct {
	// Limiter keeps the counts: NewRedis to share them between instances of
	// the application. nil means a new NewMemory(MemoryConfig{}).
	Limiter Limiter

	// DeviceKeys sign and verify device cookies: the first signs, every key
	// verifies, so keys rotate as session keys do. Each is at least 32
	// bytes. The guard uses them only through a derivation under its own
	// label, so the application's session keys may be passed as they are.
	// Instances sharing a Limiter need the same keys.
	DeviceKeys [][]byte

	// TrustedProxies are the reverse proxies (and load balancers) in front
	// of the application. The client address is read from ProxyHeader only
	// when the peer is in one of these prefixes; see Guard.ClientAddr. Empty
	// means the header is never read and the peer is the client.
	TrustedProxies []netip.Prefix
	// ProxyHeader is the header the trusted proxies append the client
	// address to: "X-Forwarded-For" (the default), "Forwarded" (RFC 7239,
	// its for= parameters), or another comma-separated list of addresses
	// such as "X-Real-IP". Name the one your proxy writes: a header it does
	// not write reaches the application as the client sent it.
	ProxyHeader string

	// Address is the sign-in budget of one client address (an IPv4 address
	// or an IPv6 /64) over every account, for attempts from unknown devices.
	// Default 50 attempts per 15 minutes, then lockouts of 1 minute doubling
	// up to 15.
	Address Rule
	// Account is the sign-in budget of one account over every unknown
	// device and address. Default 10 attempts per 15 minutes, then lockouts
	// of 1 minute doubling up to an hour.
	Account Rule
	// Device is the sign-in budget of one known device for its account.
	// Default 10 attempts per 15 minutes, then lockouts of 1 minute doubling
	// up to 15.
	Device Rule
	// KnownDevices is the sign-in budget of one account's known devices at
	// one client address, together: a bound on how many device cookies,
	// each a budget of its own and a key the Limiter keeps, someone with an
	// account can fail with from one address. Default 50 attempts per 15
	// minutes, then lockouts of 1 minute doubling up to 15. Attempts on
	// other accounts, or from other addresses, do not count against it.
	KnownDevices Rule
	// Register is the registration budget of one client address. Default 10
	// per hour, then lockouts of 1 hour doubling up to 24.
	Register Rule

	// DeviceCookieName is the device cookie's name. "" means
	// "__Host-device" (the __Host- prefix makes browsers refuse the cookie
	// from a sibling subdomain), or "device" when DisableSecureCookie is
	// set (a __Host- cookie must be Secure).
	DeviceCookieName string
	// DisableSecureCookie drops the Secure attribute of the device cookie,
	// for plain-HTTP development on a host other than localhost.
	DisableSecureCookie bool
	// DeviceLifetime is how long a device stays known after its last
	// successful sign-in. Default 365 days; at most 400.
	DeviceLifetime time.Duration

	// HashSlots bounds how many password hashes (sign-ins and
	// registrations) run at once, each about 19 MiB with the password
	// package's defaults. Default max(2, GOMAXPROCS); at least 2.
	HashSlots int
	// RegisterSlots is how many of them registrations may hold at once,
	// less than HashSlots. Default HashSlots/4, at least 1.
	RegisterSlots int
	// SlotWait is how long a request waits for a hashing slot before
	// CheckLogin or CheckRegister returns ErrBusy. Default 2 seconds.
	SlotWait time.Duration

	// Logger receives the failures the guard cannot return (a refund that
	// did not reach the Limiter). nil means no log.
	Logger *slog.Logger
	// Observe receives a session.Event named "throttle.refused" for each
	// attempt CheckLogin or CheckRegister refuses, its Reason the budget
	// that refused it: "address", "account", "device" (Device or
	// KnownDevices) or "register" (the first, when two did). It is the shape of
	// session.Config.Observe, so one function (otelsession's
	// Recorder.Observe) records both. nil reports nothing and costs
	// nothing.
	Observe func(session.Event)
}

// Guard holds the whole sign-in and registration throttling policy of an
// application: see the package documentation. It is safe for concurrent
// use; one Guard serves every request.
type Guard struct {
	limiter     Limiter
	cookie      deviceCookie
	proxies     []netip.Prefix
	proxyHeader string
	address     Rule
	account     Rule
	device      Rule
	known       Rule // KnownDevices
	register    Rule
	slots       *hashSlots
	now         func() time.Time
	log         *slog.Logger
	observe     func(session.Event) // GuardConfig.Observe
}

// NewGuard returns a Guard for cfg, after checking all of it. Every error
// wraps ErrInvalidConfig and names the field at fault. It starts no
// goroutine.
func NewGuard(cfg GuardConfig) (*Guard, error) {
	return newGuard(cfg, time.Now)
}

// newGuard is NewGuard on the clock now, which the package's tests set.
func newGuard(cfg GuardConfig, now func() time.Time) (*Guard, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
	}
	g := &Guard{limiter: cfg.Limiter, now: now, log: cfg.Logger, observe: cfg.Observe}
	if g.limiter == nil {
		g.limiter = newMemory(MemoryConfig{}, now)
	}

	if len(cfg.DeviceKeys) == 0 {
		return nil, bad("DeviceKeys is empty (pass the session keys, or 32 random bytes)")
	}
	for i, k := range cfg.DeviceKeys {
		if len(k) < 32 {
			return nil, bad("DeviceKeys[%d] is %d bytes, want at least 32", i, len(k))
		}
		g.cookie.keys = append(g.cookie.keys, deriveDeviceKey(k))
	}
	g.cookie.secure = !cfg.DisableSecureCookie
	g.cookie.name = cfg.DeviceCookieName
	if g.cookie.name == "" {
		g.cookie.name = "__Host-device"
		if !g.cookie.secure {
			g.cookie.name = "device"
		}
	}
	if err := (&http.Cookie{Name: g.cookie.name, Value: "x"}).Valid(); err != nil {
		return nil, bad("DeviceCookieName: %v", err)
	}
	if !g.cookie.secure && (hasPrefixFold(g.cookie.name, "__Host-") || hasPrefixFold(g.cookie.name, "__Secure-")) {
		return nil, bad("DeviceCookieName %q needs Secure, and DisableSecureCookie is set", g.cookie.name)
	}
	g.cookie.lifetime = cfg.DeviceLifetime
	if g.cookie.lifetime == 0 {
		g.cookie.lifetime = 365 * 24 * time.Hour
	}
	if g.cookie.lifetime < time.Second || g.cookie.lifetime > maxDeviceLifetime {
		return nil, bad("DeviceLifetime %v not in [1s, 400 days]", cfg.DeviceLifetime)
	}

	for _, p := range cfg.TrustedProxies {
		if !p.IsValid() {
			return nil, bad("TrustedProxies: invalid prefix %v", p)
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		g.proxies = append(g.proxies, p.Masked())
	}
	g.proxyHeader = http.CanonicalHeaderKey(cfg.ProxyHeader)
	if g.proxyHeader == "" {
		g.proxyHeader = "X-Forwarded-For"
	}

	for _, r := range []struct {
		name     string
		dst      *Rule
		cfg, def Rule
	}{
		{"Address", &g.address, cfg.Address, defaultAddress},
		{"Account", &g.account, cfg.Account, defaultAccount},
		{"Device", &g.device, cfg.Device, defaultDevice},
		{"KnownDevices", &g.known, cfg.KnownDevices, defaultKnown},
		{"Register", &g.register, cfg.Register, defaultRegister},
	} {
		*r.dst = r.cfg.orDefault(r.def)
		if p := r.dst.problem(); p != "" {
			return nil, bad("%s: %s", r.name, p)
		}
	}

	if cfg.HashSlots == 0 {
		cfg.HashSlots = max(2, runtime.GOMAXPROCS(0))
	}
	if cfg.HashSlots < 2 {
		return nil, bad("HashSlots %d < 2: sign-ins need a slot registrations cannot take", cfg.HashSlots)
	}
	if cfg.RegisterSlots == 0 {
		cfg.RegisterSlots = max(1, cfg.HashSlots/4)
	}
	if cfg.RegisterSlots < 1 || cfg.RegisterSlots >= cfg.HashSlots {
		return nil, bad("RegisterSlots %d not in [1, HashSlots-1 = %d]", cfg.RegisterSlots, cfg.HashSlots-1)
	}
	if cfg.SlotWait == 0 {
		cfg.SlotWait = 2 * time.Second
	}
	if cfg.SlotWait < 0 {
		return nil, bad("SlotWait %v < 0", cfg.SlotWait)
	}
	g.slots = newHashSlots(cfg.HashSlots, cfg.RegisterSlots, cfg.SlotWait)
	return g, nil
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// knownDevicesKey is the throttle key of username's known devices at the
// client address addr (addrKey's form).
func knownDevicesKey(addr, username string) string {
	return "k:" + addr + ":" + accountKey(username)[len("u:"):]
}

// accountKey is the throttle key of an account: a hash of the username, so
// keys have a bounded length and a Redis dump does not list usernames.
func accountKey(username string) string {
	sum := sha256.Sum256([]byte(username))
	return "u:" + base64.RawURLEncoding.EncodeToString(sum[:16])
}

// refused reports an attempt the budget of key refused.
func (g *Guard) refused(key string) {
	if g.observe == nil {
		return
	}
	reason := "address"
	switch {
	case strings.HasPrefix(key, "u:"):
		reason = "account"
	case strings.HasPrefix(key, "d:"), strings.HasPrefix(key, "k:"):
		reason = "device"
	case strings.HasPrefix(key, "r:"):
		reason = "register"
	}
	g.observe(session.Event{Name: "throttle.refused", Reason: reason})
}
