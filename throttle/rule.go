package throttle

import (
	"fmt"
	"time"
)

// maxLevel caps the lockout count a key remembers; far beyond any rule's
// doubling to MaxLockout, it keeps the number small in every backend.
const maxLevel = 64

// Rule is the budget of one key.
//
// A key may take Limit attempts in a window of Window that starts with its
// first attempt. The next attempt in the same window is refused and locks
// the key for Lockout; each further lockout of a key lasts twice as long as
// the one before, up to MaxLockout. Attempts while a key is locked are
// refused, are not counted and do not extend the lockout, so every lockout
// ends. A key quiet for Window after its last attempt and after its last
// lockout ended is forgotten, lockout history included.
//
// Durations are kept to the millisecond.
type Rule struct {
	// Limit is how many attempts a window allows; at least 1.
	Limit int
	// Window is how long the budget of Limit attempts lasts; at least 1ms.
	Window time.Duration
	// Lockout is the first lockout's length; at least 1ms.
	Lockout time.Duration
	// MaxLockout caps a lockout; at least Lockout.
	MaxLockout time.Duration
}

// Validate reports whether r can be used: Limit at least 1, Window and
// Lockout at least a millisecond, MaxLockout at least Lockout, and every
// duration under 100 years. The error wraps ErrInvalidConfig. A Limiter
// calls it on every Request before counting anything; it costs a few
// comparisons.
func (r Rule) Validate() error {
	if p := r.problem(); p != "" {
		return fmt.Errorf("%w: rule %s", ErrInvalidConfig, p)
	}
	return nil
}

// problem says what is wrong with r, or "" when nothing is.
func (r Rule) problem() string {
	const century = 100 * 365 * 24 * time.Hour
	switch {
	case r.Limit < 1:
		return fmt.Sprintf("Limit %d < 1", r.Limit)
	case r.Window < time.Millisecond || r.Window > century:
		return fmt.Sprintf("Window %v not in [1ms, 100y]", r.Window)
	case r.Lockout < time.Millisecond || r.Lockout > century:
		return fmt.Sprintf("Lockout %v not in [1ms, 100y]", r.Lockout)
	case r.MaxLockout < r.Lockout || r.MaxLockout > century:
		return fmt.Sprintf("MaxLockout %v not in [Lockout, 100y]", r.MaxLockout)
	}
	return ""
}

// lockoutAfter returns the length of a key's lockout when it has been
// locked level times before: Lockout doubled level times, at most
// MaxLockout, to the millisecond (the Redis script computes the same).
func (r Rule) lockoutAfter(level int) time.Duration {
	d := r.Lockout.Truncate(time.Millisecond)
	max := r.MaxLockout.Truncate(time.Millisecond)
	for i := 0; i < level && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// orDefault fills r's zero fields from def.
func (r Rule) orDefault(def Rule) Rule {
	if r.Limit == 0 {
		r.Limit = def.Limit
	}
	if r.Window == 0 {
		r.Window = def.Window
	}
	if r.Lockout == 0 {
		r.Lockout = def.Lockout
	}
	if r.MaxLockout == 0 {
		r.MaxLockout = max(def.MaxLockout, r.Lockout)
	}
	return r
}
