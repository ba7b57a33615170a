package throttle_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/sessionauth/session/internal/redistest"
	"github.com/sessionauth/session/throttle"
	"github.com/sessionauth/session/throttle/throttletest"
)

var testDeviceKey = []byte("0123456789abcdef0123456789abcdef-device-key")

// backends runs f once per Limiter: memory, and Redis on a throwaway
// server. Both take their time from the clock f is given.
func backends(t *testing.T, f func(t *testing.T, clk *throttletest.Clock, l throttle.Limiter)) {
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		clk := throttletest.NewClock()
		f(t, clk, throttle.NewMemoryAt(throttle.MemoryConfig{}, clk.Now))
	})
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		clk := throttletest.NewClock()
		client := redistest.New(t).Client(t)
		f(t, clk, throttle.NewRedisAt(client, throttle.RedisConfig{Prefix: redistest.Prefix()}, clk.Now))
	})
}

// newGuard returns a Guard for cfg on the real clock, with the test device
// key unless cfg has keys.
func newGuard(t testing.TB, cfg throttle.GuardConfig) *throttle.Guard {
	t.Helper()
	return newGuardAt(t, time.Now, cfg)
}

// newGuardAt is newGuard on the clock now.
func newGuardAt(t testing.TB, now func() time.Time, cfg throttle.GuardConfig) *throttle.Guard {
	t.Helper()
	if cfg.DeviceKeys == nil {
		cfg.DeviceKeys = [][]byte{testDeviceKey}
	}
	g, err := throttle.NewGuardAt(cfg, now)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// browser is one client: its address as the server sees the peer, an
// optional X-Forwarded-For it sends, and a cookie jar.
type browser struct {
	peer    string
	xff     string
	cookies map[string]*http.Cookie
}

func newBrowser(peer string) *browser {
	return &browser{peer: peer, cookies: map[string]*http.Cookie{}}
}

func (b *browser) request() *http.Request {
	r := httptest.NewRequest("POST", "/login", nil)
	r.RemoteAddr = b.peer
	if b.xff != "" {
		r.Header.Set("X-Forwarded-For", b.xff)
	}
	for _, c := range b.cookies {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	return r
}

func (b *browser) keep(w *httptest.ResponseRecorder) {
	for _, c := range w.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
}

// signIn runs one sign-in through g the way a handler does and returns the
// status it would answer: 429 when refused, 200 when right, 401 when wrong,
// 503 when a memory limiter is full (ErrFull).
func signIn(t testing.TB, g *throttle.Guard, b *browser, user string, right bool) int {
	t.Helper()
	a, err := g.CheckLogin(b.request(), user)
	if errors.Is(err, throttle.ErrFull) {
		return http.StatusServiceUnavailable
	}
	if err != nil {
		t.Fatalf("CheckLogin: %v", err)
	}
	defer a.Done()
	if !a.Allowed() {
		if a.RetryAfter() < time.Second {
			t.Fatalf("refused with RetryAfter %v", a.RetryAfter())
		}
		return http.StatusTooManyRequests
	}
	if !right {
		g.LoginFailed(a)
		return http.StatusUnauthorized
	}
	w := httptest.NewRecorder()
	if err := g.LoginSucceeded(w, a); err != nil {
		t.Fatalf("LoginSucceeded: %v", err)
	}
	b.keep(w)
	return http.StatusOK
}

// peerIn returns "ip:port" for the i-th /64 of the IPv6 /48 prefix.
func peerIn48(prefix string, i int) string {
	p := netip.MustParsePrefix(prefix)
	b := p.Addr().As16()
	b[6], b[7] = byte(i>>8), byte(i)
	b[15] = 1
	return netip.AddrPortFrom(netip.AddrFrom16(b), 443).String()
}
