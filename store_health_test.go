package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// pingStub is a stubStore with a health check of its own.
type pingStub struct {
	*stubStore
	pings  int
	mu     sync.Mutex
	answer func(ctx context.Context) error
}

func (p *pingStub) ping(ctx context.Context) error {
	p.mu.Lock()
	p.pings++
	answer := p.answer
	p.mu.Unlock()
	if answer == nil {
		return nil
	}
	return answer(ctx)
}

func (p *pingStub) setPing(answer func(context.Context) error) {
	p.mu.Lock()
	p.answer = answer
	p.mu.Unlock()
}

func TestManagerPingAnswersForEveryStoreKind(t *testing.T) {
	t.Parallel()
	ring, err := NewKeyRing(testKeyA)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cfg     Config
		wantErr error // nil: Ping succeeds
	}{
		{"memory", Config{}, nil},
		{"cookie-only", Config{CookieOnly: true}, nil},
		{"store without a health check answers Get", Config{Store: &stubStore{reply: failWith(ErrNotFound)}}, nil},
		{"store without a health check fails Get", Config{Store: &stubStore{reply: failWith(errStubDown)}}, errStubDown},
		{"store with a health check", Config{Store: &pingStub{stubStore: &stubStore{reply: failWith(errStubDown)}}}, nil},
		{"failing health check", Config{Store: &pingStub{stubStore: &stubStore{}, answer: failWith(errStubDown)}}, errStubDown},
		{"hung store, bounded by StoreTimeout", Config{Store: &stubStore{reply: hang}, StoreTimeout: 20 * time.Millisecond}, context.DeadlineExceeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := tc.cfg
			cfg.Keys = ring
			m, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			err = m.Ping(context.Background())
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("Ping = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrStoreUnavailable) || !errors.Is(err, tc.wantErr) {
				t.Fatalf("Ping = %v, want ErrStoreUnavailable wrapping %v", err, tc.wantErr)
			}
		})
	}
}

// Ping reaches the store while the breaker stops requests, and its success
// ends the suspension at once.
func TestManagerPingEndsASuspension(t *testing.T) {
	t.Parallel()
	stub := &stubStore{}
	s, g, clk := newTestGuard(t, stub, 100*time.Millisecond, nil)
	trip(t, s, stub, clk, 100*time.Millisecond)
	m := &Manager{store: s, mode: storeBackend{}}
	if err := m.Ping(context.Background()); !errors.Is(err, errStubDown) {
		t.Fatalf("Ping with the store down = %v", err)
	}
	stub.set(failWith(ErrNotFound))
	if err := m.Ping(context.Background()); err != nil {
		t.Fatalf("Ping with the store back = %v", err)
	}
	if g.open.Load() {
		t.Fatal("the breaker is still open after a successful Ping")
	}
	if _, err := s.Get(context.Background(), "k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Ping = %v, want the store's answer", err)
	}
}

// The half-open probe runs the store's health check first: while it fails,
// the request fails without its own store call; once it answers, the
// request that carried the probe is served.
func TestStoreGuardProbesWithTheHealthCheck(t *testing.T) {
	t.Parallel()
	const timeout = 100 * time.Millisecond
	var logs bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
	p := &pingStub{stubStore: &stubStore{}}
	s, g, clk := newTestGuard(t, p, timeout, log)
	trip(t, s, p.stubStore, clk, timeout)

	refusedErr := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	p.setPing(failWith(refusedErr))
	calls := p.calls.Load()
	for range 3 {
		clk.Advance(guardCooldown)
		if _, err := s.Get(context.Background(), "k"); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("probe with the health check failing = %v", err)
		}
	}
	if p.calls.Load() != calls || p.pings != 3 {
		t.Fatalf("%d store calls and %d pings for 3 failed probes; want 0 and 3", p.calls.Load()-calls, p.pings)
	}
	if n := countLines(&logs, &mu, "store still unreachable"); n != 1 || countLines(&logs, &mu, "connection refused") != 1 {
		t.Fatalf("want one line naming the cause for three failed probes:\n%s", logs.String())
	}
	p.setPing(nil)
	p.set(nil)
	clk.Advance(guardCooldown)
	if _, err := s.Get(context.Background(), "k"); err != nil {
		t.Fatalf("probe with the store back = %v", err)
	}
	if g.open.Load() || p.calls.Load() != calls+1 {
		t.Fatalf("after a good probe: open %v, %d store calls", g.open.Load(), p.calls.Load()-calls)
	}
}

// A refused connection opens the breaker of a one-server store at once: no
// healthy server refuses, and every call that still dials makes go-redis's
// pool count one more failed dial.
func TestStoreGuardOpensAtARefusedConnection(t *testing.T) {
	t.Parallel()
	refusedErr := fmt.Errorf("session: redis get: %w", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)})
	stub := &stubStore{}
	s, g, _ := newTestGuard(t, stub, time.Second, nil)
	s.Get(context.Background(), "k") // a success just now
	stub.set(failWith(refusedErr))
	if _, err := s.Get(context.Background(), "k"); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Get = %v", err)
	}
	if !g.open.Load() {
		t.Fatal("a refused connection did not open the breaker")
	}
}

// partStub is a store in partitions named by a key's first byte; the keys
// of the partitions in down fail.
type partStub struct {
	*stubStore
	mu   sync.Mutex
	down map[string]bool
}

func (p *partStub) partitioner() func(context.Context, string) string {
	return func(_ context.Context, key string) string { return key[:1] }
}

func (p *partStub) Get(ctx context.Context, key string) (Record, error) {
	p.calls.Add(1)
	p.mu.Lock()
	down := p.down[key[:1]]
	p.mu.Unlock()
	if down {
		return Record{}, errStubDown
	}
	return Record{}, ErrNotFound
}

// One partition down (a dead Redis Cluster master): after guardTrips
// failures and a quiet timeout its keys fail at once, without a store call,
// while the other partitions keep answering and the whole store's breaker
// stays closed; a probe every cool-down brings it back.
func TestStoreGuardIsolatesAFailingPartition(t *testing.T) {
	t.Parallel()
	const timeout = 100 * time.Millisecond
	p := &partStub{stubStore: &stubStore{}, down: map[string]bool{"a": true}}
	s, g, clk := newTestGuard(t, p, timeout, nil)
	get := func(key string) error { _, err := s.Get(context.Background(), key); return err }
	for i := range 3 * guardTrips {
		if i%guardTrips == 0 {
			clk.Advance(timeout / 2)
		}
		get("a1")
		if err := get("b1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("healthy partition: %v", err)
		}
	}
	calls := p.calls.Load()
	for range 10 {
		if err := get("a2"); err != errSuspended {
			t.Fatalf("dead partition's key = %v, want errSuspended", err)
		}
		if err := get("c1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("healthy partition while another is suspended = %v", err)
		}
	}
	if n := p.calls.Load() - calls; n != 10 {
		t.Fatalf("%d store calls for 10 healthy and 10 suspended Gets, want 10", n)
	}
	if g.open.Load() {
		t.Fatal("one partition down opened the whole store's breaker")
	}
	p.mu.Lock()
	p.down["a"] = false
	p.mu.Unlock()
	clk.Advance(guardCooldown)
	if err := get("a3"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("probe of the partition back = %v", err)
	}
	if err := get("a4"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after the probe = %v", err)
	}
}

// A Login that fails because the store does is logged, with the cause;
// once the breaker stops calls, failing Logins are not logged one by one.
func TestLoginFailureIsLogged(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	var mu sync.Mutex
	var stub *stubStore
	h := newHarness(t, func(c *Config) {
		stub = &stubStore{inner: c.Store}
		c.Store = stub
		c.StoreTimeout = time.Minute
		c.Logger = slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
	})
	refusedErr := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	stub.set(failWith(refusedErr))
	for range 3 {
		if w := h.do("POST", "/login?user=bob"); w.Code == 200 {
			t.Fatalf("Login with the store down: %d", w.Code)
		}
	}
	if n := countLines(&logs, &mu, "login failed"); n != 1 || !strings.Contains(logs.String(), "connection refused") {
		t.Fatalf("%d login failures logged for 3 (the breaker opened after the first); want 1 naming the cause:\n%s", n, logs.String())
	}
}
