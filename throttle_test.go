package session

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

func newFakeClock() *clock {
	return &clock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func newTestThrottle(clk *clock) *Throttle {
	return NewThrottle(ThrottleConfig{
		MaxFailures: 3,
		Window:      10 * time.Minute,
		Lockout:     time.Minute,
		MaxLockout:  5 * time.Minute,
		Now:         clk.Now,
	})
}

func mustAllow(t *testing.T, th *Throttle, keys ...string) {
	t.Helper()
	if d, ok := th.Check(keys...); !ok || d != 0 {
		t.Fatalf("Check(%q) = %v, %v; want 0, true", keys, d, ok)
	}
}

func mustDeny(t *testing.T, th *Throttle, want time.Duration, keys ...string) {
	t.Helper()
	if d, ok := th.Check(keys...); ok || d != want {
		t.Fatalf("Check(%q) = %v, %v; want %v, false", keys, d, ok, want)
	}
}

func TestS46_LocksAfterMaxFailures(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	th := newTestThrottle(clk)
	mustAllow(t, th, "user:ann")
	th.Fail("user:ann")
	th.Fail("user:ann")
	mustAllow(t, th, "user:ann")
	clk.Advance(10 * time.Second)
	th.Fail("user:ann")
	mustDeny(t, th, time.Minute, "user:ann")
	clk.Advance(15 * time.Second)
	mustDeny(t, th, 45*time.Second, "user:ann")
	mustAllow(t, th, "user:bob") // other keys unaffected
}

func TestS46_LockoutIsTimeBounded(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	th := newTestThrottle(clk)
	for range 3 {
		th.Fail("k")
	}
	mustDeny(t, th, time.Minute, "k")
	clk.Advance(time.Minute - time.Nanosecond)
	mustDeny(t, th, time.Nanosecond, "k")
	clk.Advance(time.Nanosecond)
	mustAllow(t, th, "k")
}

func TestS46_LockoutGrowsGentlyAndIsCapped(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	th := newTestThrottle(clk)
	// A sustained attack: every lockout is served, then three more failures.
	for _, want := range []time.Duration{1, 2, 4, 5, 5, 5} {
		for range 3 {
			th.Fail("k")
		}
		mustDeny(t, th, want*time.Minute, "k")
		clk.Advance(want * time.Minute)
		mustAllow(t, th, "k")
	}
}

func TestS46_FailWhileLockedDoesNotExtend(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	th := newTestThrottle(clk)
	for range 3 {
		th.Fail("k")
	}
	clk.Advance(30 * time.Second)
	for range 100 {
		th.Fail("k")
	}
	mustDeny(t, th, 30*time.Second, "k")
	clk.Advance(30 * time.Second)
	mustAllow(t, th, "k")
	// The failures during the lockout did not count towards the next one.
	th.Fail("k")
	th.Fail("k")
	mustAllow(t, th, "k")
}

func TestS46_FailuresOutsideWindowDoNotAccumulate(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	th := newTestThrottle(clk)
	// One failure every 6 minutes: never 3 within 10 minutes.
	for range 20 {
		th.Fail("k")
		mustAllow(t, th, "k")
		clk.Advance(6 * time.Minute)
	}
	// Three within the window do lock.
	th.Fail("k")
	clk.Advance(9 * time.Minute)
	th.Fail("k")
	th.Fail("k")
	mustDeny(t, th, time.Minute, "k")
}

func TestS46_HistoryForgottenAfterQuietWindow(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	th := newTestThrottle(clk)
	for _, want := range []time.Duration{1, 2} {
		for range 3 {
			th.Fail("k")
		}
		mustDeny(t, th, want*time.Minute, "k")
		clk.Advance(want * time.Minute)
	}
	// Quiet for a window after the lockout ended: back to the first step.
	clk.Advance(10 * time.Minute)
	for range 3 {
		th.Fail("k")
	}
	mustDeny(t, th, time.Minute, "k")
}

func TestS46_AccountAndAddressKeys(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	th := newTestThrottle(clk)
	for range 3 {
		th.Fail("user:ann", "addr:192.0.2.1")
	}
	clk.Advance(20 * time.Second)
	// Either key locked denies; the wait is the longest lockout.
	mustDeny(t, th, 40*time.Second, "user:ann", "addr:198.51.100.7")
	mustDeny(t, th, 40*time.Second, "user:bob", "addr:192.0.2.1")
	mustAllow(t, th, "user:bob", "addr:198.51.100.7")
	// Guessing at many accounts from one address locks the address.
	clk.Advance(time.Hour)
	for i := range 3 {
		th.Fail(fmt.Sprintf("user:u%d", i), "addr:203.0.113.9")
	}
	mustDeny(t, th, time.Minute, "user:new", "addr:203.0.113.9")
	mustAllow(t, th, "user:u0", "addr:198.51.100.7")
}

func TestS46_ResetForgetsKey(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	th := newTestThrottle(clk)
	th.Fail("user:ann", "addr:a")
	th.Fail("user:ann", "addr:a")
	th.Reset("user:ann") // successful login
	th.Fail("user:ann", "addr:a")
	mustAllow(t, th, "user:ann")
	mustDeny(t, th, time.Minute, "addr:a") // the address still counts
	th.Reset("user:nobody")                // unknown key: no-op
}

func TestS46_MemoryBounded(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	th := NewThrottle(ThrottleConfig{MaxFailures: 1, Window: time.Minute, Lockout: time.Minute, MaxKeys: 100, Now: clk.Now})
	for i := range 10000 {
		th.Fail(fmt.Sprintf("k%d", i))
		if n := th.Len(); n > 100 {
			t.Fatalf("after %d keys, Len = %d > MaxKeys", i+1, n)
		}
	}
	// The least recently failed keys went first; the newest are still locked.
	mustAllow(t, th, "k0")
	mustAllow(t, th, "k9899")
	mustDeny(t, th, time.Minute, "k9900")
	mustDeny(t, th, time.Minute, "k9999")
	// Once everything has expired, one new key sweeps them all.
	clk.Advance(2 * time.Minute)
	th.Fail("fresh")
	if n := th.Len(); n != 1 {
		t.Fatalf("after expiry, Len = %d, want 1", n)
	}
}

func TestS46_Sweep(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	th := newTestThrottle(clk)
	for i := range 50 {
		th.Fail(fmt.Sprint(i))
	}
	for range 3 {
		th.Fail("locked")
	}
	clk.Advance(10 * time.Minute)
	if n := th.Sweep(); n != 50 {
		t.Fatalf("Sweep dropped %d, want 50", n)
	}
	if n := th.Len(); n != 1 { // "locked" is kept until a window after its lockout
		t.Fatalf("Len = %d, want 1", n)
	}
	clk.Advance(time.Minute)
	if n := th.Sweep(); n != 1 || th.Len() != 0 {
		t.Fatalf("second Sweep dropped %d, Len %d", n, th.Len())
	}
}

// A random schedule of failures and waits: no Check ever reports a wait
// longer than MaxLockout, and MaxLockout without failures always unlocks.
func TestS46_NeverDeniedForever(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	clk := newFakeClock()
	th := newTestThrottle(clk)
	for range 5000 {
		switch rng.IntN(3) {
		case 0:
			th.Fail("k")
		case 1:
			clk.Advance(time.Duration(rng.IntN(120)) * time.Second)
		default:
			if d, ok := th.Check("k"); d > 5*time.Minute || ok != (d == 0) {
				t.Fatalf("Check = %v, %v", d, ok)
			}
		}
	}
	clk.Advance(5 * time.Minute)
	mustAllow(t, th, "k")
}

func TestS46_Defaults(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	th := NewThrottle(ThrottleConfig{Now: clk.Now})
	for range 4 {
		th.Fail("k")
	}
	mustAllow(t, th, "k")
	th.Fail("k")
	mustDeny(t, th, time.Minute, "k")
}

func TestS46_ConcurrentUse(t *testing.T) {
	t.Parallel()
	th := NewThrottle(ThrottleConfig{MaxKeys: 50})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				k := fmt.Sprintf("k%d", (g*31+i)%80)
				th.Check(k, "addr")
				th.Fail(k, "addr")
				if i%7 == 0 {
					th.Reset(k)
				}
				if i%100 == 0 {
					th.Sweep()
				}
			}
		})
	}
	wg.Wait()
	if n := th.Len(); n > 50 {
		t.Fatalf("Len = %d > MaxKeys", n)
	}
}

func TestS46_FailingTracksRecentFailures(t *testing.T) {
	t.Parallel()
	clk := newFakeClock()
	th := newTestThrottle(clk)
	if th.Failing("k") {
		t.Fatal("a key with no failures is failing")
	}
	th.Fail("k")
	if !th.Failing("k") || th.Failing("other") {
		t.Fatal("Failing does not follow Fail")
	}
	clk.Advance(10*time.Minute + time.Second) // the window after the last failure
	if th.Failing("k") {
		t.Fatal("a key quiet for the whole window is still failing")
	}
	th.Fail("k")
	th.Reset("k")
	if th.Failing("k") {
		t.Fatal("Reset key still failing")
	}
}

// Regression (found in review, fixed): when MaxKeys is reached, Throttle evicts the least recently failed key even while it is locked, so flooding failures on fresh keys (e.g. made-up usernames from many IPv6 /64s) lifts an account's lockout early (S46).
func TestS46_ThrottleNeverEvictsALockedKey(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	th := NewThrottle(ThrottleConfig{MaxFailures: 3, MaxKeys: 4, Now: func() time.Time { return now }})
	for range 3 {
		th.Fail("user:victim")
	}
	if _, ok := th.Check("user:victim"); ok {
		t.Fatal("victim not locked after 3 failures")
	}
	now = now.Add(time.Second)
	for i := range 4 {
		th.Fail(fmt.Sprintf("user:nobody%d", i)) // one failure each, none locked
	}
	if _, ok := th.Check("user:victim"); ok {
		t.Fatal("the victim's lockout was lifted by evicting it to make room for unlocked keys")
	}
}
