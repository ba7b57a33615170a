// Package throttle limits password guessing and bulk registration, in one
// process or shared between instances through Redis.
//
// It has two layers. A Limiter counts attempts per key under a Rule (so
// many attempts per window, then lockouts that double up to a maximum):
// NewMemory keeps counts in the process, NewRedis keeps them in Redis, where
// every instance of an application sees the same counts and they survive a
// restart. A Guard holds the policy of a sign-in and registration endpoint
// on top of a Limiter:
//
//	g, err := throttle.NewGuard(throttle.GuardConfig{
//		Limiter:        throttle.NewRedis(client, throttle.RedisConfig{}), // or nil: in memory
//		DeviceKeys:     sessionKeys,                                       // signs device cookies
//		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
//	})
//
//	a, err := g.CheckLogin(r, username) // before the password check
//	if err != nil { ... 503 ... }
//	defer a.Done()
//	if !a.Allowed() { ... 429 with Retry-After: a.RetryAfter() ... }
//	... check the password (password.Verify or password.DummyVerify) ...
//	if wrong { g.LoginFailed(a); ... 401 ... }
//	g.LoginSucceeded(w, a) // sets the device cookie; then sign the user in
//
// # The policy
//
// Sign-ins are counted before the password is checked, and given back when
// it was right, so concurrent guesses can never exceed a budget and
// successful sign-ins never use one up. With the defaults:
//
//   - A sign-in from an unknown device counts against its client address
//     (50 per 15 minutes, over every account) and against the account (10
//     per 15 minutes, over every unknown device and address). Either
//     budget spent, the attempt is refused with 429 and a Retry-After.
//     IPv6 clients are counted by their /64, so 1,000 guesses from 1,000
//     /64s of one /48 still get 10 password checks, and then even the right
//     password is refused to an unknown device.
//   - A browser that signs in successfully gets a device cookie: an HMAC
//     over a random device ID, the time and the username, under a key
//     derived from DeviceKeys (HttpOnly, Secure, SameSite=Strict, a __Host-
//     name, 365 days, renewed at each sign-in; up to four accounts per
//     browser). Its sign-ins to that account count against the device's
//     own budget (10 per 15 minutes) and a budget shared by the account's
//     known devices at its client address (50 per 15 minutes), and nothing
//     else. So whoever spends an account's budget, or locks the address of
//     a proxy its owner shares, cannot keep the owner out on a device that
//     signed in before: the device-cookie defence of OWASP's guidance on
//     credential stuffing. The shared budget bounds how many device
//     cookies of one account can be failed with from one address, each of
//     which is a key the Limiter keeps.
//   - A lockout starts at the first attempt over a budget, lasts 1 minute
//     and doubles with each lockout up to 15 minutes (an hour for
//     accounts), and always ends: attempts while locked are not counted
//     and do not extend it. A key quiet for a window after its lockout is
//     forgotten.
//   - The client address is the peer's, unless the peer is one of
//     TrustedProxies: then it is the right-most address of the proxy's
//     header (X-Forwarded-For by default, or Forwarded) that is not a
//     trusted proxy. A header from any other peer is never read.
//   - Registrations count against their client address (10 per hour, then
//     lockouts of an hour doubling up to a day), whatever their outcome.
//   - Password hashing is bounded by HashSlots, of which registrations may
//     hold RegisterSlots (a quarter by default): however many registrations
//     arrive, the rest of the slots stay free for sign-ins.
//   - When the Limiter fails (Redis down, or the memory limiter full of keys
//     that all still count: ErrFull), CheckLogin and CheckRegister return
//     its error and the application answers 503: neither an outage nor a
//     flood lifts the limits.
//
// # Limits
//
// What the policy does not do, and what to do about it:
//
//   - An owner without a known device (a new browser, cleared cookies, a
//     private window) waits while an attack on their account lasts: up to
//     an hour at a time, for as long as the attack goes on. Offer another
//     way in (a sign-in link by email) or let support call
//     Guard.ResetAccount.
//   - A device cookie is not a credential, but a stolen one gives its
//     holder the device's budget for that account: 10 guesses per 15
//     minutes, then lockouts, and every sign-in of the owner on that
//     device clears the failures counted on it, the thief's included. A
//     password change should end the owner's other sessions; the device
//     budget is not a way to notice the theft. Attempts refused by a known
//     device's budgets count nothing, so one stolen cookie cannot spend
//     the budget the account's other known devices at that address share;
//     several, used from the owner's address, can, and keep those devices
//     out as an attack on the account keeps unknown devices out.
//   - Guessing spread over many accounts and many addresses (a botnet
//     stuffing leaked credentials) gets each address's and each account's
//     budget. Watch the rate of 401s and 429s, and consider a second
//     factor.
//   - Behind a reverse proxy that is not in TrustedProxies, every client
//     has the proxy's address: when it locks, every unknown device behind
//     it is refused (known devices are not).
//   - Registrations spread over many addresses are bounded only by their
//     share of the hashing slots; they still create accounts. Add e-mail
//     verification or a challenge where that matters.
//   - NewMemory counts per process: each instance of an application counts
//     on its own, and a restart forgets. Use NewRedis to share and keep
//     counts.
//     Instances sharing a Redis need clocks within seconds of each other.
//   - NewMemory holds at most MaxKeys keys (65,536 by default) and never
//     drops one that still counts: a flood of failed sign-ins that keeps
//     that many counting (about 330 IPv4 addresses, each spending its
//     budget on made-up usernames and waiting out its lockouts, or the
//     /64s of one IPv6 /48, or as many pairs of an address and an account
//     of the attacker's own, each pair keeping about 200 device keys
//     counting) makes sign-ins that need a new key answer 503 (ErrFull)
//     while it lasts, after about 65,000 failed password checks. Raise
//     MaxKeys (about 200 bytes a key) or use NewRedis.
//   - Usernames are counted as given: pass them as the user store looks
//     them up (after case folding), or each spelling gets its own budget.
//
// # Cost
//
// On Redis every check is one round trip, allowed or refused; a failed
// sign-in costs nothing more, a successful one a second round trip (to give
// its attempt back) and, from a known device, a third (to clear the
// device's failures), and only ErrBusy a second one too. NewMemory's limiter
// takes a mutex per call and about 200 bytes per key, at most MaxKeys keys.
package throttle
