package throttle

import (
	"context"
	"sync"
	"time"
)

// hashSlots bounds concurrent password hashing: all of it to len(all), and
// registration's share to len(reg), so sign-ins always keep
// len(all) - len(reg) slots however many registrations arrive.
type hashSlots struct {
	all  chan struct{}
	reg  chan struct{}
	wait time.Duration
}

func newHashSlots(total, register int, wait time.Duration) *hashSlots {
	return &hashSlots{all: make(chan struct{}, total), reg: make(chan struct{}, register), wait: wait}
}

// acquire takes a slot, waiting up to s.wait, and returns the function that
// gives it back (safe to call more than once).
func (s *hashSlots) acquire(ctx context.Context, register bool) (release func(), err error) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	take := func(c chan struct{}) bool {
		select { // a free slot wins even when the wait has already run out
		case c <- struct{}{}:
			return true
		default:
		}
		if timer == nil {
			timer = time.NewTimer(s.wait)
		}
		select {
		case c <- struct{}{}:
			return true
		case <-timer.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
	if register {
		if !take(s.reg) {
			return nil, ErrBusy
		}
	}
	if !take(s.all) {
		if register {
			<-s.reg
		}
		return nil, ErrBusy
	}
	return sync.OnceFunc(func() {
		<-s.all
		if register {
			<-s.reg
		}
	}), nil
}
