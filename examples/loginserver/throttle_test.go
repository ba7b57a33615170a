package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sessionauth/session/throttle"
)

const wrongPassword = "wrong password, long enough"

// retryAfter returns the Retry-After of a 429, failing the test if it has
// none.
func retryAfter(t *testing.T, r *response) int {
	t.Helper()
	wantStatus(t, r, http.StatusTooManyRequests)
	n, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || n < 1 {
		t.Fatalf("429 with Retry-After %q", r.Header.Get("Retry-After"))
	}
	return n
}

// cheapUser adds an account whose hash is cheap bcrypt, so that tests can
// fail many sign-ins without an argon2id hash each.
func (e *env) cheapUser(name, pw string) User {
	e.t.Helper()
	u, err := e.users.Create(context.Background(), name, cheapHash(e.t, pw))
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// The account's budget holds across addresses: 10 wrong passwords from 10
// addresses, and the next unknown device gets 429 at once, even with the
// right password, until the lockout ends. Other accounts are not affected.
//
// The test runs in a synctest bubble, where the lockout passes in virtual
// time.
func TestLoginThrottleSpendsAccountBudgetAcrossAddresses(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.cheapUser("victim", testPassword)
		for i := range 10 {
			wantStatus(t, e.browser(fmt.Sprintf("203.0.113.%d:1", i)).login("victim", wrongPassword), http.StatusUnauthorized)
		}
		b := e.browser("192.0.2.77:1")
		r := b.login("victim", testPassword)
		if n := retryAfter(t, r); n != 60 {
			t.Fatalf("Retry-After %d, want 60 (the first lockout)", n)
		}
		if msg := r.errorMsg(t); msg != "too many failed sign-in attempts; try again later" {
			t.Fatalf("error %q", msg)
		}
		// The form gets the page with the sentence, and the same header.
		r = b.postForm("/login", url.Values{"username": {"victim"}, "password": {testPassword}})
		retryAfter(t, r)
		wantBody(t, r, "Too many failed attempts. For your safety, please wait about a minute")
		// Other accounts are not affected, from the same address.
		wantStatus(t, b.login(testUser, testPassword), http.StatusOK)
		// The lockout ends.
		time.Sleep(61 * time.Second)
		wantStatus(t, e.browser("192.0.2.78:1").login("victim", testPassword), http.StatusOK)
	})
}

// One network guessing at many accounts spends its address budget: then it
// is refused for every account, and so is the rest of its IPv6 /64; other
// networks are not.
func TestLoginThrottleLocksAddressGuessingManyAccounts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *appConfig) { c.Throttle.Address = throttle.Rule{Limit: 5} })
	b := e.browser("[2001:db8:1:2::10]:443")
	for i := range 5 {
		wantStatus(t, b.login(fmt.Sprintf("user%d", i), wrongPassword), http.StatusUnauthorized)
	}
	retryAfter(t, b.login(testUser, testPassword))
	retryAfter(t, e.browser("[2001:db8:1:2::99]:443").login(testUser, testPassword))
	wantStatus(t, e.browser("192.0.2.5:1").login(testUser, testPassword), http.StatusOK)
}

// Attack 1: IPv6 clients are counted by their /64, but the account's budget
// holds over every address, so many /64s of one /48 get 10 password checks
// in all; then even the right password is refused to an unknown device.
func TestLoginThrottleHoldsAcrossManySlash64sOfOneSlash48(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.cheapUser("victim", testPassword)
	counts := map[int]int{}
	for i := range 40 {
		r := e.browser(fmt.Sprintf("[2001:db8:77:%x::1]:443", i+1)).login("victim", wrongPassword)
		counts[r.StatusCode]++
	}
	if counts[http.StatusUnauthorized] != 10 || counts[http.StatusTooManyRequests] != 30 {
		t.Fatalf("40 guesses from 40 /64s of one /48: %v, want 10 × 401 and 30 × 429", counts)
	}
	retryAfter(t, e.browser("[2001:db8:77:ffff::1]:443").login("victim", testPassword))
}

// An attacker who keeps the account's budget spent cannot keep its owner
// out: the browser the owner signed in from before has a device cookie and
// its own budget. The cookie is __Host-, HttpOnly, Secure, SameSite=Strict.
func TestLoginThrottleKnownDeviceGetsInWhileAccountIsLocked(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		u := e.cheapUser("victim", testPassword)
		owner := e.browser("192.0.2.200:1")
		r := owner.login("victim", testPassword)
		wantStatus(t, r, http.StatusOK)
		var device *http.Cookie
		for _, c := range r.Cookies() {
			if c.Name == "__Host-device" {
				device = c
			}
		}
		if device == nil || !device.HttpOnly || !device.Secure || device.SameSite != http.SameSiteStrictMode || device.Path != "/" || device.MaxAge <= 0 {
			t.Fatalf("device cookie %+v", device)
		}
		for round := range 4 {
			delete(owner.cookies, hostCookieName) // the session ended
			// Keep the attacker's guesses cheap: the sign-in upgraded the hash.
			if err := e.users.SetPasswordHash(context.Background(), u.ID, cheapHash(t, testPassword)); err != nil {
				t.Fatal(err)
			}
			atk := e.browser(fmt.Sprintf("198.51.100.%d:1", round+1))
			for range 11 {
				atk.login("victim", wrongPassword)
			}
			wait := retryAfter(t, e.browser(fmt.Sprintf("203.0.113.%d:1", round+1)).login("victim", testPassword))
			wantStatus(t, owner.login("victim", testPassword), http.StatusOK)
			time.Sleep(time.Duration(wait) * time.Second) // the attacker is back as soon as the lockout ends
		}
	})
}

// With INSECURE_COOKIES the device cookie drops Secure and its __Host-
// name, as the session cookie does.
func TestLoginThrottleDeviceCookieFollowsInsecureCookies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *appConfig) { c.Sessions.Cookie.DisableSecure = true })
	r := e.browser("192.0.2.1:1").login(testUser, testPassword)
	wantStatus(t, r, http.StatusOK)
	for _, c := range r.Cookies() {
		if c.Name == "device" && !c.Secure {
			return
		}
	}
	t.Fatalf("no insecure device cookie: %v", r.Header.Values("Set-Cookie"))
}

// Attack 2: behind a trusted proxy every client has the proxy's address;
// with the proxy in TRUSTED_PROXIES the clients it forwards are counted
// apart, while a header from any other peer is ignored.
func TestLoginThrottleCountsClientsBehindTrustedProxyApart(t *testing.T) {
	t.Parallel()
	proxies, err := parseTrustedProxies("10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *appConfig) {
		c.Throttle.TrustedProxies = proxies
		c.Throttle.Address = throttle.Rule{Limit: 5}
	})
	for i := range 5 {
		e.cheapUser(fmt.Sprintf("user%d", i), testPassword)
	}
	through := func(client string) *browser {
		b := e.browser("10.0.0.1:5000")
		b.header = http.Header{"X-Forwarded-For": {client}}
		return b
	}
	mallory := through("198.51.100.66")
	for i := range 5 {
		wantStatus(t, mallory.login(fmt.Sprintf("user%d", i), wrongPassword), http.StatusUnauthorized)
	}
	retryAfter(t, mallory.login(testUser, wrongPassword))
	// Another client of the same proxy is not locked out.
	wantStatus(t, through("203.0.113.5").login(testUser, testPassword), http.StatusOK)

	// A peer that is not a trusted proxy cannot pick its address by header.
	direct := e.browser("192.0.2.66:1")
	for i := range 5 {
		direct.header = http.Header{"X-Forwarded-For": {fmt.Sprintf("203.0.113.%d", 100+i)}}
		wantStatus(t, direct.login(fmt.Sprintf("user%d", i), wrongPassword), http.StatusUnauthorized)
	}
	direct.header = http.Header{"X-Forwarded-For": {"203.0.113.200"}}
	retryAfter(t, direct.login(testUser, testPassword))
}

// Attack 3: one address cannot register without bound. Ten sign-ups an
// hour, then 429 with a Retry-After of an hour; sign-ins from the same
// address keep working, and other addresses can still sign up.
func TestRegisterFloodFromOneAddressIsThrottled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser("192.0.2.50:1")
	for i := range 10 {
		wantStatus(t, b.postJSON("/register", fmt.Sprintf(`{"username":"bot%d","password":"a perfectly long passphrase"}`, i)), http.StatusCreated)
	}
	r := b.postJSON("/register", `{"username":"bot10","password":"a perfectly long passphrase"}`)
	if n := retryAfter(t, r); n != 3600 {
		t.Fatalf("Retry-After %d, want 3600", n)
	}
	if msg := r.errorMsg(t); msg != "too many sign-ups from this network; try again later" {
		t.Fatalf("error %q", msg)
	}
	r = b.postForm("/register", url.Values{"username": {"bot10"}, "password": {"a perfectly long passphrase"}})
	retryAfter(t, r)
	wantBody(t, r, "Too many accounts were created from your network. Please wait 60 minutes and try again.")
	if f := r.focused(); f != "username" {
		t.Fatalf("focus on %q", f)
	}
	if _, err := e.users.ByUsername(context.Background(), "bot10"); err == nil {
		t.Fatal("a refused sign-up created an account")
	}
	wantStatus(t, b.login(testUser, testPassword), http.StatusOK)
	wantStatus(t, e.browser("192.0.2.51:1").postJSON("/register", `{"username":"human","password":"a perfectly long passphrase"}`), http.StatusCreated)
}

// A concurrent flood of sign-ups from one address: exactly the budget gets
// through (no lost counts), and sign-ins running meanwhile all succeed, in
// the hashing slots sign-ups cannot take.
func TestRegisterFloodLeavesSignInsWorking(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *appConfig) { c.Throttle.HashSlots = 4; c.Throttle.SlotWait = 30 * time.Second })
	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			r := e.browser("192.0.2.60:1").postJSON("/register", fmt.Sprintf(`{"username":"flood%d","password":"a perfectly long passphrase"}`, i))
			mu.Lock()
			counts[r.StatusCode]++
			mu.Unlock()
		})
	}
	signIns := make([]int, 3)
	for i := range signIns {
		wg.Go(func() { signIns[i] = e.browser("192.0.2.60:1").login(testUser, testPassword).StatusCode })
	}
	wg.Wait()
	if counts[http.StatusCreated] != 10 || counts[http.StatusTooManyRequests] != 10 {
		t.Fatalf("20 concurrent sign-ups from one address: %v, want 10 × 201 and 10 × 429", counts)
	}
	for i, code := range signIns {
		if code != http.StatusOK {
			t.Errorf("sign-in %d during the flood: %d", i, code)
		}
	}
}

// When every password hashing slot stays busy, sign-in answers 503 with a
// Retry-After instead of queueing without bound.
func TestLoginAnswers503WhenNoHashSlotFrees(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *appConfig) { c.Throttle.HashSlots = 2; c.Throttle.SlotWait = time.Millisecond })
	var held []*throttle.Attempt
	for i := range 2 {
		req := httptest.NewRequest("POST", "/login", nil)
		req.RemoteAddr = fmt.Sprintf("198.51.100.%d:1", i+1)
		a, err := e.app.guard.CheckLogin(req, "someone")
		if err != nil || !a.Allowed() {
			t.Fatalf("holding a slot: %v", err)
		}
		held = append(held, a)
	}
	r := e.browser("192.0.2.1:1").login(testUser, testPassword)
	wantStatus(t, r, http.StatusServiceUnavailable)
	if r.Header.Get("Retry-After") == "" || r.errorMsg(t) != "server busy, try again" {
		t.Fatalf("503 %v %s", r.Header, r.body)
	}
	for _, a := range held {
		a.Done()
	}
	wantStatus(t, e.browser("192.0.2.1:1").login(testUser, testPassword), http.StatusOK)
}

// When the throttle's counts cannot be reached, sign-in answers 503: an
// outage never lifts the limits.
func TestLoginAnswers503WhenTheThrottleIsDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *appConfig) { c.Throttle.Limiter = failingLimiter{} })
	r := e.browser("192.0.2.1:1").login(testUser, testPassword)
	wantStatus(t, r, http.StatusServiceUnavailable)
	if msg := r.errorMsg(t); msg != "sign-in temporarily unavailable" || r.cookie() != nil {
		t.Fatalf("error %q, session cookie %v", msg, r.cookie())
	}
	wantStatus(t, e.browser("192.0.2.1:1").postJSON("/register", `{"username":"newbie","password":"a perfectly long passphrase"}`), http.StatusServiceUnavailable)
	if !strings.Contains(e.logs.String(), "login: throttle unavailable") {
		t.Fatalf("log:\n%s", e.logs)
	}
}

// failingLimiter is a throttle.Limiter whose server is down.
type failingLimiter struct{}

var errLimiterDown = fmt.Errorf("limiter down")

func (failingLimiter) Take(context.Context, []throttle.Request) ([]throttle.Result, error) {
	return nil, errLimiterDown
}
func (failingLimiter) Refund(context.Context, []throttle.Result) error { return errLimiterDown }
func (failingLimiter) Reset(context.Context, ...string) error          { return errLimiterDown }
