package session

import (
	"container/list"
	"sync"
	"time"
)

// ThrottleConfig configures a Throttle. Zero fields take the defaults shown.
type ThrottleConfig struct {
	// MaxFailures is how many failures a key may have within Window before it
	// is locked. Default 5.
	MaxFailures int
	// Window is the span in which MaxFailures failures lock a key, counted
	// from the first failure of a series. A key quiet for Window after its
	// last failure and after its last lockout ended is forgotten entirely,
	// lockout history included. Default 15 minutes.
	Window time.Duration
	// Lockout is the first lockout's length. Each further lockout of a key
	// that has not been forgotten lasts twice as long, up to MaxLockout.
	// Default 1 minute.
	Lockout time.Duration
	// MaxLockout caps a lockout, so no key is ever locked longer than this
	// after its last failure. Default 15 minutes.
	MaxLockout time.Duration
	// MaxKeys caps the number of keys tracked. When it is reached, keys past
	// their window are dropped first, then the least recently failed key that
	// is not locked, then the lock that ends first.
	// Each key costs roughly 150 bytes plus its length. Default 65536.
	MaxKeys int
	// Now is the clock; nil means time.Now. Tests inject a fake one.
	Now func() time.Time
}

// Throttle limits failed attempts per key, such as a username and a client
// address for logins (S46). After MaxFailures failures within Window, a key is
// locked for Lockout, then 2×, 4×… up to MaxLockout. A lockout always ends:
// the worst an attacker can do to an account key is keep it locked for
// MaxLockout at a time. Combined as the example server does (the account-wide
// key applies only to addresses that already failed for the account, next to
// a key per account and address), it cannot lock the owner out at all.
//
// A login handler calls Check before verifying a password, Fail after a
// wrong one, and Reset on the account key after a right one:
//
//	if wait, ok := t.Check("user:"+name, "addr:"+ip); !ok {
//		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
//		// 429
//	}
//	... verify ...
//	if wrong { t.Fail("user:"+name, "addr:"+ip) } else { t.Reset("user:"+name) }
//
// Do not reset the address key on success: an attacker with one valid
// account could otherwise clear it between guesses at other accounts.
//
// Check and Fail are separate calls, so requests racing between them can
// together exceed MaxFailures by the number running at once; bound the
// number of concurrent password checks (which also bounds their memory).
//
// A Throttle is safe for concurrent use; every method is O(number of keys
// passed), plus an occasional sweep of expired keys when the table is full.
// It lives in one process: several instances behind a load balancer each
// count on their own.
type Throttle struct {
	cfg     ThrottleConfig
	mu      sync.Mutex
	entries map[string]*list.Element // of *throttleEntry
	lru     *list.List               // front: least recently failed
}

type throttleEntry struct {
	key      string
	failures int       // counted since first
	first    time.Time // first failure counted in failures
	lockouts int       // lockouts so far; sets the next one's length
	last     time.Time // last failure
	until    time.Time // locked before this instant
}

// NewThrottle returns a Throttle with cfg's limits; zero fields take their
// defaults. It allocates nothing until the first failure.
func NewThrottle(cfg ThrottleConfig) *Throttle {
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = 5
	}
	if cfg.Window <= 0 {
		cfg.Window = 15 * time.Minute
	}
	if cfg.Lockout <= 0 {
		cfg.Lockout = time.Minute
	}
	if cfg.MaxLockout <= 0 {
		cfg.MaxLockout = 15 * time.Minute
	}
	if cfg.MaxLockout < cfg.Lockout {
		cfg.MaxLockout = cfg.Lockout
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = 65536
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Throttle{cfg: cfg, entries: make(map[string]*list.Element), lru: list.New()}
}

// expired reports whether e can be forgotten at now: Window has passed since
// its last failure and since its lockout ended.
func (t *Throttle) expired(e *throttleEntry, now time.Time) bool {
	quiet := e.last
	if e.until.After(quiet) {
		quiet = e.until
	}
	return !now.Before(quiet.Add(t.cfg.Window))
}

// Check reports whether an attempt may go ahead for all of keys. When one of
// them is locked, ok is false and retryAfter is how long until every key's
// lockout has ended (always > 0). Check changes no counts.
func (t *Throttle) Check(keys ...string) (retryAfter time.Duration, ok bool) {
	now := t.cfg.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		el, found := t.entries[k]
		if !found {
			continue
		}
		e := el.Value.(*throttleEntry)
		if d := e.until.Sub(now); d > retryAfter {
			retryAfter = d
		}
	}
	return retryAfter, retryAfter <= 0
}

// Fail records a failed attempt against each key. A key reaching MaxFailures
// is locked. Failures recorded while a key is locked are ignored, so a
// lockout cannot be extended by hammering it.
func (t *Throttle) Fail(keys ...string) {
	now := t.cfg.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		t.fail(k, now)
	}
}

func (t *Throttle) fail(k string, now time.Time) {
	var e *throttleEntry
	if el, found := t.entries[k]; found {
		e = el.Value.(*throttleEntry)
		if now.Before(e.until) {
			return
		}
		if t.expired(e, now) {
			*e = throttleEntry{key: k}
		}
		t.lru.MoveToBack(el)
	} else {
		if len(t.entries) >= t.cfg.MaxKeys {
			t.evict(now)
		}
		e = &throttleEntry{key: k}
		t.entries[k] = t.lru.PushBack(e)
	}
	if e.failures == 0 || !now.Before(e.first.Add(t.cfg.Window)) {
		e.failures, e.first = 0, now // a new window of failures
	}
	e.last = now
	e.failures++
	if e.failures >= t.cfg.MaxFailures {
		d := t.cfg.Lockout
		for i := 0; i < e.lockouts && d < t.cfg.MaxLockout; i++ {
			d *= 2
		}
		e.until = now.Add(min(d, t.cfg.MaxLockout))
		e.lockouts++
		e.failures = 0
	}
}

// evict makes room for one key. It drops expired keys from the least
// recently failed end; if none was expired, the least recently failed key
// that is not locked; and only if every key is locked, the one whose lockout
// ends first. So a flood of failures on made-up keys cannot lift a lockout
// early, short of locking MaxKeys keys at once.
func (t *Throttle) evict(now time.Time) {
	dropped := false
	for el := t.lru.Front(); el != nil; {
		e := el.Value.(*throttleEntry)
		if !t.expired(e, now) {
			break
		}
		next := el.Next()
		t.remove(el)
		dropped = true
		el = next
	}
	if dropped {
		return
	}
	var soonest *list.Element
	for el := t.lru.Front(); el != nil; el = el.Next() {
		e := el.Value.(*throttleEntry)
		if !now.Before(e.until) {
			t.remove(el)
			return
		}
		if soonest == nil || e.until.Before(soonest.Value.(*throttleEntry).until) {
			soonest = el
		}
	}
	if soonest != nil {
		t.remove(soonest)
	}
}

func (t *Throttle) remove(el *list.Element) {
	delete(t.entries, el.Value.(*throttleEntry).key)
	t.lru.Remove(el)
}

// Failing reports whether key has failures or a lockout that the Throttle
// has not forgotten yet (see Window). A login handler can use it to apply an
// account-wide lock only to clients that have already failed for that
// account, so that an attacker cannot lock the owner out (see the example
// server).
func (t *Throttle) Failing(key string) bool {
	now := t.cfg.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	el, found := t.entries[key]
	return found && !t.expired(el.Value.(*throttleEntry), now)
}

// Reset forgets keys: their failures, lockout and history. Call it on the
// account key after a successful login.
func (t *Throttle) Reset(keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		if el, found := t.entries[k]; found {
			t.remove(el)
		}
	}
}

// Len returns the number of keys tracked, expired ones included until they
// are swept. It is for tests and metrics.
func (t *Throttle) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.entries)
}

// Sweep drops every key past its window and returns how many it dropped. It
// costs O(keys tracked); call it from a ticker if memory should shrink without
// new failures. Throttle also sweeps on its own when MaxKeys is reached.
func (t *Throttle) Sweep() int {
	now := t.cfg.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for el := t.lru.Front(); el != nil; {
		next := el.Next()
		if t.expired(el.Value.(*throttleEntry), now) {
			t.remove(el)
			n++
		}
		el = next
	}
	return n
}
