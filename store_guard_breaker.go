package session

import (
	"errors"
	"sync/atomic"
	"syscall"
	"time"
)

// breaker is the state of one circuit breaker of the store guard: the
// guard's own, for the whole store, or one per partition of a store that
// reports partitions (a Redis Cluster node). Times are nanoseconds since the
// guard's epoch (monotonic). All methods are safe for concurrent use; the
// guard orders opening and closing (and their log lines) under its mutex.
//
//	closed    calls go through; a failure counts, a success resets the count
//	open      after guardTrips failures in a row and no success for a whole
//	          timeout, or at once after a refused connection (nothing
//	          listens: no healthy store refuses): calls fail at once
//	half-open every guardCooldown, one call (the probe) goes through; its
//	          success closes the breaker, its failure keeps it open
type breaker struct {
	open        atomic.Bool
	failures    atomic.Int32 // in a row, while closed
	lastSuccess atomic.Int64
	retryAt     atomic.Int64 // open: when the next probe may go
	openedAt    int64        // under the guard's mutex
	probeFailed bool         // under the guard's mutex: logged this outage
}

// admit reports whether a call may go to the store at now, and whether it
// is the half-open probe. A probe leases its turn until lease has passed,
// so a probe that never returns (a store that ignores ctx) does not keep
// the breaker half-open for ever.
func (b *breaker) admit(now int64, lease time.Duration) (probe, ok bool) {
	if !b.open.Load() {
		return false, true
	}
	at := b.retryAt.Load()
	if now < at || !b.retryAt.CompareAndSwap(at, addSaturated(now, lease)) {
		return false, false
	}
	return true, true
}

// succeeded notes an answer from the store; it reports whether the breaker
// is open (and so should now close).
func (b *breaker) succeeded(now int64) (wasOpen bool) {
	if now-b.lastSuccess.Load() > int64(time.Millisecond) {
		b.lastSuccess.Store(now) // at most once a millisecond: a shared cache line
	}
	if b.failures.Load() != 0 {
		b.failures.Store(0)
	}
	return b.open.Load()
}

// failed notes a failure of a call that went through while the breaker was
// closed; it reports whether the breaker should open, and the count. A
// refused connection opens it at once when fast is set (the breaker covers
// one server, not a cluster of which one node may be down).
func (b *breaker) failed(now int64, timeout time.Duration, err error, fast bool) (trip bool, n int32) {
	if b.open.Load() {
		return false, 0 // a call that began before the breaker opened
	}
	n = b.failures.Add(1)
	quiet := now-b.lastSuccess.Load() >= int64(timeout)
	return fast && refused(err) || n >= guardTrips && quiet, n
}

// refused reports whether err is a refused connection: the store's host is
// up but nothing listens on its port (a crashed or restarting server).
func refused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED)
}
