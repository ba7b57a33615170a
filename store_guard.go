package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// defaultStoreTimeout bounds each store call when Config.StoreTimeout is 0.
// It is one rule for every store that does I/O (Redis, PostgreSQL, any
// other): long enough that a healthy store on a starved host (load of
// several times its cores) is not cut off, short enough that a hung store
// costs the first requests of an outage about a second before the breaker
// answers the rest at once. A MemoryStore is never bounded.
const defaultStoreTimeout = time.Second

// The circuit breaker's settings. They are fixed: the breaker reacts to a
// store (or a store's partition) that fails as a whole, and a probe is
// cheap: the store's health check when it has one.
const (
	// guardTrips is how many failures in a row, with no success for a whole
	// StoreTimeout, stop store calls.
	guardTrips = 5
	// guardCooldown is how long calls fail at once before one probe call is
	// let through to see whether the store is back. It bounds how late the
	// first request after an outage is served.
	guardCooldown = 50 * time.Millisecond
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
// caller's cancellation still applies) and is a circuit breaker (see
// breaker) for the whole store and, when the store reports partitions (a
// RedisStore on a Redis Cluster: one per master node), for each partition,
// so that one dead shard fails its own keys in microseconds while the
// others keep answering.
//
// A call that fails counts unless it failed with ErrNotFound or ErrExists,
// or after the caller's own context ended. The whole store's half-open
// probe first runs the store's health check when it has one (RedisStore: a
// PING on a connection of its own, which keeps go-redis's pool from
// counting dial failures), so the request that carries it is served as soon
// as the store answers.
//
// The "no success for a whole timeout" rule keeps a store that is partly
// down (one shard of a cluster whose client reports no partitions) from
// stopping the calls that the healthy part answers. While closed, a call
// costs one clock read, one small allocation (callContext: the deadline
// without a timer unless the store waits on Done) and a few atomic loads;
// the load's read (getAt) costs neither the clock read nor the allocation.
type guard struct {
	store    Store
	inner    loadGetter // store, when it serves the load's read with the Manager's clock reading
	timeout  time.Duration
	cooldown time.Duration
	log      *slog.Logger
	// The breaker's times are nanoseconds since epoch, when the guard was
	// made, on the monotonic clock: in production from the same reading
	// that starts a call's deadline (one clock read per call, none for the
	// load's read). now is the breaker's clock in tests (nil: time.Now's
	// reading).
	now   func() time.Time
	epoch time.Time

	ping      func(context.Context) error                  // the store's health check, or nil
	partition func(ctx context.Context, key string) string // the store's partition of a key, or nil

	breaker             // the whole store's
	parts   sync.Map    // partition name → *partBreaker
	mu      sync.Mutex  // orders opening and closing, and their log lines
	observe func(Event) // Config.Observe, told when a breaker opens or closes
}

// observeWith makes g report the breaker's state changes to observe.
func (g *guard) observeWith(observe func(Event)) { g.observe = observe }

// partBreaker is the breaker of one partition of the store.
type partBreaker struct {
	breaker
	name string
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
	g := &guard{store: store, timeout: timeout, cooldown: guardCooldown, log: log, epoch: time.Now()}
	g.inner, _ = store.(loadGetter)
	g.ping = storePing(store)
	if p, ok := store.(partitioner); ok {
		g.partition = p.partitioner()
	}
	return g
}

// partitioner is a store whose keys live in partitions that fail one by one
// (RedisStore on a Redis Cluster). partitioner returns the function naming a
// key's partition, or nil when the store is one partition.
type partitioner interface {
	partitioner() func(ctx context.Context, key string) string
}

// elapsed returns the breaker's time now.
func (g *guard) elapsed() int64 {
	_, t := g.clock()
	return t
}

// clock reads the clock once: the call's start, and the breaker's time.
func (g *guard) clock() (now time.Time, breaker int64) {
	now = time.Now()
	return now, g.breakerTime(now)
}

// clockAt is clock from a time.Now reading taken just before, without
// reading the clock again; a time without a monotonic reading (a test's
// clock) is not trusted, and the clock is read.
func (g *guard) clockAt(now time.Time) (time.Time, int64) {
	if now == now.Round(0) {
		return g.clock()
	}
	return now, g.breakerTime(now)
}

// breakerTime is the breaker's time at now.
func (g *guard) breakerTime(now time.Time) int64 {
	if g.now != nil {
		return int64(g.now().Sub(g.epoch))
	}
	return int64(now.Sub(g.epoch))
}

// do runs op, a call not on one record, with a deadline when the breaker
// lets it through.
func (g *guard) do(ctx context.Context, op func(context.Context) error) error {
	return g.doKey(ctx, "", op)
}

// doKey runs op, a call on the record under key ("" for none), with a
// deadline when the breakers let it through.
func (g *guard) doKey(ctx context.Context, key string, op func(context.Context) error) error {
	now, start := g.clock()
	return g.call(ctx, key, now, start, nil, op)
}

// getAt is Get for the Manager's load, the one store call of most
// requests: now, the Manager's clock reading, starts the deadline when it
// carries a monotonic reading (so the guard reads no clock), and slot, a
// callContext in the request's Session, is the call's context when unused
// (so the call allocates nothing).
func (g *guard) getAt(ctx context.Context, key string, now time.Time, slot *callContext) (rec Record, err error) {
	now, start := g.clockAt(now)
	err = g.call(ctx, key, now, start, slot, func(ctx context.Context) error {
		if g.inner != nil {
			rec, err = g.inner.getAt(ctx, key, now, nil)
		} else {
			rec, err = g.store.Get(ctx, key)
		}
		return err
	})
	return rec, err
}

// call runs op, a call on the record under key ("" for none) starting now
// (start on the breaker's clock), with a deadline when the breakers let it
// through; slot, when not nil and unused, carries the deadline.
func (g *guard) call(ctx context.Context, key string, now time.Time, start int64, slot *callContext, op func(context.Context) error) error {
	part := g.partOf(ctx, key)
	probe, ok := g.admit(part, start)
	if !ok {
		return errSuspended
	}
	callCtx, bound := withCallDeadlineIn(slot, ctx, now, g.timeout)
	err := g.run(callCtx, probe, op)
	bound.release()
	if err != nil && ctx.Err() == nil {
		if d, _ := callDeadline(now, g.timeout); monoNow() >= d {
			err = fmt.Errorf("session: store call exceeded StoreTimeout (%v): %w", g.timeout, err)
		}
	}
	g.record(ctx, probe, part, start, err)
	return err
}

// run calls op; the whole store's probe first checks the store's health,
// and fails without calling op when it is still down.
func (g *guard) run(ctx context.Context, probe *breaker, op func(context.Context) error) error {
	if probe == &g.breaker && g.ping != nil {
		if err := g.ping(ctx); err != nil {
			return err
		}
	}
	return op(ctx)
}

// partOf returns the breaker of key's partition, or nil when the store is
// not partitioned or the call is on no record.
func (g *guard) partOf(ctx context.Context, key string) *partBreaker {
	if g.partition == nil || key == "" {
		return nil
	}
	name := g.partition(ctx, key)
	if name == "" {
		return nil
	}
	if p, ok := g.parts.Load(name); ok {
		return p.(*partBreaker)
	}
	p, _ := g.parts.LoadOrStore(name, &partBreaker{name: name})
	return p.(*partBreaker)
}

// admit reports whether a call may go to the store, and returns the breaker
// whose half-open probe it is, if any: the whole store's, else part's.
func (g *guard) admit(part *partBreaker, now int64) (probe *breaker, ok bool) {
	lease := time.Duration(addSaturated(int64(g.timeout), g.cooldown))
	if p, ok := g.breaker.admit(now, lease); !ok || p {
		return probeOf(p, &g.breaker), ok
	}
	if part == nil {
		return nil, true
	}
	p, ok := part.admit(now, lease)
	return probeOf(p, &part.breaker), ok
}

func probeOf(p bool, b *breaker) *breaker {
	if p {
		return b
	}
	return nil
}

// record updates the breakers with the outcome of one call that started
// at start. A success counts as of its start, which spares a clock read:
// for a store whose answers take nearly StoreTimeout, the "no success for a
// whole StoreTimeout" window may close up to one answer's latency sooner.
func (g *guard) record(ctx context.Context, probe *breaker, part *partBreaker, start int64, err error) {
	switch {
	case err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrExists):
		now := start
		if g.breaker.succeeded(now) {
			g.close(&g.breaker, "", now)
		}
		if part != nil && part.succeeded(now) {
			g.close(&part.breaker, part.name, now)
		}
	case ctx.Err() != nil:
		// The caller gave up (a client went away): this says nothing about
		// the store. A probe hands its turn to the next call.
		if probe != nil {
			probe.retryAt.Store(g.elapsed())
		}
	case probe != nil:
		probe.retryAt.Store(g.elapsed() + int64(g.cooldown))
		g.stillFailing(probe, part, err)
	default:
		now := g.elapsed()
		if part != nil {
			if trip, n := part.failed(now, g.timeout, err, true); trip {
				g.trip(&part.breaker, part.name, now, n, err)
			}
		}
		// A refused connection stops the whole store at once only when
		// the store is one server; a cluster's partitions stop one by one.
		if trip, n := g.breaker.failed(now, g.timeout, err, g.partition == nil); trip {
			g.trip(&g.breaker, "", now, n, err)
		}
	}
}

// trip opens b (the whole store's breaker when part is "") and logs why.
func (g *guard) trip(b *breaker, part string, now int64, failures int32, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if b.open.Load() {
		return
	}
	b.retryAt.Store(now + int64(g.cooldown))
	b.openedAt, b.probeFailed = now, false
	b.open.Store(true)
	if g.observe != nil {
		g.observe(Event{Name: evBreaker, Reason: "open", Partition: part})
	}
	if g.log == nil {
		return
	}
	attrs := []slog.Attr{slog.Int("failures", int(failures)), slog.Duration("probe_every", g.cooldown), slog.String("error", err.Error())}
	if part == "" {
		g.log.LogAttrs(context.Background(), slog.LevelError, "session: store failing; suspending store calls", attrs...)
		return
	}
	g.log.LogAttrs(context.Background(), slog.LevelError, "session: store partition failing; suspending its calls",
		append(attrs, slog.String("partition", part))...)
}

// stillFailing logs the first failed probe of an outage: its error is the
// store's health check's, which names the cause (connection refused, no
// route) where the call that opened the breaker may only have seen its
// deadline pass.
func (g *guard) stillFailing(b *breaker, part *partBreaker, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if b.probeFailed || g.log == nil {
		b.probeFailed = true
		return
	}
	b.probeFailed = true
	attrs := []slog.Attr{slog.String("error", err.Error())}
	if part != nil && b == &part.breaker {
		attrs = append(attrs, slog.String("partition", part.name))
	}
	g.log.LogAttrs(context.Background(), slog.LevelWarn, "session: store still unreachable", attrs...)
}

// close closes b (the whole store's breaker when part is "") and logs it.
func (g *guard) close(b *breaker, part string, now int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !b.open.Load() {
		return
	}
	b.failures.Store(0)
	b.open.Store(false)
	if g.observe != nil {
		g.observe(Event{Name: evBreaker, Reason: "closed", Partition: part})
	}
	if g.log == nil {
		return
	}
	attrs := []slog.Attr{slog.Duration("suspended_for", time.Duration(now-b.openedAt))}
	if part != "" {
		attrs = append(attrs, slog.String("partition", part))
	}
	g.log.LogAttrs(context.Background(), slog.LevelInfo, "session: store answering again; store calls resumed", attrs...)
}

func (g *guard) Get(ctx context.Context, key string) (rec Record, err error) {
	err = g.doKey(ctx, key, func(ctx context.Context) error {
		rec, err = g.store.Get(ctx, key)
		return err
	})
	return rec, err
}

func (g *guard) Create(ctx context.Context, key string, rec Record) error {
	return g.do(ctx, func(ctx context.Context) error { return g.store.Create(ctx, key, rec) })
}

func (g *guard) Update(ctx context.Context, key string, rec Record) error {
	return g.doKey(ctx, key, func(ctx context.Context) error { return g.store.Update(ctx, key, rec) })
}

func (g *guard) Touch(ctx context.Context, key string, expires time.Time) error {
	return g.doKey(ctx, key, func(ctx context.Context) error { return g.store.Touch(ctx, key, expires) })
}

func (g *guard) Delete(ctx context.Context, key string) error {
	return g.doKey(ctx, key, func(ctx context.Context) error { return g.store.Delete(ctx, key) })
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
