package session

import (
	"context"
	"sync"
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
// cancel function.
type callContext struct {
	context.Context // the caller's
	deadline        time.Time

	mu       sync.Mutex // serialises arming
	armed    atomic.Pointer[armedDeadline]
	released atomic.Bool
}

// armedDeadline is the timer of a callContext, once armed.
type armedDeadline struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// withCallDeadline returns ctx bounded by timeout, and the callContext to
// release when the store call returns. A caller deadline as soon as that is
// kept as it is: ctx is returned unchanged, with a nil callContext.
func withCallDeadline(ctx context.Context, timeout time.Duration) (context.Context, *callContext) {
	d := time.Now().Add(timeout)
	if cd, has := ctx.Deadline(); has && !cd.After(d) {
		return ctx, nil
	}
	c := &callContext{Context: ctx, deadline: d}
	return c, c
}

// Deadline reports the guard's deadline.
func (c *callContext) Deadline() (time.Time, bool) { return c.deadline, true }

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
	if a := c.armed.Load(); a != nil {
		return a.ctx.Err()
	}
	if err := c.Context.Err(); err != nil {
		return err
	}
	if c.released.Load() {
		return context.Canceled
	}
	if !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
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
	c.mu.Lock()
	a := c.armed.Load()
	if a == nil {
		ctx, cancel := context.WithDeadline(c.Context, c.deadline)
		a = &armedDeadline{ctx: ctx, cancel: cancel}
		c.armed.Store(a)
	}
	c.mu.Unlock()
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
