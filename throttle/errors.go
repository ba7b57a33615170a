package throttle

import "errors"

// ErrInvalidConfig is returned, wrapped and naming the field at fault, by
// NewGuard for a configuration it refuses, by Rule.Validate, and by a
// Limiter's Take for a request whose Rule does not validate (nothing is
// counted then). A Rule is configuration: the GuardConfig budgets are Rules.
var ErrInvalidConfig = errors.New("throttle: invalid config")

// ErrBusy is returned by CheckLogin and CheckRegister when no hashing slot
// came free within the guard's SlotWait (or the request's context ended
// first). Answer 503 with a short Retry-After; the attempt was not counted.
var ErrBusy = errors.New("throttle: every password hashing slot is busy")

// ErrFull is returned by the Take of a Limiter from NewMemory that tracks
// MaxKeys keys, every one of which still counts (an attempt in its window,
// a lockout): it drops none of them, so the limits hold, and counts
// nothing. A Guard returns it from CheckLogin and CheckRegister; answer
// 503, as for Redis down. See MemoryConfig.MaxKeys.
var ErrFull = errors.New("throttle: memory limiter full: every key it tracks still counts")

// errNotAllowed is returned by LoginSucceeded for an attempt the guard
// refused, or one that was not a sign-in.
var errNotAllowed = errors.New("throttle: LoginSucceeded on an attempt that was not an allowed sign-in")

// errRedisReply is returned for a script reply of an unexpected shape,
// which only a foreign script or server could produce.
var errRedisReply = errors.New("throttle: redis: unexpected reply")
