package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionauth/session"
)

// operations are the names Faults takes: the methods of session.Store and
// session.Replacer.
var operations = []string{"Get", "Create", "Update", "Touch", "Delete", "ListUser", "DeleteUser", "Replace"}

// checkOps panics on a name that is not one of operations: a test that
// names a missing operation would otherwise pass without injecting anything.
func checkOps(ops []string) {
	for _, op := range ops {
		if !slices.Contains(operations, op) {
			panic(fmt.Sprintf("storetest: unknown operation %q (want one of %v)", op, operations))
		}
	}
}

// ErrInjected is the error a failing operation returns unless Fail was
// given another.
var ErrInjected = errors.New("storetest: injected store failure")

// Faults controls a store wrapped by WithFaults: it counts calls per
// operation and, on demand, makes operations fail, hang until their context
// ends, or run a hook first (to pause a step of a concurrent scenario). It
// is safe for concurrent use.
//
// Its methods name operations by the store method's name: "Get", "Create",
// "Update", "Touch", "Delete", "ListUser", "DeleteUser" and "Replace". Any
// other name panics.
type Faults struct {
	counts sync.Map // operation -> *atomic.Int64
	mu     sync.Mutex
	fail   map[string]error // "" for every operation
	hang   map[string]bool
	hook   func(ctx context.Context, op string, key string) error
}

// WithFaults wraps s. The returned Store behaves as s until told otherwise
// through the returned Faults; it implements session.Replacer exactly when s
// does, so a Manager takes the same path as it would with s.
func WithFaults(s session.Store) (session.Store, *Faults) {
	f := &Faults{fail: map[string]error{}, hang: map[string]bool{}}
	w := &faultyStore{inner: s, f: f}
	if r, ok := s.(session.Replacer); ok {
		return &faultyReplacer{w, r}, f
	}
	return w, f
}

// Fail makes op fail with err (ErrInjected when err is nil); with no op,
// every operation fails.
func (f *Faults) Fail(err error, ops ...string) {
	checkOps(ops)
	if err == nil {
		err = ErrInjected
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(ops) == 0 {
		ops = []string{""}
	}
	for _, op := range ops {
		f.fail[op] = err
	}
}

// Hang makes op block until its context is done, then fail with the
// context's error, as a stalled server does; with no op, every operation.
func (f *Faults) Hang(ops ...string) {
	checkOps(ops)
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(ops) == 0 {
		ops = []string{""}
	}
	for _, op := range ops {
		f.hang[op] = true
	}
}

// SetHook makes every call run hook first, with its context, operation and
// key (the user ID for ListUser and DeleteUser, the new key for Replace).
// A non-nil error from hook is returned instead of calling the store. nil
// removes the hook.
func (f *Faults) SetHook(hook func(ctx context.Context, op string, key string) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hook = hook
}

// Heal removes every failure, hang and hook; the counts stay.
func (f *Faults) Heal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.fail)
	clear(f.hang)
	f.hook = nil
}

// Calls returns how many times op was called (failed calls included); with
// no op, the total over every operation.
func (f *Faults) Calls(ops ...string) int64 {
	checkOps(ops)
	if len(ops) == 0 {
		ops = operations
	}
	var n int64
	for _, op := range ops {
		if c, ok := f.counts.Load(op); ok {
			n += c.(*atomic.Int64).Load()
		}
	}
	return n
}

// before counts a call and applies the faults set for op.
func (f *Faults) before(ctx context.Context, op string, key string) error {
	c, _ := f.counts.LoadOrStore(op, new(atomic.Int64))
	c.(*atomic.Int64).Add(1)
	f.mu.Lock()
	hook, hang := f.hook, f.hang[op] || f.hang[""]
	err := f.fail[op]
	if err == nil {
		err = f.fail[""]
	}
	f.mu.Unlock()
	if hook != nil {
		if err := hook(ctx, op, key); err != nil {
			return err
		}
	}
	if hang {
		<-ctx.Done()
		return ctx.Err()
	}
	return err
}

type faultyStore struct {
	inner session.Store
	f     *Faults
}

func (s *faultyStore) Get(ctx context.Context, key string) (session.Record, error) {
	if err := s.f.before(ctx, "Get", key); err != nil {
		return session.Record{}, err
	}
	return s.inner.Get(ctx, key)
}

func (s *faultyStore) Create(ctx context.Context, key string, rec session.Record) error {
	if err := s.f.before(ctx, "Create", key); err != nil {
		return err
	}
	return s.inner.Create(ctx, key, rec)
}

func (s *faultyStore) Update(ctx context.Context, key string, rec session.Record) error {
	if err := s.f.before(ctx, "Update", key); err != nil {
		return err
	}
	return s.inner.Update(ctx, key, rec)
}

func (s *faultyStore) Touch(ctx context.Context, key string, expires time.Time) error {
	if err := s.f.before(ctx, "Touch", key); err != nil {
		return err
	}
	return s.inner.Touch(ctx, key, expires)
}

func (s *faultyStore) Delete(ctx context.Context, key string) error {
	if err := s.f.before(ctx, "Delete", key); err != nil {
		return err
	}
	return s.inner.Delete(ctx, key)
}

func (s *faultyStore) ListUser(ctx context.Context, userID string) ([]session.Entry, error) {
	if err := s.f.before(ctx, "ListUser", userID); err != nil {
		return nil, err
	}
	return s.inner.ListUser(ctx, userID)
}

func (s *faultyStore) DeleteUser(ctx context.Context, userID string) error {
	if err := s.f.before(ctx, "DeleteUser", userID); err != nil {
		return err
	}
	return s.inner.DeleteUser(ctx, userID)
}

// faultyReplacer is the wrapper of a store with Replace.
type faultyReplacer struct {
	*faultyStore
	r session.Replacer
}

func (s *faultyReplacer) Replace(ctx context.Context, oldKey, key string, rec session.Record, limit int) error {
	if err := s.f.before(ctx, "Replace", key); err != nil {
		return err
	}
	return s.r.Replace(ctx, oldKey, key, rec, limit)
}
