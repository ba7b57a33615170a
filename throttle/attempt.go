package throttle

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"
)

// refundTimeout bounds the Limiter calls made after the request may have
// ended (a refund, a reset), which run without the request's cancellation.
const refundTimeout = 2 * time.Second

// Attempt is one sign-in or registration the guard was asked about, from
// CheckLogin or CheckRegister. When Allowed, it holds a password hashing
// slot until Done (or LoginSucceeded, LoginFailed, Abandon) is called;
// every allowed attempt must be finished with one of them, and later calls
// are no-ops, so "defer a.Done()" right after the check is the safe idiom.
type Attempt struct {
	g        *Guard
	r        *http.Request
	username string
	login    bool
	allowed  bool
	retry    time.Duration
	known    bool
	device   deviceID
	taken    []Result // what the attempt counted, for refunds

	mu      sync.Mutex
	done    bool
	release func()
}

// Allowed reports whether the attempt may go ahead. When it is false,
// answer 429 Too Many Requests with a Retry-After of RetryAfter, and do not
// check the password.
func (a *Attempt) Allowed() bool { return a != nil && a.allowed }

// RetryAfter is how long to wait before the attempt could be allowed,
// rounded up to whole seconds (at least 1) for a Retry-After header; 0 when
// the attempt is allowed.
func (a *Attempt) RetryAfter() time.Duration {
	if a == nil {
		return 0
	}
	return a.retry
}

// KnownDevice reports whether the sign-in came from a browser holding a
// valid device cookie for the account, and was counted against that
// device's own budget and the one the account's known devices at its
// client address share (KnownDevices), not against the budgets of
// unknown devices.
func (a *Attempt) KnownDevice() bool { return a != nil && a.known }

// Done finishes the attempt as it stands: the hashing slot is released and
// the attempt stays counted, as a failed sign-in or as a registration
// should. It costs no Limiter call.
func (a *Attempt) Done() { a.finish(nil) }

// Abandon finishes an attempt that neither succeeded nor failed, such as
// one the user store could not answer: it gives back everything the
// attempt counted and releases the hashing slot. The error is the
// Limiter's, as it returned it. It costs one Limiter call (one round trip
// on Redis).
func (a *Attempt) Abandon() error {
	var err error
	a.finish(func(ctx context.Context) {
		err = a.g.limiter.Refund(ctx, a.taken)
	})
	return err
}

// finish runs f (if any) once, for an allowed attempt, then releases the
// slot. The Limiter call runs without the request's cancellation, so a
// client that hangs up cannot keep its attempt from being given back.
func (a *Attempt) finish(f func(ctx context.Context)) {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.done || !a.allowed {
		a.done = true
		return
	}
	a.done = true
	defer a.release()
	if f != nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(a.r.Context()), refundTimeout)
		defer cancel()
		f(ctx)
	}
}

// CheckLogin counts a sign-in attempt for username before its password is
// checked, and says whether it may go ahead.
//
// A browser with a device cookie for username (see LoginSucceeded) is
// counted against that device's own budget (Device) and the budget of the
// account's known devices at its client address (KnownDevices), never
// against the budgets of unknown devices. Any other
// attempt is counted against the client address (Address) and the account
// (Account). If either of the two budgets refuses, so does the guard (and
// the other keeps the count). An allowed attempt then waits up to SlotWait
// for a password hashing slot.
//
// The attempt counts as a failure until LoginSucceeded or Abandon says
// otherwise, so concurrent guesses can never exceed a budget. Pass the
// username as the user store will look it up (after any case folding),
// whether or not the account exists: unknown names are counted like known
// ones, so the answer tells nothing about which accounts exist.
//
// err is ErrBusy when no slot came free, or the Limiter's error as it
// returned it (the count could not be made: answer 503, so that an outage
// of the Limiter does not lift every limit). Cost: one Limiter call, one
// round trip on Redis, allowed or refused; ErrBusy, and a refusal of a
// known device, cost a second, to give the attempt back.
func (g *Guard) CheckLogin(r *http.Request, username string) (*Attempt, error) {
	a := &Attempt{g: g, r: r, username: username, login: true}
	var reqs []Request
	if id, ok := g.cookie.find(r, username, g.now()); ok {
		a.known, a.device = true, id
		reqs = []Request{
			{Key: id.key(), Rule: g.device},
			{Key: knownDevicesKey(addrKey(g.ClientAddr(r)), username), Rule: g.known},
		}
	} else {
		reqs = []Request{
			{Key: "a:" + addrKey(g.ClientAddr(r)), Rule: g.address},
			{Key: accountKey(username), Rule: g.account},
		}
	}
	return g.check(a, reqs)
}

// CheckRegister counts a registration from r's client address and says
// whether it may go ahead; an allowed one then waits up to SlotWait for one
// of the hashing slots registrations may hold (RegisterSlots). Every
// registration attempt counts, whatever its outcome: call Done when the
// password is hashed (or Abandon when the user store failed). Errors are as
// for CheckLogin. Cost: one Limiter call, one round trip on Redis.
func (g *Guard) CheckRegister(r *http.Request) (*Attempt, error) {
	a := &Attempt{g: g, r: r}
	return g.check(a, []Request{{Key: "r:" + addrKey(g.ClientAddr(r)), Rule: g.register}})
}

func (g *Guard) check(a *Attempt, reqs []Request) (*Attempt, error) {
	ctx := a.r.Context()
	res, err := g.limiter.Take(ctx, reqs)
	if err != nil {
		return nil, err
	}
	var retry time.Duration
	for _, x := range res {
		if x.Allowed {
			a.taken = append(a.taken, x)
		} else {
			if retry == 0 {
				g.refused(x.Key)
			}
			retry = max(retry, x.RetryAfter)
		}
	}
	if retry > 0 {
		// From an unknown device, what the other budget counted stays
		// counted: a client that keeps trying while refused spends it, as
		// it would by failing; giving it back would cost a second round
		// trip on every refusal and protect nothing an attacker could not
		// spend directly. From a known device it is given back: a device
		// locked by a thief holding its cookie must not spend, with
		// attempts no password is checked for, the budget the account's
		// other known devices at that address share, nor a locked shared
		// budget the device's own.
		if a.known {
			g.giveBack(ctx, a.taken)
		}
		a.taken = nil
		a.retry = retry.Truncate(time.Second)
		if a.retry < retry {
			a.retry += time.Second
		}
		return a, nil
	}
	release, err := g.slots.acquire(ctx, !a.login)
	if err != nil {
		g.giveBack(ctx, a.taken)
		return nil, err
	}
	a.allowed, a.release = true, release
	return a, nil
}

// giveBack refunds what an attempt counted that found no hashing slot, or
// that a known device's budgets refused. A failure is logged, not returned: the attempt's answer does not depend on
// it.
func (g *Guard) giveBack(ctx context.Context, taken []Result) {
	if len(taken) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refundTimeout)
	defer cancel()
	if err := g.limiter.Refund(ctx, taken); err != nil && g.log != nil {
		g.log.WarnContext(ctx, "throttle: refund failed", "error", err)
	}
}

// LoginSucceeded finishes a sign-in whose password was right. It gives
// back what the attempt counted, clears the failures of a known device, and
// sets the device cookie on w (call it before the response is written; the
// response gets Cache-Control: no-store and Vary: Cookie with it), so
// this browser keeps its own budget for this account from now on, however
// many others fail. Then it releases the hashing slot.
//
// An error from the Limiter is returned, as the Limiter returned it, after
// the cookie is set: the sign-in itself stands. Cost: an HMAC per entry of
// the device cookie, and one Limiter call (one round trip on Redis) for an
// unknown device, two for a known one (the attempt KnownDevices counted is
// given back, the device's own failures are forgotten).
func (g *Guard) LoginSucceeded(w http.ResponseWriter, a *Attempt) error {
	if a == nil || !a.allowed || !a.login {
		a.finish(nil)
		return errNotAllowed
	}
	var err error
	a.finish(func(ctx context.Context) {
		id := a.device
		if a.known {
			// The device's own count is reset, which forgets its earlier
			// failures too; KnownDevices' is only given back, as the
			// account's other known devices at the address keep theirs.
			var others []Result
			for _, x := range a.taken {
				if x.Key != id.key() {
					others = append(others, x)
				}
			}
			err = g.limiter.Refund(ctx, others)
			err = errors.Join(err, g.limiter.Reset(ctx, id.key()))
		} else {
			id = newDeviceID()
			err = g.limiter.Refund(ctx, a.taken)
		}
		g.cookie.set(w, a.r, a.username, id, g.now())
	})
	return err
}

// LoginFailed finishes a sign-in whose password was wrong (or whose user
// does not exist): the attempt stays counted and the hashing slot is
// released. It is Done under the name that reads right in a handler, and
// costs no Limiter call: the attempt was counted by CheckLogin.
func (g *Guard) LoginFailed(a *Attempt) { a.Done() }

// ResetAccount forgets the failed sign-ins of username's account from
// unknown devices, for support staff who have confirmed the owner some
// other way. Address and device budgets are not touched. Cost: one
// Limiter call.
func (g *Guard) ResetAccount(ctx context.Context, username string) error {
	return g.limiter.Reset(ctx, accountKey(username))
}
