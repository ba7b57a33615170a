package session

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// stubStore answers every call with what reply says (nil reply: success),
// then, on success, forwards it to inner when there is one. It counts calls.
type stubStore struct {
	inner Store
	calls atomic.Int64
	mu    sync.Mutex
	reply func(ctx context.Context) error
}

var errStubDown = errors.New("stub store is down")

func (s *stubStore) set(reply func(ctx context.Context) error) {
	s.mu.Lock()
	s.reply = reply
	s.mu.Unlock()
}

func (s *stubStore) call(ctx context.Context) error {
	s.calls.Add(1)
	s.mu.Lock()
	reply := s.reply
	s.mu.Unlock()
	if reply == nil {
		return nil
	}
	return reply(ctx)
}

func failWith(err error) func(context.Context) error {
	return func(context.Context) error { return err }
}

// hang blocks until the call's context ends, as a stalled server does.
func hang(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

func (s *stubStore) Get(ctx context.Context, key string) (Record, error) {
	if err := s.call(ctx); err != nil || s.inner == nil {
		return Record{}, err
	}
	return s.inner.Get(ctx, key)
}

func (s *stubStore) Create(ctx context.Context, key string, rec Record) error {
	if err := s.call(ctx); err != nil || s.inner == nil {
		return err
	}
	return s.inner.Create(ctx, key, rec)
}

func (s *stubStore) Update(ctx context.Context, key string, rec Record) error {
	if err := s.call(ctx); err != nil || s.inner == nil {
		return err
	}
	return s.inner.Update(ctx, key, rec)
}

func (s *stubStore) Touch(ctx context.Context, key string, exp time.Time) error {
	if err := s.call(ctx); err != nil || s.inner == nil {
		return err
	}
	return s.inner.Touch(ctx, key, exp)
}

func (s *stubStore) Delete(ctx context.Context, key string) error {
	if err := s.call(ctx); err != nil || s.inner == nil {
		return err
	}
	return s.inner.Delete(ctx, key)
}

func (s *stubStore) ListUser(ctx context.Context, userID string) ([]Entry, error) {
	if err := s.call(ctx); err != nil || s.inner == nil {
		return nil, err
	}
	return s.inner.ListUser(ctx, userID)
}

func (s *stubStore) DeleteUser(ctx context.Context, userID string) error {
	if err := s.call(ctx); err != nil || s.inner == nil {
		return err
	}
	return s.inner.DeleteUser(ctx, userID)
}

type stubReplacer struct{ *stubStore }

func (s stubReplacer) Replace(ctx context.Context, oldKey, key string, rec Record, limit int) error {
	return s.call(ctx)
}

// guardOps calls every method a guard forwards, the optional ones included.
var guardOps = []struct {
	name string
	call func(ctx context.Context, s Store) error
}{
	{"Get", func(ctx context.Context, s Store) error { _, err := s.Get(ctx, "k"); return err }},
	{"Create", func(ctx context.Context, s Store) error { return s.Create(ctx, "k", Record{}) }},
	{"Update", func(ctx context.Context, s Store) error { return s.Update(ctx, "k", Record{}) }},
	{"Touch", func(ctx context.Context, s Store) error { return s.Touch(ctx, "k", time.Time{}) }},
	{"Delete", func(ctx context.Context, s Store) error { return s.Delete(ctx, "k") }},
	{"ListUser", func(ctx context.Context, s Store) error { _, err := s.ListUser(ctx, "u"); return err }},
	{"DeleteUser", func(ctx context.Context, s Store) error { return s.DeleteUser(ctx, "u") }},
	{"Replace", func(ctx context.Context, s Store) error { return s.(Replacer).Replace(ctx, "o", "k", Record{}, 1) }},
}

// newTestGuard wraps store in a guard whose breaker runs on a fake clock
// (deadlines still run on real time).
func newTestGuard(t *testing.T, store Store, timeout time.Duration, log *slog.Logger) (Store, *guard, *clock) {
	t.Helper()
	s := newGuard(store, timeout, log)
	var g *guard
	switch v := s.(type) {
	case *guard:
		g = v
	default:
		t.Fatalf("newGuard returned %T", s)
	}
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	g.now, g.epoch = clk.Now, clk.Now()
	return s, g, clk
}

func TestStoreGuardBoundsEveryCall(t *testing.T) {
	t.Parallel()
	const timeout = 30 * time.Millisecond
	for _, op := range guardOps {
		t.Run(op.name, func(t *testing.T) {
			t.Parallel()
			stub := &stubStore{reply: hang}
			s, _, _ := newTestGuard(t, stubReplacer{stub}, timeout, nil)
			start := time.Now()
			err := op.call(context.Background(), s)
			took := time.Since(start)
			if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "StoreTimeout (30ms)") {
				t.Fatalf("hung %s = %v, want the StoreTimeout deadline", op.name, err)
			}
			if took < timeout || took > 2*time.Second {
				t.Fatalf("hung %s returned after %v, want about %v", op.name, took, timeout)
			}
			if stub.calls.Load() != 1 {
				t.Fatalf("store called %d times, want 1", stub.calls.Load())
			}
		})
	}
}

// The caller's own cancellation and a caller deadline sooner than
// StoreTimeout both still end the call, and neither counts against the
// store: a client that went away says nothing about the store's health.
func TestStoreGuardKeepsCallerCancellation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"canceled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(20*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
		{"sooner deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 20*time.Millisecond)
		}, context.DeadlineExceeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			stub := &stubStore{reply: hang}
			s, g, clk := newTestGuard(t, stub, 10*time.Second, nil)
			for range 2 * guardTrips {
				clk.Advance(time.Minute) // no success for far longer than StoreTimeout
				ctx, cancel := tc.ctx()
				start := time.Now()
				_, err := s.Get(ctx, "k")
				took := time.Since(start)
				cancel()
				if !errors.Is(err, tc.want) || strings.Contains(err.Error(), "StoreTimeout") {
					t.Fatalf("Get = %v, want the caller's %v", err, tc.want)
				}
				if took > 2*time.Second {
					t.Fatalf("Get returned after %v; the caller's context should end it after 20ms", took)
				}
			}
			if g.open.Load() || stub.calls.Load() != 2*guardTrips {
				t.Fatalf("after %d calls the caller gave up on: open %v, store calls %d", 2*guardTrips, g.open.Load(), stub.calls.Load())
			}
		})
	}
}

// step is one call in a breaker scenario: the clock moves by advance, then
// the store answers err.
type step struct {
	advance time.Duration
	err     error
	n       int
}

func TestStoreGuardOpensOnlyWhenTheStoreIsDown(t *testing.T) {
	t.Parallel()
	const timeout = 100 * time.Millisecond
	quiet := timeout // no success for a whole StoreTimeout
	tests := []struct {
		name  string
		steps []step
		open  bool
	}{
		{"five failures after a quiet timeout", []step{{quiet, errStubDown, guardTrips}}, true},
		{"four failures", []step{{quiet, errStubDown, guardTrips - 1}}, false},
		{"not found and exists are answers", []step{{quiet, ErrNotFound, 10}, {quiet, ErrExists, 10}}, false},
		{"a success resets the count", []step{{quiet, errStubDown, guardTrips - 1}, {0, nil, 1}, {quiet, errStubDown, guardTrips - 1}}, false},
		// Part of the store down (one cluster shard of three): its failures
		// come between successes of the rest, which keep the breaker closed.
		{"failures soon after a success", []step{{0, nil, 1}, {timeout / 2, errStubDown, 20}}, false},
		{"the same failures once a timeout has passed", []step{{0, nil, 1}, {timeout / 2, errStubDown, 20}, {timeout / 2, errStubDown, 1}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			stub := &stubStore{}
			s, g, clk := newTestGuard(t, stub, timeout, nil)
			calls := int64(0)
			for _, st := range tc.steps {
				clk.Advance(st.advance)
				stub.set(failWith(st.err))
				for range st.n {
					if _, err := s.Get(context.Background(), "k"); !errors.Is(err, st.err) {
						t.Fatalf("Get = %v, want the store's %v", err, st.err)
					}
					calls++
				}
			}
			if stub.calls.Load() != calls {
				t.Fatalf("store called %d times, want %d", stub.calls.Load(), calls)
			}
			if g.open.Load() != tc.open {
				t.Fatalf("open = %v, want %v", g.open.Load(), tc.open)
			}
			stub.set(nil)
			_, err := s.Get(context.Background(), "k")
			if tc.open {
				if err != errSuspended || !errors.Is(err, ErrStoreUnavailable) || stub.calls.Load() != calls {
					t.Fatalf("Get with the breaker open = %v after %d store calls; want errSuspended without a call", err, stub.calls.Load()-calls)
				}
			} else if err != nil || stub.calls.Load() != calls+1 {
				t.Fatalf("Get with the breaker closed = %v, store calls %d", err, stub.calls.Load()-calls)
			}
		})
	}
}

// trip opens g's breaker through s.
func trip(t *testing.T, s Store, stub *stubStore, clk *clock, timeout time.Duration) {
	t.Helper()
	stub.set(failWith(errStubDown))
	clk.Advance(timeout)
	for range guardTrips {
		s.Get(context.Background(), "k")
	}
	if _, err := s.Get(context.Background(), "k"); err != errSuspended {
		t.Fatalf("after %d failures Get = %v, want errSuspended", guardTrips, err)
	}
}

func TestStoreGuardHalfOpenLetsOneProbeThrough(t *testing.T) {
	t.Parallel()
	const timeout = 100 * time.Millisecond
	stub := &stubStore{}
	s, g, clk := newTestGuard(t, stub, timeout, nil)
	trip(t, s, stub, clk, timeout)

	calls := stub.calls.Load()
	clk.Advance(guardCooldown - time.Millisecond)
	if _, err := s.Get(context.Background(), "k"); err != errSuspended || stub.calls.Load() != calls {
		t.Fatalf("before the cool-down ends: %v, %d store calls", err, stub.calls.Load()-calls)
	}
	clk.Advance(time.Millisecond)

	// The probe is held in the store; every other call fails fast.
	release := make(chan error)
	entered := make(chan struct{})
	stub.set(func(context.Context) error { close(entered); return <-release })
	probe := make(chan error)
	go func() { _, err := s.Get(context.Background(), "k"); probe <- err }()
	<-entered
	stub.set(nil)
	for range 10 {
		if _, err := s.Get(context.Background(), "k"); err != errSuspended {
			t.Fatalf("a call while the probe runs = %v, want errSuspended", err)
		}
	}
	release <- errStubDown
	if err := <-probe; !errors.Is(err, errStubDown) {
		t.Fatalf("probe = %v", err)
	}
	if stub.calls.Load() != calls+1 {
		t.Fatalf("%d store calls during half-open, want 1 (the probe)", stub.calls.Load()-calls)
	}

	// A failed probe opens the breaker for another cool-down.
	if _, err := s.Get(context.Background(), "k"); err != errSuspended {
		t.Fatalf("after a failed probe: %v, want errSuspended", err)
	}
	clk.Advance(guardCooldown)
	if _, err := s.Get(context.Background(), "k"); err != nil {
		t.Fatalf("second probe, store healthy: %v", err)
	}
	if g.open.Load() {
		t.Fatal("a successful probe did not close the breaker")
	}
	for range 3 {
		if _, err := s.Get(context.Background(), "k"); err != nil {
			t.Fatalf("after recovery: %v", err)
		}
	}
	if stub.calls.Load() != calls+5 {
		t.Fatalf("%d store calls since the trip, want 5", stub.calls.Load()-calls)
	}
}

// A probe that never returns (a store that ignores ctx) does not keep the
// breaker half-open for ever; a probe whose caller gave up hands its turn
// to the next call at once.
func TestStoreGuardProbeThatDoesNotReport(t *testing.T) {
	t.Parallel()
	const timeout = 100 * time.Millisecond
	tests := []struct {
		name   string
		wait   time.Duration // fake time before another call may probe
		caller func() (context.Context, context.CancelFunc)
	}{
		{"lost", timeout + guardCooldown, func() (context.Context, context.CancelFunc) {
			return context.Background(), func() {}
		}},
		{"caller gone", 0, func() (context.Context, context.CancelFunc) {
			return context.WithCancel(context.Background())
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			stub := &stubStore{}
			s, _, clk := newTestGuard(t, stub, timeout, nil)
			trip(t, s, stub, clk, timeout)
			clk.Advance(guardCooldown)

			release := make(chan struct{})
			defer close(release)
			entered := make(chan struct{}, 1)
			// Ignores ctx; when the caller is gone, reports its error.
			stub.set(func(ctx context.Context) error {
				entered <- struct{}{}
				select {
				case <-release:
				case <-ctx.Done():
				}
				return errStubDown
			})
			ctx, cancel := tc.caller()
			done := make(chan struct{})
			go func() { s.Get(ctx, "k"); close(done) }()
			<-entered
			if tc.wait == 0 {
				cancel()
				<-done
			}
			stub.set(nil)
			if tc.wait > 0 {
				clk.Advance(tc.wait - time.Millisecond)
				if _, err := s.Get(context.Background(), "k"); err != errSuspended {
					t.Fatalf("before the probe's lease ends: %v", err)
				}
				clk.Advance(time.Millisecond)
			}
			if _, err := s.Get(context.Background(), "k"); err != nil {
				t.Fatalf("next probe: %v, want it to reach the healthy store", err)
			}
			cancel()
		})
	}
}

// The guard is one type, always a Replacer: it forwards Replace to the
// store's own, or does its steps (Delete, Create) as guarded calls when the
// store has none.
func TestStoreGuardIsAlwaysAReplacer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		store Store
		calls int64 // store calls a Replace makes (anonymous: no ListUser)
	}{
		{"plain store: Delete and Create", &stubStore{}, 2},
		{"Replacer: its Replace", stubReplacer{&stubStore{}}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newGuard(tc.store, 0, nil)
			if _, ok := s.(*guard); !ok {
				t.Fatalf("newGuard returned %T, want *guard", s)
			}
			stub, _ := storeStub(tc.store)
			for _, op := range guardOps {
				before := stub.calls.Load()
				want := before + 1
				if op.name == "Replace" {
					want = before + tc.calls
				}
				if err := op.call(context.Background(), s); err != nil || stub.calls.Load() != want {
					t.Errorf("%s through the guard: %v, %d store calls", op.name, err, stub.calls.Load()-before)
				}
			}
		})
	}
}

func storeStub(s Store) (*stubStore, bool) {
	switch v := s.(type) {
	case *stubStore:
		return v, true
	case stubReplacer:
		return v.stubStore, true
	}
	return nil, false
}

func TestNewInstallsStoreGuard(t *testing.T) {
	t.Parallel()
	mem := NewMemoryStore()
	stub := &stubStore{}
	tests := []struct {
		name    string
		store   Store
		timeout time.Duration
		want    time.Duration // the guard's timeout; 0: no guard
		invalid bool
	}{
		{"default store", nil, 0, 0, false},
		{"memory store", mem, 0, 0, false},
		{"default timeout", stub, 0, time.Second, false},
		{"set timeout", stub, 2 * time.Second, 2 * time.Second, false},
		{"turned off", stub, -1, 0, false},
		{"below a millisecond", stub, 500 * time.Microsecond, 0, true},
	}
	ring, err := NewKeyRing(testKeyA)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := New(Config{Store: tc.store, Keys: ring, StoreTimeout: tc.timeout})
			if tc.invalid {
				if !errors.Is(err, ErrInvalidConfig) {
					t.Fatalf("New = %v, want ErrInvalidConfig", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			g, guarded := m.store.(*guard)
			switch {
			case tc.want == 0 && guarded:
				t.Fatalf("store is guarded (%v)", g.timeout)
			case tc.want == 0 && tc.store != nil && m.store != tc.store:
				t.Fatalf("store is %T, want the one given", m.store)
			case tc.want != 0 && (!guarded || g.timeout != tc.want || g.store != tc.store):
				t.Fatalf("store is %T, want a guard with timeout %v around the one given", m.store, tc.want)
			}
		})
	}
}

// countLines counts the log lines containing msg.
func countLines(logs *bytes.Buffer, mu *sync.Mutex, msg string) int {
	mu.Lock()
	defer mu.Unlock()
	return strings.Count(logs.String(), msg)
}

// TestManagerDuringStoreOutage runs a Manager over a store that hangs: the
// first protected requests wait StoreTimeout for their 503, then the breaker
// opens and the next ones get it without a store call; public pages stay
// anonymous with no Set-Cookie; Login fails with ErrStoreUnavailable; the
// Logger gets one line when calls stop and one when they resume, not one
// per request. Once the store answers, a probe within the cool-down brings
// the session back.
func TestManagerDuringStoreOutage(t *testing.T) {
	t.Parallel()
	const timeout = 50 * time.Millisecond
	var logs bytes.Buffer
	var mu sync.Mutex
	var stub *stubStore
	h := newHarness(t, func(c *Config) {
		stub = &stubStore{inner: c.Store}
		c.Store = stub
		c.StoreTimeout = timeout
		c.Logger = slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
	})
	alice := h.login("alice")
	stub.set(hang)

	const requests = 20
	calls := stub.calls.Load()
	for i := range requests {
		start := time.Now()
		w := h.do("GET", "/private", alice)
		if w.Code != 503 {
			t.Fatalf("protected request %d with the store hung: %d, want 503", i, w.Code)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("protected request %d took %v", i, took)
		}
	}
	// Requests go one after another here, so the breaker opens at the
	// guardTrips-th failure, or a few later on a starved machine (it waits
	// for a whole StoreTimeout without a success).
	if n := stub.calls.Load() - calls; n < guardTrips || n > requests/2 {
		t.Fatalf("%d protected requests made %d store calls; want the breaker to stop them after %d", requests, n, guardTrips)
	}
	calls = stub.calls.Load()
	w := h.do("GET", "/whoami", alice)
	if w.Code != 200 || w.Body.String() != "" || w.Header().Get("Set-Cookie") != "" {
		t.Fatalf("public page while suspended: %d %q, Set-Cookie %q", w.Code, w.Body, w.Header().Get("Set-Cookie"))
	}
	if w := h.do("POST", "/login?user=bob"); w.Code != 500 || !strings.Contains(w.Body.String(), ErrStoreUnavailable.Error()) || w.Header().Get("Set-Cookie") != "" {
		t.Fatalf("Login while suspended: %d %q", w.Code, w.Body)
	}
	if n := stub.calls.Load() - calls; n != 0 {
		t.Fatalf("%d store calls while suspended, want 0", n)
	}
	if n := countLines(&logs, &mu, "suspending store calls"); n != 1 {
		t.Fatalf("%d log lines for the breaker opening, want 1:\n%s", n, logs.String())
	}
	if n := countLines(&logs, &mu, "store read failed"); n > requests/2 {
		t.Fatalf("%d read failures logged for %d requests; calls the breaker stopped are not logged one by one", n, requests)
	}

	stub.set(nil)
	deadline := time.Now().Add(10 * time.Second)
	start := time.Now()
	for h.do("GET", "/private", alice).Code != 200 {
		if time.Now().After(deadline) {
			t.Fatal("no 200 within 10s of the store answering again")
		}
		time.Sleep(10 * time.Millisecond)
	}
	took := time.Since(start)
	t.Logf("first 200 %v after the store answered again (cool-down %v)", took.Round(time.Millisecond), guardCooldown)
	if took > guardCooldown+2*time.Second {
		t.Fatalf("first 200 after %v, want within the %v cool-down (plus slack)", took, guardCooldown)
	}
	if n := countLines(&logs, &mu, "store calls resumed"); n != 1 {
		t.Fatalf("%d log lines for the breaker closing, want 1", n)
	}
}

// BenchmarkStoreGuardGet measures what the guard adds to a store call while
// the store is healthy (Bare: the same stub without it).
func BenchmarkStoreGuardGet(b *testing.B) {
	stub := &stubStore{}
	for _, bc := range []struct {
		name  string
		store Store
	}{
		{"Bare", stub},
		{"Guarded", newGuard(stub, 0, nil)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.store.Get(ctx, "k"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStoreGuardLoad measures what the guard adds to the load's read,
// the one store call of most requests, on a MemoryStore behind a wrapper
// the Manager cannot see through (Plain: the MemoryStore itself, unguarded,
// with the Manager's clock reading, as the Manager calls it).
func BenchmarkStoreGuardLoad(b *testing.B) {
	mem := NewMemoryStore()
	ctx := context.Background()
	const key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	if err := mem.Create(ctx, key, Record{UserID: "u", Expires: time.Now().Add(time.Hour), Data: []byte("d")}); err != nil {
		b.Fatal(err)
	}
	guarded := newGuard(struct{ Store }{mem}, 0, nil).(loadGetter)
	for _, bc := range []struct {
		name  string
		store loadGetter
	}{
		{"Plain", mem},
		{"Guarded", guarded},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var slot callContext
			for b.Loop() {
				slot = callContext{}
				if _, err := bc.store.getAt(ctx, key, time.Now(), &slot); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
