package throttle_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sessionauth/session"
	"github.com/sessionauth/session/internal/redistest"
	"github.com/sessionauth/session/throttle"
	"github.com/sessionauth/session/throttle/throttletest"
)

// Attack 1: guesses at one account from many IPv6 /64s. Every account has a
// budget that holds across addresses: 1,000 guesses from 1,000 /64s of one
// /48 reach the password check at most Account.Limit times, after which
// even the right password is refused to an unknown device, while the owner
// on a device that signed in before keeps signing in.
func TestGuardAccountBudgetHoldsAcrossAddresses(t *testing.T) {
	backends(t, func(t *testing.T, clk *throttletest.Clock, l throttle.Limiter) {
		g := newGuardAt(t, clk.Now, throttle.GuardConfig{Limiter: l})
		owner := newBrowser("198.51.100.20:4000")
		if signIn(t, g, owner, "alice", true) != http.StatusOK {
			t.Fatal("the owner could not sign in before the attack")
		}

		checked := 0
		for i := range 1000 {
			attacker := newBrowser(peerIn48("2001:db8:aaaa::/48", i))
			switch signIn(t, g, attacker, "alice", false) {
			case http.StatusUnauthorized:
				checked++
			case http.StatusOK:
				t.Fatal("a wrong guess succeeded")
			}
		}
		if checked != 10 {
			t.Fatalf("%d of 1,000 guesses from 1,000 /64s reached the password check, want the account budget of 10", checked)
		}
		if got := signIn(t, g, newBrowser(peerIn48("2001:db8:aaaa::/48", 1000)), "alice", true); got != http.StatusTooManyRequests {
			t.Fatalf("the right password from an unknown device: %d, want 429", got)
		}
		if got := signIn(t, g, owner, "alice", true); got != http.StatusOK {
			t.Fatalf("the owner on a known device: %d, want 200", got)
		}
	})
}

// The attack kept up for a day, one guess every 10 seconds from a fresh
// /64: the owner's known device is never refused, and the attacker gets
// about 10 guesses an hour once lockouts reach their maximum.
func TestGuardAccountBudgetUnderSustainedAttack(t *testing.T) {
	t.Parallel()
	clk := throttletest.NewClock()
	g := newGuardAt(t, clk.Now, throttle.GuardConfig{})
	owner := newBrowser("198.51.100.20:4000")
	signIn(t, g, owner, "alice", true)
	checked := 0
	for i := range 24 * 360 {
		if signIn(t, g, newBrowser(peerIn48("2001:db8:aaaa::/48", i)), "alice", false) == http.StatusUnauthorized {
			checked++
		}
		if i%97 == 0 {
			if got := signIn(t, g, owner, "alice", i%2 == 0); got == http.StatusTooManyRequests {
				t.Fatalf("hour %d: the owner's known device was refused", i/360)
			}
		}
		clk.Advance(10 * time.Second)
	}
	// 10 guesses, then lockouts of 1, 2, 4 ... 32 minutes, then 10 per hour.
	if checked > 10*(7+24) {
		t.Fatalf("%d guesses in a day reached the password check, want at most %d", checked, 10*(7+24))
	}
}

// Attack 2: everyone behind one reverse proxy shares its address. Without
// TrustedProxies, 50 wrong guesses lock that address for every unknown
// device, but never the owner's known device, however long it goes on.
func TestGuardAddressLockNeverKeepsKnownDeviceOut(t *testing.T) {
	backends(t, func(t *testing.T, clk *throttletest.Clock, l throttle.Limiter) {
		g := newGuardAt(t, clk.Now, throttle.GuardConfig{Limiter: l})
		const proxy = "10.0.0.1:40000"
		owner := newBrowser(proxy)
		signIn(t, g, owner, "alice", true)
		attacker := newBrowser(proxy)
		for hour := range 24 {
			for i := range 60 { // more than the address budget of 50
				signIn(t, g, attacker, fmt.Sprintf("user%d", (hour*60+i)%500), false)
			}
			if got := signIn(t, g, newBrowser(proxy), "bob", true); got != http.StatusTooManyRequests {
				t.Fatalf("hour %d: an unknown device behind the locked proxy: %d, want 429", hour, got)
			}
			if got := signIn(t, g, owner, "alice", true); got != http.StatusOK {
				t.Fatalf("hour %d: the owner's known device behind the proxy: %d, want 200", hour, got)
			}
			clk.Advance(time.Hour)
		}
	})
}

// With the proxy listed in TrustedProxies, each client is counted by the
// address the proxy appended: the attacker locks only themselves, whatever
// they put in the header.
func TestGuardTrustedProxyCountsEachClient(t *testing.T) {
	backends(t, func(t *testing.T, clk *throttletest.Clock, l throttle.Limiter) {
		g := newGuardAt(t, clk.Now, throttle.GuardConfig{Limiter: l, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
		attacker := newBrowser("10.0.0.1:40000")
		attacker.xff = "198.51.100.66"
		for i := range 60 {
			signIn(t, g, attacker, fmt.Sprint("user", i), false)
		}
		if got := signIn(t, g, attacker, "user0", true); got != http.StatusTooManyRequests {
			t.Fatalf("the attacker's own address: %d, want 429", got)
		}
		// The owner on a new device, through the same proxy.
		owner := newBrowser("10.0.0.1:40001")
		owner.xff = "203.0.113.9"
		if got := signIn(t, g, owner, "alice", true); got != http.StatusOK {
			t.Fatalf("another client through the proxy: %d, want 200", got)
		}
		// Spoofing: what the client writes is left of what the proxy appends.
		attacker.xff = "203.0.113.9, 198.51.100.66"
		if got := signIn(t, g, attacker, "carol", true); got != http.StatusTooManyRequests {
			t.Fatalf("spoofed X-Forwarded-For through the proxy: %d, want 429", got)
		}
		// Without the proxy, the header is not read at all.
		direct := newBrowser("198.51.100.66:5000")
		direct.xff = "203.0.113.10"
		if got := signIn(t, g, direct, "dave", true); got != http.StatusTooManyRequests {
			t.Fatalf("X-Forwarded-For from a peer that is no proxy: %d, want 429 for the peer's own address", got)
		}
	})
}

// Attack 3a: one address registering in bulk is throttled.
func TestGuardRegistrationThrottledPerAddress(t *testing.T) {
	backends(t, func(t *testing.T, clk *throttletest.Clock, l throttle.Limiter) {
		g := newGuardAt(t, clk.Now, throttle.GuardConfig{Limiter: l})
		b := newBrowser("192.0.2.50:1234")
		allowed := 0
		for range 1200 {
			a, err := g.CheckRegister(b.request())
			if err != nil {
				t.Fatal(err)
			}
			if a.Allowed() {
				allowed++
			} else if a.RetryAfter() < time.Second {
				t.Fatalf("refused with RetryAfter %v", a.RetryAfter())
			}
			a.Done()
		}
		if allowed != 10 {
			t.Fatalf("%d of 1,200 registrations from one address allowed, want 10", allowed)
		}
		// Another /64 of the same IPv6 subscriber is the same address.
		v6 := func(i int) *http.Request {
			r := httptest.NewRequest("POST", "/register", nil)
			r.RemoteAddr = fmt.Sprintf("[2001:db8:1:2::%x]:1", i+1)
			return r
		}
		for i := range 11 {
			a, err := g.CheckRegister(v6(i))
			if err != nil {
				t.Fatal(err)
			}
			if a.Allowed() != (i < 10) {
				t.Fatalf("registration %d from one /64: allowed %v", i, a.Allowed())
			}
			a.Done()
		}
	})
}

// Attack 3b: registrations from many addresses at once cannot take the
// hashing slots sign-ins need. With 4 slots of which registrations may hold
// 1, a flood of registrations holding their slot leaves a slot free for
// every sign-in: with a SlotWait of a millisecond, no sign-in is ever told
// the server is busy. The test runs in a synctest bubble, where hashing and
// waiting take virtual time: the flood is on before the first sign-in
// however slow the machine.
func TestGuardRegistrationsCannotStarveSignIns(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const hashing = 20 * time.Millisecond
		g := newGuard(t, throttle.GuardConfig{HashSlots: 4, RegisterSlots: 1, SlotWait: time.Millisecond})
		ctx, stop := context.WithCancel(context.Background())
		var regHolding, regMax, registered, busy atomic.Int64
		var wg sync.WaitGroup
		for w := range 16 { // registration workers, each from its own addresses
			wg.Go(func() {
				for i := 0; ctx.Err() == nil; i++ {
					r := httptest.NewRequest("POST", "/register", nil).WithContext(ctx)
					r.RemoteAddr = fmt.Sprintf("192.0.%d.%d:1", w, i%250+1)
					a, err := g.CheckRegister(r)
					if err != nil || !a.Allowed() {
						busy.Add(1)
						time.Sleep(time.Millisecond)
						continue
					}
					n := regHolding.Add(1)
					for m := regMax.Load(); n > m && !regMax.CompareAndSwap(m, n); m = regMax.Load() {
					}
					time.Sleep(hashing)
					regHolding.Add(-1)
					registered.Add(1)
					a.Done()
				}
			})
		}
		time.Sleep(5 * hashing) // the flood is on: every worker has tried
		if registered.Load() == 0 || busy.Load() < 15 {
			t.Fatalf("%d registrations went through and %d found no slot: the flood is not on", registered.Load(), busy.Load())
		}
		for i := range 30 {
			b := newBrowser(fmt.Sprintf("198.51.100.%d:1", i+1))
			a, err := g.CheckLogin(b.request(), fmt.Sprint("user", i))
			if err != nil {
				t.Fatalf("sign-in %d during the registration flood: %v", i, err)
			}
			time.Sleep(hashing)
			g.LoginFailed(a)
		}
		stop()
		wg.Wait()
		if regMax.Load() != 1 {
			t.Fatalf("registrations held %d slots at once, want at most 1 (RegisterSlots)", regMax.Load())
		}
	})
}

// Concurrent guesses at one account never exceed its budget, and a
// success gives its own attempt back without erasing others' failures.
func TestGuardConcurrentAttemptsKeepExactCounts(t *testing.T) {
	backends(t, func(t *testing.T, clk *throttletest.Clock, l throttle.Limiter) {
		g := newGuardAt(t, clk.Now, throttle.GuardConfig{Limiter: l, HashSlots: 64, RegisterSlots: 1})
		var checked atomic.Int64
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Go(func() {
				a, err := g.CheckLogin(newBrowser(fmt.Sprintf("192.0.2.%d:1", i+1)).request(), "alice")
				if err != nil {
					t.Error(err)
					return
				}
				if a.Allowed() {
					checked.Add(1)
				}
				g.LoginFailed(a)
			})
		}
		wg.Wait()
		if checked.Load() != 10 {
			t.Fatalf("%d of 40 concurrent guesses reached the password check, want exactly 10", checked.Load())
		}
	})
}

func TestGuardSuccessGivesBackOnlyItsOwnAttempt(t *testing.T) {
	backends(t, func(t *testing.T, clk *throttletest.Clock, l throttle.Limiter) {
		g := newGuardAt(t, clk.Now, throttle.GuardConfig{Limiter: l})
		for i := range 9 {
			signIn(t, g, newBrowser(fmt.Sprintf("192.0.2.%d:1", i+1)), "alice", false)
		}
		// The owner signs in from a new device: its attempt is given back,
		// the 9 failures are not forgotten.
		for range 3 {
			if got := signIn(t, g, newBrowser("203.0.113.1:1"), "alice", true); got != http.StatusOK {
				t.Fatalf("owner: %d", got)
			}
		}
		if got := signIn(t, g, newBrowser("192.0.2.100:1"), "alice", false); got != http.StatusUnauthorized {
			t.Fatalf("the 10th failure: %d, want 401", got)
		}
		if got := signIn(t, g, newBrowser("192.0.2.101:1"), "alice", false); got != http.StatusTooManyRequests {
			t.Fatalf("the 11th: %d, want 429", got)
		}
		// Many users signing in from one address never lock it.
		office := newBrowser("198.51.100.1:1")
		for i := range 200 {
			if got := signIn(t, g, office, fmt.Sprint("staff", i), true); got != http.StatusOK {
				t.Fatalf("sign-in %d from a shared address: %d", i, got)
			}
		}
	})
}

func TestGuardKnownDeviceHasItsOwnBudget(t *testing.T) {
	backends(t, func(t *testing.T, clk *throttletest.Clock, l throttle.Limiter) {
		g := newGuardAt(t, clk.Now, throttle.GuardConfig{Limiter: l})
		b := newBrowser("192.0.2.1:1")
		signIn(t, g, b, "alice", true)
		for i := range 10 {
			if got := signIn(t, g, b, "alice", false); got != http.StatusUnauthorized {
				t.Fatalf("typo %d: %d", i, got)
			}
		}
		if got := signIn(t, g, b, "alice", true); got != http.StatusTooManyRequests {
			t.Fatalf("11th attempt from the device: %d, want 429", got)
		}
		// The device's lockout is its own: the account's budget for unknown
		// devices is untouched.
		if got := signIn(t, g, newBrowser("192.0.2.2:1"), "alice", true); got != http.StatusOK {
			t.Fatalf("another device: %d, want 200", got)
		}
		clk.Advance(time.Minute)
		if got := signIn(t, g, b, "alice", true); got != http.StatusOK {
			t.Fatalf("the device after its lockout: %d, want 200", got)
		}
		// The success cleared the device's failures.
		for range 10 {
			signIn(t, g, b, "alice", false)
		}
		if got := signIn(t, g, b, "alice", false); got != http.StatusTooManyRequests {
			t.Fatalf("after 10 more typos: %d, want 429", got)
		}
	})
}

// Device cookies are free to collect for someone with an account (sign in
// again from a new browser), and each has a budget of its own; the
// account's known devices at one address share one more, so that collecting
// them multiplies nothing. The budget is the account's at that address
// only: another account's known device there, and this account's known
// devices elsewhere, keep signing in.
func TestGuardKnownDevicesOfAnAccountShareABudgetPerAddress(t *testing.T) {
	backends(t, func(t *testing.T, clk *throttletest.Clock, l throttle.Limiter) {
		g := newGuardAt(t, clk.Now, throttle.GuardConfig{Limiter: l})
		const here, elsewhere = "192.0.2.1:1", "198.51.100.1:1"
		owner := newBrowser(here)
		if got := signIn(t, g, owner, "alice", true); got != http.StatusOK {
			t.Fatalf("alice's first sign-in: %d", got)
		}
		var devices []*browser
		for i := range 7 {
			b := newBrowser(here)
			if got := signIn(t, g, b, "mallory", true); got != http.StatusOK {
				t.Fatalf("collecting device cookie %d: %d", i, got)
			}
			devices = append(devices, b)
		}
		for i, b := range devices[:5] { // 5 devices × 10 = the shared 50
			for j := range 10 {
				if got := signIn(t, g, b, "mallory", false); got != http.StatusUnauthorized {
					t.Fatalf("device %d, failure %d: %d, want 401", i, j, got)
				}
			}
		}
		if got := signIn(t, g, devices[5], "mallory", false); got != http.StatusTooManyRequests {
			t.Fatalf("a sixth device cookie, its own budget untouched: %d, want 429", got)
		}
		if got := signIn(t, g, owner, "alice", true); got != http.StatusOK {
			t.Fatalf("another account's known device at the same address: %d, want 200", got)
		}
		devices[6].peer = elsewhere
		if got := signIn(t, g, devices[6], "mallory", true); got != http.StatusOK {
			t.Fatalf("the account's known device at another address: %d, want 200", got)
		}
		clk.Advance(time.Minute)
		if got := signIn(t, g, devices[5], "mallory", true); got != http.StatusOK {
			t.Fatalf("after the lockout: %d, want 200", got)
		}
	})
}

// A thief holding one device cookie, at the owner's address (malware on
// the laptop, the office's NAT), gets the device's own budget of password
// checks, and the attempts its locked budget refuses count nothing: the
// owner's other known device there keeps signing in while the thief goes
// on.
func TestGuardStolenDeviceCookieCannotLockTheOwnersOtherDevices(t *testing.T) {
	backends(t, func(t *testing.T, clk *throttletest.Clock, l throttle.Limiter) {
		g := newGuardAt(t, clk.Now, throttle.GuardConfig{Limiter: l})
		const home = "192.0.2.10:1"
		laptop, phone := newBrowser(home), newBrowser(home)
		signIn(t, g, laptop, "alice", true)
		signIn(t, g, phone, "alice", true)
		thief := newBrowser(home)
		maps.Copy(thief.cookies, laptop.cookies)
		checked, ok := 0, 0
		for minute := range 60 {
			for range 60 {
				if signIn(t, g, thief, "alice", false) == http.StatusUnauthorized {
					checked++
				}
			}
			if minute == 0 && checked != 10 {
				t.Fatalf("the thief got %d password checks, want the device's 10", checked)
			}
			if signIn(t, g, phone, "alice", true) == http.StatusOK {
				ok++
			}
			clk.Advance(time.Minute)
		}
		if ok != 60 {
			t.Fatalf("the owner's phone signed in %d times in 60 minutes of trying, want 60 (the thief had %d password checks)", ok, checked)
		}
	})
}

// A known device's successful sign-in gives back what the shared budget
// counted: an account's owner signing in all day from known devices at one
// address never runs it out.
func TestGuardKnownDeviceSuccessGivesBackTheSharedBudget(t *testing.T) {
	backends(t, func(t *testing.T, clk *throttletest.Clock, l throttle.Limiter) {
		g := newGuardAt(t, clk.Now, throttle.GuardConfig{Limiter: l, KnownDevices: throttle.Rule{Limit: 3}})
		var devices []*browser
		for range 3 {
			b := newBrowser("192.0.2.1:1")
			signIn(t, g, b, "alice", true)
			devices = append(devices, b)
		}
		for i := range 30 {
			if got := signIn(t, g, devices[i%3], "alice", true); got != http.StatusOK {
				t.Fatalf("sign-in %d from a known device: %d, want 200", i, got)
			}
		}
		signIn(t, g, devices[0], "alice", false)
		signIn(t, g, devices[1], "alice", false)
		signIn(t, g, devices[2], "alice", true)
		signIn(t, g, devices[2], "alice", false)
		if got := signIn(t, g, devices[2], "alice", true); got != http.StatusTooManyRequests {
			t.Fatalf("a fourth attempt past three failures: %d, want 429", got)
		}
	})
}

func TestGuardAbandonGivesEverythingBack(t *testing.T) {
	backends(t, func(t *testing.T, clk *throttletest.Clock, l throttle.Limiter) {
		g := newGuardAt(t, clk.Now, throttle.GuardConfig{Limiter: l})
		for range 50 { // the user store is down: nothing is the user's fault
			a, err := g.CheckLogin(newBrowser("192.0.2.1:1").request(), "alice")
			if err != nil || !a.Allowed() {
				t.Fatalf("attempt refused: %v", err)
			}
			if err := a.Abandon(); err != nil {
				t.Fatal(err)
			}
			a.Done() // a no-op after Abandon
		}
		if got := signIn(t, g, newBrowser("192.0.2.1:1"), "alice", false); got != http.StatusUnauthorized {
			t.Fatalf("after 50 abandoned attempts: %d, want 401", got)
		}
	})
}

// A refused attempt keeps what the other budget counted: a client that
// keeps trying a locked account spends its address's budget as if it were
// failing, and no more.
func TestGuardRefusedAttemptStillCountsOnItsOtherBudget(t *testing.T) {
	t.Parallel()
	clk := throttletest.NewClock()
	g := newGuardAt(t, clk.Now, throttle.GuardConfig{})
	for i := range 10 {
		signIn(t, g, newBrowser(fmt.Sprintf("192.0.2.%d:1", i+1)), "alice", false)
	}
	b := newBrowser("203.0.113.5:1")
	for range 20 {
		if got := signIn(t, g, b, "alice", true); got != http.StatusTooManyRequests {
			t.Fatalf("locked account: %d", got)
		}
	}
	for i := range 30 { // 20 of the address's 50 are spent
		if got := signIn(t, g, b, fmt.Sprint("user", i), false); got != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, got)
		}
	}
	if got := signIn(t, g, b, "user99", true); got != http.StatusTooManyRequests {
		t.Fatalf("51st attempt from the address: %d, want 429", got)
	}
}

func TestGuardRetryAfterIsWholeSeconds(t *testing.T) {
	t.Parallel()
	clk := throttletest.NewClock()
	g := newGuardAt(t, clk.Now, throttle.GuardConfig{})
	for i := range 11 {
		signIn(t, g, newBrowser(fmt.Sprintf("192.0.2.%d:1", i+1)), "alice", false)
	}
	clk.Advance(1500 * time.Millisecond)
	a, err := g.CheckLogin(newBrowser("192.0.2.99:1").request(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if a.Allowed() || a.RetryAfter() != 59*time.Second {
		t.Fatalf("Allowed %v, RetryAfter %v; want refused for 59s (58.5s rounded up)", a.Allowed(), a.RetryAfter())
	}
}

// With every slot held, a check waits SlotWait and then answers ErrBusy,
// giving back what it counted; a request whose context ends stops waiting
// then. In a synctest bubble the waits are virtual time, measured exactly.
func TestGuardBusyWhenNoSlotComesFree(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const slotWait = 50 * time.Millisecond
		g := newGuard(t, throttle.GuardConfig{HashSlots: 2, RegisterSlots: 1, SlotWait: slotWait})
		var held []*throttle.Attempt
		for i := range 2 {
			a, err := g.CheckLogin(newBrowser(fmt.Sprintf("192.0.2.%d:1", i+1)).request(), "alice")
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, a)
		}
		start := time.Now()
		if _, err := g.CheckLogin(newBrowser("192.0.2.9:1").request(), "alice"); !errors.Is(err, throttle.ErrBusy) {
			t.Fatalf("third sign-in with 2 slots held: err = %v, want ErrBusy", err)
		}
		if d := time.Since(start); d != slotWait {
			t.Fatalf("the sign-in waited %v for a slot, want SlotWait (%v)", d, slotWait)
		}
		if _, err := g.CheckRegister(newBrowser("192.0.2.9:1").request()); !errors.Is(err, throttle.ErrBusy) {
			t.Fatalf("registration with every slot held: err = %v, want ErrBusy", err)
		}
		// A request whose client left stops waiting at once.
		patient := newGuard(t, throttle.GuardConfig{HashSlots: 2, RegisterSlots: 1, SlotWait: time.Minute})
		for i := range 2 {
			a, err := patient.CheckLogin(newBrowser(fmt.Sprintf("192.0.2.%d:1", i+1)).request(), "alice")
			if err != nil {
				t.Fatal(err)
			}
			defer a.Done()
		}
		const clientLeft = 100 * time.Millisecond
		ctx, cancel := context.WithTimeout(context.Background(), clientLeft)
		defer cancel()
		start = time.Now()
		if _, err := patient.CheckLogin(newBrowser("192.0.2.9:1").request().WithContext(ctx), "alice"); !errors.Is(err, throttle.ErrBusy) {
			t.Fatalf("request whose context ended: err = %v, want ErrBusy", err)
		}
		if d := time.Since(start); d != clientLeft {
			t.Fatalf("a request whose context ended after %v waited %v for a slot", clientLeft, d)
		}
		for _, a := range held {
			g.LoginFailed(a)
		}
		// The attempts that found no slot were given back: 2 failures counted.
		for i := range 8 {
			if got := signIn(t, g, newBrowser("192.0.2.9:1"), "alice", false); got != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d, want 401", i+3, got)
			}
		}
		if got := signIn(t, g, newBrowser("192.0.2.9:1"), "alice", false); got != http.StatusTooManyRequests {
			t.Fatalf("11th: %d, want 429", got)
		}
	})
}

func TestGuardLimiterDownIsAnError(t *testing.T) {
	t.Parallel()
	g := newGuard(t, throttle.GuardConfig{Limiter: failing{}})
	if _, err := g.CheckLogin(newBrowser("192.0.2.1:1").request(), "alice"); !errors.Is(err, errDown) {
		t.Fatalf("CheckLogin with the Limiter down: err = %v, want it to wrap the Limiter's", err)
	}
	if _, err := g.CheckRegister(newBrowser("192.0.2.1:1").request()); !errors.Is(err, errDown) {
		t.Fatalf("CheckRegister with the Limiter down: err = %v", err)
	}
}

var errDown = errors.New("limiter down")

type failing struct{}

func (failing) Take(context.Context, []throttle.Request) ([]throttle.Result, error) {
	return nil, errDown
}
func (failing) Refund(context.Context, []throttle.Result) error { return errDown }
func (failing) Reset(context.Context, ...string) error          { return errDown }

func TestGuardLoginSucceededOnlyForAllowedSignIns(t *testing.T) {
	t.Parallel()
	g := newGuard(t, throttle.GuardConfig{})
	reg, err := g.CheckRegister(newBrowser("192.0.2.1:1").request())
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	if err := g.LoginSucceeded(w, reg); err == nil || len(w.Result().Cookies()) != 0 {
		t.Fatalf("LoginSucceeded on a registration: err %v, cookies %v", err, w.Result().Cookies())
	}
	if err := g.LoginSucceeded(w, nil); err == nil {
		t.Fatal("LoginSucceeded(nil): no error")
	}
	a, _ := g.CheckLogin(newBrowser("192.0.2.1:1").request(), "alice")
	g.LoginFailed(a)
	if err := g.LoginSucceeded(w, a); err != nil || len(w.Result().Cookies()) != 0 {
		t.Fatalf("LoginSucceeded after LoginFailed: err %v, cookies %v; want a no-op", err, w.Result().Cookies())
	}
}

func TestGuardResetAccount(t *testing.T) {
	t.Parallel()
	g := newGuard(t, throttle.GuardConfig{})
	for i := range 11 {
		signIn(t, g, newBrowser(fmt.Sprintf("192.0.2.%d:1", i+1)), "alice", false)
	}
	if got := signIn(t, g, newBrowser("203.0.113.1:1"), "alice", true); got != http.StatusTooManyRequests {
		t.Fatalf("locked: %d", got)
	}
	if err := g.ResetAccount(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	if got := signIn(t, g, newBrowser("203.0.113.1:1"), "alice", true); got != http.StatusOK {
		t.Fatalf("after ResetAccount: %d, want 200", got)
	}
}

// On Redis every check is one round trip, allowed or refused; a failure
// costs none more, a success one.
func TestGuardRoundTripsOnRedis(t *testing.T) {
	t.Parallel()
	client := redistest.New(t).Client(t)
	rt := &roundTrips{}
	client.AddHook(rt)
	clk := throttletest.NewClock()
	l := throttle.NewRedisAt(client, throttle.RedisConfig{Prefix: redistest.Prefix()}, clk.Now)
	g := newGuardAt(t, clk.Now, throttle.GuardConfig{Limiter: l})
	owner := newBrowser("192.0.2.1:1")
	signIn(t, g, owner, "alice", true) // loads the scripts
	for i := range 10 {
		signIn(t, g, newBrowser(fmt.Sprintf("192.0.2.%d:1", i+10)), "bob", false)
	}
	var a *throttle.Attempt
	tests := []struct {
		name string
		call func() error
		want int64
	}{
		{"CheckLogin, unknown device", func() (err error) { a, err = g.CheckLogin(newBrowser("192.0.2.2:1").request(), "carol"); return }, 1},
		{"LoginFailed", func() error { g.LoginFailed(a); return nil }, 0},
		{"CheckLogin, known device", func() (err error) { a, err = g.CheckLogin(owner.request(), "alice"); return }, 1},
		{"LoginSucceeded, known device", func() error { return g.LoginSucceeded(httptest.NewRecorder(), a) }, 2},
		{"CheckLogin, refused", func() (err error) {
			if a, err = g.CheckLogin(newBrowser("192.0.2.3:1").request(), "bob"); err == nil && a.Allowed() {
				err = errors.New("bob's 11th attempt was allowed")
			}
			return
		}, 1},
		{"CheckLogin, unknown device again", func() (err error) { a, err = g.CheckLogin(newBrowser("192.0.2.4:1").request(), "dave"); return }, 1},
		{"LoginSucceeded, unknown device", func() error { return g.LoginSucceeded(httptest.NewRecorder(), a) }, 1},
		{"CheckRegister", func() (err error) { a, err = g.CheckRegister(newBrowser("192.0.2.5:1").request()); return }, 1},
		{"Done", func() error { a.Done(); return nil }, 0},
	}
	for _, tc := range tests {
		rt.n.Store(0)
		if err := tc.call(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if n := rt.n.Load(); n != tc.want {
			t.Errorf("%s: %d round trips, want %d", tc.name, n, tc.want)
		}
	}
}

// Each refusal is reported once, naming the budget that refused it.
func TestGuardReportsEachRefusalWithItsBudget(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		attempt func(g *throttle.Guard, i int) (refused bool)
		want    string
	}{
		{"account", func(g *throttle.Guard, i int) bool {
			return signIn(t, g, newBrowser(fmt.Sprintf("192.0.2.%d:1", i+1)), "alice", false) == http.StatusTooManyRequests
		}, "account"},
		{"address", func(g *throttle.Guard, i int) bool {
			return signIn(t, g, newBrowser("192.0.2.1:1"), fmt.Sprintf("user%d", i), false) == http.StatusTooManyRequests
		}, "address"},
		{"register", func(g *throttle.Guard, i int) bool {
			a, err := g.CheckRegister(newBrowser("192.0.2.1:1").request())
			if err != nil {
				t.Fatal(err)
			}
			defer a.Done()
			return !a.Allowed()
		}, "register"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var got []string
			clk := throttletest.NewClock()
			g := newGuardAt(t, clk.Now, throttle.GuardConfig{
				Limiter: throttle.NewMemoryAt(throttle.MemoryConfig{}, clk.Now),
				Observe: func(ev session.Event) {
					mu.Lock()
					got = append(got, ev.Name+"/"+ev.Reason)
					mu.Unlock()
				},
			})
			refusals := 0
			for i := range 60 {
				if tc.attempt(g, i) {
					refusals++
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if refusals == 0 || len(got) != refusals {
				t.Fatalf("%d refusals reported %d events", refusals, len(got))
			}
			for _, ev := range got {
				if ev != "throttle.refused/"+tc.want {
					t.Fatalf("reported %q, want throttle.refused/%s", ev, tc.want)
				}
			}
		})
	}
}
