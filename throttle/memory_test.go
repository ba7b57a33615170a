package throttle_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/sessionauth/session/throttle"
	"github.com/sessionauth/session/throttle/throttletest"
)

func TestMemoryConformance(t *testing.T) {
	throttletest.Run(t, func(t *testing.T, now func() time.Time) throttle.Limiter {
		return throttle.NewMemoryAt(throttle.MemoryConfig{}, now)
	})
}

var oneStrike = throttle.Rule{Limit: 1, Window: time.Minute, Lockout: time.Minute, MaxLockout: time.Minute}

// take asks l for one attempt on key and returns whether it was allowed.
func take(t *testing.T, l throttle.Limiter, r throttle.Rule, key string) throttle.Result {
	t.Helper()
	res, err := l.Take(context.Background(), []throttle.Request{{Key: key, Rule: r}})
	if err != nil {
		t.Fatal(err)
	}
	return res[0]
}

// lock spends key's budget and locks it.
func lock(t *testing.T, l throttle.Limiter, r throttle.Rule, key string) {
	t.Helper()
	for range r.Limit {
		if !take(t, l, r, key).Allowed {
			t.Fatalf("%s refused before its limit", key)
		}
	}
	if take(t, l, r, key).Allowed {
		t.Fatalf("%s allowed past its limit", key)
	}
}

// tenPerWindow is an account's budget in the tests below.
var tenPerWindow = throttle.Rule{Limit: 10, Window: 15 * time.Minute, Lockout: time.Minute, MaxLockout: time.Hour}

// takeErr asks l for one attempt on key and returns its error.
func takeErr(l throttle.Limiter, r throttle.Rule, key string) error {
	_, err := l.Take(context.Background(), []throttle.Request{{Key: key, Rule: r}})
	return err
}

// The limiter never tracks more than MaxKeys keys. Once every key still
// counts, a new key is refused with ErrFull and nothing is counted; keys
// already tracked go on as before, and new keys are taken again once the
// rules have forgotten old ones.
func TestMemoryStaysWithinMaxKeysAndFailsClosed(t *testing.T) {
	t.Parallel()
	clk := throttletest.NewClock()
	m := throttle.NewMemoryAt(throttle.MemoryConfig{MaxKeys: 100}, clk.Now)
	for i := range 100 {
		take(t, m, oneStrike, fmt.Sprint("k", i))
	}
	for i := 100; i < 1000; i++ {
		if err := takeErr(m, oneStrike, fmt.Sprint("k", i)); !errors.Is(err, throttle.ErrFull) {
			t.Fatalf("key %d with every tracked key counting: %v, want ErrFull", i, err)
		}
		if n := throttle.MemoryLen(m); n > 100 {
			t.Fatalf("Len = %d > MaxKeys", n)
		}
	}
	if take(t, m, oneStrike, "k0").Allowed {
		t.Fatal("k0, spent, was allowed: the flood reset it")
	}
	clk.Advance(2 * time.Minute) // oneStrike forgets a key a window after its last attempt or lockout
	if !take(t, m, oneStrike, "fresh").Allowed {
		t.Fatal("a new key once the old ones are forgotten: refused")
	}
}

// A flood of attempts on made-up keys (usernames from many addresses)
// cannot lift a lockout, reset a spent budget or reset one partly spent:
// no key that still counts makes room.
func TestMemoryFloodCannotDropAKeyThatCounts(t *testing.T) {
	t.Parallel()
	clk := throttletest.NewClock()
	three := throttle.Rule{Limit: 3, Window: time.Hour, Lockout: time.Hour, MaxLockout: time.Hour}
	m := throttle.NewMemoryAt(throttle.MemoryConfig{MaxKeys: 4}, clk.Now)
	lock(t, m, three, "locked")
	for range 3 {
		take(t, m, three, "spent") // budget spent, not locked until its next attempt
	}
	take(t, m, three, "once")
	clk.Advance(time.Second)
	full := 0
	for i := range 100 {
		if errors.Is(takeErr(m, three, fmt.Sprint("flood", i)), throttle.ErrFull) {
			full++
		}
	}
	if full < 99 {
		t.Fatalf("%d of 100 flood keys refused with ErrFull, want all but the one that fits", full)
	}
	if take(t, m, three, "locked").Allowed {
		t.Fatal("the lockout was lifted")
	}
	if take(t, m, three, "spent").Allowed {
		t.Fatal("the spent budget was renewed")
	}
	if res := take(t, m, three, "once"); res.Remaining != 1 {
		t.Fatalf("once: Remaining %d, want 1: its count was reset", res.Remaining)
	}
}

// A locked address that keeps trying made-up usernames (cheap: each is
// refused at once, with no password hash) creates a key per username. Those
// keys make room among themselves: the flood is not refused with ErrFull,
// an account whose budget is nearly spent keeps its count, and a key that
// once counted in a Take nothing refused counts from then on.
func TestMemoryFloodFromALockedAddressCannotResetAnAccount(t *testing.T) {
	t.Parallel()
	clk := throttletest.NewClock()
	m := throttle.NewMemoryAt(throttle.MemoryConfig{MaxKeys: 8}, clk.Now)
	for range 9 {
		take(t, m, tenPerWindow, "acct|victim")
	}
	lock(t, m, oneStrike, "addr|flooder")
	refused := func(user string) {
		t.Helper()
		res, err := m.Take(context.Background(), []throttle.Request{{Key: "addr|flooder", Rule: oneStrike}, {Key: "acct|" + user, Rule: tenPerWindow}})
		if err != nil || res[0].Allowed || !res[1].Allowed {
			t.Fatalf("flood attempt on %s: %+v, %v; want the address refused and the account counted", user, res, err)
		}
	}
	refused("once-junk")
	take(t, m, tenPerWindow, "acct|once-junk") // counted in a Take nothing refused
	for i := range 500 {
		clk.Advance(time.Millisecond)
		refused(fmt.Sprint("junk", i))
	}
	if res := take(t, m, tenPerWindow, "acct|victim"); !res.Allowed || res.Remaining != 0 {
		t.Fatalf("victim after the flood: %+v, want its tenth attempt (Remaining 0): the flood reset its count", res)
	}
	if res := take(t, m, tenPerWindow, "acct|once-junk"); res.Remaining != 7 {
		t.Fatalf("a key once counted in an allowed Take: Remaining %d, want 7 (three attempts): it was dropped by the flood", res.Remaining)
	}
}

// A key whose attempts were given back (a sign-in that succeeded) counts
// nothing and makes room before the limiter refuses anything.
func TestMemoryKeysThatCountNothingMakeRoom(t *testing.T) {
	t.Parallel()
	clk := throttletest.NewClock()
	ctx := context.Background()
	m := throttle.NewMemoryAt(throttle.MemoryConfig{MaxKeys: 2}, clk.Now)
	res, err := m.Take(ctx, []throttle.Request{{Key: "signed-in", Rule: tenPerWindow}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Refund(ctx, res); err != nil {
		t.Fatal(err)
	}
	take(t, m, tenPerWindow, "failed")
	if err := takeErr(m, tenPerWindow, "new"); err != nil {
		t.Fatalf("a new key beside one that counts nothing: %v", err)
	}
	if err := takeErr(m, tenPerWindow, "newer"); !errors.Is(err, throttle.ErrFull) {
		t.Fatalf("a new key when both others count: %v, want ErrFull", err)
	}
}

// The keys of one Take never make room for each other: a key counted only
// in refused Takes, now counted again in an allowed one, is not dropped to
// make room for that Take's new key (which lost the address its count).
func TestMemoryKeysOfATakeDoNotMakeRoomForEachOther(t *testing.T) {
	t.Parallel()
	clk := throttletest.NewClock()
	m := throttle.NewMemoryAt(throttle.MemoryConfig{MaxKeys: 2}, clk.Now)
	ctx := context.Background()
	addr := throttle.Rule{Limit: 5, Window: time.Hour, Lockout: time.Hour, MaxLockout: time.Hour}
	lock(t, m, oneStrike, "acct|locked")
	allowed := 0
	for i := range 100 {
		clk.Advance(time.Millisecond)
		m.Take(ctx, []throttle.Request{{Key: "addr|A", Rule: addr}, {Key: "acct|locked", Rule: oneStrike}}) // refused: addr|A is cheap
		res, err := m.Take(ctx, []throttle.Request{{Key: "addr|A", Rule: addr}, {Key: fmt.Sprint("acct|x", i), Rule: tenPerWindow}})
		if err == nil && res[0].Allowed && res[1].Allowed {
			allowed++
		}
	}
	if allowed > addr.Limit {
		t.Fatalf("addr|A allowed %d times within its window; its limit is %d", allowed, addr.Limit)
	}
}

// Through the Guard: helper addresses fill the limiter with keys that
// count, then one address sprays made-up usernames, with or without an
// attempt on a locked account between guesses. It gets at most its budget
// of password checks; the rest are refused (ErrFull: 503) or throttled.
func TestMemoryAddressBudgetHoldsWhenTheLimiterIsFull(t *testing.T) {
	t.Parallel()
	for _, between := range []string{"", "before", "after"} {
		t.Run("locked account "+between, func(t *testing.T) {
			t.Parallel()
			clk := throttletest.NewClock()
			const maxKeys = 300
			lim := throttle.NewMemoryAt(throttle.MemoryConfig{MaxKeys: maxKeys}, clk.Now)
			g := newGuardAt(t, clk.Now, throttle.GuardConfig{Limiter: lim})
			helper := newBrowser("198.51.100.9:1")
			for range 11 {
				signIn(t, g, helper, "locked-one", false)
			}
			u := 0 // fill: helper addresses, wrong guesses, one per made-up name
			for i := 0; u < 3*maxKeys; i++ {
				b := newBrowser(fmt.Sprintf("10.%d.%d.1:1", i/256, i%256))
				for range 50 {
					signIn(t, g, b, fmt.Sprintf("fill%d", u), false)
					u++
				}
				clk.Advance(time.Millisecond)
			}
			b := newBrowser("203.0.113.7:1")
			checked := 0
			for i := range 1000 {
				if between == "before" {
					signIn(t, g, b, "locked-one", false)
				}
				if signIn(t, g, b, fmt.Sprintf("spray%d", i), false) == http.StatusUnauthorized {
					checked++
				}
				if between == "after" {
					signIn(t, g, b, "locked-one", false)
				}
				clk.Advance(10 * time.Millisecond)
			}
			if checked > 50 {
				t.Fatalf("one address got %d password checks in 10 s; its budget is 50 per 15 minutes", checked)
			}
		})
	}
}

// One address with an account of its own collects device cookies (each a
// successful sign-in from a new browser) and fails once with each, a key
// per cookie. The account's known devices there share a budget, so the
// limiter keeps a bounded number of those keys counting, and the others'
// sign-ins keep their room.
func TestMemoryDeviceCookiesOfOneAccountCannotFillTheLimiter(t *testing.T) {
	t.Parallel()
	clk := throttletest.NewClock()
	const maxKeys = 200
	lim := throttle.NewMemoryAt(throttle.MemoryConfig{MaxKeys: maxKeys}, clk.Now)
	g := newGuardAt(t, clk.Now, throttle.GuardConfig{Limiter: lim})
	const attacker = "203.0.113.7:1"
	full := 0
	for round := range 3 {
		var devices []*browser
		for range 2 * maxKeys {
			b := newBrowser(attacker)
			if signIn(t, g, b, "mallory", true) == http.StatusServiceUnavailable {
				full++
			}
			devices = append(devices, b)
		}
		for _, b := range devices {
			if signIn(t, g, b, "mallory", false) == http.StatusServiceUnavailable {
				full++
			}
		}
		if got := signIn(t, g, newBrowser(fmt.Sprintf("198.51.100.%d:1", round+1)), "bob", true); got != http.StatusOK {
			t.Fatalf("round %d: another user's sign-in from a new device: %d, want 200", round, got)
		}
		clk.Advance(16 * time.Minute)
	}
	if full > 0 {
		t.Fatalf("the limiter was full for %d of the attacker's attempts", full)
	}
}

// Keys the rules have forgotten do not stay: each Take drops some, so
// memory shrinks as attempts go on, without a sweep or a goroutine.
func TestMemoryDropsForgottenKeysAsAttemptsGoOn(t *testing.T) {
	t.Parallel()
	clk := throttletest.NewClock()
	m := throttle.NewMemoryAt(throttle.MemoryConfig{}, clk.Now)
	r := throttle.Rule{Limit: 3, Window: 10 * time.Minute, Lockout: time.Minute, MaxLockout: 5 * time.Minute}
	for i := range 50 {
		take(t, m, r, fmt.Sprint(i))
	}
	lock(t, m, r, "locked")
	clk.Advance(10 * time.Minute)
	for range 25 { // two forgotten keys each
		take(t, m, r, "active")
	}
	if n := throttle.MemoryLen(m); n != 2 { // "locked" is kept until a window after its lockout ends
		t.Fatalf("%d keys tracked, want 2 (locked and active)", n)
	}
	clk.Advance(time.Minute)
	take(t, m, r, "active")
	if n := throttle.MemoryLen(m); n != 1 {
		t.Fatalf("%d keys tracked a window after the lockout ended, want 1 (active)", n)
	}
	// A dropped key starts afresh, as the rule says a forgotten one does.
	lock(t, m, r, "locked")
}

func TestMemoryConcurrentUseStaysBounded(t *testing.T) {
	t.Parallel()
	m := throttle.NewMemory(throttle.MemoryConfig{MaxKeys: 50})
	r := throttle.Rule{Limit: 5, Window: time.Minute, Lockout: time.Millisecond, MaxLockout: time.Second}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			ctx := context.Background()
			for i := range 500 {
				k := fmt.Sprint("k", (g*31+i)%80)
				res, err := m.Take(ctx, []throttle.Request{{Key: k, Rule: r}, {Key: "shared", Rule: r}})
				if err != nil {
					t.Error(err)
					return
				}
				switch i % 7 {
				case 0:
					m.Reset(ctx, k)
				case 1:
					m.Refund(ctx, res)
				}
			}
		})
	}
	wg.Wait()
	if n := throttle.MemoryLen(m); n > 50 {
		t.Fatalf("Len = %d > MaxKeys", n)
	}
}

// Keys the rules have forgotten make room whatever their rule or lockout:
// a key locked for an hour (a spent registration budget) does not keep the
// sign-in keys forgotten after 15 minutes from making room.
func TestMemoryForgottenKeysMakeRoomBehindALongLockout(t *testing.T) {
	t.Parallel()
	clk := throttletest.NewClock()
	l := throttle.NewMemoryAt(throttle.MemoryConfig{MaxKeys: 20}, clk.Now)
	g := newGuardAt(t, clk.Now, throttle.GuardConfig{Limiter: l})
	reg := newBrowser("192.0.2.1:1234")
	for i := range 11 { // 10 allowed, the 11th locks the address's registrations for an hour
		a, err := g.CheckRegister(reg.request())
		if err != nil {
			t.Fatal(err)
		}
		if a.Allowed() != (i < 10) {
			t.Fatalf("registration %d: allowed %v", i, a.Allowed())
		}
		a.Done()
	}
	for i := range 9 { // 18 sign-in keys: address and account
		signIn(t, g, newBrowser(fmt.Sprintf("198.51.100.%d:1", i+1)), fmt.Sprint("user", i), false)
	}
	clk.Advance(20 * time.Minute) // the 18 are forgotten, the lockout is not
	if got := signIn(t, g, newBrowser("203.0.113.9:1"), "alice", false); got != http.StatusUnauthorized {
		t.Fatalf("a sign-in with 18 of %d keys forgotten: %d, want 401", throttle.MemoryLen(l), got)
	}
}

// A key that refused itself (a duplicate of it in one Take allowed, then
// locked) still counts: only a key counted in Takes that another key
// refused may make room.
func TestMemoryKeyThatRefusedItselfStillCounts(t *testing.T) {
	t.Parallel()
	clk := throttletest.NewClock()
	ctx := context.Background()
	m := throttle.NewMemoryAt(throttle.MemoryConfig{MaxKeys: 1}, clk.Now)
	r := throttle.Rule{Limit: 1, Window: time.Hour, Lockout: time.Hour, MaxLockout: time.Hour}
	res, err := m.Take(ctx, []throttle.Request{{Key: "k", Rule: r}, {Key: "k", Rule: r}})
	if err != nil || !res[0].Allowed || res[1].Allowed {
		t.Fatalf("k twice: %+v, %v; want allowed, then refused", res, err)
	}
	if err := takeErr(m, r, "other"); !errors.Is(err, throttle.ErrFull) {
		t.Fatalf("a new key beside k, locked: %v, want ErrFull", err)
	}
	if take(t, m, r, "k").Allowed {
		t.Fatal("k, locked for an hour, is allowed again")
	}
}

// A Take of many keys, every one forgotten, does not hide a forgotten key
// of another Take: it still makes room.
func TestMemoryManyForgottenKeysOfATakeDoNotHideAnotherForgottenKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := throttletest.NewClock()
	l := throttle.NewMemoryAt(throttle.MemoryConfig{MaxKeys: 10}, clk.Now)
	r := throttle.Rule{Limit: 5, Window: 10 * time.Millisecond, Lockout: time.Second, MaxLockout: time.Second}
	var pins []throttle.Request
	for i := range 9 {
		pins = append(pins, throttle.Request{Key: fmt.Sprint("p", i), Rule: r})
	}
	if _, err := l.Take(ctx, pins); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Millisecond)
	take(t, l, r, "f")
	clk.Advance(time.Hour) // every key forgotten
	if _, err := l.Take(ctx, append(pins, throttle.Request{Key: "new", Rule: r})); err != nil {
		t.Fatalf("Take: %v, though f is forgotten and not a key of the Take", err)
	}
}
