package session

import (
	"context"
	"strings"
	"time"
)

// Event is one thing the library reports to an observer: a Manager to
// Config.Observe, and, in the same shape, accesstoken's Issuer and
// throttle's Guard to theirs, so one function (package otelsession's
// Recorder.Observe) can record all three. Name says what happened and
// Reason qualifies it:
//
//	Name                   Reason                            also set
//	session.login          ""
//	session.logout         "logout", "all", "others", "session"
//	session.rejected       "forged", "expired", "ended"
//	session.store          "get", "create", "update", "touch",  Duration, Err
//	                       "delete", "list_user", "delete_user",
//	                       "replace"
//	session.breaker        "open", "closed"
//	accesstoken.mint       ""
//	accesstoken.rejected   "forged", "expired", "ended", "invalid",
//	                       "unavailable"
//	throttle.refused       "address", "account", "device", "register"
//
// session.rejected is a token that was presented and refused: its
// signature or seal does not verify (forged), it is older than any session
// it could belong to (expired), or it verifies but its session has ended:
// logged out, timed out or unknown to the store (ended). session.logout
// counts the sign-outs that ended a presented session (logout: Logout; the
// others: LogoutAll, LogoutOthers and LogoutSession, once per call).
// session.store is one call to Config.Store as the Manager made it, after
// the StoreTimeout guard: Duration is its latency and Err its error, nil on
// success; ErrNotFound and ErrExists are answers, not failures, and an
// error wrapping ErrStoreUnavailable without reaching the store means the
// breaker is open. A MemoryStore's calls, which do no I/O, are not
// reported. session.breaker is the guard stopping store calls
// (open) and resuming them (closed), for the whole store or, with
// Partition set, for one partition of it (one dead Redis Cluster master).
//
// An observer is called synchronously on the request's goroutine and
// concurrently from many; it must be safe for that and quick (record and
// return). Name and Reason come from the fixed lists above, never from a
// token, key, user ID or cookie value; Err is the store's error as the
// store returned it (otelsession records only its kind). Reporting
// costs nothing when no observer is set: no call, no allocation, no clock
// read; with one, a store call costs two reads of the monotonic clock
// (about 25 ns each on a virtual machine) and a call of the observer.
type Event struct {
	// Name says what happened (see the table above).
	Name string
	// Reason qualifies Name: an operation, a cause or a state.
	Reason string
	// Duration is a session.store call's latency.
	Duration time.Duration
	// Err is a session.store call's error, nil when it succeeded.
	Err error
	// Partition names the part of the store whose breaker opened or closed
	// (session.breaker): a Redis Cluster master's address. It is "" for the
	// whole store's breaker.
	Partition string
}

// The Manager's event names.
const (
	evLogin    = "session.login"
	evLogout   = "session.logout"
	evRejected = "session.rejected"
	evStore    = "session.store"
	evBreaker  = "session.breaker"
)

// report calls the observer, if there is one.
func (m *Manager) report(name, reason string) {
	if m.observe != nil {
		m.observe(Event{Name: name, Reason: reason})
	}
}

// rejectedSigned reports a token whose signature did not verify: forged,
// unless it is authentic and only too old for the signer's maximum age. It
// decodes the value again to tell, so that the common path pays nothing.
func (m *Manager) rejectedSigned(value string) {
	if m.observe == nil {
		return
	}
	reason := "forged"
	for _, c := range m.signer.codecs {
		var b []byte
		// securecookie checks the MAC before the timestamp: "expired
		// timestamp" means the value is ours and only old.
		if err := c.Decode(m.signer.name, value, &b); err != nil && strings.Contains(err.Error(), "expired timestamp") {
			reason = "expired"
			break
		}
	}
	m.observe(Event{Name: evRejected, Reason: reason})
}

// observeStore wraps store so that every call is reported to observe; it
// returns store itself when observe is nil, and for a MemoryStore, which
// does no I/O and fails only when ctx ends (as the guard leaves it alone).
// The wrapper has the optional interfaces store has, so the Manager sees
// the store as it is.
func observeStore(store Store, observe func(Event)) Store {
	if _, mem := store.(*MemoryStore); mem || observe == nil {
		return store
	}
	o := &observedStore{store: store, observe: observe}
	if r, ok := store.(Replacer); ok {
		return &observedReplacer{o, r}
	}
	return o
}

// observedStore reports each call of its store.
type observedStore struct {
	store   Store
	observe func(Event)
}

// done reports the call op that began at start (monoNow).
func (o *observedStore) done(op string, start int64, err error) {
	o.observe(Event{Name: evStore, Reason: op, Duration: time.Duration(monoNow() - start), Err: err})
}

// getAt is the load's read (see loadGetter), passed on to the guard.
func (o *observedStore) getAt(ctx context.Context, key string, now time.Time, slot *callContext) (rec Record, err error) {
	start := monoNow()
	if g, ok := o.store.(loadGetter); ok {
		rec, err = g.getAt(ctx, key, now, slot)
	} else {
		rec, err = o.store.Get(ctx, key)
	}
	o.done("get", start, err)
	return rec, err
}

func (o *observedStore) Get(ctx context.Context, key string) (Record, error) {
	start := monoNow()
	rec, err := o.store.Get(ctx, key)
	o.done("get", start, err)
	return rec, err
}

func (o *observedStore) Create(ctx context.Context, key string, rec Record) error {
	start := monoNow()
	err := o.store.Create(ctx, key, rec)
	o.done("create", start, err)
	return err
}

func (o *observedStore) Update(ctx context.Context, key string, rec Record) error {
	start := monoNow()
	err := o.store.Update(ctx, key, rec)
	o.done("update", start, err)
	return err
}

func (o *observedStore) Touch(ctx context.Context, key string, expires time.Time) error {
	start := monoNow()
	err := o.store.Touch(ctx, key, expires)
	o.done("touch", start, err)
	return err
}

func (o *observedStore) Delete(ctx context.Context, key string) error {
	start := monoNow()
	err := o.store.Delete(ctx, key)
	o.done("delete", start, err)
	return err
}

func (o *observedStore) ListUser(ctx context.Context, userID string) ([]Entry, error) {
	start := monoNow()
	entries, err := o.store.ListUser(ctx, userID)
	o.done("list_user", start, err)
	return entries, err
}

func (o *observedStore) DeleteUser(ctx context.Context, userID string) error {
	start := monoNow()
	err := o.store.DeleteUser(ctx, userID)
	o.done("delete_user", start, err)
	return err
}

// check is Manager.Ping's health check of the store inside: the guard's,
// or the store's own, which the wrapper would otherwise hide. It is not
// reported: a readiness probe is not a store call of a request.
func (o *observedStore) check(ctx context.Context) error {
	if c, ok := o.store.(interface{ check(context.Context) error }); ok {
		return c.check(ctx)
	}
	return checkStore(ctx, o.store, storePing(o.store))
}

// observedReplacer is an observedStore around a store with Replace.
type observedReplacer struct {
	*observedStore
	r Replacer
}

func (o *observedReplacer) Replace(ctx context.Context, oldKey, key string, rec Record, limit int) error {
	start := monoNow()
	err := o.r.Replace(ctx, oldKey, key, rec, limit)
	o.done("replace", start, err)
	return err
}
