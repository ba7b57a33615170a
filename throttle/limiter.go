package throttle

import (
	"context"
	"time"
)

// A Limiter counts attempts per key under a Rule given with each request.
// This package has two: NewMemory, for one process, and NewRedis, shared by
// every instance of an application. A Limiter is the package's extension
// point: package throttletest is the conformance suite that both pass and
// that other implementations can run, and an implementation calls
// Rule.Validate on every Request before counting anything.
//
// Every method is safe for concurrent use, and each request is atomic on its
// key: concurrent attempts are never lost or counted twice, and no more than
// Limit of them are allowed in a window however many race.
type Limiter interface {
	// Take asks for one attempt on each request's key under its rule, and
	// returns one Result per request, in order. A key that is locked refuses
	// and counts nothing; a key whose window is spent refuses and starts a
	// lockout; otherwise the attempt is counted and allowed. Requests are
	// independent: one key refusing does not stop another from counting
	// (Refund gives such attempts back).
	//
	// On error (a canceled context, an unreachable server) the results are
	// nil and some of the attempts may have been counted; for a Rule that
	// does not validate the error wraps ErrInvalidConfig and nothing is
	// counted.
	Take(ctx context.Context, reqs []Request) ([]Result, error)
	// Refund gives back attempts that Take allowed, such as a sign-in that
	// succeeded: each allowed result's count drops by one if its key is
	// still in the window the attempt was counted in. Results that were
	// refused are ignored. A refund never lifts a lockout. Refund each
	// Result once: the limiter does not remember which it gave back, and a
	// second refund gives back another attempt (a Guard's Attempt gives
	// each back at most once).
	Refund(ctx context.Context, res []Result) error
	// Reset forgets keys: their counts, lockouts and history.
	Reset(ctx context.Context, keys ...string) error
}

// Request is one attempt asked of a Limiter.
type Request struct {
	Key  string
	Rule Rule
}

// Result is a Limiter's answer to one Request.
type Result struct {
	// Key is the request's key.
	Key string
	// Allowed reports that the attempt was counted and may go ahead.
	Allowed bool
	// RetryAfter is how long the key stays locked, when Allowed is false
	// (always at least a millisecond). It is 0 when Allowed is true.
	RetryAfter time.Duration
	// Remaining is how many more attempts the window allows after this one,
	// when Allowed is true.
	Remaining int
	// WindowStart identifies the window the attempt was counted in, for
	// Refund. Limiters set it when Allowed is true; callers only pass it
	// back.
	WindowStart time.Time
}
