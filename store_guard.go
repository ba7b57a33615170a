package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// defaultStoreTimeout bounds each store call when Config.StoreTimeout is 0.
const defaultStoreTimeout = 250 * time.Millisecond

// The circuit breaker's settings. They are fixed: the breaker reacts to a
// store that fails as a whole, and these values keep a probe's cost (one
// request waiting up to StoreTimeout) small against the time it saves.
const (
	// guardTrips is how many failures in a row, with no success for a whole
	// StoreTimeout, stop store calls.
	guardTrips = 5
	// guardCooldown is how long calls fail at once before one probe call is
	// let through to see whether the store is back.
	guardCooldown = 500 * time.Millisecond
)

// errSuspended is what a store call returns, without reaching the store,
// while the breaker is open. It wraps ErrStoreUnavailable and carries no
// detail, so failing fast costs no allocation; the Logger got the cause
// once, when the breaker opened.
var errSuspended error = suspendedError{}

type suspendedError struct{}

func (suspendedError) Error() string {
	return "session: store calls suspended after repeated failures"
}

func (suspendedError) Unwrap() error { return ErrStoreUnavailable }

// guard wraps the Manager's Store. It gives every call a deadline (the
// caller's cancellation still applies) and is a circuit breaker:
//
//	closed    calls go through; a call that fails (anything but ErrNotFound
//	          or ErrExists, while the caller's own context is still live)
//	          counts, a call that succeeds resets the count
//	open      after guardTrips failures in a row and no success for a whole
//	          timeout: calls fail at once with errSuspended
//	half-open after guardCooldown, one call at a time (the probe) goes
//	          through; its success closes the breaker, its failure opens it
//	          for another cool-down
//
// The "no success for a whole timeout" rule keeps a store that is partly
// down (one Redis Cluster shard of three) from stopping the calls that the
// healthy part answers: their successes keep the breaker closed. While
// closed, a call costs one small allocation (callContext: the deadline
// without a timer unless the store waits on Done) and two atomic loads.
type guard struct {
	store    Store
	timeout  time.Duration
	cooldown time.Duration
	log      *slog.Logger
	now      func() time.Time
	epoch    time.Time // times below are nanoseconds since epoch (monotonic)

	open        atomic.Bool
	failures    atomic.Int32 // in a row, while closed
	lastSuccess atomic.Int64
	retryAt     atomic.Int64 // open: when the next probe may go

	mu       sync.Mutex // orders opening and closing, and their log lines
	openedAt int64
}

// newGuard wraps store; it returns store itself when timeout is negative
// (the caller turned the guard off) or the store is a MemoryStore, which
// does no I/O and fails only when ctx ends.
func newGuard(store Store, timeout time.Duration, log *slog.Logger) Store {
	if _, mem := store.(*MemoryStore); mem || timeout < 0 {
		return store
	}
	if timeout == 0 {
		timeout = defaultStoreTimeout
	}
	g := &guard{store: store, timeout: timeout, cooldown: guardCooldown, log: log, now: time.Now}
	g.epoch = g.now()
	return g
}

func (g *guard) elapsed() int64 { return int64(g.now().Sub(g.epoch)) }

// do runs op with a deadline when the breaker lets it through.
func (g *guard) do(ctx context.Context, op func(context.Context) error) error {
	probe, ok := g.admit()
	if !ok {
		return errSuspended
	}
	callCtx, bound := withCallDeadline(ctx, g.timeout)
	defer bound.release()
	err := op(callCtx)
	if err != nil && ctx.Err() == nil && callCtx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("session: store call exceeded StoreTimeout (%v): %w", g.timeout, err)
	}
	g.record(ctx, probe, err)
	return err
}

// admit reports whether a call may go to the store, and whether it is the
// half-open probe.
func (g *guard) admit() (probe, ok bool) {
	if !g.open.Load() {
		return false, true
	}
	now, at := g.elapsed(), g.retryAt.Load()
	if now < at {
		return false, false
	}
	// Lease the probe: other calls fail fast until it reports, or, should it
	// never return (a store that ignores ctx), until timeout+cooldown pass.
	if !g.retryAt.CompareAndSwap(at, now+int64(g.timeout+g.cooldown)) {
		return false, false
	}
	return true, true
}

// record updates the breaker with the outcome of one call.
func (g *guard) record(ctx context.Context, probe bool, err error) {
	switch {
	case err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrExists):
		now := g.elapsed()
		if now-g.lastSuccess.Load() > int64(time.Millisecond) {
			g.lastSuccess.Store(now) // at most once a millisecond: a shared cache line
		}
		if g.failures.Load() != 0 {
			g.failures.Store(0)
		}
		if g.open.Load() {
			g.close(now)
		}
	case ctx.Err() != nil:
		// The caller gave up (a client went away): this says nothing about
		// the store. A probe hands its turn to the next call.
		if probe {
			g.retryAt.Store(g.elapsed())
		}
	case probe:
		g.retryAt.Store(g.elapsed() + int64(g.cooldown))
	case g.open.Load():
		// A call that began before the breaker opened.
	default:
		n := g.failures.Add(1)
		if now := g.elapsed(); n >= guardTrips && now-g.lastSuccess.Load() >= int64(g.timeout) {
			g.trip(now, int(n), err)
		}
	}
}

func (g *guard) trip(now int64, failures int, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open.Load() {
		return
	}
	g.retryAt.Store(now + int64(g.cooldown))
	g.openedAt = now
	g.open.Store(true)
	if g.log != nil {
		g.log.LogAttrs(context.Background(), slog.LevelError, "session: store failing; suspending store calls",
			slog.Int("failures", failures), slog.Duration("probe_every", g.cooldown), slog.String("error", err.Error()))
	}
}

func (g *guard) close(now int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.open.Load() {
		return
	}
	g.failures.Store(0)
	g.open.Store(false)
	if g.log != nil {
		g.log.LogAttrs(context.Background(), slog.LevelInfo, "session: store answering again; store calls resumed",
			slog.Duration("suspended_for", time.Duration(now-g.openedAt)))
	}
}

func (g *guard) Get(ctx context.Context, key string) (rec Record, err error) {
	err = g.do(ctx, func(ctx context.Context) error {
		rec, err = g.store.Get(ctx, key)
		return err
	})
	return rec, err
}

func (g *guard) Create(ctx context.Context, key string, rec Record) error {
	return g.do(ctx, func(ctx context.Context) error { return g.store.Create(ctx, key, rec) })
}

func (g *guard) Update(ctx context.Context, key string, rec Record) error {
	return g.do(ctx, func(ctx context.Context) error { return g.store.Update(ctx, key, rec) })
}

func (g *guard) Touch(ctx context.Context, key string, expires time.Time) error {
	return g.do(ctx, func(ctx context.Context) error { return g.store.Touch(ctx, key, expires) })
}

func (g *guard) Delete(ctx context.Context, key string) error {
	return g.do(ctx, func(ctx context.Context) error { return g.store.Delete(ctx, key) })
}

func (g *guard) ListUser(ctx context.Context, userID string) (entries []Entry, err error) {
	err = g.do(ctx, func(ctx context.Context) error {
		entries, err = g.store.ListUser(ctx, userID)
		return err
	})
	return entries, err
}

func (g *guard) DeleteUser(ctx context.Context, userID string) error {
	return g.do(ctx, func(ctx context.Context) error { return g.store.DeleteUser(ctx, userID) })
}

// Replace is the store's Replace under the guard, when the store has one;
// otherwise the steps of replaceInSteps, each a guarded call. The guard is
// thus always a Replacer, and the Manager meets one type whatever the store.
func (g *guard) Replace(ctx context.Context, oldKey, key string, rec Record, limit int) error {
	if r, ok := g.store.(Replacer); ok {
		return g.do(ctx, func(ctx context.Context) error { return r.Replace(ctx, oldKey, key, rec, limit) })
	}
	return replaceInSteps(ctx, g, oldKey, key, rec, limit, g.log)
}
