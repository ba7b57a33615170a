package throttletest

import (
	"sync"
	"time"
)

// Clock is a fake clock for tests, safe for concurrent use. It starts at a
// whole millisecond and moves only when Advance is called.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock set to 2 January 2025, 03:04:05 UTC.
func NewClock() *Clock {
	return &Clock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
}

// Now returns the clock's time. Pass it where a clock function is wanted.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
