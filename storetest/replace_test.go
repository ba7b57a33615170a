package storetest

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sessionauth/session"
)

// recorder is a testing.TB that records failures instead of failing the
// test that runs it, so a case can be seen to fail.
type recorder struct {
	testing.TB // nil: a method not overridden here panics
	ctx        context.Context

	mu       sync.Mutex
	failures []string
	skipped  bool
	cleanups []func()
}

func (r *recorder) Helper()                  {}
func (r *recorder) Context() context.Context { return r.ctx }
func (r *recorder) Cleanup(f func())         { r.mu.Lock(); r.cleanups = append(r.cleanups, f); r.mu.Unlock() }
func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}
func (r *recorder) Error(args ...any) { r.Errorf("%s", fmt.Sprint(args...)) }
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }
func (r *recorder) Skip(args ...any) {
	r.mu.Lock()
	r.skipped = true
	r.mu.Unlock()
	runtime.Goexit()
}

// runCase runs fn against s with a recorder and returns it.
func runCase(t *testing.T, fn func(testing.TB, session.Store), s session.Store) *recorder {
	r := &recorder{ctx: t.Context()}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(r, s)
	}()
	<-done
	for _, f := range slices.Backward(r.cleanups) {
		f()
	}
	return r
}

// capStore is a MemoryStore whose Replace gets the per-user cap wrong in a
// chosen way, as a third-party store might.
type capStore struct {
	*session.MemoryStore
	bug string
}

func (s capStore) Replace(ctx context.Context, oldKey, key string, rec session.Record, limit int) error {
	switch s.bug {
	case "one extra":
		if limit > 0 {
			limit++
		}
	case "ignores the limit":
		limit = 0
	case "counts deleted sessions":
		// Ends by the number of keys ever created for the user, as a
		// store counting a stale index would: one live session too few.
		if limit > 1 {
			limit--
		}
	}
	return s.MemoryStore.Replace(ctx, oldKey, key, rec, limit)
}

// The cap cases pass on a correct store and fail on each way of getting the
// cap wrong: a store that keeps one session too many, ignores the limit, or
// ends one too many.
func TestReplaceCasesFailAStoreThatMiscountsTheCap(t *testing.T) {
	t.Parallel()
	cases := map[string]func(testing.TB, session.Store){}
	for _, tc := range replaceTests {
		cases[tc.name] = tc.fn
	}
	tests := []struct {
		store    session.Store
		name     string
		wantFail bool
	}{
		{session.NewMemoryStore(), "ReplaceKeepsTheNewestLimit", false},
		{session.NewMemoryStore(), "ReplaceConcurrentStaysWithinLimit", false},
		{capStore{session.NewMemoryStore(), "one extra"}, "ReplaceKeepsTheNewestLimit", true},
		{capStore{session.NewMemoryStore(), "one extra"}, "ReplaceConcurrentStaysWithinLimit", true},
		{capStore{session.NewMemoryStore(), "ignores the limit"}, "ReplaceKeepsTheNewestLimit", true},
		{capStore{session.NewMemoryStore(), "ignores the limit"}, "ReplaceConcurrentStaysWithinLimit", true},
		{capStore{session.NewMemoryStore(), "counts deleted sessions"}, "ReplaceKeepsTheNewestLimit", true},
	}
	for _, tc := range tests {
		bug := "correct"
		if c, ok := tc.store.(capStore); ok {
			bug = c.bug
		}
		t.Run(bug+"/"+tc.name, func(t *testing.T) {
			t.Parallel()
			r := runCase(t, cases[tc.name], tc.store)
			if r.skipped {
				t.Fatal("the case skipped")
			}
			if failed := len(r.failures) > 0; failed != tc.wantFail {
				t.Fatalf("case failed = %v, want %v; failures: %s", failed, tc.wantFail, strings.Join(r.failures, "; "))
			}
		})
	}
}

// A store without Replace skips the Replace cases rather than failing them.
func TestReplaceCasesSkipAStoreWithoutReplace(t *testing.T) {
	t.Parallel()
	for _, tc := range replaceTests {
		if r := runCase(t, tc.fn, struct{ session.Store }{session.NewMemoryStore()}); !r.skipped || len(r.failures) > 0 {
			t.Errorf("%s on a store without Replace: skipped %v, failures %v", tc.name, r.skipped, r.failures)
		}
	}
}
