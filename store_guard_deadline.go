package session

import (
	"context"
	"math"
	"sync/atomic"
	"time"
)

// callContext is the context of one guarded store call: the caller's
// context with the guard's deadline, made without a timer. Most calls on a
// healthy store never wait on it: a MemoryStore only asks Err, and a network
// client sets its socket deadlines from Deadline. So Deadline reports the
// deadline, Err answers from the clock and the caller's context, and a timer
// (a context.WithDeadline under the caller's context, so the caller's
// cancellation still ends the call) is armed only when a store calls Done or
// derives a context from this one. The guard releases it when the call
// returns, as it would cancel a context.WithTimeout.
//
// Its cost is one allocation per call instead of a context, a timer and a
// cancel function, and none for the load's read, whose callContext lives in
// the request's Session (withCallDeadlineIn).
type callContext struct {
	context.Context       // the caller's
	deadline        int64 // monotonic (monoNow), for Err
	wall            int64 // the same deadline on the wall clock (Unix ns), for Deadline and the timer

	armed    atomic.Pointer[armedDeadline]
	released atomic.Bool
	used     bool // a slot (withCallDeadlineIn) serves one call only
	testNow  bool // the call's start came from a test's clock (no monotonic reading): errNow gives no time
}

// armedDeadline is the timer of a callContext, once armed.
type armedDeadline struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// withCallDeadline returns ctx bounded by timeout from now (a time.Now
// reading), and the callContext to release when the store call returns. A
// caller deadline as soon as that is kept as it is: ctx is returned
// unchanged, with a nil callContext.
func withCallDeadline(ctx context.Context, now time.Time, timeout time.Duration) (context.Context, *callContext) {
	d, wall := callDeadline(now, timeout)
	if cd, has := ctx.Deadline(); has && cd.UnixNano() <= wall {
		return ctx, nil
	}
	c := &callContext{Context: ctx, deadline: d, wall: wall, testNow: now == now.Round(0)}
	return c, c
}

// withCallDeadlineIn is withCallDeadline in slot, a callContext that never
// served a call, which then serves this one and no other (a store may keep
// the context of a call that returned, which must stay ended); it allocates
// a new one when slot is nil or used.
func withCallDeadlineIn(slot *callContext, ctx context.Context, now time.Time, timeout time.Duration) (context.Context, *callContext) {
	if slot == nil || slot.used {
		return withCallDeadline(ctx, now, timeout)
	}
	d, wall := callDeadline(now, timeout)
	if cd, has := ctx.Deadline(); has && cd.UnixNano() <= wall {
		return ctx, nil
	}
	slot.used, slot.Context, slot.deadline, slot.wall, slot.testNow = true, ctx, d, wall, now == now.Round(0)
	return slot, slot
}

// callDeadline returns now+timeout on the monotonic clock (monoNow) and on
// the wall clock (Unix ns), each saturated rather than overflowing. The
// wall-clock deadline is what Deadline reports: clients that set socket
// deadlines compare it with the wall clock (go-redis does), so it must be
// now's wall reading plus timeout, not one derived from the monotonic
// clock, which drifts from the wall clock when the latter is stepped.
func callDeadline(now time.Time, timeout time.Duration) (mono, wall int64) {
	return addSaturated(int64(now.Sub(monoEpoch)), timeout), addSaturated(now.UnixNano(), timeout)
}

func addSaturated(t int64, d time.Duration) int64 {
	if s := t + int64(d); d < 0 || s >= t {
		return s
	}
	return math.MaxInt64
}

// Deadline reports the guard's deadline (with no monotonic reading: it is
// compared with the wall clock).
func (c *callContext) Deadline() (time.Time, bool) { return time.Unix(0, c.wall), true }

// Done arms the timer on first use.
func (c *callContext) Done() <-chan struct{} {
	if a := c.armed.Load(); a != nil {
		return a.ctx.Done()
	}
	return c.arm().Done()
}

// Err reports the caller's cancellation, DeadlineExceeded once the deadline
// has passed, or Canceled after release; without a timer unless one is
// armed, whose answer it then gives, so that Err and Done agree.
func (c *callContext) Err() error {
	_, err := c.status(false)
	return err
}

// errNow is Err for an in-process store that also needs the time (a
// MemoryStore behind a wrapper, which the guard cannot hand its clock
// reading as it hands a bare MemoryStore): with Err's answer, the time of
// its one monotonic clock reading, so that the store need not read the
// clock again. The time carries that monotonic reading (monoTime), so the
// store compares expiries on the monotonic clock, as it does with
// time.Now. It is zero when the call started on a test's clock: the store
// then reads its own.
func (c *callContext) errNow() (time.Time, error) { return c.status(true) }

// errAt is Err as of now, for a store the guard hands its clock reading
// (loadGetter: RedisStore's load read): the deadline is compared with now
// rather than with a clock reading of its own. As now is the reading the
// deadline counts from, that comparison holds for any StoreTimeout, so
// errAt answers the caller's cancellation, the release and an armed timer;
// a read that then goes to the network is bounded by Deadline, from which
// the client sets its socket deadlines. now must carry a monotonic reading.
func (c *callContext) errAt(now time.Time) error {
	if a := c.armed.Load(); a != nil {
		return a.ctx.Err()
	}
	if err := c.Context.Err(); err != nil {
		return err
	}
	if c.released.Load() {
		return context.Canceled
	}
	if monoAt(now) >= c.deadline {
		return context.DeadlineExceeded
	}
	return nil
}

// status is Err and, when withTime, errNow's time.
func (c *callContext) status(withTime bool) (time.Time, error) {
	var mono int64
	if a := c.armed.Load(); a != nil {
		if err := a.ctx.Err(); err != nil || !withTime {
			return time.Time{}, err
		}
		mono = monoNow()
	} else if err := c.Context.Err(); err != nil {
		return time.Time{}, err
	} else if c.released.Load() {
		return time.Time{}, context.Canceled
	} else if mono = monoNow(); mono >= c.deadline {
		return time.Time{}, context.DeadlineExceeded
	}
	if !withTime || c.testNow {
		return time.Time{}, nil
	}
	return monoTime(mono), nil
}

// AfterFunc lets context.WithCancel and its kin, and context.AfterFunc,
// derive from c without a goroutine each (the context package's
// afterFuncer).
func (c *callContext) AfterFunc(f func()) func() bool {
	return context.AfterFunc(c.arm(), f)
}

// arm returns the armed context, arming it on first use: a
// context.WithDeadline under the caller's context, canceled at once when
// the call has already returned.
func (c *callContext) arm() context.Context {
	a := c.armed.Load()
	if a == nil {
		ctx, cancel := context.WithDeadline(c.Context, time.Unix(0, c.wall))
		a = &armedDeadline{ctx: ctx, cancel: cancel}
		if !c.armed.CompareAndSwap(nil, a) {
			cancel() // another goroutine armed it first: use that one
			a = c.armed.Load()
		}
	}
	if c.released.Load() {
		a.cancel()
	}
	return a.ctx
}

// release ends c when the store call returns: an armed timer is stopped,
// and a later Done or Err sees a canceled context.
func (c *callContext) release() {
	if c == nil {
		return
	}
	c.released.Store(true)
	if a := c.armed.Load(); a != nil {
		a.cancel()
	}
}
