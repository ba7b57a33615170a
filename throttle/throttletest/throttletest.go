// Package throttletest is the conformance suite for throttle.Limiter
// implementations. Both limiters in package throttle pass it; authors of
// other limiters call it from a test of their own:
//
//	func TestMyLimiter(t *testing.T) {
//		throttletest.Run(t, func(t *testing.T, now func() time.Time) throttle.Limiter {
//			return newMyLimiter(t, now)
//		})
//	}
//
// newLimiter is called once per subtest and must return a limiter that
// takes its time from now, a fake clock the subtest advances; the limiter
// may be shared between subtests, whose keys never collide. Subtests run in
// parallel and take well under a second each, mostly in round trips.
package throttletest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	mrand "math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/sessionauth/session/throttle"
)

// Run runs the whole suite against limiters made by newLimiter.
func Run(t *testing.T, newLimiter func(t *testing.T, now func() time.Time) throttle.Limiter) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s *suite)
	}{
		{"AllowsLimitThenLocks", testAllowsLimitThenLocks},
		{"LockoutEnds", testLockoutEnds},
		{"LockoutDoublesUpToMax", testLockoutDoublesUpToMax},
		{"RefusedAttemptsNeitherCountNorExtend", testRefusedAttemptsNeitherCountNorExtend},
		{"WindowEndRenewsBudget", testWindowEndRenewsBudget},
		{"QuietWindowForgetsHistory", testQuietWindowForgetsHistory},
		{"RefundGivesAttemptBack", testRefundGivesAttemptBack},
		{"RefundIgnoresRefusedAndStale", testRefundIgnoresRefusedAndStale},
		{"RefundNeverLiftsLockout", testRefundNeverLiftsLockout},
		{"ResetForgetsEverything", testResetForgetsEverything},
		{"RequestsAreIndependent", testRequestsAreIndependent},
		{"EmptyTake", testEmptyTake},
		{"InvalidRuleCountsNothing", testInvalidRuleCountsNothing},
		{"CanceledContextCountsNothing", testCanceledContextCountsNothing},
		{"ConcurrentTakesNeverExceedLimit", testConcurrentTakesNeverExceedLimit},
		{"ConcurrentRefundsAllCount", testConcurrentRefundsAllCount},
		{"NeverLockedForever", testNeverLockedForever},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := NewClock()
			s := &suite{t: t, clk: clk, prefix: newPrefix()}
			s.l = newLimiter(t, clk.Now)
			tc.fn(t, s)
		})
	}
}

// rule is the rule of most subtests: 3 attempts per 10 minutes, then
// lockouts of 1, 2, 4, 5, 5... minutes.
var rule = throttle.Rule{Limit: 3, Window: 10 * time.Minute, Lockout: time.Minute, MaxLockout: 5 * time.Minute}

type suite struct {
	t      *testing.T
	l      throttle.Limiter
	clk    *Clock
	prefix string
}

func newPrefix() string {
	var b [6]byte
	rand.Read(b[:])
	return "tt" + hex.EncodeToString(b[:]) + ":"
}

func (s *suite) key(name string) string { return s.prefix + name }

func (s *suite) take(r throttle.Rule, name string) throttle.Result {
	s.t.Helper()
	res, err := s.l.Take(context.Background(), []throttle.Request{{Key: s.key(name), Rule: r}})
	if err != nil {
		s.t.Fatalf("Take(%s): %v", name, err)
	}
	if len(res) != 1 {
		s.t.Fatalf("Take(%s) returned %d results, want 1", name, len(res))
	}
	if res[0].Key != s.key(name) {
		s.t.Fatalf("Take(%s) result for key %q", name, res[0].Key)
	}
	return res[0]
}

// allow takes one attempt and fails unless it is allowed with remaining
// attempts left.
func (s *suite) allow(r throttle.Rule, name string, remaining int) throttle.Result {
	s.t.Helper()
	res := s.take(r, name)
	if !res.Allowed || res.Remaining != remaining || res.RetryAfter != 0 {
		s.t.Fatalf("Take(%s) = allowed %v, remaining %d, retry %v; want allowed, remaining %d", name, res.Allowed, res.Remaining, res.RetryAfter, remaining)
	}
	return res
}

// refuse takes one attempt and fails unless it is refused for retry.
func (s *suite) refuse(r throttle.Rule, name string, retry time.Duration) throttle.Result {
	s.t.Helper()
	res := s.take(r, name)
	if res.Allowed || res.RetryAfter != retry {
		s.t.Fatalf("Take(%s) = allowed %v, retry %v; want refused, retry %v", name, res.Allowed, res.RetryAfter, retry)
	}
	return res
}

// spend takes a fresh key's whole budget.
func (s *suite) spend(r throttle.Rule, name string) []throttle.Result {
	s.t.Helper()
	var out []throttle.Result
	for i := range r.Limit {
		out = append(out, s.allow(r, name, r.Limit-1-i))
	}
	return out
}

func (s *suite) refund(res ...throttle.Result) {
	s.t.Helper()
	if err := s.l.Refund(context.Background(), res); err != nil {
		s.t.Fatalf("Refund: %v", err)
	}
}

func testAllowsLimitThenLocks(t *testing.T, s *suite) {
	s.allow(rule, "k", 2)
	s.allow(rule, "k", 1)
	s.clk.Advance(10 * time.Second)
	s.allow(rule, "k", 0)
	s.refuse(rule, "k", time.Minute)
	s.clk.Advance(15 * time.Second)
	s.refuse(rule, "k", 45*time.Second)
	s.allow(rule, "other", 2)
}

func testLockoutEnds(t *testing.T, s *suite) {
	s.spend(rule, "k")
	s.refuse(rule, "k", time.Minute)
	s.clk.Advance(time.Minute - time.Millisecond)
	s.refuse(rule, "k", time.Millisecond)
	s.clk.Advance(time.Millisecond)
	s.allow(rule, "k", 2)
}

func testLockoutDoublesUpToMax(t *testing.T, s *suite) {
	// A sustained attack: every lockout served, then the budget spent again.
	for _, want := range []time.Duration{1, 2, 4, 5, 5, 5} {
		s.spend(rule, "k")
		s.refuse(rule, "k", want*time.Minute)
		s.clk.Advance(want * time.Minute)
	}
}

func testRefusedAttemptsNeitherCountNorExtend(t *testing.T, s *suite) {
	s.spend(rule, "k")
	s.refuse(rule, "k", time.Minute)
	s.clk.Advance(30 * time.Second)
	for range 50 {
		s.refuse(rule, "k", 30*time.Second)
	}
	s.clk.Advance(30 * time.Second)
	// The refused attempts did not count towards the next lockout.
	s.spend(rule, "k")
	s.refuse(rule, "k", 2*time.Minute)
}

func testWindowEndRenewsBudget(t *testing.T, s *suite) {
	// One attempt every 6 minutes: never 4 within 10 minutes.
	for range 20 {
		if res := s.take(rule, "k"); !res.Allowed {
			t.Fatalf("attempt refused: %+v", res)
		}
		s.clk.Advance(6 * time.Minute)
	}
	// Four within one window do lock.
	s.allow(rule, "fast", 2)
	s.clk.Advance(9 * time.Minute)
	s.allow(rule, "fast", 1)
	s.allow(rule, "fast", 0)
	s.refuse(rule, "fast", time.Minute)
}

func testQuietWindowForgetsHistory(t *testing.T, s *suite) {
	for _, want := range []time.Duration{1, 2} {
		s.spend(rule, "k")
		s.refuse(rule, "k", want*time.Minute)
		s.clk.Advance(want * time.Minute)
	}
	// Not quite a quiet window after the lockout ended: history kept.
	s.clk.Advance(10*time.Minute - time.Millisecond)
	s.spend(rule, "k")
	s.refuse(rule, "k", 4*time.Minute)
	// A whole quiet window after it ended: back to the first step.
	s.clk.Advance(4*time.Minute + 10*time.Minute)
	s.spend(rule, "k")
	s.refuse(rule, "k", time.Minute)
}

func testRefundGivesAttemptBack(t *testing.T, s *suite) {
	res := s.spend(rule, "k")
	s.refund(res[1])
	s.allow(rule, "k", 0)
	s.refuse(rule, "k", time.Minute)
}

func testRefundIgnoresRefusedAndStale(t *testing.T, s *suite) {
	old := s.allow(rule, "k", 2)
	s.clk.Advance(10 * time.Minute) // a new window
	s.allow(rule, "k", 2)
	s.refund(old) // from the window before: ignored
	s.allow(rule, "k", 1)
	s.allow(rule, "k", 0)
	refused := s.refuse(rule, "k", time.Minute)
	s.refund(refused) // refused: ignored
	s.refuse(rule, "k", time.Minute)
	// Refunding a key that was never taken is harmless.
	s.refund(throttle.Result{Key: s.key("never"), Allowed: true, WindowStart: s.clk.Now()})
	s.allow(rule, "never", 2)
}

func testRefundNeverLiftsLockout(t *testing.T, s *suite) {
	res := s.spend(rule, "k")
	s.refuse(rule, "k", time.Minute)
	s.refund(res...)
	s.refuse(rule, "k", time.Minute)
}

func testResetForgetsEverything(t *testing.T, s *suite) {
	for _, want := range []time.Duration{1, 2} {
		s.spend(rule, "k")
		s.refuse(rule, "k", want*time.Minute)
		if want == 1 {
			s.clk.Advance(time.Minute)
		}
	}
	if err := s.l.Reset(context.Background(), s.key("k"), s.key("unknown")); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	s.spend(rule, "k")
	s.refuse(rule, "k", time.Minute) // lockout history forgotten too
	if err := s.l.Reset(context.Background()); err != nil {
		t.Fatalf("Reset(): %v", err)
	}
}

func testRequestsAreIndependent(t *testing.T, s *suite) {
	strict := throttle.Rule{Limit: 1, Window: time.Hour, Lockout: time.Hour, MaxLockout: time.Hour}
	loose := throttle.Rule{Limit: 100, Window: time.Minute, Lockout: time.Second, MaxLockout: time.Second}
	s.allow(strict, "strict", 0)
	reqs := []throttle.Request{
		{Key: s.key("loose"), Rule: loose},
		{Key: s.key("strict"), Rule: strict},
		{Key: s.key("third"), Rule: rule},
	}
	res, err := s.l.Take(context.Background(), reqs)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 {
		t.Fatalf("%d results, want 3", len(res))
	}
	for i, r := range res {
		if r.Key != reqs[i].Key {
			t.Fatalf("result %d is for %q, want %q", i, r.Key, reqs[i].Key)
		}
	}
	if !res[0].Allowed || res[0].Remaining != 99 || res[1].Allowed || res[1].RetryAfter != time.Hour || !res[2].Allowed || res[2].Remaining != 2 {
		t.Fatalf("results %+v", res)
	}
	// The strict key's refusal did not stop the others from counting.
	s.allow(loose, "loose", 98)
	s.allow(rule, "third", 1)
}

func testEmptyTake(t *testing.T, s *suite) {
	for _, reqs := range [][]throttle.Request{nil, {}} {
		res, err := s.l.Take(context.Background(), reqs)
		if err != nil || len(res) != 0 {
			t.Fatalf("Take(%v) = %v, %v; want no results, no error", reqs, res, err)
		}
	}
	if err := s.l.Refund(context.Background(), nil); err != nil {
		t.Fatalf("Refund(nil): %v", err)
	}
}

func testInvalidRuleCountsNothing(t *testing.T, s *suite) {
	for _, bad := range []throttle.Rule{
		{},
		{Limit: 0, Window: time.Minute, Lockout: time.Minute, MaxLockout: time.Minute},
		{Limit: 1, Window: 0, Lockout: time.Minute, MaxLockout: time.Minute},
		{Limit: 1, Window: time.Minute, Lockout: time.Minute, MaxLockout: time.Second},
	} {
		_, err := s.l.Take(context.Background(), []throttle.Request{{Key: s.key("k"), Rule: rule}, {Key: s.key("bad"), Rule: bad}})
		if !errors.Is(err, throttle.ErrInvalidConfig) {
			t.Fatalf("Take with %+v: err = %v, want ErrInvalidConfig", bad, err)
		}
	}
	s.spend(rule, "k") // the valid request beside it was not counted either
}

func testCanceledContextCountsNothing(t *testing.T, s *suite) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.l.Take(ctx, []throttle.Request{{Key: s.key("k"), Rule: rule}}); err == nil {
		t.Fatal("Take with a canceled context: no error")
	}
	res := s.spend(rule, "k")
	if err := s.l.Refund(ctx, res); err == nil {
		t.Fatal("Refund with a canceled context: no error")
	}
	if err := s.l.Reset(ctx, s.key("k")); err == nil {
		t.Fatal("Reset with a canceled context: no error")
	}
	s.refuse(rule, "k", time.Minute)
}

func testConcurrentTakesNeverExceedLimit(t *testing.T, s *suite) {
	const workers, each, limit = 8, 20, 60
	r := throttle.Rule{Limit: limit, Window: time.Hour, Lockout: time.Hour, MaxLockout: time.Hour}
	var mu sync.Mutex
	seen := map[int]int{}
	allowed, refused := 0, 0
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range each {
				res, err := s.l.Take(context.Background(), []throttle.Request{{Key: s.key("k"), Rule: r}})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				if res[0].Allowed {
					allowed++
					seen[res[0].Remaining]++
				} else {
					refused++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if allowed != limit || refused != workers*each-limit {
		t.Fatalf("%d allowed, %d refused; want exactly %d allowed", allowed, refused, limit)
	}
	for i := range limit {
		if seen[i] != 1 {
			t.Fatalf("Remaining %d reported %d times, want once (a lost or doubled count)", i, seen[i])
		}
	}
}

func testConcurrentRefundsAllCount(t *testing.T, s *suite) {
	const n = 40
	r := throttle.Rule{Limit: n, Window: time.Hour, Lockout: time.Hour, MaxLockout: time.Hour}
	res := s.spend(r, "k")
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for _, x := range res {
		wg.Go(func() {
			if err := s.l.Refund(context.Background(), []throttle.Result{x}); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	s.spend(r, "k") // every refund gave one back
	s.refuse(r, "k", time.Hour)
}

// A random schedule of attempts, refunds and waits: no refusal is ever for
// longer than MaxLockout, and MaxLockout and a window without attempts
// always make a key new again.
func testNeverLockedForever(t *testing.T, s *suite) {
	rng := mrand.New(mrand.NewPCG(1, 2))
	var last []throttle.Result
	for i := range 1500 {
		switch rng.IntN(4) {
		case 0, 1:
			res := s.take(rule, "k")
			if res.Allowed == (res.RetryAfter > 0) || res.RetryAfter > rule.MaxLockout || res.Remaining < 0 || res.Remaining >= rule.Limit {
				t.Fatalf("step %d: %+v", i, res)
			}
			last = append(last[:0], res)
		case 2:
			s.clk.Advance(time.Duration(rng.IntN(120)) * time.Second)
		default:
			s.refund(last...)
		}
	}
	s.clk.Advance(rule.MaxLockout + rule.Window)
	s.spend(rule, "k")
	s.refuse(rule, "k", time.Minute)
}
