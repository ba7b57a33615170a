package throttle_test

import (
	"context"
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

func TestMemoryStaysWithinMaxKeys(t *testing.T) {
	t.Parallel()
	clk := throttletest.NewClock()
	m := throttle.NewMemoryAt(throttle.MemoryConfig{MaxKeys: 100}, clk.Now)
	for i := range 10000 {
		take(t, m, oneStrike, fmt.Sprint("k", i))
		if n := throttle.MemoryLen(m); n > 100 {
			t.Fatalf("after %d keys, Len = %d > MaxKeys", i+1, n)
		}
	}
	// The least recently used keys went first; the newest are spent.
	if !take(t, m, oneStrike, "k0").Allowed {
		t.Fatal("k0 should have been evicted long ago")
	}
	if take(t, m, oneStrike, "k9999").Allowed {
		t.Fatal("k9999, spent a moment ago, was evicted")
	}
}

// A flood of attempts on made-up keys (usernames from many addresses)
// cannot lift a lockout by pushing the locked key out.
func TestMemoryNeverEvictsLockedOrSpentKeysFirst(t *testing.T) {
	t.Parallel()
	clk := throttletest.NewClock()
	three := throttle.Rule{Limit: 3, Window: time.Hour, Lockout: time.Hour, MaxLockout: time.Hour}
	m := throttle.NewMemoryAt(throttle.MemoryConfig{MaxKeys: 4}, clk.Now)
	lock(t, m, three, "locked")
	for range 3 {
		take(t, m, three, "spent") // budget spent, not locked until its next attempt
	}
	clk.Advance(time.Second)
	for i := range 100 {
		take(t, m, three, fmt.Sprint("flood", i)) // one attempt each: neither locked nor spent
	}
	if res := take(t, m, three, "locked"); res.Allowed {
		t.Fatal("the lockout was lifted by evicting the key")
	}
	if res := take(t, m, three, "spent"); res.Allowed {
		t.Fatal("the spent budget was renewed by evicting the key")
	}
}

// tenPerWindow is an account's budget in the eviction tests.
var tenPerWindow = throttle.Rule{Limit: 10, Window: 15 * time.Minute, Lockout: time.Minute, MaxLockout: time.Hour}

// A locked address that keeps trying made-up usernames (cheap: each is
// refused at once, with no password hash) creates a key per username. Those
// keys make room only among themselves: an account whose budget is nearly
// spent keeps its count, and a key that once counted in a Take nothing
// refused is an ordinary key from then on.
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
		t.Fatalf("a key once counted in an allowed Take: Remaining %d, want 7 (three attempts): it was evicted by the flood", res.Remaining)
	}
}

// Among keys neither locked nor spent, the one with the fewest attempts
// makes room first, the least recently used of them: keys with one attempt
// each cannot push out one with five.
func TestMemoryEvictsKeysWithFewerAttemptsFirst(t *testing.T) {
	t.Parallel()
	clk := throttletest.NewClock()
	m := throttle.NewMemoryAt(throttle.MemoryConfig{MaxKeys: 4}, clk.Now)
	for range 5 {
		take(t, m, tenPerWindow, "five")
	}
	for _, k := range []string{"a", "b", "c"} {
		clk.Advance(time.Second)
		take(t, m, tenPerWindow, k)
	}
	take(t, m, tenPerWindow, "d") // makes room
	if res := take(t, m, tenPerWindow, "five"); res.Remaining != 4 {
		t.Fatalf("five: Remaining %d, want 4: it was evicted before keys with one attempt", res.Remaining)
	}
	if res := take(t, m, tenPerWindow, "c"); res.Remaining != 8 {
		t.Fatalf("c: Remaining %d, want 8: the least recently used key with one attempt (a) should have gone, not c", res.Remaining)
	}
}

// Keys under a generous rule (300 sign-in starts per address, each
// costing no password hash) rank by the share of their limit they used, so
// many attempts on each cannot push out an account nine guesses into ten;
// and a key with a lockout behind it outlasts fresh ones, so eviction does
// not reset its escalation.
func TestMemoryEvictsKeysByTheShareOfTheirLimitUsed(t *testing.T) {
	t.Parallel()
	clk := throttletest.NewClock()
	starts := throttle.Rule{Limit: 300, Window: 10 * time.Minute, Lockout: time.Minute, MaxLockout: time.Hour}
	m := throttle.NewMemoryAt(throttle.MemoryConfig{MaxKeys: 4}, clk.Now)
	for range 9 {
		take(t, m, tenPerWindow, "acct|victim")
	}
	three := throttle.Rule{Limit: 3, Window: time.Minute, Lockout: time.Minute, MaxLockout: time.Hour}
	lock(t, m, three, "acct|escalated") // locked once: level 1
	clk.Advance(61 * time.Second)       // the lockout is over, not yet forgotten
	take(t, m, three, "acct|escalated") // one attempt into its next window
	for i := range 40 {
		clk.Advance(time.Millisecond)
		for range 20 {
			take(t, m, starts, fmt.Sprint("ceremony|net", i))
		}
	}
	if res := take(t, m, tenPerWindow, "acct|victim"); !res.Allowed || res.Remaining != 0 {
		t.Fatalf("victim: %+v, want its tenth attempt: keys with 20 of 300 pushed it out", res)
	}
	take(t, m, three, "acct|escalated")
	res := take(t, m, three, "acct|escalated") // its third: spent
	if !res.Allowed || res.Remaining != 0 {
		t.Fatalf("escalated: %+v, want its third attempt: it was evicted", res)
	}
	if res := take(t, m, three, "acct|escalated"); res.Allowed || res.RetryAfter <= time.Minute {
		t.Fatalf("escalated, past its budget again: %+v, want a second, longer lockout", res)
	}
}

// When every key is locked, one makes room, and its lockout outlives it:
// the key, tried again, is still refused until its lockout ends, so a
// flood that locks MaxKeys keys of its own lifts no lockout either.
func TestMemoryKeepsALockoutThroughEviction(t *testing.T) {
	t.Parallel()
	clk := throttletest.NewClock()
	m := throttle.NewMemoryAt(throttle.MemoryConfig{MaxKeys: 3}, clk.Now)
	for _, k := range []string{"a", "b", "c"} {
		lock(t, m, oneStrike, k)
		clk.Advance(time.Second)
	}
	lock(t, m, oneStrike, "d") // makes room: one of a, b, c goes
	if n := throttle.MemoryLen(m); n != 3 {
		t.Fatalf("Len = %d, want 3", n)
	}
	for _, k := range []string{"a", "b", "c", "d"} {
		if res := take(t, m, oneStrike, k); res.Allowed {
			t.Fatalf("%s: allowed; its lockout was lifted by eviction", k)
		}
	}
}

// A flood that keeps the map full of keys with more attempts each pushes
// the flooding address's own key out on every attempt; its count carries
// on from the key's ghost, so the address still gets only its budget, also
// when it tries a locked account between guesses (each such attempt is
// refused, which must not make its returning key look new).
func TestMemoryAddressBudgetSurvivesItsOwnFlood(t *testing.T) {
	t.Parallel()
	for _, between := range []bool{false, true} {
		t.Run(fmt.Sprintf("locked account between guesses=%v", between), func(t *testing.T) {
			t.Parallel()
			clk := throttletest.NewClock()
			const maxKeys = 300
			lim := throttle.NewMemoryAt(throttle.MemoryConfig{MaxKeys: maxKeys}, clk.Now)
			g := newGuardAt(t, clk.Now, throttle.GuardConfig{Limiter: lim})
			helper := newBrowser("198.51.100.9:1")
			for range 11 {
				signIn(t, g, helper, "locked-one", false)
			}
			u := 0 // fill: helper addresses, 50 wrong guesses each, one per made-up name
			for i := 0; throttle.MemoryLen(lim) < maxKeys; i++ {
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
				if signIn(t, g, b, fmt.Sprintf("spray%d", i), false) == http.StatusUnauthorized {
					checked++
				}
				if between {
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

// A key dropped to make room and tried again within its window resumes
// its count, under its own rule or (scaled, rounding up) another; once the
// rules would have forgotten it, it starts afresh.
func TestMemoryDroppedKeyResumesItsCount(t *testing.T) {
	t.Parallel()
	twenty := throttle.Rule{Limit: 20, Window: 15 * time.Minute, Lockout: time.Minute, MaxLockout: time.Hour}
	for _, tt := range []struct {
		name          string
		again         throttle.Rule
		wait          time.Duration
		wantRemaining int
	}{
		{"within its window", tenPerWindow, time.Second, 5},                      // 4 attempts + this one, of 10
		{"under a rule twice as generous", twenty, time.Second, 11},              // 8 of 20 + this one
		{"after its window", tenPerWindow, tenPerWindow.Window + time.Second, 9}, // forgotten: this one only
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := throttletest.NewClock()
			m := throttle.NewMemoryAt(throttle.MemoryConfig{MaxKeys: 1}, clk.Now)
			for range 4 {
				take(t, m, tenPerWindow, "four")
			}
			take(t, m, tenPerWindow, "other") // the map is full: "four" goes
			clk.Advance(tt.wait)
			if res := take(t, m, tt.again, "four"); res.Remaining != tt.wantRemaining {
				t.Fatalf("four: Remaining %d, want %d", res.Remaining, tt.wantRemaining)
			}
		})
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

// Reset and Refund reach a key that was dropped to make room: Reset
// forgets its ghost too, and Refund gives an attempt back from it, as they
// would for the key in the map.
func TestMemoryResetAndRefundReachADroppedKey(t *testing.T) {
	t.Parallel()
	clk := throttletest.NewClock()
	ctx := context.Background()
	m := throttle.NewMemoryAt(throttle.MemoryConfig{MaxKeys: 1}, clk.Now)
	var last throttle.Result
	for range 4 {
		last = take(t, m, tenPerWindow, "four")
	}
	take(t, m, tenPerWindow, "other") // the map is full: "four" goes
	if err := m.Refund(ctx, []throttle.Result{last}); err != nil {
		t.Fatal(err)
	}
	if res := take(t, m, tenPerWindow, "four"); res.Remaining != 6 {
		t.Fatalf("after a refund while dropped: Remaining %d, want 6 (3 attempts kept, this one)", res.Remaining)
	}
	take(t, m, tenPerWindow, "other") // "four" goes again, with 4 attempts
	if err := m.Reset(ctx, "four"); err != nil {
		t.Fatal(err)
	}
	if res := take(t, m, tenPerWindow, "four"); res.Remaining != 9 {
		t.Fatalf("after a reset while dropped: Remaining %d, want 9", res.Remaining)
	}
}

// A key back from its ghost is not new: a refused Take (another of its
// keys locked) does not make it one of the keys counted only in refused
// Takes, which make room first and leave no ghost. An address that
// alternates a guess with an attempt on a locked account still gets only
// its budget.
func TestMemoryKeyBackFromItsGhostIsNotNew(t *testing.T) {
	t.Parallel()
	clk := throttletest.NewClock()
	m := throttle.NewMemoryAt(throttle.MemoryConfig{MaxKeys: 2}, clk.Now)
	ctx := context.Background()
	addr := throttle.Rule{Limit: 5, Window: time.Hour, Lockout: time.Hour, MaxLockout: time.Hour}
	lock(t, m, oneStrike, "acct|locked")
	allowed := 0
	for i := range 100 {
		clk.Advance(time.Millisecond)
		res, err := m.Take(ctx, []throttle.Request{{Key: "addr|A", Rule: addr}, {Key: fmt.Sprint("acct|x", i), Rule: tenPerWindow}})
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Allowed && res[1].Allowed {
			allowed++
		}
		if _, err := m.Take(ctx, []throttle.Request{{Key: "addr|A", Rule: addr}, {Key: "acct|locked", Rule: oneStrike}}); err != nil {
			t.Fatal(err)
		}
	}
	if allowed > addr.Limit {
		t.Fatalf("addr|A allowed %d times within its window; its limit is %d", allowed, addr.Limit)
	}
}
